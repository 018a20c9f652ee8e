import {
  context,
  isSpanContextValid,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type Span,
} from '@opentelemetry/api';

/**
 * What the BFF reports over OpenTelemetry, in one place: the instruments, the spans, and the
 * names and attributes each carries (the README's table lists them). Everything here goes
 * through `@opentelemetry/api`: until `startTelemetry` registers an SDK (it does when an
 * exporter is configured) it all costs nothing and sends nothing.
 */

const SCOPE = 'twinscope-bff';

interface Instruments {
  meter: Meter;
  httpDuration: Histogram;
  hubDuration: Histogram;
  hubThrottled: Counter;
  budgetSpent: Counter;
  budgetRefused: Counter;
  rolloutWrites: Counter;
  auditFailures: Counter;
  refused: Counter;
}

let made: Instruments | undefined;

/** Made on first use: after `startTelemetry`, so they belong to its meter provider. */
function instruments(): Instruments {
  if (made) return made;
  const meter = metrics.getMeter(SCOPE);
  made = {
    meter,
    httpDuration: meter.createHistogram('http.server.request.duration', {
      description:
        'How long the BFF took to answer a request (SSE streams: how long they stayed open).',
      unit: 's',
    }),
    hubDuration: meter.createHistogram('twinscope.hub.call.duration', {
      description: 'Hub calls by operation, throttle class and outcome, retries included.',
      unit: 's',
    }),
    hubThrottled: meter.createCounter('twinscope.hub.throttled', {
      description: 'Answers of 429 (throttled) from the hub, each retry counted.',
    }),
    budgetSpent: meter.createCounter('twinscope.hub.budget.spent', {
      description: "Units of the hub's throttles the BFF spent, by class and by who spent them.",
    }),
    budgetRefused: meter.createCounter('twinscope.hub.budget.refused', {
      description: "Requests refused because a person's share of a hub throttle was used up.",
    }),
    rolloutWrites: meter.createCounter('twinscope.rollout.writes', {
      description: 'Twin writes and method calls made by rollouts, by outcome.',
    }),
    auditFailures: meter.createCounter('twinscope.audit.failures', {
      description:
        'Audit records that could not be written (the change was refused) or whose outcome must be written again.',
    }),
    refused: meter.createCounter('twinscope.http.refused', {
      description: 'Requests a guard refused (policy, CSRF, Origin, Host).',
    }),
  };
  return made;
}

const tracer = () => trace.getTracer(SCOPE);

/** Attributes with their undefined values left out. */
function defined(attributes: Record<string, string | number | boolean | undefined>): Attributes {
  return Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== undefined));
}

/** One HTTP request: its server span (continuing the caller's trace) and its duration. */
export function startRequest(
  method: string,
  headers: Record<string, string | string[] | undefined>,
  run: () => void,
): (outcome: { route: string | undefined; status: number }) => void {
  const parent = propagation.extract(context.active(), headers);
  const span = tracer().startSpan(method, { kind: SpanKind.SERVER }, parent);
  const started = performance.now();
  context.with(trace.setSpan(parent, span), run);
  return ({ route, status }) => {
    const attributes = defined({
      'http.request.method': method,
      'http.route': route,
      'http.response.status_code': status,
    });
    if (route) span.updateName(`${method} ${route}`);
    span.setAttributes(attributes);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    instruments().httpDuration.record((performance.now() - started) / 1000, attributes);
  };
}

/** Puts the request id on the current span, so a trace leads to the log lines and back. */
export function tagRequest(requestId: string): void {
  trace.getActiveSpan()?.setAttribute('twinscope.request_id', requestId);
}

export interface HubCallFacts {
  /** What the call is about, as messages name it (`Twin of d1`): on the span only. */
  target: string;
  kind: 'read' | 'write';
  /** The throttle classes the call is counted against (`twinRead`): its operation class. */
  classes: string[];
}

/** The operation class of a call: the hub throttles it counts against (`twinRead`). */
export const operationClass = (classes: readonly string[]) => classes.join('+') || 'none';

/**
 * One hub call, retries included: a client span (named by its class, the ids it concerns as
 * an attribute) and its duration by class, kind and outcome (`ok`, or the error's code).
 */
export async function traceHubCall<T>(
  facts: HubCallFacts,
  outcomeOf: (error: unknown) => string,
  run: () => Promise<T>,
): Promise<T> {
  const attributes = {
    'twinscope.hub.class': operationClass(facts.classes),
    'twinscope.hub.kind': facts.kind,
  };
  const started = performance.now();
  return tracer().startActiveSpan(
    `hub ${facts.kind} ${attributes['twinscope.hub.class']}`,
    { kind: SpanKind.CLIENT, attributes: { ...attributes, 'twinscope.hub.target': facts.target } },
    async (span: Span) => {
      let outcome = 'ok';
      try {
        return await run();
      } catch (error) {
        outcome = outcomeOf(error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        throw error;
      } finally {
        span.setAttribute('twinscope.hub.outcome', outcome);
        span.end();
        instruments().hubDuration.record((performance.now() - started) / 1000, {
          ...attributes,
          'twinscope.hub.outcome': outcome,
        });
      }
    },
  );
}

export function hubThrottled(classes: readonly string[]): void {
  instruments().hubThrottled.add(1, { 'twinscope.hub.class': operationClass(classes) });
}

export function budgetSpent(budgetClass: string, by: 'person' | 'background'): void {
  instruments().budgetSpent.add(1, { 'twinscope.hub.class': budgetClass, 'twinscope.spender': by });
}

export function budgetRefused(budgetClass: string): void {
  instruments().budgetRefused.add(1, { 'twinscope.hub.class': budgetClass });
}

export function rolloutWrites(kind: 'twin' | 'method', outcome: string): void {
  instruments().rolloutWrites.add(1, {
    'twinscope.rollout.write': kind,
    'twinscope.rollout.outcome': outcome,
  });
}

/** `record`: the record before the change (the change is refused); `outcome`: written again later. */
export function auditFailed(stage: 'record' | 'outcome', count = 1): void {
  instruments().auditFailures.add(count, { 'twinscope.audit.stage': stage });
}

export function requestRefused(check: string): void {
  instruments().refused.add(1, { 'twinscope.guard': check });
}

/**
 * Values read when metrics are collected (open SSE streams, consumer lag per partition):
 * `read` is called at each collection and reports what holds now.
 */
export function observeGauge(
  name: string,
  description: string,
  read: () => Iterable<[value: number, attributes?: Attributes]>,
  unit?: string,
): void {
  instruments()
    .meter.createObservableGauge(name, { description, ...(unit ? { unit } : {}) })
    .addCallback((result) => {
      for (const [value, attributes] of read()) result.observe(value, attributes);
    });
}

/** The trace and span a log line is written in, when there is one. */
export function traceFields(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan()?.spanContext();
  if (!span || !isSpanContextValid(span)) return undefined;
  return { traceId: span.traceId, spanId: span.spanId };
}
