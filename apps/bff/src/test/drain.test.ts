import { join } from 'node:path';
import { registryFor } from '@twinscope/hub-connection';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../adapters/store/open-store.ts';
import { send, spawnBff, useEmulatorPlace } from './harness.ts';

const DEVICES = ['lyon-north-meter-08', 'berlin-b1-gateway-01', 'berlin-b1-hvac-02'];

/**
 * A replica stopped by its platform: the BFF runs as its own process (as main.ts starts it)
 * and gets SIGTERM while operators save twins. Nothing acknowledged may be lost, nothing may
 * reach the hub without its audit record, and no record may stay without its outcome.
 */
describe('BFF stopped with SIGTERM under load', () => {
  const setup = useEmulatorPlace('drain');

  it('when SIGTERM comes while twins are being saved, then it is not ready, finishes what it started, and every saved change is on the hub with its audit record', async () => {
    const bff = await spawnBff({
      TWINSCOPE_HUB_CONNECTION_FILE: setup.emulator.connectionFile!,
      TWINSCOPE_HUB_TIER: 'unlimited',
      TWINSCOPE_DATABASE_DIR: join(setup.place, 'db'),
      TWINSCOPE_AUDIT_FILE: join(setup.place, 'audit.jsonl'),
    });
    const { url, exited } = bff;
    expect((await send(`${url}/readyz`)).status).toBe(200);
    const csrf = (JSON.parse((await send(`${url}/api/me`)).text) as { csrfToken: string })
      .csrfToken;

    // One operator per device, each saving the next value as soon as the last was saved.
    let stopping = false;
    const acknowledged = new Map<string, number>();
    const operators = DEVICES.map(async (deviceId) => {
      let etag = (
        JSON.parse((await send(`${url}/api/devices/${deviceId}`)).text) as {
          twin: { etag: string };
        }
      ).twin.etag;
      for (let value = 1; ; value++) {
        const body = JSON.stringify({ etag, tags: { drain: value } });
        const answer = await send(`${url}/api/devices/${deviceId}/twin`, {
          method: 'PATCH',
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': String(Buffer.byteLength(body)),
            'X-CSRF-Token': csrf,
          },
          body,
        }).catch(() => undefined);
        // Refused connections: this replica is gone; the operator's next try goes elsewhere.
        if (!answer) return;
        if (answer.status !== 200) {
          expect(stopping, `${answer.status} ${answer.text}`).toBe(true);
          return;
        }
        acknowledged.set(deviceId, value);
        etag = (JSON.parse(answer.text) as { twin: { etag: string } }).twin.etag;
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stopping = true;
    bff.kill('SIGTERM');
    await operators;
    // Never ready again: the probe is refused, or answered 503 for the stopping replica.
    const probe = await send(`${url}/readyz`).catch(() => undefined);
    expect(
      probe === undefined || (probe.status === 503 && /stopping \(SIGTERM\)/.test(probe.text)),
      probe?.text,
    ).toBe(true);
    // 0: it closed everything itself (past 10 s it gives up and exits 1).
    expect(await exited, bff.output()).toBe(0);

    // Every acknowledged save is on the hub; whatever reached the hub has its record, ended.
    const registry = registryFor(setup.emulator.serviceConnectionString, {
      ca: setup.emulator.tls.caCert,
    });
    const { db } = await openDatabase({ dir: join(setup.place, 'db') });
    try {
      for (const deviceId of DEVICES) {
        const saved = acknowledged.get(deviceId) ?? 0;
        expect(saved, `${deviceId} saved something before SIGTERM`).toBeGreaterThan(0);
        const onHub = Number((await registry.getTwin(deviceId)).responseBody.tags['drain']);
        expect(onHub).toBeGreaterThanOrEqual(saved);
        const { rows } = await db.query<{ value: number; result: string }>(
          `SELECT (change->'tags'->>'drain')::int AS value, result FROM audit_entries
           WHERE device_id = $1 AND action = 'twin.patch' ORDER BY seq`,
          [deviceId],
        );
        expect(rows.map((r) => r.value)).toEqual(
          Array.from({ length: rows.length }, (_, i) => i + 1),
        );
        expect(rows.length).toBeGreaterThanOrEqual(onHub);
        expect(rows.filter((r) => r.value <= onHub).map((r) => r.result)).toEqual(
          Array.from({ length: onHub }, () => 'succeeded'),
        );
        expect(rows.filter((r) => r.result === 'unknown')).toEqual([]);
      }
    } finally {
      await db.close();
    }
  }, 60_000);
});
