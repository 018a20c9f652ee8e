import { Button, Text, Tooltip } from '@fluentui/react-components';
import { useState } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { usePurgeMessages } from '../api/messages.ts';

/** How many messages wait in the device's queue, and purging them after a confirmation. */
export function QueueHead({
  deviceId,
  queued,
  refusal,
  onPurged,
}: {
  deviceId: string;
  /** Messages waiting; unknown until the list is read. */
  queued: number | undefined;
  /** Why the operator may not purge (the policy's reason), or nothing when they may. */
  refusal: string | undefined;
  onPurged(count: number): void;
}) {
  const [purging, setPurging] = useState(false);
  const purge = usePurgeMessages(deviceId, (count) => {
    setPurging(false);
    onPurged(count);
  });
  return (
    <>
      <div className="section-head">
        <Text data-testid="queue-depth">
          {queued !== undefined
            ? `${queued} waiting in the device's queue (IoT Hub holds 50 at most)`
            : ''}
        </Text>
        <Tooltip
          content={refusal ?? 'Drop every message waiting for this device'}
          relationship="description"
        >
          <Button disabled={refusal !== undefined || !queued} onClick={() => setPurging(true)}>
            Purge queue
          </Button>
        </Tooltip>
      </div>
      <ConfirmDialog
        open={purging}
        title={`Purge the queue of ${deviceId}?`}
        confirmLabel="Purge"
        pending={purge.isPending}
        error={purge.error}
        onCancel={() => setPurging(false)}
        onConfirm={() => purge.mutate()}
      >
        <Text>
          The {queued ?? 0} messages waiting for the device are dropped; senders that asked for
          feedback get Purged.
        </Text>
      </ConfirmDialog>
    </>
  );
}
