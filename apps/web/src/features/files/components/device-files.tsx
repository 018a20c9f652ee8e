import { Button, MessageBar, MessageBarBody, Spinner, Tooltip } from '@fluentui/react-components';
import { ApiError } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { byteSize, relativeTime } from '../../../lib/format.ts';
import { useDeviceFiles } from '../api/get-device-files.ts';

/**
 * The files a device uploaded through IoT Hub's file upload: name, size and when, each saved
 * through the BFF by a plain link (the BFF answers an attachment; storage keys stay there).
 */
export function DeviceFiles({
  deviceId,
  refusal,
}: {
  deviceId: string;
  /** Why the operator may not download files (the policy's reason), or nothing when they may. */
  refusal: string | undefined;
}) {
  const files = useDeviceFiles(deviceId);
  if (files.isPending) return <Spinner size="tiny" label="Loading the device's files…" />;
  if (files.error) {
    // Not a failure: this deployment has no storage for the hub's uploads.
    if (files.error instanceof ApiError && files.error.code === 'file_upload_not_configured')
      return (
        <MessageBar intent="info" data-testid="files-not-configured">
          <MessageBarBody>{files.error.message}</MessageBarBody>
        </MessageBar>
      );
    return (
      <MessageBar intent="error" data-testid="files-error">
        <MessageBarBody>
          {files.error.message}{' '}
          <Button size="small" appearance="transparent" onClick={() => void files.refetch()}>
            Try again
          </Button>
        </MessageBarBody>
      </MessageBar>
    );
  }
  const rows = files.data.pages.flatMap((page) => page.files);
  return (
    <section className="method-panel" aria-label="Files" data-testid="device-files">
      {rows.length === 0 ? (
        <p className="muted" data-testid="files-empty">
          No files uploaded yet — devices upload with the IoT Hub SDKs&apos; uploadToBlob / file
          upload API.
        </p>
      ) : (
        <table className="invocations">
          <thead>
            <tr>
              <th>Name</th>
              <th>Size</th>
              <th>Uploaded</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((file) => (
              <tr key={file.name} data-testid="device-file">
                <td>
                  <code>{file.name}</code>
                </td>
                <td title={`${file.size.toLocaleString()} bytes`}>{byteSize(file.size)}</td>
                <td title={new Date(file.lastModified).toLocaleString()}>
                  {relativeTime(file.lastModified)}
                </td>
                <td>
                  {refusal === undefined ? (
                    <a
                      href={apiPaths.deviceFileContent(deviceId, file.name)}
                      download
                      aria-label={`Download ${file.name}`}
                    >
                      Download
                    </a>
                  ) : (
                    <Tooltip content={refusal} relationship="description">
                      <Button size="small" disabled>
                        Download
                      </Button>
                    </Tooltip>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="action-row">
        {files.hasNextPage && (
          <Button disabled={files.isFetchingNextPage} onClick={() => void files.fetchNextPage()}>
            More files
          </Button>
        )}
        {/* Uploads are not live: a device's next one shows when the list is read again. */}
        <Button
          appearance="subtle"
          disabled={files.isFetching}
          onClick={() => void files.refetch()}
        >
          Refresh
        </Button>
      </div>
    </section>
  );
}
