import type { DeviceIdentity, ModuleIdentity, Twin } from '@twinscope/contract';
import {
  abortableHubCall,
  purgeCloudToDeviceQueue,
  jobClientFor,
  jobClientForCredential,
  registryFor,
  registryForCredential,
  serviceClientFor,
  type HubTokenCredential,
} from '@twinscope/hub-connection';
import iothub from 'azure-iothub';
import common from 'azure-iot-common';
import { isIdentityId, objectOf, type JsonObject, type JsonValue } from '@twinscope/twin';
import { randomBytes } from 'node:crypto';
import { AppError } from '../core/app-error.ts';
import { ClientGoneError, type CallContext } from '../core/call-context.ts';
import type { BudgetClass, HubBudget, Spender } from '../quota/hub-budget.ts';
import type { Logger } from '../log.ts';
import type {
  BulkItemResult,
  CloudMessage,
  DeviceChange,
  FeedbackRecord,
  HubAdapter,
  HubConfiguration,
  MethodCall,
  ModuleChange,
  NewDevice,
  NewModule,
  QueryPage,
} from './hub-adapter.ts';
import { deviceFromHub, moduleFromHub, twinFromHub } from './twin-mapping.ts';

type Registry = ReturnType<typeof registryFor>;

interface SdkError extends Error {
  code?: string;
  responseBody?: string | Buffer;
  response?: { statusCode?: number; headers?: Record<string, string | undefined> };
}

/** Failures before a request reached the hub: nothing can have changed. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN', 'ENETUNREACH']);
/** Failures after it may have: a write's outcome is unknown. */
const CUT_OFF = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

/** A hub call is a read (safe to abandon and repeat) or a write (its outcome matters). */
export type CallKind = 'read' | 'write';

/** Starts one SDK request so that it is abandoned with the call it belongs to. */
type Sdk = <R>(start: () => Promise<R>) => Promise<R>;

const UNKNOWN_OUTCOME =
  'so whether the change was applied is unknown. The page reloads it as it is now: check it before trying again.';

/** The hub's own words from an error body (`ErrorCode:X;text`), without tracking noise. */
function hubMessage(error: SdkError): string {
  return error.message && error.message !== 'Error'
    ? error.message
    : 'The hub refused the request.';
}

