// What a caller may ask of the emulator, and the checks and defaults that must hold before
// anything is built from it.
import { X509Certificate } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { HubQuota } from '@twinscope/hub-quotas';
import type { EntraAccess } from '../auth/entra.ts';
import type { RouteSource } from '../events/routing.ts';
import type { ThrottleLimits } from '../http/throttle.ts';
import type { FileUploadSettings } from '../uploads/file-uploads.ts';

/**
 * The default host name: it has a dot, which the C and Java SDKs require of a HostName (the
 * hub's name is what comes before it), and it needs no DNS, which a closed network may not
 * have (`*.localhost` names do not resolve everywhere). Every SDK checks it against the
 * certificate's IP name; the certificate also names it as DNS for older C releases.
 */
export const DEFAULT_HOST_NAME = '127.0.0.1';

export interface EmulatorOptions {
  /** The hub's host name: in tokens, connection strings and the certificate. Default `127.0.0.1`. */
  hostName?: string;
  /**
   * HTTPS port; 0 picks a free one. Default 8443. A list is tried in order, the next taken
   * when one is in use or not allowed (the CLI: 443, where the SDKs dial, then 8443).
   */
  httpsPort?: number | readonly number[];
  /** MQTT over TLS port for devices and modules; 0 picks a free one. Default 8883. A list as for HTTPS. */
  mqttPort?: number | readonly number[];
  /** AMQP over TLS port for devices, modules and the service; 0 (the default) picks a free one. The CLI uses 5671, the port the SDKs dial. A list as for HTTPS. */
  amqpsPort?: number | readonly number[];
  /**
   * CA certificates (PEM text) the hub trusts for CA-signed device certificates, as a hub's
   * verified CA certificates. Devices with self-signed certificates need none.
   */
  trustedCaCerts?: string[];
  /** Address to listen on. Default 127.0.0.1. */
  listen?: string;
  /** Where state, certificates and connection.json live. Required unless `inMemory`. */
  dataDir?: string;
  /** Keep nothing on disk (tests). */
  inMemory?: boolean;
  /** How long cloud-to-device feedback records wait to be batched (IoT Hub: up to 15 s). Default 1 s. */
  feedbackBatchMs?: number;
  /** fsync every write (survives power loss, not only a killed process). */
  fsync?: boolean;
  /** Seed an empty hub with the demo fleet or N devices. */
  seed?: 'demo' | number;
  /** Every shared access policy gets the published development keys (`DEVELOPMENT_KEYS`). */
  developmentKeys?: boolean;
  /**
   * Shared access policies of the provisioning service besides `provisioningserviceowner`,
   * made at start when missing (rights: EnrollmentRead, EnrollmentWrite,
   * RegistrationStatusRead, RegistrationStatusWrite, ServiceConfig, DeviceConnect).
   */
  provisioningPolicies?: { keyName: string; rights: string[] }[];
  /** IoT Hub-style throttling: a tier and units (`hubQuota('S1')`) or custom limits. Off by default. */
  throttle?: ThrottleLimits | HubQuota;
  /** Request log lines (never carry tokens or keys). */
  log?: (line: string) => void;
  /** Accept Entra ID bearer tokens from this issuer, with these data-plane role assignments. */
  entra?: EntraAccess;
  /** The Event Hubs-compatible endpoint's AMQP port; 0 picks a free one (the CLI uses 5672). */
  amqpPort?: number;
  /** Partitions of the built-in endpoint (IoT Hub: 2 to 128, default 4). */
  partitionCount?: number;
  /** How long the built-in endpoint keeps events. Default 24 hours. */
  retentionHours?: number;
  /** Routes to the built-in endpoint, like a hub's message routes. Default: device messages. */
  routes?: RouteSource[];
  /** Consumer groups on the built-in endpoint besides `$Default`. */
  consumerGroups?: string[];
  /**
   * The endpoint over AMQP with TLS too (amqps, the emulator's certificate), as Event Hubs
   * is reached by a namespace and an Entra credential; 0 picks a free port. Off by default.
   */
  eventHubsTlsPort?: number;
  /**
   * Storage for file upload: `azurite` runs Microsoft's Storage emulator beside the hub (the
   * CLI's default), or a storage account's connection string. None: uploads are refused.
   */
  storage?: 'azurite' | { connectionString: string };
  /** Azurite's blob port; 0 (the default) picks a free one. */
  storagePort?: number;
  /** The hub's file upload settings (container, SAS lifetime, notifications…). */
  fileUpload?: Partial<FileUploadSettings>;
}

/** The ports to try for a listener, in order. */
export const portsOf = (option: number | readonly number[] | undefined, fallback: number) =>
  option === undefined ? [fallback] : typeof option === 'number' ? [option] : [...option];

/** Binding a port failed in a way the next port of a list may not (in use, or privileged). */
export const portRefused = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EADDRINUSE' || code === 'EACCES';
};

/** The hub's host name, and its data dir (created) unless it keeps nothing on disk. */
export function hubHome(options: EmulatorOptions): {
  hostName: string;
  dataDir: string | undefined;
} {
  const hostName = (options.hostName ?? DEFAULT_HOST_NAME).toLowerCase();
  if (!options.inMemory && !options.dataDir)
    throw new Error('startEmulator needs a dataDir or inMemory: true');
  const dataDir = options.inMemory ? undefined : resolve(options.dataDir!);
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  return { hostName, dataDir };
}

/** The address every listener binds. */
export function listenAddress(options: EmulatorOptions): string {
  return options.listen ?? '127.0.0.1';
}

/** Each trusted CA must be a PEM certificate; a bad one stops the start with its position. */
export function checkTrustedCas(pems: string[]): string[] {
  return pems.map((pem, index) => {
    try {
      new X509Certificate(pem);
    } catch {
      throw new Error(`CA certificate ${index + 1} is not a PEM certificate.`);
    }
    return pem;
  });
}
