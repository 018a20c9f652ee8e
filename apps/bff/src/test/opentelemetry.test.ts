import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, spawnBff, useEmulatorPlace, type BffProcess } from './harness.ts';

/**
 * OpenTelemetry as an operator's platform receives it: the BFF runs as its own process with
 * only the standard OTEL_* variables set, and an OTLP/HTTP receiver (the collector's
 * `otlphttp` protocol: POST /v1/traces and /v1/metrics, JSON or protobuf) records what
 * arrives. No SDK is faked: what is checked is what went over the wire.
 */

type AnyValue = {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
};
type KeyValue = { key: string; value: AnyValue };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: KeyValue[];
  status?: { code?: number };
}
interface DataPoint {
  attributes: KeyValue[];
  asInt?: number | string;
  asDouble?: number;
  count?: number | string;
}
interface OtlpMetric {
  name: string;
  sum?: { dataPoints: DataPoint[] };
  gauge?: { dataPoints: DataPoint[] };
  histogram?: { dataPoints: DataPoint[] };
}
interface Export {
  path: string;
  contentType: string;
  body: Buffer;
}

const valueOf = (value: AnyValue | undefined) =>
  value?.stringValue ??
  (value?.intValue !== undefined ? Number(value.intValue) : undefined) ??
  value?.doubleValue ??
  value?.boolValue;
const attrs = (list: KeyValue[] | undefined) =>
  Object.fromEntries((list ?? []).map(({ key, value }) => [key, valueOf(value)]));

/** An OTLP/HTTP receiver: keeps each export request as it came, answers as the collector does. */
class OtlpReceiver {
  readonly exports: Export[] = [];
  private server!: Server;
  url = '';

  /** Over TLS with this key and certificate (Azure Monitor's exporter sends only over https). */
  async start(tls?: { key: string; cert: string }): Promise<void> {
    const handle: Parameters<typeof createServer>[1] = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const contentType = req.headers['content-type'] ?? '';
        this.exports.push({ path: req.url ?? '', contentType, body: Buffer.concat(chunks) });
        // An empty ExportTraceServiceResponse / ExportMetricsServiceResponse: all accepted.
        const json = contentType.startsWith('application/json');
        res.writeHead(200, { 'Content-Type': json ? 'application/json' : contentType });
        res.end(json ? '{}' : '');
      });
    };
    this.server = tls ? createTlsServer(tls, handle) : createServer(handle);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private json(path: string): unknown[] {
    return this.exports
      .filter((e) => e.path === path && e.contentType.startsWith('application/json'))
      .map((e) => JSON.parse(e.body.toString('utf8')) as unknown);
  }

  spans(): (OtlpSpan & { resource: Record<string, unknown> })[] {
    return this.json('/v1/traces').flatMap((request) =>
      (
        request as {
          resourceSpans: {
            resource: { attributes: KeyValue[] };
            scopeSpans: { spans: OtlpSpan[] }[];
          }[];
        }
      ).resourceSpans.flatMap((r) =>
        r.scopeSpans.flatMap((s) =>
          s.spans.map((span) => ({ ...span, resource: attrs(r.resource.attributes) })),
        ),
      ),
    );
  }

  /** Every data point of a metric, in the order exported (the last is the latest). */
  points(name: string): { attributes: Record<string, unknown>; value: number }[] {
    return this.json('/v1/metrics').flatMap((request) =>
      (
        request as { resourceMetrics: { scopeMetrics: { metrics: OtlpMetric[] }[] }[] }
      ).resourceMetrics.flatMap((r) =>
        r.scopeMetrics.flatMap((s) =>
          s.metrics
            .filter((m) => m.name === name)
            .flatMap((m) =>
              (m.sum ?? m.gauge ?? m.histogram)!.dataPoints.map((p) => ({
                attributes: attrs(p.attributes),
                value: Number(p.asInt ?? p.asDouble ?? p.count),
              })),
            ),
        ),
      ),
    );
  }
}