function retryAfterSeconds(error: SdkError): number | undefined {
  const header = error.response?.headers?.['retry-after'];
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** Maps what azure-iothub raises to the contract's codes; never passes SDK internals on. */
export function mapHubError(error: unknown, what: string, kind: CallKind = 'read'): AppError {
  if (error instanceof AppError) return error;
  const e = error as SdkError;
  const status = e.response?.statusCode;
  switch (e.constructor?.name) {
    case 'DeviceNotFoundError':
      return new AppError('not_found', `${what} was not found on the hub.`);
    case 'InvalidEtagError':
      return new AppError('conflict', `${what} was changed by someone else since you loaded it.`);
    case 'DeviceAlreadyExistsError':
      return new AppError('conflict', `${what} already exists.`);
    case 'ArgumentError':
      return new AppError('bad_request', `The hub refused the request: ${hubMessage(e)}`);
    case 'UnauthorizedError':
      // Kept as the cause so the BFF's log says what the hub refused (never the token).
      return new AppError(
        'hub_error',
        "The hub refused Twinscope's credentials (expired or missing permission). Ask an administrator to check the BFF's hub connection.",
        { cause: error },
      );
    case 'DeviceMaximumQueueDepthExceededError':
      return new AppError(
        'conflict',
        `${what} already has 50 messages waiting, the most IoT Hub queues; nothing was sent. Purge the queue or wait for the device.`,
      );
    case 'MessageTooLargeError':
      return new AppError('bad_request', 'IoT Hub refused the message: it is over 64 KB.');
    case 'GatewayTimeoutError':
      return new AppError(
        'device_timeout',
        `${what} did not answer in time; whether it acted on the call is unknown.`,
      );
    case 'ThrottlingError':
      return new AppError('throttled', 'The hub is throttling requests; try again shortly.', {
        ...(retryAfterSeconds(e) !== undefined ? { retryAfterSeconds: retryAfterSeconds(e)! } : {}),
      });
    default:
      break;
  }
  if (status === 404 && /DeviceNotOnline/.test(String(e.responseBody ?? '')))
    return new AppError(
      'device_offline',
      `${what} is not connected, or does not listen for direct methods.`,
    );
  if (status === 404) return new AppError('not_found', `${what} was not found on the hub.`);
  if (e.code && NOT_SENT.has(e.code)) {
    return new AppError(
      'hub_unreachable',
      'The IoT hub cannot be reached right now; nothing was changed.',
    );
  }
  if (e.code && CUT_OFF.has(e.code)) {
    return kind === 'write'
      ? new AppError(
          'outcome_unknown',
          `The connection to the IoT hub broke mid-write, ${UNKNOWN_OUTCOME}`,
        )
      : new AppError('hub_unreachable', 'The connection to the IoT hub broke; try again shortly.');
  }
  if (status !== undefined && status >= 500) {
    return kind === 'write'
      ? new AppError(
          'outcome_unknown',
          `The IoT hub answered ${status} to a write, ${UNKNOWN_OUTCOME}`,
        )
      : new AppError('hub_unreachable', `The IoT hub answered ${status}. Try again shortly.`);
  }
  return new AppError('hub_error', 'The IoT hub request failed.', { cause: error });
}

/** How an operator reads which twin an error is about. */
function twinName(deviceId: string, moduleId: string | undefined): string {
  return moduleId === undefined
    ? `The twin of ${deviceId}`
    : `The twin of module ${moduleId} of ${deviceId}`;
}

export interface IotHubAdapterOptions {
  /** A service connection string, or … */
  connectionString?: string;
  /** … the hub's host name and an Entra credential (no shared key). */
  entra?: { hostName: string; credential: HubTokenCredential };
  ca?: string;
  /** Where devices and modules connect (`host[:port]`), when not the service host. */
  deviceHost?: string;
  /** The hub's AMQP port for the service client, when not 5671 (an emulator). */
  amqpsPort?: number;
  logger: Logger;
  /** Throttled calls are retried while the total wait stays under this. */
  maxThrottleWaitMs?: number;
  /** How long one hub call (retries included) may take before it is abandoned. */
  deadlineMs?: number;
  /** What the BFF may spend of the hub's throttles; none: nothing is counted. */
  budget?: HubBudget;
  sleep?: (ms: number) => Promise<void>;
}

/** The hub through azure-iothub's Registry; 429s are retried honouring Retry-After. */
export class IotHubAdapter implements HubAdapter {
  readonly hostName: string;
  readonly isEmulator: boolean;
  private readonly registry: Registry;
  private readonly jobs: iothub.JobClient;
  private serviceClient: iothub.Client | undefined;
  private readonly maxThrottleWaitMs: number;
  private readonly deadlineMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: IotHubAdapterOptions) {
    // A request no call could bind (Entra tokens arrive after the SDK starts) still ends.
    const ca = {
      ...(options.ca ? { ca: options.ca } : {}),
      requestTimeoutMs: options.deadlineMs ?? 15_000,
    };
    if (options.connectionString) {
      this.registry = registryFor(options.connectionString, ca);
      this.jobs = jobClientFor(options.connectionString, ca);
    } else if (options.entra) {
      this.registry = registryForCredential(options.entra.hostName, options.entra.credential, ca);
      this.jobs = jobClientForCredential(options.entra.hostName, options.entra.credential, ca);
    } else {
      throw new Error('The hub needs a connection string or a host name with a credential.');
    }
    const host =
      /HostName=([^;]+)/.exec(options.connectionString ?? '')?.[1] ?? options.entra?.hostName ?? '';
    this.hostName = host;
    this.isEmulator = options.ca !== undefined || host.includes(':');
    this.maxThrottleWaitMs = options.maxThrottleWaitMs ?? 10_000;
    this.deadlineMs = options.deadlineMs ?? 15_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * One hub call: abandoned at the deadline, and a read also when the browser that asked
   * goes away (a write already sent is left to finish, so its outcome is recorded). 429s are
   * retried honouring Retry-After within the deadline.
   */
  private async call<T>(
    what: string,
    kind: CallKind,
    cost: Partial<Record<BudgetClass, number>>,
    context: CallContext | undefined,
    run: (sdk: Sdk) => Promise<T>,
    deadlineMs = this.deadlineMs,
  ): Promise<T> {
    const deadline = AbortSignal.timeout(deadlineMs);
    const signal =
      kind === 'read' && context ? AbortSignal.any([deadline, context.signal]) : deadline;
    await this.spend(
      cost,
      context ? { user: context.caller ?? 'anonymous' } : 'background',
      signal,
    );
    // Each SDK request is bound to the signal as it is started.
    const sdk: Sdk = (start) => abortableHubCall(signal, start);
    try {
      return await this.withRetries(what, kind, signal, () => run(sdk));
    } catch (error) {
      if (!signal.aborted) throw error;
      if (signal.reason instanceof ClientGoneError) throw signal.reason;
      const seconds = Math.round(deadlineMs / 100) / 10;
      throw kind === 'write'
        ? new AppError(
            'outcome_unknown',
            `The IoT hub did not answer within ${seconds} s, ${UNKNOWN_OUTCOME}`,
          )
        : new AppError(
            'hub_unreachable',
            `The IoT hub did not answer within ${seconds} s; nothing was changed. Try again shortly.`,
          );
    }
  }

  /**
   * Takes what a call costs from the budget before it is made. A person over budget gets
   * 429 at once (the console retries later); the BFF's own work waits its turn.
   */
  private async spend(
    cost: Partial<Record<BudgetClass, number>>,
    spender: Spender,
    signal: AbortSignal,
  ): Promise<void> {
    const budget = this.options.budget;
    if (!budget) return;
    for (const [kind, count] of Object.entries(cost) as [BudgetClass, number][]) {
      for (let i = 0; i < count; i++) {
        for (;;) {
          const refusal = budget.take(kind, spender);
          if (!refusal) break;
          if (spender !== 'background' || signal.aborted) {
            throw new AppError('throttled', refusal.message, {
              retryAfterSeconds: refusal.retryAfterSeconds,
            });
          }
          // Waits as long as the bucket needs to hold a token again, not a whole second: a
          // rollout paced by the budget keeps to its rate instead of bursting and idling.
          await this.sleep(Math.max(2, Math.min(refusal.waitMs, 1000)));
        }
      }
    }
  }

  private async withRetries<T>(
    what: string,
    kind: CallKind,
    signal: AbortSignal,
    run: () => Promise<T>,
  ): Promise<T> {
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await untilAborted(signal, run());
      } catch (error) {
        if (signal.aborted) throw error;
        const mapped = mapHubError(error, what, kind);
        if (mapped.code === 'hub_error' && mapped.extras.cause) {
          const e = mapped.extras.cause as SdkError;
          this.options.logger.warn('hub call failed', {
            what,
            error: e.constructor?.name,
            message: e.message,
            status: e.response?.statusCode,
          });
        }
        if (mapped.code !== 'throttled') throw mapped;
        const wait = (mapped.extras.retryAfterSeconds ?? 2 ** attempt) * 1000;
        if (waited + wait > this.maxThrottleWaitMs) throw mapped;
        this.options.logger.info('hub throttled; retrying', {
          what,
          waitMs: wait,
          attempt: attempt + 1,
        });
        await untilAborted(signal, this.sleep(wait));
        waited += wait;
      }
    }
  }

  /** Every id the SDK puts in a path: never one a path normaliser could rewrite. */
  private ids(deviceId: string, moduleId?: string): void {
    for (const id of moduleId === undefined ? [deviceId] : [deviceId, moduleId]) {
      if (!isIdentityId(id))
        throw new AppError(
          'validation_failed',
          `${JSON.stringify(id.slice(0, 140))} is not a valid IoT Hub id.`,
        );
    }
  }

  async query(
    sql: string,
    options: { pageSize?: number; continuation?: string },
    context?: CallContext,
  ): Promise<QueryPage> {
    return this.call('The query', 'read', { query: 1 }, context, async (sdk) => {
      const query = this.registry.createQuery(sql, options.pageSize);
      // The SDK's promise form starts over unless it is handed the continuation token.
      const { result } = await sdk(() => query.next(options.continuation as string));
      const continuation = query.hasMoreResults ? query.continuationToken : undefined;
      return { items: result as unknown[], ...(continuation ? { continuation } : {}) };
    });
  }

  async listConfigurations(context?: CallContext): Promise<HubConfiguration[]> {
    return this.call(
      'The configurations',
      'read',
      { configurations: 1 },
      context,
      async (sdk) =>
        ((await sdk(() => this.registry.getConfigurations())).responseBody ?? []) as never,
    );
  }

  async getConfiguration(id: string, context?: CallContext): Promise<HubConfiguration> {
    return this.call(
      `Configuration ${id}`,
      'read',
      { configurations: 1 },
      context,
      async (sdk) => (await sdk(() => this.registry.getConfiguration(id))).responseBody as never,
    );
  }

  async saveConfiguration(
    configuration: HubConfiguration,
    etag: string | undefined,
    context?: CallContext,
  ): Promise<HubConfiguration> {
    const id = String(configuration['id']);
    return this.call(
      `Configuration ${id}`,
      'write',
      { configurations: 1 },
      context,
      async (sdk) => {
        if (etag === undefined)
          await sdk(() => this.registry.addConfiguration(configuration as never));
        else
          await sdk(() => this.registry.updateConfiguration({ ...configuration, etag } as never));
        return (await sdk(() => this.registry.getConfiguration(id))).responseBody as never;
      },
    );
  }

  async applyModulesContent(
    deviceId: string,
    modulesContent: JsonObject,
    context?: CallContext,
  ): Promise<void> {
    this.ids(deviceId);
    await this.call(`Device ${deviceId}`, 'write', { configurations: 1 }, context, async (sdk) => {
      await sdk(() =>
        this.registry.applyConfigurationContentOnDevice(deviceId, { modulesContent } as never),
      );
    });
  }

  async deleteConfiguration(id: string, context?: CallContext): Promise<void> {
    await this.call(`Configuration ${id}`, 'write', { configurations: 1 }, context, async (sdk) => {
      await sdk(() => this.registry.removeConfiguration(id));
    });
  }

  async getDevice(deviceId: string, context?: CallContext): Promise<DeviceIdentity> {
    this.ids(deviceId);
    return this.call(`Device ${deviceId}`, 'read', { identity: 1 }, context, async (sdk) =>
      deviceFromHub((await sdk(() => this.registry.get(deviceId))).responseBody),
    );
  }

  async getModules(deviceId: string, context?: CallContext): Promise<ModuleIdentity[]> {
    this.ids(deviceId);
    return this.call(`Device ${deviceId}`, 'read', { identity: 1 }, context, async (sdk) =>
      (await sdk(() => this.registry.getModulesOnDevice(deviceId))).responseBody.map(moduleFromHub),
    );
  }

  async getModule(
    deviceId: string,
    moduleId: string,
    context?: CallContext,
  ): Promise<ModuleIdentity> {
    this.ids(deviceId, moduleId);
    return this.call(
      `Module ${moduleId} of ${deviceId}`,
      'read',
      { identity: 1 },
      context,
      async (sdk) =>
        moduleFromHub((await sdk(() => this.registry.getModule(deviceId, moduleId))).responseBody),
    );
  }

  async getTwin(deviceId: string, moduleId?: string, context?: CallContext): Promise<Twin> {
    this.ids(deviceId, moduleId);
    return this.call(twinName(deviceId, moduleId), 'read', { twinRead: 1 }, context, async (sdk) =>
      twinFromHub(
        moduleId === undefined
          ? (await sdk(() => this.registry.getTwin(deviceId))).responseBody
          : (await sdk(() => this.registry.getModuleTwin(deviceId, moduleId))).responseBody,
      ),
    );
  }

  async patchTwin(
    deviceId: string,
    moduleId: string | undefined,
    patch: JsonObject,
    etag: string,
    context?: CallContext,
  ): Promise<Twin> {
    this.ids(deviceId, moduleId);
    return this.call(
      twinName(deviceId, moduleId),
      'write',
      { twinUpdate: 1 },
      context,
      async (sdk) =>
        twinFromHub(
          moduleId === undefined
            ? (await sdk(() => this.registry.updateTwin(deviceId, patch, etag))).responseBody
            : (await sdk(() => this.registry.updateModuleTwin(deviceId, moduleId, patch, etag)))
                .responseBody,
        ),
    );
  }

  async createModule(
    deviceId: string,
    module: NewModule,
    context?: CallContext,
  ): Promise<ModuleIdentity> {
    const authentication =
      module.authentication.type === 'sas'
        ? {
            type: 'sas' as const,
            symmetricKey: {
              primaryKey: module.authentication.primaryKey ?? '',
              secondaryKey: module.authentication.secondaryKey ?? '',
            },
          }
        : {
            type: 'selfSigned' as const,
            x509Thumbprint: {
              primaryThumbprint: module.authentication.primaryThumbprint,
              secondaryThumbprint: module.authentication.secondaryThumbprint ?? null,
            },
          };
    this.ids(deviceId, module.moduleId);
    return this.call(
      `Module ${module.moduleId} of ${deviceId}`,
      'write',
      { identity: 1 },
      context,
      async (sdk) =>
        moduleFromHub(
          (
            await sdk(() =>
              this.registry.addModule({
                deviceId,
                moduleId: module.moduleId,
                ...(module.managedBy ? { managedBy: module.managedBy } : {}),
                authentication,
              } as never),
            )
          ).responseBody,
        ),
    );
  }

  async updateModule(
    deviceId: string,
    moduleId: string,
    change: ModuleChange,
    etag: string,
    context?: CallContext,
  ): Promise<ModuleIdentity> {
    this.ids(deviceId, moduleId);
    // A read of the identity, then its update: two identity operations.
    return this.call(
      `Module ${moduleId} of ${deviceId}`,
      'write',
      { identity: 2 },
      context,
      async (sdk) => {
        const { responseBody: current } = await sdk(() =>
          this.registry.getModule(deviceId, moduleId),
        );
        const next = JSON.parse(JSON.stringify(current)) as {
          etag: string;
          managedBy?: string | null;
          authentication?: {
            symmetricKey?: { primaryKey?: string | null; secondaryKey?: string | null };
          };
        };
        // The etag the operator saw, not the one just read: the hub refuses a stale one.
        next.etag = etag;
        if (change.managedBy !== undefined) next.managedBy = change.managedBy ?? '';
        if (change.regenerateKey) {
          const keys = next.authentication?.symmetricKey;
          if (!keys)
            throw new AppError('bad_request', `Module ${moduleId} does not use symmetric keys.`);
          keys[change.regenerateKey === 'primary' ? 'primaryKey' : 'secondaryKey'] =
            randomBytes(32).toString('base64');
        }
        return moduleFromHub(
          (await sdk(() => this.registry.updateModule(next as never, false))).responseBody,
        );
      },
    );
  }

  async deleteModule(
    deviceId: string,
    moduleId: string,
    etag: string,
    context?: CallContext,
  ): Promise<void> {
    this.ids(deviceId, moduleId);
    await this.call(
      `Module ${moduleId} of ${deviceId}`,
      'write',
      { identity: 1 },
      context,
      async (sdk) => {
        // The SDK's promise form loses its callback when handed a Module (to carry the etag),
        // so this call uses the callback form.
        await sdk(
          () =>
            new Promise<void>((resolve, reject) =>
              this.registry.removeModule(
                { deviceId, moduleId, etag } as never,
                ((error?: Error) => (error ? reject(error) : resolve())) as never,
              ),
            ),
        );
      },
    );
  }

  async createDevice(device: NewDevice, context?: CallContext): Promise<DeviceIdentity> {
    this.ids(device.deviceId);
    const auth = device.authentication;
    const authentication =
      auth.type === 'sas'
        ? {
            type: 'sas' as const,
            // Empty keys: the hub generates them.
            symmetricKey: {
              primaryKey: auth.primaryKey ?? '',
              secondaryKey: auth.secondaryKey ?? '',
            },
          }
        : auth.type === 'selfSigned'
          ? {
              type: 'selfSigned' as const,
              x509Thumbprint: {
                primaryThumbprint: auth.primaryThumbprint,
                secondaryThumbprint: auth.secondaryThumbprint ?? null,
              },
            }
          : { type: 'certificateAuthority' as const };
    return this.call(`Device ${device.deviceId}`, 'write', { identity: 1 }, context, async (sdk) =>
      deviceFromHub(
        (
          await sdk(() =>
            this.registry.create({
              deviceId: device.deviceId,
              status: device.status,
              ...(device.statusReason ? { statusReason: device.statusReason } : {}),
              authentication,
              capabilities: { iotEdge: device.iotEdge },
            } as never),
          )
        ).responseBody,
      ),
    );
  }

  async updateDevice(
    deviceId: string,
    change: DeviceChange,
    etag: string,
    context?: CallContext,
  ): Promise<DeviceIdentity> {
    this.ids(deviceId);
    // The identity is read (for what stays as it is) and written back with the etag the
    // operator saw, through the bulk API: the SDK's own update sends If-Match: *.
    return this.call(`Device ${deviceId}`, 'write', { identity: 3 }, context, async (sdk) => {
      const { responseBody: current } = await sdk(() => this.registry.get(deviceId));
      const next = withDeviceChange(current, change, etag);
      if (change.regenerateKey) {
        const keys = (next['authentication'] as DeviceAuthBody | undefined)?.symmetricKey;
        if (!keys)
          throw new AppError('bad_request', `Device ${deviceId} does not use symmetric keys.`);
        keys[change.regenerateKey === 'primary' ? 'primaryKey' : 'secondaryKey'] =
          randomBytes(32).toString('base64');
      }
      const result = await bulkCall(sdk, () => this.registry.updateDevices([next as never], false));
      const refused = bulkResults([deviceId], result)[0]!;
      if (!refused.ok) throw bulkError(refused, `Device ${deviceId}`);
      return deviceFromHub((await sdk(() => this.registry.get(deviceId))).responseBody);
    });
  }

  async bulkDevices(
    action: 'enable' | 'disable' | 'delete',
    devices: { deviceId: string; etag: string }[],
    statusReason: string | undefined,
    context?: CallContext,
  ): Promise<BulkItemResult[]> {
    for (const { deviceId } of devices) this.ids(deviceId);
    const batches: { deviceId: string; etag: string }[][] = [];
    for (let i = 0; i < devices.length; i += BULK_LIMIT)
      batches.push(devices.slice(i, i + BULK_LIMIT));
    // Deleting needs only the etags; a status change keeps each identity's keys, so each is
    // read first. Everything is counted up front: over budget, nothing is written.
    const reads = action === 'delete' ? 0 : devices.length;
    return this.call(
      `${devices.length} devices`,
      'write',
      { identity: reads + batches.length },
      context,
      async (sdk) => {
        const results: BulkItemResult[] = [];
        for (const batch of batches) {
          if (action === 'delete') {
            const result = await bulkCall(sdk, () =>
              this.registry.removeDevices(batch as never, false),
            );
            results.push(
              ...bulkResults(
                batch.map((d) => d.deviceId),
                result,
              ),
            );
            continue;
          }
          const items: Record<string, unknown>[] = [];
          const missing: BulkItemResult[] = [];
          for (const { deviceId, etag } of batch) {
            try {
              const { responseBody } = await sdk(() => this.registry.get(deviceId));
              items.push(
                withDeviceChange(
                  responseBody,
                  {
                    status: action === 'enable' ? 'enabled' : 'disabled',
                    statusReason: action === 'enable' ? null : (statusReason ?? null),
                  },
                  etag,
                ),
              );
            } catch (error) {
              const mapped = mapHubError(error, `Device ${deviceId}`);
              if (mapped.code !== 'not_found') throw error;
              missing.push({
                deviceId,
                ok: false,
                error: { code: 'not_found', message: mapped.message },
              });
            }
          }
          if (items.length > 0) {
            const result = await bulkCall(sdk, () =>
              this.registry.updateDevices(items as never, false),
            );
            results.push(
              ...bulkResults(
                items.map((i) => String(i['deviceId'])),
                result,
              ),
            );
          }
          results.push(...missing);
        }
        return results;
      },
    );
  }

  /** Closes the service client's connection, if one was made (shutdown). */
  async close(): Promise<void> {
    const client = this.serviceClient;
    this.serviceClient = undefined;
    if (client)
      await Promise.race([
        client.close().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      ]);
  }

  /** The service client (direct methods, cloud-to-device sends), made on first use. */
  private service(): iothub.Client {
    this.serviceClient ??= this.newServiceClient();
    return this.serviceClient;
  }

  private newServiceClient(): iothub.Client {
    const { connectionString, entra, ca, amqpsPort } = this.options;
    const client = connectionString
      ? serviceClientFor(connectionString, {
          ...(ca ? { ca } : {}),
          ...(amqpsPort ? { amqpPort: amqpsPort } : {}),
        })
      : iothub.Client.fromTokenCredential(entra!.hostName, entra!.credential as never);
    // One attempt per send: the BFF reports a failure instead of the SDK resending for
    // minutes behind the operator's back (a message must never go twice).
    client.setRetryPolicy(new common.NoRetry());
    return client;
  }

  async scheduleMethodJob(
    jobId: string,
    queryCondition: string,
    request: MethodCall,
    maxExecutionTimeInSeconds: number,
  ): Promise<void> {
    await this.call(`Job ${jobId}`, 'write', { jobs: 1 }, undefined, (sdk) =>
      sdk(() =>
        this.jobs.scheduleDeviceMethod(
          jobId,
          queryCondition,
          {
            methodName: request.methodName,
            payload: request.payload ?? null,
            responseTimeoutInSeconds: request.responseTimeoutInSeconds,
            connectTimeoutInSeconds: request.connectTimeoutInSeconds,
          },
          new Date(),
          maxExecutionTimeInSeconds,
        ),
      ),
    );
  }

  async getJob(jobId: string): Promise<{ status: string; failureReason?: string }> {
    return this.call(`Job ${jobId}`, 'read', { jobs: 1 }, undefined, async (sdk) => {
      const { jobStatus } = await sdk(() => this.jobs.getJob(jobId));
      const job = (jobStatus ?? {}) as { status?: unknown; failureReason?: unknown };
      return {
        status: typeof job.status === 'string' ? job.status : 'unknown',
        ...(typeof job.failureReason === 'string' ? { failureReason: job.failureReason } : {}),
      };
    });
  }

  async invokeMethod(
    target: { deviceId: string; moduleId?: string },
    request: MethodCall,
    context?: CallContext,
  ): Promise<{ status: number; payload: JsonValue }> {
    const { deviceId, moduleId } = target;
    this.ids(deviceId, moduleId);
    const what =
      moduleId === undefined ? `Device ${deviceId}` : `Module ${moduleId} of ${deviceId}`;
    // The hub holds the call up to both timeouts; the BFF waits that long, and a little more.
    const waitMs =
      (request.responseTimeoutInSeconds + request.connectTimeoutInSeconds) * 1000 + 5000;
    // IoT Hub meters methods in 4 KB blocks.
    const blocks = Math.max(1, Math.ceil(JSON.stringify(request.payload ?? null).length / 4096));
    return this.call(
      what,
      'write',
      { method: blocks },
      context,
      async (sdk) => {
        const params = {
          methodName: request.methodName,
          payload: request.payload ?? null,
          responseTimeoutInSeconds: request.responseTimeoutInSeconds,
          connectTimeoutInSeconds: request.connectTimeoutInSeconds,
        };
        const client = this.service();
        const { result } = await sdk(() =>
          moduleId === undefined
            ? client.invokeDeviceMethod(deviceId, params)
            : client.invokeDeviceMethod(deviceId, moduleId, params),
        );
        const answer = objectOf(result);
        return {
          status: typeof answer['status'] === 'number' ? answer['status'] : 0,
          payload: answer['payload'] ?? null,
        };
      },
      waitMs,
    );
  }

  async sendCloudMessage(
    deviceId: string,
    message: CloudMessage,
    context?: CallContext,
  ): Promise<void> {
    this.ids(deviceId);
    const outgoing = new common.Message(message.body);
    outgoing.messageId = message.messageId;
    outgoing.ack = message.ack;
    if (message.correlationId) outgoing.correlationId = message.correlationId;
    if (message.contentType) outgoing.contentType = message.contentType as never;
    if (message.contentEncoding) outgoing.contentEncoding = message.contentEncoding as never;
    // In epoch milliseconds: the AMQP layer writes a Date as if it were a 64-bit buffer.
    if (message.expiresAt) outgoing.expiryTimeUtc = message.expiresAt.getTime();
    for (const [name, value] of Object.entries(message.properties))
      outgoing.properties.add(name, value);
    await this.call(`Device ${deviceId}`, 'write', { cloudToDevice: 1 }, context, async (sdk) => {
      const client = this.service();
      try {
        await sdk(() => client.send(deviceId, outgoing));
      } catch (error) {
        // Not an answer from the hub (a fault in the client itself): its AMQP state cannot be
        // trusted, so the next send starts a fresh client instead of queueing behind it.
        if (!(error instanceof Error) || error.constructor === TypeError) {
          this.serviceClient = undefined;
          void client.close().catch(() => undefined);
        }
        throw error;
      }
    });
  }

  async purgeCloudMessages(deviceId: string, context?: CallContext): Promise<number> {
    this.ids(deviceId);
    return this.call(`Device ${deviceId}`, 'write', { cloudToDevice: 1 }, context, async (sdk) => {
      const { totalMessagesPurged } = await sdk(() =>
        purgeCloudToDeviceQueue(this.registry, deviceId),
      );
      return totalMessagesPurged;
    });
  }

  receiveFeedback(handlers: {
    records(records: FeedbackRecord[]): void;
    error(message: string): void;
  }): { stop(): Promise<void> } {
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    // Its own connection: a send that breaks the sending client leaves feedback running.
    const client = this.newServiceClient();
    const attach = async () => {
      try {
        await client.open();
        const { result: receiver } = await client.getFeedbackReceiver();
        receiver.on('message', (message: { data: Buffer }) => {
          try {
            const parsed = JSON.parse(message.data.toString('utf8')) as unknown;
            const records = (Array.isArray(parsed) ? parsed : []).filter(
              (r): r is FeedbackRecord =>
                typeof r === 'object' &&
                r !== null &&
                typeof (r as FeedbackRecord).originalMessageId === 'string',
            );
            handlers.records(records);
          } catch {
            handlers.error('a feedback batch was not JSON; it was dropped');
          }
          receiver.complete(message as never, () => undefined);
        });
        receiver.on('error', (error: Error) => again(error.message));
      } catch (error) {
        again(error instanceof Error ? error.message : 'the feedback receiver failed');
      }
    };
    const again = (message: string) => {
      if (stopped) return;
      handlers.error(message);
      clearTimeout(retry);
      retry = setTimeout(() => void attach(), 5000);
      retry.unref();
    };
    client.on('disconnect', () => again('the service connection to the hub dropped'));
    void attach();
    return {
      async stop() {
        stopped = true;
        clearTimeout(retry);
        // A connection still being attempted may never settle: stopping does not wait for it.
        await Promise.race([
          client.close().catch(() => undefined),
          new Promise((resolve) => setTimeout(resolve, 1000).unref()),
        ]);
      },
    };
  }

  async deviceConnectionString(deviceId: string, context?: CallContext): Promise<string> {
    this.ids(deviceId);
    return this.call(`Device ${deviceId}`, 'read', { identity: 1 }, context, async (sdk) => {
      const { responseBody } = await sdk(() => this.registry.get(deviceId));
      const key = (responseBody.authentication as DeviceAuthBody | undefined)?.symmetricKey
        ?.primaryKey;
      if (!key)
        throw new AppError(
          'bad_request',
          `Device ${deviceId} authenticates with X.509 certificates; it has no key.`,
        );
      const host = this.options.deviceHost ?? this.hostName;
      return `HostName=${host};DeviceId=${deviceId};SharedAccessKey=${key}`;
    });
  }

  async moduleConnectionString(
    deviceId: string,
    moduleId: string,
    context?: CallContext,
  ): Promise<string> {
    this.ids(deviceId, moduleId);
    return this.call(
      `Module ${moduleId} of ${deviceId}`,
      'read',
      { identity: 1 },
      context,
      async (sdk) => {
        const { responseBody } = await sdk(() => this.registry.getModule(deviceId, moduleId));
        const key = responseBody.authentication?.symmetricKey?.primaryKey;
        if (!key)
          throw new AppError(
            'bad_request',
            `Module ${moduleId} authenticates with X.509 certificates; it has no key.`,
          );
        const host = this.options.deviceHost ?? this.hostName;
        return `HostName=${host};DeviceId=${deviceId};ModuleId=${moduleId};SharedAccessKey=${key}`;
      },
    );
  }
}

