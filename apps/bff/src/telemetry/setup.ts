import { hostname } from 'node:os';
import { context, diag, DiagLogLevel, metrics, propagation, trace } from '@opentelemetry/api';
import { azureMonitorExporters } from '../adapters/azure-monitor.ts';
import type { Logger } from '../log.ts';

export interface TelemetryConfig {
  /** `service.name` of what is sent (OTEL_SERVICE_NAME). */
  serviceName: string;
  metricIntervalMs: number;
  /** How long finished spans wait to go out in a batch (OTEL_BSP_SCHEDULE_DELAY). */
  spanDelayMs: number;
  otlp?: { protocol: 'http/protobuf' | 'http/json'; tracesUrl?: string; metricsUrl?: string };
  azureMonitor?: { connectionString: string };
}

export interface RunningTelemetry {
  /**
   * Sends what is still buffered and stops (called last while the BFF stops), giving up
   * after `withinMs`: a collector that is down must not hold a stopping replica.
   */
  shutdown(withinMs: number): Promise<void>;
}

const VERSION = '0.1.0';

/**
 * Registers the OpenTelemetry SDK before anything else runs, when an exporter is configured:
 * spans and metrics from `instruments.ts` then go out over OTLP/HTTP (and to Azure Monitor).
 * The SDK's packages are loaded only then, so a BFF without telemetry does not carry them.
 * An exporter that cannot reach its collector logs a warning and the BFF carries on.
 */
export async function startTelemetry(
  config: TelemetryConfig | undefined,
  logger: Logger,
): Promise<RunningTelemetry> {
  if (!config) return { shutdown: async () => {} };
  const [
    { AsyncLocalStorageContextManager },
    { W3CTraceContextPropagator },
    { resourceFromAttributes, detectResources, envDetector },
    { TracerProvider, BatchSpanProcessor },
    { MeterProvider, PeriodicExportingMetricReader },
  ] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/sdk-metrics'),
  ]);
  // The SDK's own complaints (a collector that is down) as our log lines, not console noise.
  const complain = (message: string, ...args: unknown[]) =>
    logger.warn('telemetry could not be sent', { detail: oneLine(message, args) });
  diag.setLogger(
    { error: complain, warn: complain, info: () => {}, debug: () => {}, verbose: () => {} },
    DiagLogLevel.WARN,
  );
  const resource = resourceFromAttributes({
    'service.name': config.serviceName,
    'service.version': VERSION,
    'service.instance.id': `${hostname()}:${process.pid}`,
  }).merge(detectResources({ detectors: [envDetector] }));

  const spanExporters = [];
  const metricExporters = [];
  const otlp = config.otlp;
  if (otlp) {
    const json = otlp.protocol === 'http/json';
    if (otlp.tracesUrl) {
      const { OTLPTraceExporter } = json
        ? await import('@opentelemetry/exporter-trace-otlp-http')
        : await import('@opentelemetry/exporter-trace-otlp-proto');
      spanExporters.push(new OTLPTraceExporter({ url: otlp.tracesUrl }));
    }
    if (otlp.metricsUrl) {
      const { OTLPMetricExporter } = json
        ? await import('@opentelemetry/exporter-metrics-otlp-http')
        : await import('@opentelemetry/exporter-metrics-otlp-proto');
      metricExporters.push(new OTLPMetricExporter({ url: otlp.metricsUrl }));
    }
  }
  if (config.azureMonitor) {
    const azure = await azureMonitorExporters(config.azureMonitor.connectionString);
    spanExporters.push(azure.spans);
    metricExporters.push(azure.metrics);
  }

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const tracers = new TracerProvider({
    resource,
    spanProcessors: spanExporters.map(
      (exporter) => new BatchSpanProcessor({ exporter, scheduledDelayMillis: config.spanDelayMs }),
    ),
  });
  trace.setGlobalTracerProvider(tracers);
  const meters = new MeterProvider({
    resource,
    readers: metricExporters.map(
      (exporter) =>
        new PeriodicExportingMetricReader({
          exporter,
          exportIntervalMillis: config.metricIntervalMs,
          exportTimeoutMillis: Math.min(30_000, config.metricIntervalMs),
        }),
    ),
  });
  metrics.setGlobalMeterProvider(meters);
  logger.info('telemetry is on', {
    otlp: otlp
      ? { protocol: otlp.protocol, traces: !!otlp.tracesUrl, metrics: !!otlp.metricsUrl }
      : null,
    azureMonitor: !!config.azureMonitor,
  });
  return {
    async shutdown(withinMs) {
      // What was measured up to the end goes out (a stopping replica's last figures).
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), withinMs);
      });
      const sent = Promise.allSettled([tracers.shutdown(), meters.shutdown()]);
      const results = await Promise.race([sent, late]);
      clearTimeout(timer);
      if (results === 'late') {
        logger.warn('telemetry could not be sent while stopping', {
          detail: `the collector did not take it within ${withinMs} ms`,
        });
        return;
      }
      for (const result of results)
        if (result.status === 'rejected')
          logger.warn('telemetry could not be sent while stopping', {
            detail: (result.reason as Error).message,
          });
    },
  };
}

/** What the SDK says, as one line: errors by their message, never their stack. */
function oneLine(message: string, args: unknown[]): string {
  const text = (value: unknown): string => {
    if (value instanceof Error) return value.message;
    if (typeof value === 'string' && value.startsWith('{')) {
      try {
        const parsed = JSON.parse(value) as { message?: unknown };
        if (typeof parsed.message === 'string') return parsed.message;
      } catch {
        // Not JSON after all: as it is.
      }
    }
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
  return [message, ...args]
    .map(text)
    .filter((part) => part && part !== '{}')
    .join(' ')
    .slice(0, 1000);
}
