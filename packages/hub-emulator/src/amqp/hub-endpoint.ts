// Long on purpose: IoT Hub's device and service routes on the AMQP layer (telemetry, module
// output, the twin channel, direct methods) share one per-connection state, the identities a
// connection's grants speak for; cloud-to-device routes are apart (cloud-to-device-routes.ts).
import { randomUUID } from 'node:crypto';
import rhea, { type EventContext, type Message, type Receiver, type Sender } from 'rhea';
import {
  jsonNestingBeyond,
  jsonNestingMessage,
  parseJson,
  renderSection,
  type JsonValue,
} from '@twinscope/twin';
import { verifySasToken, type Principal, type SasContext } from '../auth/sas.ts';
import { authenticateCertificate } from '../auth/x509.ts';
import { identityKey, type DeviceSessions, type Identity } from '../devices/device-sessions.ts';
import { asHubError, deviceErrorBody, HubError } from '../errors.ts';
import type { ChangeEvent } from '../store/change-log.ts';
import { parseReportedPatch } from '../store/identity-input.ts';
import type { CloudToDevice } from '../c2d/cloud-to-device.ts';
import { cloudToDeviceRoutes } from './cloud-to-device-routes.ts';
import { ADDRESS, identityOf, matchIdentity, scopeOf } from './addresses.ts';
import { bodyBytes, correlationText, messageProperties } from './messages.ts';
import type { Registry } from '../store/registry.ts';
import {
  AmqpRefusal,
  CONDITION,
  startAmqpServer,
  type AmqpConnection,
  type Grant,
  type LinkHandlers,
  type PutToken,
  type RunningAmqpServer,
} from './amqp-server.ts';

/**
 * A batch's message format (Microsoft's, 0x80013700): each data section of its body is one
 * whole encoded message.
 */
const BATCH_FORMAT = 0x80013700;

/**
 * The messages a delivery holds: itself, or each message of a batch (each data section one
 * whole encoded message). rhea decodes only format 0 and hands other formats over as bytes.
 * Undefined: a format IoT Hub does not take.
 */
function batchedMessages(context: EventContext): Message[] | undefined {
  const format = context.delivery?.format ?? 0;
  if (format === 0) return [context.message!];
  const raw: unknown = context.message;
  if (format !== BATCH_FORMAT || !Buffer.isBuffer(raw)) return undefined;
  const decoded = (bytes: Buffer): Message => {
    const message = rhea.message.decode(bytes);
    // rhea's decoder types a message without its body, which it does decode.
    return { ...message, body: Reflect.get(message, 'body') };
  };
  const body: unknown = decoded(raw).body;
  const content = body && typeof body === 'object' && 'content' in body ? body.content : undefined;
  const sections: unknown[] = Array.isArray(content) ? content : [content];
  if (!sections.every(Buffer.isBuffer)) return undefined;
  return sections.map(decoded);
}

/** IoT Hub's largest device-to-cloud message, properties included. */
const MAX_MESSAGE_BYTES = 256 * 1024;

export interface HubAmqpOptions {
  registry: Registry;
  sessions: DeviceSessions;
  c2d: CloudToDevice;
  /** The hub's name (the first label of its host name). */
  hubName: string;
  sas: SasContext;
  port: number;
  listen: string;
  tls: { cert: string; key: string };
  /** CA certificates (PEM) whose device certificates the hub accepts (`--ca-cert`). */
  trustedCas: readonly string[];
  log?: (line: string) => void;
}

/** What one AMQP connection does for the devices and modules it speaks for. */
interface ConnectionState {
  /** Identities a put-token authenticated on this connection (connected while it lasts). */
  identities: Map<string, Identity>;
  /** The server sender of each twin channel, by identity key, and whether it gets desired pushes. */
  twins: Map<string, { sender: Sender; desired: boolean }>;
  /** The server sender of each methods channel, by identity key. */
  methods: Map<string, Sender>;
}

