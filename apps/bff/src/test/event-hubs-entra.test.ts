import { freshDatabaseDir } from './embedded-database.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTokenIssuer,
  startEmulator,
  type RunningEmulator,
} from '@twinscope/hub-emulator';
import { registryFor } from '@twinscope/hub-connection';
import { eventHubsStream, openStream, tempAuditFile } from './harness.ts';

const RECEIVER = '55555555-5555-4555-8555-555555555555';
const STRANGER = '66666666-6666-4666-8666-666666666666';
const device = 'lyon-south-hvac-09';
const issuer = createTestTokenIssuer({ [RECEIVER]: ['Azure Event Hubs Data Receiver'] });
const root = join(import.meta.dirname, '../../../..');

describe('BFF live view from an Event Hub reached by namespace and an Entra credential (AMQP over TLS)', () => {
  let emulator: RunningEmulator;
  let caFile: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({
      inMemory: true,
      httpsPort: 0,
      mqttPort: 0,
      eventHubsTlsPort: 0,
      seed: 'demo',
      routes: ['TwinChangeEvents'],
      consumerGroups: ['twinscope'],
      entra: issuer.access,
    });
    caFile = join(mkdtempSync(join(tmpdir(), 'eh-entra-')), 'ca.pem');
    writeFileSync(caFile, emulator.tls.caCert);
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGTERM');
  });
  afterAll(() => emulator.close());

  /** Starts the fixture BFF with a token for `oid`; resolves with its URL and output. */
  async function startFixture(oid: string): Promise<{ url: string; output: () => string }> {
    const databaseDir = freshDatabaseDir();
    const child = spawn(
      process.execPath,
      ['scripts/run-ts.mjs', 'apps/bff/src/test/fixtures/entra-events-bff.ts'],
      {
        cwd: root,
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: caFile,
          FIXTURE_HUB_CONNECTION_STRING: emulator.serviceConnectionString,
          FIXTURE_EVENTS_NAMESPACE: `${emulator.hostName}`,
          FIXTURE_EVENTS_HUB_NAME: emulator.events.name,
          FIXTURE_EVENTS_ENDPOINT: `sb://${emulator.hostName}:${emulator.events.tlsPort}`,
          FIXTURE_EVENTS_TOKEN: issuer.token({ oid, aud: 'https://eventhubs.azure.net' }),
          FIXTURE_AUDIT_FILE: tempAuditFile(),
          FIXTURE_DATABASE_DIR: databaseDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(child);
    let output = '';
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const url = /READY (\S+)/.exec(output)?.[1];
        if (url) resolve({ url, output: () => output });
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`fixture exited ${code}: ${output}`)));
    });
  }

  it('when the BFF’s identity holds Azure Event Hubs Data Receiver, then changes arrive through the endpoint', async () => {
    const fixture = await startFixture(RECEIVER);
    const { stream } = await eventHubsStream(fixture.url).catch(() => {
      throw new Error(`the feed never reached the endpoint: ${fixture.output()}`);
    });
    try {
      const hello = stream.events.find((e) => e.event === 'hello')!;
      const me = (await (await fetch(`${fixture.url}/api/me`)).json()) as { csrfToken: string };
      await fetch(`${fixture.url}/api/events/${hello.data.streamId}/watch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken },
        body: JSON.stringify({ twins: [{ deviceId: device }] }),
      });
      const registry = registryFor(emulator.serviceConnectionString, { ca: emulator.tls.caCert });
      const twin = (await registry.getTwin(device)).responseBody;
      await registry.updateTwin(device, { tags: { viaEntraEvents: true } }, twin.etag);
      const change = await stream.next(
        (e) => e.event === 'twin' && e.data.deviceId === device && e.data.twin.tags.viaEntraEvents,
      );
      expect(change.id).toMatch(/^eh:/);
      // The SDK asks for Event Hubs' scope (it writes it with a double slash).
      await expect.poll(fixture.output).toMatch(/https:\/\/eventhubs\.azure\.net\/\/?\.default/);
    } finally {
      stream.close();
    }
  });

  it('when the identity has no Event Hubs role, then the BFF polls instead and tells the operator what to check', async () => {
    const fixture = await startFixture(STRANGER);
    // The endpoint refuses the claim; the SDK keeps retrying without reporting it, so the
    // BFF's own watchdog says the endpoint has not answered, and polling serves meanwhile.
    let message = '';
    for (let i = 0; i < 120 && !/credentials/.test(message); i++) {
      const stream = await openStream(`${fixture.url}/api/events`);
      const hello = await stream.next((e) => e.event === 'hello');
      stream.close();
      expect(hello.data.feed.source).toBe('polling');
      message = String(hello.data.feed.message);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(message).toMatch(
      /Event Hubs endpoint unavailable \(it has not answered: check its address, credentials and consumer group\)/,
    );
  }, 60_000);
});
