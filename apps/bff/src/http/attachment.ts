/**
 * A `Content-Disposition` that saves the answer as `fileName`: an ASCII name every browser
 * reads (anything else, quotes and backslashes included, becomes `_`), and when that is not
 * the name itself, the name in UTF-8 beside it (RFC 6266), which browsers prefer.
 */
export function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  if (ascii === fileName) return `attachment; filename="${ascii}"`;
  const utf8 = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}