/**
 * IoT Hub's device and service AMQP surface on the shared AMQP layer, over TLS with the
 * hub's certificate: `$cbs` with device, module and policy SAS tokens; telemetry and module
 * output events; the twin channel (GET, reported PATCH, desired subscription and pushes);
 * direct methods. Links are authorised by the identity their address names.
 */
export async function startHubAmqpEndpoint(options: HubAmqpOptions): Promise<RunningAmqpServer> {
  const { registry, sessions } = options;
  const log = (line: string) => options.log?.(`amqp: ${line}`);
  const states = new WeakMap<AmqpConnection, ConnectionState>();
  const stateOf = (connection: AmqpConnection): ConnectionState => {
    let state = states.get(connection);
    if (!state) {
      state = { identities: new Map(), twins: new Map(), methods: new Map() };
      states.set(connection, state);
    }
    return state;
  };

  const putToken = (request: PutToken): Grant => {
    const principal: Principal = verifySasToken(request.token, options.sas);
    const [devices, deviceId] = principal.scope;
    const device = devices === 'devices' && deviceId ? registry.find(deviceId) : undefined;
    if (device && device.status !== 'enabled') throw new Error(`Device ${deviceId} is disabled.`);
    return {
      audience: principal.scope.join('/'),
      expiresAt: principal.expiresAt ?? 0,
      rights: principal.rights,
      subject: principal.name,
    };
  };

  /**
   * SASL PLAIN as the C service client sends it: user `<policy>@sas.root.<hub>`, a policy's
   * SAS token for the whole hub as the password, checked like a put-token for that policy.
   */
  const plain = (username: string, password: string): Grant => {
    const named = /^([^@]+)@sas\.root\.(.+)$/.exec(username);
    if (!named || named[2]!.toLowerCase() !== options.hubName.toLowerCase())
      throw new Error(`The user is <policy>@sas.root.${options.hubName}, not ${username}.`);
    const grant = putToken({ type: 'servicebus.windows.net:sastoken', name: '', token: password });
    if (grant.subject !== named[1])
      throw new Error(`The token is ${grant.subject ?? "a device's"}, not policy ${named[1]}'s.`);
    return grant;
  };

  /** Whether a grant lets its holder act as this device or module (DeviceConnect). */
  const actsAs = (identity: Identity) => (grant: Grant) => {
    if (!grant.rights?.has('DeviceConnect')) return false;
    // A device's own key must not open its modules, nor one module's key another module.
    if (grant.subject?.startsWith('device:')) return identity.moduleId === undefined;
    if (grant.subject?.startsWith('module:'))
      return grant.subject === `module:${identityKey(identity)}`;
    return true;
  };

  /**
   * X.509: no `$cbs`; the connection's TLS certificate speaks for the identity the link
   * names, for as long as the certificate is valid (a grant like a token's).
   */
  const authenticateByCertificate = (identity: Identity, connection: AmqpConnection) => {
    const record = registry.find(identity.deviceId, identity.moduleId);
    if (!record) return;
    try {
      const { expiresAt } = authenticateCertificate(record, identity, connection.certificate!);
      connection.grant({
        audience: scopeOf(identity),
        expiresAt,
        rights: new Set(['DeviceConnect']),
        subject:
          identity.moduleId === undefined
            ? `device:${identity.deviceId}`
            : `module:${identityKey(identity)}`,
      });
    } catch (error) {
      throw new AmqpRefusal(CONDITION.unauthorized, asHubError(error).message);
    }
  };

  /** Checks the identity exists, is enabled and that this connection may act as it. */
  const authorizeDevice = (
    link: Sender | Receiver,
    identity: Identity,
    connection: AmqpConnection,
  ) => {
    const accept = actsAs(identity);
    if (!connection.authorized(scopeOf(identity), accept) && connection.certificate)
      authenticateByCertificate(identity, connection);
    if (!connection.authorized(scopeOf(identity), accept)) {
      throw new AmqpRefusal(
        CONDITION.unauthorized,
        `Unauthorized access to ${identityKey(identity)}: put a token for it on $cbs first.`,
      );
    }
    const device = registry.find(identity.deviceId);
    if (!device || !registry.find(identity.deviceId, identity.moduleId))
      throw new AmqpRefusal(CONDITION.notFound, `${identityKey(identity)} is not registered.`);
    if (device.status !== 'enabled')
      throw new AmqpRefusal(CONDITION.unauthorized, `Device ${identity.deviceId} is disabled.`);
    connection.guard(link, scopeOf(identity), accept);
    if (!stateOf(connection).identities.has(identityKey(identity))) {
      stateOf(connection).identities.set(identityKey(identity), identity);
      sessions.connected(identity);
    }
  };

  /** Checks this connection holds a service token (ServiceConnect) for the whole hub. */
  const authorizeService = (link: Sender | Receiver, connection: AmqpConnection) => {
    const accept = (grant: Grant) => grant.rights?.has('ServiceConnect') === true;
    if (!connection.authorized('', accept)) {
      throw new AmqpRefusal(
        CONDITION.unauthorized,
        'This link needs a token of a policy with ServiceConnect for the hub.',
      );
    }
    connection.guard(link, '', accept);
  };

  /** A put-token for a device or module: it is connected from now on (as IoT Hub reports). */
  const granted = (grant: Grant, connection: AmqpConnection) => {
    const [devices, deviceId, modules, moduleId] = grant.audience.split('/');
    if (devices !== 'devices' || !deviceId || !grant.rights?.has('DeviceConnect')) return;
    const identity: Identity =
      modules === 'modules' && moduleId ? { deviceId, moduleId } : { deviceId };
    const state = stateOf(connection);
    if (state.identities.has(identityKey(identity)) || !registry.find(deviceId, identity.moduleId))
      return;
    state.identities.set(identityKey(identity), identity);
    sessions.connected(identity);
  };

  const ended = (connection: AmqpConnection) => {
    const state = states.get(connection);
    if (!state) return;
    states.delete(connection);
    for (const identity of state.identities.values()) sessions.disconnected(identity);
  };

  // ---- telemetry and module output events ------------------------------------------

  const telemetry = (receiver: Receiver, identity: Identity, connection: AmqpConnection) => {
    authorizeDevice(receiver, identity, connection);
    return {
      message(context: EventContext) {
        // A batch (the C SDK sends nothing else; .NET's SendEventBatch) is one event per
        // message it holds, each with its own properties and each within the size limit.
        const messages = batchedMessages(context);
        if (!messages?.length) {
          context.delivery?.reject({
            condition: CONDITION.notImplemented,
            description: `Message format ${context.delivery?.format} is not one IoT Hub takes: a message, or a batch (0x80013700) of data sections that each hold one.`,
          });
          return;
        }
        const events = messages.map((message) => ({
          payload: bodyBytes(message),
          properties: messageProperties(message),
        }));
        const oversized = events.findIndex(
          ({ payload, properties }) =>
            payload.length +
              Object.entries(properties).reduce((n, [k, v]) => n + k.length + v.length, 0) >
            MAX_MESSAGE_BYTES,
        );
        if (oversized >= 0) {
          context.delivery?.reject({
            condition: CONDITION.messageSize,
            description: `Messages are limited to ${MAX_MESSAGE_BYTES / 1024} KB${events.length > 1 ? `; message ${oversized + 1} of this batch is larger, so none of it was taken` : ''}.`,
          });
          return;
        }
        registry.touch(identity.deviceId, identity.moduleId);
        for (const { payload, properties } of events)
          registry.recordMessage(identity.deviceId, identity.moduleId, payload, properties);
        context.delivery?.accept();
      },
    } satisfies LinkHandlers;
  };

  // ---- twin channel ----------------------------------------------------------------

  const twinResponse = (
    sender: Sender,
    request: Message,
    status: number,
    body: Buffer | string,
    extra: Record<string, unknown> = {},
  ) => {
    sender.send({
      correlation_id: request.correlation_id,
      message_annotations: { status: rhea.types.wrap_int(status), ...extra },
      body: rhea.message.data_section(Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')),
    } as Message);
  };

  const twinRequest = (identity: Identity, connection: AmqpConnection, context: EventContext) => {
    const request = context.message!;
    const channel = stateOf(connection).twins.get(identityKey(identity));
    if (!channel) {
      log(`${identityKey(identity)} sent a twin request without a twin receiver`);
      return;
    }
    const annotations = (request.message_annotations ?? {}) as Record<string, unknown>;
    const operation = String(annotations['operation'] ?? '');
    const resource = String(annotations['resource'] ?? '');
    registry.touch(identity.deviceId, identity.moduleId);
    try {
      if (operation === 'GET') {
        const twin = registry.get(identity.deviceId, identity.moduleId).twin;
        twinResponse(
          channel.sender,
          request,
          200,
          JSON.stringify({
            desired: renderSection(twin.desired),
            reported: renderSection(twin.reported),
          }),
        );
      } else if (operation === 'PATCH' && resource === '/properties/reported') {
        const raw = bodyBytes(request);
        const deep = jsonNestingBeyond(raw);
        if (deep) throw new HubError('ArgumentInvalid', jsonNestingMessage(deep.position));
        let parsed: JsonValue;
        try {
          parsed = parseJson(raw.toString('utf8'));
        } catch {
          throw new HubError('ArgumentInvalid', 'The reported patch is not valid JSON.');
        }
        const record = registry.patchReported(
          identity.deviceId,
          identity.moduleId,
          parseReportedPatch(parsed),
        );
        twinResponse(channel.sender, request, 204, '', {
          version: rhea.types.wrap_long(record.twin.reported.version),
        });
      } else if (
        resource === '/notifications/twin/properties/desired' &&
        (operation === 'PUT' || operation === 'DELETE')
      ) {
        channel.desired = operation === 'PUT';
        twinResponse(channel.sender, request, 200, '');
      } else {
        throw new HubError(
          'ArgumentInvalid',
          `Unsupported twin operation ${operation} ${resource}.`,
        );
      }
    } catch (error) {
      const hubError = asHubError(error);
      twinResponse(channel.sender, request, hubError.status, deviceErrorBody(hubError));
    }
  };

  /** Desired-property pushes to twin channels that subscribed, on every connection. */
  const channels = new Set<{ identity: Identity; connection: AmqpConnection }>();
  const onChange = (event: ChangeEvent) => {
    if (!event.desiredPatch) return;
    const key = identityKey({
      deviceId: event.deviceId,
      ...(event.moduleId !== undefined ? { moduleId: event.moduleId } : {}),
    });
    for (const { identity, connection } of channels) {
      if (identityKey(identity) !== key) continue;
      const channel = states.get(connection)?.twins.get(key);
      if (!channel?.desired || !channel.sender.is_open()) continue;
      channel.sender.send({
        body: rhea.message.data_section(Buffer.from(JSON.stringify(event.desiredPatch), 'utf8')),
      } as Message);
    }
  };
  const unsubscribe = registry.changes.subscribe(onChange);

  // ---- direct methods --------------------------------------------------------------

  const pendingMethods = new Map<
    string,
    { resolve(result: { status: number; payload: JsonValue }): void; timer: NodeJS.Timeout }
  >();

  const methodSender = (sender: Sender, identity: Identity, connection: AmqpConnection) => {
    authorizeDevice(sender, identity, connection);
    const key = identityKey(identity);
    stateOf(connection).methods.set(key, sender);
    const stop = sessions.listenForMethods(
      identity,
      (methodName, payload, timeoutSeconds) =>
        new Promise((resolve, reject) => {
          const requestId = randomUUID();
          const timer = setTimeout(() => {
            pendingMethods.delete(requestId);
            reject(
              new HubError(
                'GatewayTimeout',
                `${key} did not answer ${methodName} within ${timeoutSeconds} s.`,
              ),
            );
          }, timeoutSeconds * 1000);
          pendingMethods.set(requestId, { resolve, timer });
          sender.send({
            // A 16-byte buffer is an AMQP uuid on the wire, as IoT Hub sends method ids.
            correlation_id: Buffer.from(requestId.replaceAll('-', ''), 'hex'),
            application_properties: { 'IoThub-methodname': methodName },
            body: rhea.message.data_section(Buffer.from(JSON.stringify(payload ?? null), 'utf8')),
          } as Message);
        }),
    );
    return {
      closed() {
        stop();
        if (stateOf(connection).methods.get(key) === sender)
          stateOf(connection).methods.delete(key);
      },
    } satisfies LinkHandlers;
  };

  const methodResponses = (receiver: Receiver, identity: Identity, connection: AmqpConnection) => {
    authorizeDevice(receiver, identity, connection);
    return {
      message(context: EventContext) {
        const message = context.message!;
        context.delivery?.accept();
        const id = correlationText(message.correlation_id);
        const pending = id === undefined ? undefined : pendingMethods.get(id);
        if (!pending || id === undefined) return;
        pendingMethods.delete(id);
        clearTimeout(pending.timer);
        const status = Number((message.application_properties ?? {})['IoThub-status'] ?? 200);
        const raw = bodyBytes(message).toString('utf8');
        let payload: JsonValue = null;
        if (raw) {
          try {
            payload = jsonNestingBeyond(raw) ? raw : parseJson(raw);
          } catch {
            payload = raw;
          }
        }
        pending.resolve({ status, payload });
      },
    } satisfies LinkHandlers;
  };

  const server = await startAmqpServer({
    name: 'iothub',
    port: options.port,
    listen: options.listen,
    tls: { ...options.tls, clientCertificates: { trustedCas: options.trustedCas } },
    putToken,
    plain,
    granted,
    ended,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    routes: [
      ...cloudToDeviceRoutes({
        c2d: options.c2d,
        hubName: options.hubName,
        authorizeDevice,
        authorizeService,
      }),
      {
        role: 'receiver',
        match: (address) => matchIdentity(ADDRESS.telemetry, address),
        open: (link, params, connection) =>
          telemetry(link as Receiver, identityOf(params), connection),
      },
      {
        role: 'receiver',
        match: (address) => matchIdentity(ADDRESS.twin, address),
        open: (link, params, connection) => {
          const identity = identityOf(params);
          authorizeDevice(link, identity, connection);
          return { message: (context) => twinRequest(identity, connection, context) };
        },
      },
      {
        role: 'sender',
        match: (address) => matchIdentity(ADDRESS.twin, address),
        open: (link, params, connection) => {
          const identity = identityOf(params);
          authorizeDevice(link, identity, connection);
          const key = identityKey(identity);
          stateOf(connection).twins.set(key, { sender: link as Sender, desired: false });
          const channel = { identity, connection };
          channels.add(channel);
          return {
            closed() {
              channels.delete(channel);
              if (stateOf(connection).twins.get(key)?.sender === link)
                stateOf(connection).twins.delete(key);
            },
          };
        },
      },
      {
        role: 'sender',
        match: (address) => matchIdentity(ADDRESS.methods, address),
        open: (link, params, connection) =>
          methodSender(link as Sender, identityOf(params), connection),
      },
      {
        role: 'receiver',
        match: (address) => matchIdentity(ADDRESS.methods, address),
        open: (link, params, connection) =>
          methodResponses(link as Receiver, identityOf(params), connection),
      },
    ],
    ...(options.log ? { log: options.log } : {}),
  });
  return {
    ...server,
    async close() {
      unsubscribe();
      for (const pending of pendingMethods.values()) clearTimeout(pending.timer);
      await server.close();
    },
  };
}