/** The bulk registry API takes at most this many devices a call. */
const BULK_LIMIT = 100;

interface DeviceAuthBody {
  symmetricKey?: { primaryKey?: string | null; secondaryKey?: string | null };
}

/** A device identity as read, with a status change, carrying the etag the operator saw. */
function withDeviceChange(current: unknown, change: DeviceChange, etag: string) {
  const next = JSON.parse(JSON.stringify(current)) as Record<string, unknown>;
  next['etag'] = etag;
  if (change.status !== undefined) next['status'] = change.status;
  if (change.statusReason !== undefined) next['statusReason'] = change.statusReason ?? '';
  // Read-only fields the import format does not take.
  for (const field of [
    'generationId',
    'connectionState',
    'connectionStateUpdatedTime',
    'lastActivityTime',
    'statusUpdatedTime',
    'cloudToDeviceMessageCount',
  ])
    delete next[field];
  return next;
}

/** The hub's error codes for one bulk item, in an operator's words. */
const BULK_ERRORS: Record<string, [string, string]> = {
  PreconditionFailed: ['conflict', 'was changed by someone else since you loaded it'],
  DeviceNotFound: ['not_found', 'was not found on the hub'],
  DeviceAlreadyExists: ['conflict', 'already exists'],
};

/**
 * One bulk registry call. The hub answers 400 with the per-device result when any item was
 * refused; the SDK raises that as an error, so its body is read from there.
 */
