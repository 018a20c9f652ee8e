import {
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
} from '@fluentui/react-components';
import { useQueryClient } from '@tanstack/react-query';
import type { ModuleDetail, Twin } from '@twinscope/contract';
import { useModule } from '../../features/devices/api/get-module.ts';
import { deviceKeys } from '../../features/devices/api/keys.ts';
import { ModuleIdentityCard } from '../../features/devices/components/identity-cards.tsx';
import { useWatchTwins } from '../../features/live/use-live.ts';
import { TwinEditor } from '../../features/twin-editor/components/twin-editor.tsx';

export function ModuleRoute({
  deviceId,
  moduleId,
  dark,
}: {
  deviceId: string;
  moduleId: string;
  dark: boolean;
}) {
  const detail = useModule(deviceId, moduleId);
  const queryClient = useQueryClient();
  useWatchTwins([{ deviceId, moduleId }]);
  if (detail.isPending) return <Spinner label={`Loading ${moduleId}…`} />;
  if (detail.isError) {
    return (
      <MessageBar intent="error" data-testid="module-error">
        <MessageBarBody>
          <MessageBarTitle>{detail.error.message}</MessageBarTitle>
        </MessageBarBody>
      </MessageBar>
    );
  }
  const onSaved = (twin: Twin) =>
    queryClient.setQueryData<ModuleDetail>(deviceKeys.module(deviceId, moduleId), (current) =>
      current && twin.version > current.twin.version ? { ...current, twin } : current,
    );
  return (
    <div className="page">
      <h1 className="page-title" data-testid="page-title">
        {moduleId}
      </h1>
      <ModuleIdentityCard module={detail.data.module} />
      <h2>Module twin</h2>
      {detail.data.module.reserved ? (
        <MessageBar intent="info">
          <MessageBarBody>
            {moduleId} is an IoT Edge system module; IoT Edge deployments manage its twin, so it is
            shown read-only.
          </MessageBarBody>
        </MessageBar>
      ) : (
        <Text size={200} className="muted">
          Desired properties are pushed to the module; it acknowledges them in its reported
          properties.
        </Text>
      )}
      {detail.data.module.reserved ? (
        <pre className="patch-preview">{JSON.stringify(detail.data.twin.properties, null, 2)}</pre>
      ) : (
        <TwinEditor
          key={`${deviceId}/${moduleId}`}
          target={{ deviceId, moduleId }}
          twin={detail.data.twin}
          dark={dark}
          onSaved={onSaved}
        />
      )}
    </div>
  );
}
