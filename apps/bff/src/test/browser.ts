import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface BrowserResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
  url: string;
}

/**
 * What a browser does that tests need: a cookie jar per host (HttpOnly and all), manual
 * redirects, forms. Used to sign in through the real identity provider without Chromium.
 */
export class TestBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  constructor(private readonly ca?: string) {}

  cookies(url: string): Map<string, string> {
    const host = new URL(url).host;
    let cookies = this.jar.get(host);
    if (!cookies) this.jar.set(host, (cookies = new Map()));
    return cookies;
  }

  request(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<BrowserResponse> {
    const target = new URL(url);
    const cookies = this.cookies(url);
    const headers: Record<string, string> = { ...init.headers };
    if (cookies.size > 0)
      headers['cookie'] = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        target,
        {
          method: init.method ?? 'GET',
          headers,
          agent: false,
          ...(target.protocol === 'https:' && this.ca ? { ca: this.ca } : {}),
        },
        (res) => {
          for (const line of res.headers['set-cookie'] ?? []) {
            const [pair, ...attributes] = line.split(';');
            const at = pair!.indexOf('=');
            const name = pair!.slice(0, at).trim();
            const value = pair!.slice(at + 1).trim();
            const expired = attributes.some(
              (a) => /^\s*expires=.*1970/i.test(a) || /^\s*max-age=0/i.test(a),
            );
            if (expired || value === '') cookies.delete(name);
            else cookies.set(name, value);
          }
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, url });
          });
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error(`no answer: ${url}`)));
      req.on('error', reject);
      if (init.body !== undefined) req.write(init.body);
      req.end();
    });
  }

  /** Follows redirects like a top-level navigation; stops at a non-redirect or at `stopAt`. */
  async navigate(
    url: string,
    options: {
      stopAt?: (url: string) => boolean;
      method?: string;
      form?: Record<string, string>;
    } = {},
  ): Promise<BrowserResponse> {
    let response = await this.request(url, {
      ...(options.method ? { method: options.method } : {}),
      ...(options.form
        ? {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(options.form).toString(),
          }
        : {}),
    });
    for (let hops = 0; hops < 15; hops++) {
      const location = response.headers['location'];
      if (response.status < 300 || response.status >= 400 || typeof location !== 'string')
        return response;
      const next = new URL(location, response.url).toString();
      if (options.stopAt?.(next)) return { ...response, url: next };
      response = await this.request(next);
    }
    throw new Error('too many redirects');
  }
}
