import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace';

/**
 * Azure Monitor (Application Insights) as an OpenTelemetry destination: the Azure SDK's
 * exporters for traces and metrics, loaded only when its connection string is set.
 */
export async function azureMonitorExporters(
  connectionString: string,
): Promise<{ spans: SpanExporter; metrics: PushMetricExporter }> {
  const { AzureMonitorTraceExporter, AzureMonitorMetricExporter } =
    await import('@azure/monitor-opentelemetry-exporter');
  return {
    spans: new AzureMonitorTraceExporter({ connectionString }),
    metrics: new AzureMonitorMetricExporter({ connectionString }),
  };
}
