/** Saves what the browser holds as a download named `name`. */
export function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  // Some browsers start reading the URL only after the click returns.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Saves items as a JSON-lines file, oldest first, named `<prefix>-<time>.jsonl`. */
export function downloadJsonLines(prefix: string, newestFirst: readonly unknown[]): void {
  const lines = newestFirst
    .slice()
    .reverse()
    .map((item) => JSON.stringify(item))
    .join('\n');
  saveFile(
    new Blob([`${lines}\n`], { type: 'application/x-ndjson' }),
    `${prefix}-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`,
  );
}

/** A name as a file may be called: no folders, nothing hidden by a leading dot. */
const plainName = (name: string) => name.replace(/[/\\]/g, '_').replace(/^\.+/, '').trim();

/**
 * The file name a `Content-Disposition` header gives (RFC 6266): `filename*` (UTF-8) when
 * there is one, else `filename`; nothing when it names none.
 */
export function fileNameOf(disposition: string | null): string | undefined {
  if (!disposition) return undefined;
  const extended = /filename\*\s*=\s*UTF-8''([^;\s]+)/i.exec(disposition);
  if (extended) {
    try {
      const name = plainName(decodeURIComponent(extended[1]!));
      if (name) return name;
    } catch {
      // A badly encoded name: the plain one beside it will do.
    }
  }
  const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(disposition);
  const bare = /filename\s*=\s*([^;\s"]+)/i.exec(disposition);
  const name = quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : bare?.[1];
  return name ? plainName(name) || undefined : undefined;
}