async function bulkCall(sdk: Sdk, start: () => Promise<{ responseBody: unknown }>) {
  try {
    return (await sdk(start)).responseBody;
  } catch (error) {
    const e = error as SdkError;
    // The body arrives as text or as a Buffer, depending on the transport.
    const text = e.responseBody === undefined ? undefined : String(e.responseBody);
    if (e.response?.statusCode === 400 && text) {
      try {
        const body = JSON.parse(text) as { errors?: unknown };
        if (Array.isArray(body.errors)) return body;
      } catch {
        // Not a bulk result: the error stands.
      }
    }
    throw error;
  }
}

/** Per device, whether the bulk call applied it (the hub lists only the failures). */
function bulkResults(deviceIds: string[], result: unknown): BulkItemResult[] {
  const body = (result ?? {}) as {
    errors?: { deviceId?: string; errorCode?: string; errorStatus?: string }[];
  };
  const failures = new Map((body.errors ?? []).map((e) => [e.deviceId ?? '', e]));
  return deviceIds.map((deviceId) => {
    const failure = failures.get(deviceId);
    if (!failure) return { deviceId, ok: true };
    const [code, words] = BULK_ERRORS[failure.errorCode ?? ''] ?? [
      'hub_error',
      `was refused by the hub (${failure.errorCode ?? 'unknown error'})`,
    ];
    return { deviceId, ok: false, error: { code, message: `Device ${deviceId} ${words}.` } };
  });
}

function bulkError(result: BulkItemResult, what: string): AppError {
  const code = result.error?.code;
  return new AppError(
    code === 'conflict' || code === 'not_found' ? code : 'hub_error',
    result.error?.message ?? `${what} was refused by the hub.`,
  );
}

/** Settles with `promise`, or rejects as soon as `signal` aborts, whichever is first. */
function untilAborted<T>(signal: AbortSignal, promise: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error as Error);
      },
    );
  });
}
