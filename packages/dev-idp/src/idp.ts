// oidc-provider ships no types: the declarations Twinscope uses travel with this file, so
// packages that type-check it through an import (the BFF's tests) see them too.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./oidc-provider.d.ts" />
import { createHash, generateKeyPairSync, randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { loadOrCreateTls } from '@twinscope/hub-emulator';

export interface DemoUser {
  sub: string;
  name: string;
  /** Entra app-role values, as in the `roles` claim of an ID token. */
  roles: string[];
  /** Stands for a token whose groups did not fit: Entra then sends `_claim_names` instead. */
  groupsOverage?: boolean;
  description: string;
}

/** The three demo users of the dev sign-in mode, plus two that tests need. */
export const DEMO_USERS: DemoUser[] = [
  {
    sub: 'reader',
    name: 'Riley Reader',
    roles: ['Twinscope.Reader'],
    description: 'Browse devices and watch twins change',
  },
  {
    sub: 'operator',
    name: 'Oscar Operator',
    roles: ['Twinscope.Operator'],
    description: 'Also edit desired properties and tags',
  },
  {
    sub: 'admin',
    name: 'Ada Admin',
    roles: ['Twinscope.Admin'],
    description: 'Also create, change and delete module identities',
  },
  { sub: 'norole', name: 'Nico Noroles', roles: [], description: 'Signed in, but no app role' },
  {
    sub: 'overage',
    name: 'Gia Groups',
    roles: [],
    groupsOverage: true,
    description: 'In more than 200 groups (a groups-overage token), no app role',
  },
];

/** The dev tenant, as Entra's `tid` claim. */
export const DEV_TENANT_ID = '7f0e4c7a-5c1e-4d3a-9b1f-2a6c0d7e8f90';

/** A stable, GUID-shaped object id per demo user, like Entra's `oid`. */
export function objectIdFor(sub: string): string {
  const hex = createHash('sha256').update(`twinscope-dev-idp:${sub}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The public JWK of a certificate, with its chain, as a client's registered key. */
function certificateJwk(pem: string): Record<string, unknown> {
  const cert = new X509Certificate(pem);
  return {
    ...cert.publicKey.export({ format: 'jwk' }),
    x5c: [cert.raw.toString('base64')],
    use: 'sig',
  };
}

function signingKey(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
}

export interface DevIdpOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Where the CA and server certificate live (shared with the emulator's, if the same dir). */
  tlsDir?: string;
  clientId?: string;
  clientSecret?: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  users?: DemoUser[];
  /** A second client that authenticates with a certificate (private_key_jwt) instead. */
  certificateClient?: { clientId: string; certificatePem: string };
}

export interface RunningDevIdp {
  /** The authority / issuer: `https://127.0.0.1:<port>/`. */
  authority: string;
  /** host:port, for msal's knownAuthorities. */
  hostPort: string;
  caCert: string;
  caCertFile?: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

const esc = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const STYLE = `body{font-family:system-ui,sans-serif;background:#f3f2f1;margin:0;color:#201f1e}
main{max-width:420px;margin:48px auto;background:#fff;padding:28px 32px;border-radius:8px;box-shadow:0 2px 8px rgba(0,0,0,.12)}
h1{font-size:20px;margin:0 0 4px}p{color:#605e5c;margin:0 0 20px}
button{display:block;width:100%;text-align:left;margin:0 0 10px;padding:10px 14px;border:1px solid #c8c6c4;border-radius:4px;background:#fff;font:inherit;cursor:pointer}
button:hover,button:focus{border-color:#0f6cbd;outline:none;background:#ebf3fc}button strong{display:block}
button span{color:#605e5c;font-size:13px}details{margin-top:16px;color:#605e5c}.warn{font-size:12px;margin-top:18px}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><meta name="viewport" content="width=device-width"><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 10_000) req.destroy(new Error('form too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(text)));
    req.on('error', reject);
  });
}

/**
 * A local OpenID Connect provider (oidc-provider) over HTTPS on loopback, standing in for
 * Microsoft Entra ID: ID tokens carry `oid`, `tid`, `name`, `preferred_username` and the
 * `roles` claim as Entra's app roles do. The sign-in page lists the demo users; no password.
 * Never for production: its signing keys are made up at start.
 */
export async function startDevIdp(options: DevIdpOptions): Promise<RunningDevIdp> {
  const host = options.host ?? '127.0.0.1';
  const users = options.users ?? DEMO_USERS;
  const clientId = options.clientId ?? 'twinscope-dev';
  const clientSecret = options.clientSecret ?? 'twinscope-dev-secret';
  const tls = await loadOrCreateTls(host, options.tlsDir);
  // The issuer needs the port, which is known once listening: listen first, then mount.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) =>
    handler(req, res),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostPort = `${host}:${port}`;
  const issuer = `https://${hostPort}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        // msal-node sends the client secret in the token request body.
        token_endpoint_auth_method: 'client_secret_post',
      },
      ...(options.certificateClient
        ? [
            {
              client_id: options.certificateClient.clientId,
              redirect_uris: options.redirectUris,
              post_logout_redirect_uris: options.postLogoutRedirectUris,
              grant_types: ['authorization_code', 'refresh_token'],
              response_types: ['code'],
              // Certificate credentials: msal-node signs a client assertion with the key.
              token_endpoint_auth_method: 'private_key_jwt',
              jwks: { keys: [certificateJwk(options.certificateClient.certificatePem)] },
            },
          ]
        : []),
    ],
    // Signing keys made at start: tokens from an earlier run are worthless, as they should be.
    jwks: { keys: [signingKey()] },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Grant: 8 * 3600,
      Session: 8 * 3600,
      RefreshToken: 8 * 3600,
    },
    cookies: { keys: [createHash('sha256').update(`${issuer}:${clientSecret}`).digest('hex')] },
    claims: {
      openid: ['sub'],
      // `groups` only so an overage marker (`_claim_names.groups`) can pass through.
      profile: ['name', 'preferred_username', 'oid', 'tid', 'roles', 'groups'],
    },
    // Entra puts these claims in the ID token of the code flow; so does this provider.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource },
    },
    async findAccount(_ctx: unknown, sub: string) {
      const user = users.find((u) => u.sub === sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            name: user.name,
            preferred_username: `${sub}@twinscope.test`,
            oid: objectIdFor(sub),
            tid: DEV_TENANT_ID,
            ...(user.roles.length > 0 ? { roles: user.roles } : {}),
            ...(user.groupsOverage
              ? {
                  _claim_names: { groups: 'src1' },
                  _claim_sources: {
                    src1: {
                      endpoint: `https://graph.microsoft.com/v1.0/users/${objectIdFor(sub)}/getMemberObjects`,
                    },
                  },
                }
              : {}),
          };
        },
      };
    },
    // A first-party client: consent is implied, as for an Entra app the tenant admin approved.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const grantId =
        ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid profile offline_access');
      grant.addOIDCClaims(['name', 'preferred_username', 'oid', 'tid', 'roles', 'groups']);
      await grant.save();
      return grant;
    },
  });
  provider.proxy = false;
  const callback = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'POST') {
      const form = await readForm(req);
      const sub = form.get('login') ?? '';
      if (!users.some((u) => u.sub === sub)) {
        res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
        res.end(page('Unknown user', `<h1>Unknown user</h1><p>Pick one of the demo users.</p>`));
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: sub } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const button = (u: DemoUser) =>
      `<button type="submit" name="login" value="${esc(u.sub)}"><strong>Sign in as ${esc(u.name)}</strong><span>${esc(u.roles.join(', ') || 'no app role')} · ${esc(u.description)}</span></button>`;
    const main = users.filter((u) => u.roles.length > 0);
    const others = users.filter((u) => u.roles.length === 0);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(
      page(
        'Sign in · Twinscope dev identity provider',
        `<h1>Twinscope dev sign-in</h1><p>A local stand-in for Microsoft Entra ID. Pick a demo user.</p>
<form method="post" action="/interaction/${esc(details.uid)}">${main.map(button).join('')}
${others.length ? `<details><summary>Test accounts</summary>${others.map(button).join('')}</details>` : ''}</form>
<p class="warn">Development only: anyone who reaches this page can sign in as any demo user.</p>`,
      ),
    );
  }

  handler = (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((error: Error) => {
        if (res.headersSent) return res.destroy();
        res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
        res.end(
          page(
            'Sign-in failed',
            `<h1>This sign-in has expired</h1><p>${esc(error.message)}</p><p>Go back to Twinscope and sign in again.</p>`,
          ),
        );
      });
      return;
    }
    callback(req, res);
  };

  return {
    authority: `${issuer}/`,
    hostPort,
    caCert: tls.caCert,
    ...(tls.caCertFile ? { caCertFile: tls.caCertFile } : {}),
    clientId,
    clientSecret,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  ctx.body = page(
    'Sign out · Twinscope dev identity provider',
    `<h1>Sign out of the dev identity provider?</h1><p>You will be sent back to Twinscope.</p>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout"><strong>Yes, sign me out</strong></button>
<button type="submit" form="op.logoutForm"><strong>No, stay signed in</strong></button>`,
  );
}
