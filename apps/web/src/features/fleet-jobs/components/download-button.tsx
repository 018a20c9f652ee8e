import { Button, MessageBar, MessageBarBody, Spinner } from '@fluentui/react-components';
import { useDownloadExport } from '../api/download-export.ts';

/** Saves a completed export's file, under the name the BFF gives it. */
export function DownloadButton({ jobId, secret }: { jobId: string; secret: boolean }) {
  const download = useDownloadExport();
  return (
    <>
      <div className="action-row">
        <Button
          appearance="primary"
          disabled={download.isPending}
          onClick={() => download.mutate(jobId)}
          data-testid="download-export"
        >
          Download
        </Button>
        {download.isPending && <Spinner size="tiny" label="Downloading the file…" />}
        {secret && !download.isPending && (
          <span className="muted">The file holds keys: keep it as you would any secret.</span>
        )}
      </div>
      {download.error && (
        <MessageBar intent="error" data-testid="download-error">
          <MessageBarBody>{download.error.message}</MessageBarBody>
        </MessageBar>
      )}
    </>
  );
}