async function until<T>(what: string, check: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = check();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';
const traceparent = (trace = TRACE_ID) => `00-${trace}-${PARENT_SPAN}-01`;

describe('OpenTelemetry over OTLP', () => {
  const receiver = new OtlpReceiver();
  // Twin changes reach the event endpoint, which the BFF reads as a consumer group.
  const setup = useEmulatorPlace('otel', {
    routes: ['TwinChangeEvents'],
    consumerGroups: ['twinscope'],
  });
  beforeAll(() => receiver.start());
  afterAll(() => receiver.close());

  const start = (name: string, env: Record<string, string>): Promise<BffProcess> =>
    spawnBff({
      TWINSCOPE_HUB_CONNECTION_FILE: setup.emulator.connectionFile!,
      TWINSCOPE_HUB_TIER: 'S1',
      TWINSCOPE_DATABASE_DIR: join(setup.place, `${name}-db`),
      TWINSCOPE_AUDIT_FILE: join(setup.place, `${name}-audit.jsonl`),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'twinscope-ci',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=ci',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...env,
    });

  it('when operators use the console, then their requests and the hub calls they made arrive as one trace, metrics count requests, hub calls, refusals, streams and the feed, and log lines carry the trace id', async () => {
    const bff = await start('json', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const { url } = bff;
    // Reading the event endpoint from its newest event on, before anything is changed.
    await until('the live feed', () =>
      bff.output().includes('live changes now come from the event endpoint'),
    );
    const me = JSON.parse((await send(`${url}/api/me`)).text) as { csrfToken: string };

    // A request that continues the caller's trace (a gateway's traceparent).
    const read = await send(`${url}/api/devices/berlin-b1-gateway-01`, {
      headers: { traceparent: traceparent() },
    });
    expect(read.status).toBe(200);
    const twin = (JSON.parse(read.text) as { twin: { etag: string } }).twin;
    // A save: a hub write, an audit record, a twin change on the event endpoint.
    const body = JSON.stringify({ etag: twin.etag, tags: { otel: 1 } });
    const saved = await send(`${url}/api/devices/berlin-b1-gateway-01/twin`, {
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
        'X-CSRF-Token': me.csrfToken,
      },
      body,
    });
    expect(saved.status, saved.text).toBe(200);
    // Refused by the CSRF guard, in a trace of its own.
    const refusedTrace = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const refused = await send(`${url}/api/devices/berlin-b1-gateway-01/twin`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', traceparent: traceparent(refusedTrace) },
      body: '{}',
    });
    expect(refused.status).toBe(403);
    // A tab's live stream, held open while metrics are collected.
    const tab = new AbortController();
    const stream = await fetch(`${url}/api/events`, { signal: tab.signal });
    expect(stream.status).toBe(200);

    // The request's server span continues the caller's trace; the hub read is its child.
    const server = await until('the server span', () =>
      receiver
        .spans()
        .find((s) => s.traceId === TRACE_ID && s.name === 'GET /api/devices/:deviceId'),
    );
    expect(server.kind).toBe(2); // SERVER
    expect(server.parentSpanId).toBe(PARENT_SPAN);
    expect(attrs(server.attributes)).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/devices/:deviceId',
      'http.response.status_code': 200,
    });
    expect(server.resource).toMatchObject({
      'service.name': 'twinscope-ci',
      'deployment.environment.name': 'ci',
    });
    const hubRead = receiver
      .spans()
      .find((s) => s.traceId === TRACE_ID && s.parentSpanId === server.spanId && s.kind === 3);
    expect(hubRead?.name).toMatch(/^hub read /);
    expect(attrs(hubRead?.attributes)).toMatchObject({
      'twinscope.hub.kind': 'read',
      'twinscope.hub.outcome': 'ok',
      'twinscope.hub.target': expect.stringContaining('berlin-b1-gateway-01') as unknown,
    });

    // Metrics: requests by route and status, hub calls by class and outcome, the refusal,
    // the open stream, the hub budget, the live feed's lag once it has read an event.
    await until(
      'the metrics',
      () =>
        receiver
          .points('twinscope.events.consumer.lag')
          .some((p) => p.attributes['messaging.destination.partition.id'] !== undefined) &&
        receiver.points('twinscope.sse.streams').some((p) => p.value === 1),
    );
    // Requests by route and status (a request refused before routing has no route).
    const requests = receiver.points('http.server.request.duration');
    expect(requests.map((p) => p.attributes)).toEqual(
      expect.arrayContaining([
        {
          'http.request.method': 'PATCH',
          'http.route': '/api/devices/:deviceId/twin',
          'http.response.status_code': 200,
        },
        { 'http.request.method': 'PATCH', 'http.response.status_code': 403 },
        {
          'http.request.method': 'GET',
          'http.route': '/api/devices/:deviceId',
          'http.response.status_code': 200,
        },
      ]),
    );
    const hubCalls = receiver.points('twinscope.hub.call.duration');
    expect(
      hubCalls.some(
        (p) =>
          p.attributes['twinscope.hub.class'] === 'twinUpdate' &&
          p.attributes['twinscope.hub.kind'] === 'write' &&
          p.attributes['twinscope.hub.outcome'] === 'ok',
      ),
      JSON.stringify(hubCalls.map((p) => p.attributes)),
    ).toBe(true);
    expect(receiver.points('twinscope.http.refused').at(-1)).toEqual({
      attributes: { 'twinscope.guard': 'csrf' },
      value: 1,
    });
    const budget = receiver.points('twinscope.hub.budget.remaining');
    expect(budget.map((p) => p.attributes['twinscope.hub.class'])).toContain('query');
    expect(budget.every((p) => p.value >= 0 && p.value <= 1)).toBe(true);
    expect(
      receiver
        .points('twinscope.hub.budget.spent')
        .some((p) => p.attributes['twinscope.spender'] === 'person' && p.value > 0),
    ).toBe(true);
    const lag = receiver.points('twinscope.events.consumer.lag');
    expect(lag.at(-1)!.value).toBe(0);

    // The refusal's log line names the trace it happened in.
    const refusal = bff
      .output()
      .split('\n')
      .find((line) => line.includes('security: request refused'));
    expect(JSON.parse(refusal!)).toMatchObject({ traceId: refusedTrace, check: 'csrf' });

    // Stopping sends what was measured to the end: the stream's closing request arrives.
    tab.abort();
    bff.kill('SIGTERM');
    expect(await bff.exited, bff.output()).toBe(0);
    expect(receiver.spans().some((s) => s.name === 'GET /api/events')).toBe(true);
  }, 60_000);

  it('when no protocol is set, then OTLP goes out as protobuf, the collectors’ default', async () => {
    const before = receiver.exports.length;
    const bff = await start('proto', {});
    await send(`${bff.url}/api/devices/berlin-b1-gateway-01`, {
      headers: { traceparent: traceparent('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb') },
    });
    bff.kill('SIGTERM');
    expect(await bff.exited, bff.output()).toBe(0);
    const sent = receiver.exports.slice(before);
    const traces = sent.filter((e) => e.path === '/v1/traces');
    expect(traces.map((e) => e.contentType)).toContain('application/x-protobuf');
    // Protobuf carries strings as they are and ids as raw bytes.
    const body = Buffer.concat(traces.map((e) => e.body));
    expect(body.includes('GET /api/devices/:deviceId')).toBe(true);
    expect(body.includes(Buffer.from('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'hex'))).toBe(true);
    const metrics = Buffer.concat(sent.filter((e) => e.path === '/v1/metrics').map((e) => e.body));
    expect(metrics.includes('http.server.request.duration')).toBe(true);
  }, 60_000);

  it('when an Application Insights connection string is set, then requests, hub calls and metrics go to its ingestion endpoint, and the key is never logged', async () => {
    const ingestion = new OtlpReceiver();
    await ingestion.start(setup.emulator.tls);
    const key = '6f2e1c5a-8d4b-4e7f-9a3c-2b1d0e9f8a7c';
    const bff = await start('azure', {
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${key};IngestionEndpoint=${ingestion.url}/`,
      NODE_EXTRA_CA_CERTS: setup.emulator.tls.caCertFile!,
    });
    // Application Insights' track API: JSON arrays of envelopes, gzipped when large.
    const inflated = (body: Buffer) =>
      body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body;
    const envelopes = () =>
      ingestion.exports
        .filter((e) => e.path === '/v2.1/track')
        .flatMap(
          (e) =>
            JSON.parse(inflated(e.body).toString('utf8')) as {
              name: string;
              iKey: string;
              tags: Record<string, string>;
              data: { baseData: Record<string, unknown> };
            }[],
        );
    let request;
    try {
      await send(`${bff.url}/api/devices/berlin-b1-gateway-01`, {
        headers: { traceparent: traceparent('cccccccccccccccccccccccccccccccc') },
      });
      // Sent as it is batched, not left to the last flush (a loaded machine may be slower).
      request = await until('the request at the ingestion endpoint', () =>
        envelopes().find(
          (e) =>
            e.name === 'Microsoft.ApplicationInsights.Request' &&
            e.data.baseData['name'] === 'GET /api/devices/:deviceId',
        ),
      );
      await until('a metric at the ingestion endpoint', () =>
        envelopes().some((e) => e.name === 'Microsoft.ApplicationInsights.Metric'),
      );
    } finally {
      bff.kill('SIGTERM');
      expect(await bff.exited, bff.output()).toBe(0);
      await ingestion.close();
    }
    expect(request).toMatchObject({
      iKey: key,
      tags: { 'ai.operation.id': 'cccccccccccccccccccccccccccccccc' },
      data: { baseData: { responseCode: '200', success: true } },
    });
    expect(
      envelopes().some(
        (e) =>
          e.name === 'Microsoft.ApplicationInsights.RemoteDependency' &&
          e.tags['ai.operation.id'] === 'cccccccccccccccccccccccccccccccc',
      ),
    ).toBe(true);
    expect(bff.output()).not.toContain(key);
  }, 60_000);

  it('when the collector is down, then the console serves as ever, says once per export that telemetry could not be sent, and still stops cleanly', async () => {
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const port = (gone.address() as { port: number }).port;
    await new Promise((resolve) => gone.close(resolve));
    const bff = await start('down', { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
    const read = await send(`${bff.url}/api/devices/berlin-b1-gateway-01`);
    expect(read.status).toBe(200);
    await until('a failed export', () => bff.output().includes('telemetry could not be sent'));
    const stopped = Date.now();
    bff.kill('SIGTERM');
    expect(await bff.exited, bff.output()).toBe(0);
    // It gives the collector 2 s of its 10 and exits 0 (past 10 s it would exit 1).
    expect(Date.now() - stopped).toBeLessThan(6_000);
    const complaints = bff
      .output()
      .split('\n')
      .filter((line) => line.includes('telemetry could not be sent'));
    for (const line of complaints) expect(line).not.toMatch(/\n\s+at |stack/);
  }, 60_000);
});
