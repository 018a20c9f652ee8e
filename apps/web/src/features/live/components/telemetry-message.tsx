import { Badge } from '@fluentui/react-components';
import type { TelemetryEvent } from '@twinscope/contract';
import { bodyText } from '../telemetry-text.ts';

/**
 * One telemetry message: when the hub took it, the device (when several are shown), module
 * and output, the body's kind, message id and size when cut, its properties and its body.
 */
export function TelemetryMessage({
  message,
  showDevice,
}: {
  message: TelemetryEvent;
  /** Name the device: the viewer follows several. */
  showDevice: boolean;
}) {
  return (
    <li data-testid="telemetry-message">
      <div className="history-line">
        <span className="muted" title={message.enqueuedTime}>
          {new Date(message.enqueuedTime).toLocaleTimeString()}
        </span>
        {showDevice && <Badge appearance="outline">{message.deviceId}</Badge>}
        {message.moduleId && <Badge appearance="outline">{message.moduleId}</Badge>}
        {message.system['iothub-outputname'] && (
          <Badge appearance="outline">output {message.system['iothub-outputname']}</Badge>
        )}
        <Badge appearance="tint">{message.body.kind}</Badge>
        {message.system['messageId'] && (
          <code className="muted">{message.system['messageId']}</code>
        )}
        {message.truncated && (
          <span className="muted">first 16 KB of {Math.ceil(message.bytes / 1024)} KB</span>
        )}
      </div>
      {Object.keys(message.properties).length > 0 && (
        <div className="muted">
          {Object.entries(message.properties)
            .map(([k, v]) => `${k}=${v}`)
            .join('  ')}
        </div>
      )}
      <pre>{bodyText(message)}</pre>
    </li>
  );
}
