// The Device Provisioning Service over AMQP (and AMQP over WebSockets), on the hub's AMQP
// endpoint: a device logs in with SASL PLAIN as `{idScope}/registrations/{registrationId}`
// and its SAS token (symmetric keys), or with its TLS client certificate and no SASL at all
// (X.509); it attaches a sender and a receiver to that same address, sends requests with
// `iotdps-operation-type` (`iotdps-register`, `iotdps-get-operationstatus`) and a correlation
// id, and is answered on its receiver with the same correlation id and a JSON data section.
import rhea, { type EventContext, type Message, type Sender } from 'rhea';
import { CONDITION, type AmqpConnection, type Grant } from '../amqp/connection.ts';
import type { LinkHandlers, LinkRoute } from '../amqp/links.ts';
import { bodyBytes } from '../amqp/messages.ts';
import { parseSasToken } from '../auth/sas.ts';
import {
  asProvisioningError,
  ProvisioningError,
  registrationPayload,
  RETRY_AFTER_SECONDS,
} from './errors.ts';
import type { DeviceCredential, Provisioning } from './provisioning.ts';

const REGISTRATION = /^(?<scope>[^/]+)\/registrations\/(?<registrationId>[^/]+)$/;
const audienceOf = (registrationId: string) => `$provisioning/${registrationId.toLowerCase()}`;

/** Whether a SASL PLAIN user is a device registering (`{idScope}/registrations/{id}`). */
export function isRegistrationUser(username: string): boolean {
  return REGISTRATION.test(username);
}

/**
 * SASL PLAIN for a registering device: its token checked against its enrollment now, and
 * held by the connection (a grant) for the requests its links make.
 */
export function registrationLogin(
  provisioning: Provisioning,
  username: string,
  password: string,
): Grant & { token: string } {
  const { scope, registrationId } = REGISTRATION.exec(username)!.groups!;
  if (scope!.toLowerCase() !== provisioning.idScope.toLowerCase())
    throw new Error(`the id scope ${scope} is not this provisioning service's`);
  provisioning.checkCredential(registrationId!, { kind: 'sas', token: password });
  return {
    audience: audienceOf(registrationId!),
    expiresAt: Number(parseSasToken(password)?.se ?? 0) * 1000,
    subject: `registration:${registrationId}`,
    token: password,
  };
}

/** The error as the SDKs read it from a rejected request: the service's error JSON. */
function rejection(error: ProvisioningError) {
  const retry = error.retryAfter ?? (error.status === 429 ? RETRY_AFTER_SECONDS : undefined);
  return {
    condition:
      error.status === 401
        ? CONDITION.unauthorized
        : error.status === 404
          ? CONDITION.notFound
          : error.status === 429
            ? CONDITION.resourceLimit
            : error.status >= 500
              ? CONDITION.internal
              : CONDITION.invalid,
    description: JSON.stringify(error.body()),
    ...(retry !== undefined ? { info: { 'retry-after': retry, 'Retry-After': retry } } : {}),
  };
}

/**
 * The two links of a registering device. Its credential: the certificate of its TLS
 * handshake, or the token of its SASL login; checked with each request.
 */
export function provisioningRoutes(provisioning: Provisioning): LinkRoute[] {
  /** Each connection's sender per registration: where answers go. */
  const answerers = new WeakMap<AmqpConnection, Map<string, Sender>>();

  const credentialOf = (registrationId: string, connection: AmqpConnection): DeviceCredential => {
    const login = connection.covering(audienceOf(registrationId)) as
      (Grant & { token?: string }) | undefined;
    if (login?.token) return { kind: 'sas', token: login.token };
    if (connection.certificate) return { kind: 'x509', chain: connection.certificate.chain };
    return { kind: 'none' };
  };

  const match = (address: string) => {
    const groups = REGISTRATION.exec(address)?.groups;
    if (!groups) return undefined;
    try {
      return {
        scope: decodeURIComponent(groups['scope']!),
        registrationId: decodeURIComponent(groups['registrationId']!),
      };
    } catch {
      return undefined;
    }
  };

  return [
    {
      role: 'sender',
      match,
      open: (link, params, connection): LinkHandlers => {
        const key = params['registrationId']!.toLowerCase();
        let senders = answerers.get(connection);
        if (!senders) {
          senders = new Map();
          answerers.set(connection, senders);
        }
        senders.set(key, link as Sender);
        return {
          closed() {
            if (senders.get(key) === link) senders.delete(key);
          },
        };
      },
    },
    {
      role: 'receiver',
      match,
      open: (_link, params, connection): LinkHandlers => {
        const registrationId = params['registrationId']!;
        return {
          message(context: EventContext) {
            const request = context.message as Message;
            const properties = (request.application_properties ?? {}) as Record<string, unknown>;
            const answer = answerers.get(connection)?.get(registrationId.toLowerCase());
            try {
              if (!answer)
                throw new ProvisioningError(
                  400,
                  400004,
                  `Attach a receiver to ${params['scope']}/registrations/${registrationId} before sending requests: answers go there.`,
                );
              // As the service does: the link is the device's to attach, and a credential no
              // enrollment vouches for is the request's 401 (the SDKs end the registration on it).
              if (params['scope']!.toLowerCase() !== provisioning.idScope.toLowerCase())
                throw new ProvisioningError(
                  401,
                  401002,
                  `The id scope ${params['scope']} is not this provisioning service's (${provisioning.idScope}).`,
                );
              const credential = credentialOf(registrationId, connection);
              const operation = properties['iotdps-operation-type'];
              let answered: { status: number; body: object };
              if (operation === 'iotdps-register') {
                answered = {
                  status: 202,
                  body: provisioning.register(
                    registrationId,
                    credential,
                    registrationPayload(bodyBytes(request).toString('utf8')),
                  ),
                };
              } else if (operation === 'iotdps-get-operationstatus') {
                const result = provisioning.operationStatus(
                  registrationId,
                  String(properties['iotdps-operation-id'] ?? ''),
                  credential,
                );
                answered = { status: result.status === 'assigning' ? 202 : 200, body: result };
              } else {
                throw new ProvisioningError(
                  400,
                  400004,
                  `iotdps-operation-type must be iotdps-register or iotdps-get-operationstatus, not ${JSON.stringify(operation)}.`,
                );
              }
              context.delivery?.accept();
              answer!.send({
                ...(request.correlation_id !== undefined
                  ? { correlation_id: request.correlation_id }
                  : {}),
                application_properties: {
                  'iotdps-operation-type': String(operation),
                  'iotdps-status': answered.status,
                  'retry-after': RETRY_AFTER_SECONDS,
                  'Retry-After': RETRY_AFTER_SECONDS,
                },
                content_type: 'application/json',
                body: rhea.message.data_section(Buffer.from(JSON.stringify(answered.body))),
              });
            } catch (caught) {
              context.delivery?.reject(rejection(asProvisioningError(caught)));
            }
          },
        };
      },
    },
  ];
}
