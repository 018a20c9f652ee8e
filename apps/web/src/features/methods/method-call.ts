import { MethodNameSchema, type MethodInvokeRequest } from '@twinscope/contract';
import { parseJsonText, type ParsedJson } from '../../lib/json-text.ts';

/** A direct method call's name and timeouts as typed in the panel (the payload is parsed apart). */
export interface MethodForm {
  methodName: string;
  /** Seconds, as typed. */
  responseTimeout: string;
  connectTimeout: string;
}

/** The payload as typed: empty sends null, anything else must be JSON. */
export function parsePayload(text: string): ParsedJson {
  return text.trim() === '' ? { ok: true, value: null } : parseJsonText(text, 'The payload');
}

/**
 * The first thing wrong with the call, as the hub would say it (a name is not required
 * until typed), or the request to send.
 */
export function checkMethodCall(
  form: MethodForm,
  parsed: ParsedJson,
): { problem?: string; request?: MethodInvokeRequest } {
  const response = Number(form.responseTimeout);
  const connect = Number(form.connectTimeout);
  // IoT Hub's name rule, as the contract states it (the BFF checks the same).
  const nameCheck = MethodNameSchema.safeParse(form.methodName);
  const problem = !nameCheck.success
    ? form.methodName
      ? nameCheck.error.issues[0]?.message
      : undefined
    : !parsed.ok
      ? parsed.message
      : !(Number.isInteger(response) && response >= 5 && response <= 300)
        ? 'The response timeout is 5 to 300 seconds.'
        : !(Number.isInteger(connect) && connect >= 0 && connect <= 300)
          ? 'The connect timeout is 0 to 300 seconds.'
          : undefined;
  if (problem !== undefined) return { problem };
  if (!nameCheck.success || !parsed.ok) return {};
  return {
    request: {
      methodName: form.methodName,
      payload: parsed.value,
      responseTimeoutInSeconds: response,
      connectTimeoutInSeconds: connect,
    },
  };
}

/** An answer's colour: 2xx is success, anything else (or none) danger. */
export function statusColour(status: number | undefined): 'success' | 'danger' {
  return status !== undefined && status >= 200 && status < 300 ? 'success' : 'danger';
}
