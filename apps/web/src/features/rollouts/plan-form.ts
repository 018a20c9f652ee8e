import type { RolloutPlan } from '@twinscope/contract';

/** The rollout form as typed: every number still text. */
export interface PlanForm {
  canary: string;
  canaryKind: 'count' | 'percent';
  growth: string;
  maxWaves: string;
  success: 'written' | 'mirrors' | 'query';
  where: string;
  timeoutSeconds: string;
  failureThreshold: string;
  approval: boolean;
}

export const DEFAULT_PLAN: PlanForm = {
  canary: '1',
  canaryKind: 'count',
  growth: '2',
  maxWaves: '10',
  success: 'mirrors',
  where: '',
  timeoutSeconds: '120',
  failureThreshold: '0',
  approval: false,
};

/** The plan the form describes, or the first thing wrong with it, in words. */
export function planFromForm(
  form: PlanForm,
): { ok: true; plan: RolloutPlan } | { ok: false; error: string } {
  const number = (text: string, what: string, min: number, max: number, integer: boolean) => {
    const value = Number(text.trim());
    if (
      text.trim() === '' ||
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    )
      throw new Error(
        `${what} is ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}.`,
      );
    return value;
  };
  try {
    const canary =
      form.canaryKind === 'count'
        ? { kind: 'count' as const, value: number(form.canary, 'The canary', 1, 100_000, true) }
        : {
            kind: 'percent' as const,
            value: number(form.canary, 'The canary share', 0.01, 100, false),
          };
    const timeoutSeconds = () => number(form.timeoutSeconds, 'The time limit', 1, 86_400, true);
    const success: RolloutPlan['success'] =
      form.success === 'written'
        ? { kind: 'written' }
        : form.success === 'mirrors'
          ? { kind: 'mirrors', timeoutSeconds: timeoutSeconds() }
          : form.where.trim()
            ? { kind: 'query', where: form.where.trim(), timeoutSeconds: timeoutSeconds() }
            : (() => {
                throw new Error(
                  "Write the condition each twin must meet, e.g. properties.reported.firmware = '2.1'.",
                );
              })();
    return {
      ok: true,
      plan: {
        canary,
        growth: number(form.growth, 'The growth', 1, 100, false),
        maxWaves: number(form.maxWaves, 'The most waves', 1, 50, true),
        success,
        failureThreshold: number(form.failureThreshold, 'The failure threshold', 0, 100, false),
        approval: form.approval,
      },
    };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
