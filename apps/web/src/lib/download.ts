/** Saves items as a JSON-lines file, oldest first, named `<prefix>-<time>.jsonl`. */
export function downloadJsonLines(prefix: string, newestFirst: readonly unknown[]): void {
  const lines = newestFirst
    .slice()
    .reverse()
    .map((item) => JSON.stringify(item))
    .join('\n');
  const url = URL.createObjectURL(new Blob([`${lines}\n`], { type: 'application/x-ndjson' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `${prefix}-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`;
  link.click();
  URL.revokeObjectURL(url);
}
