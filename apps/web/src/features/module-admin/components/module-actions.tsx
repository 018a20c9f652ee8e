import {
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import type { ModuleIdentity, PolicyAction } from '@twinscope/contract';
import { useState, type ReactElement } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { SecretValue } from '../../../components/secret-value.tsx';
import { devicePath, Link } from '../../../lib/router.tsx';
import {
  useDeleteModule,
  useRevealConnectionString,
  useUpdateModule,
} from '../api/module-admin.ts';

export interface ModuleActionsProps {
  module: ModuleIdentity;
  /** Why the operator may not take an action on this module (the policy's reason), or nothing. */
  refusalOf: (action: PolicyAction) => string | undefined;
  onDeleted(): void;
}

/** Identity actions on a module page; every change carries the identity's etag. */
export function ModuleActions({ module, refusalOf, onDeleted }: ModuleActionsProps) {
  const { deviceId, moduleId } = module;
  // IoT Edge's system modules and roles below Admin get the same disabled actions, with the reason.
  const hint = refusalOf('identity.update');
  const reserved = hint !== undefined;
  const revealRefusal = refusalOf('connection-string.reveal');
  const [managedBy, setManagedBy] = useState(module.managedBy ?? '');
  const [confirmKey, setConfirmKey] = useState<'primary' | 'secondary' | undefined>();
  const [deleting, setDeleting] = useState(false);
  const update = useUpdateModule(deviceId, moduleId, () => {
    setConfirmKey(undefined);
    reveal.reset();
  });
  const [deleted, setDeleted] = useState(false);
  // Stays mounted after deleting (see AddModuleDialog on why not to navigate away).
  const remove = useDeleteModule(deviceId, moduleId, () => {
    setDeleting(false);
    setDeleted(true);
    onDeleted();
  });
  const reveal = useRevealConnectionString(deviceId, moduleId);
  const error = update.error ?? remove.error ?? reveal.error;

  const guard = (content: ReactElement, refusal = hint) =>
    refusal !== undefined ? (
      <Tooltip content={refusal} relationship="description">
        {content}
      </Tooltip>
    ) : (
      content
    );

  return (
    <>
      {deleted ? (
        <MessageBar intent="success" data-testid="module-deleted">
          <MessageBarBody>
            Module {moduleId} was deleted from {deviceId}.{' '}
            <Link to={devicePath(deviceId)}>Back to {deviceId}</Link>
          </MessageBarBody>
        </MessageBar>
      ) : (
        <section className="module-actions" aria-label="Module identity actions">
          <div className="action-row">
            <Field label="Managed by" className="managed-by">
              <Input
                value={managedBy}
                onChange={(_e, d) => setManagedBy(d.value)}
                disabled={reserved}
              />
            </Field>
            {guard(
              <Button
                disabled={reserved || managedBy === (module.managedBy ?? '') || update.isPending}
                onClick={() => update.mutate({ etag: module.etag, managedBy: managedBy || null })}
              >
                Save managed by
              </Button>,
            )}
            {guard(
              <Button
                disabled={reserved || module.authenticationType !== 'sas'}
                onClick={() => setConfirmKey('primary')}
              >
                Regenerate primary key
              </Button>,
            )}
            {guard(
              <Button
                disabled={reserved || module.authenticationType !== 'sas'}
                onClick={() => setConfirmKey('secondary')}
              >
                Regenerate secondary key
              </Button>,
            )}
            {guard(
              <Button
                disabled={
                  revealRefusal !== undefined ||
                  module.authenticationType !== 'sas' ||
                  reveal.isPending
                }
                onClick={() => reveal.mutate()}
              >
                Show connection string
              </Button>,
              revealRefusal,
            )}
            {guard(
              <Button disabled={reserved} onClick={() => setDeleting(true)}>
                Delete module
              </Button>,
            )}
          </div>
          {reveal.data && (
            <SecretValue
              value={reveal.data}
              label="Module connection string"
              testId="connection-string"
              onHide={() => reveal.reset()}
            />
          )}
          {error && (
            <MessageBar intent="error" data-testid="module-action-error">
              <MessageBarBody>{error.message}</MessageBarBody>
            </MessageBar>
          )}
        </section>
      )}

      <ConfirmDialog
        open={confirmKey !== undefined}
        title={`Regenerate the ${confirmKey ?? ''} key of ${moduleId}?`}
        confirmLabel="Regenerate"
        pending={update.isPending}
        error={update.error}
        onCancel={() => setConfirmKey(undefined)}
        onConfirm={() =>
          confirmKey && update.mutate({ etag: module.etag, regenerateKey: confirmKey })
        }
      >
        <Text>
          The module stops connecting with the old key until it is given the new connection string.
        </Text>
      </ConfirmDialog>

      <ConfirmDialog
        open={deleting}
        title={`Delete module ${moduleId} from ${deviceId}?`}
        confirmLabel={`Delete ${moduleId}`}
        typeToConfirm={moduleId}
        pending={remove.isPending}
        error={remove.error}
        onCancel={() => setDeleting(false)}
        onConfirm={() => remove.mutate(module.etag)}
      >
        <Text>
          Its identity, keys and module twin are removed from the hub. The module can no longer
          connect.
        </Text>
      </ConfirmDialog>
    </>
  );
}
