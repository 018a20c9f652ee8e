import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import {
  ConfidentialClientApplication,
  CryptoProvider,
  LogLevel,
  ProtocolMode,
  ResponseMode,
  type Configuration,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import {
  ProviderUnavailableError,
  type PendingSignIn,
  type Redeemed,
  type SignIn,
} from '../core/sign-in.ts';
import type { Logger } from '../log.ts';

export interface SignInSettings {
  clientId: string;
  /** `https://login.microsoftonline.com/<tenant>/`, or a local OpenID Connect provider. */
  authority: string;
  clientSecret?: string;
  /** PEM text holding the certificate and its private key (certificate credentials). */
  clientCertificatePem?: string;
  protocol: 'aad' | 'oidc';
  knownAuthorities: string[];
  /** A CA to trust for the identity provider besides the system store (a local provider). */
  ca?: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
}

/**
 * msal's network client on node:https, so a CA for a local provider can be given per
 * client (no NODE_EXTRA_CA_CERTS) and a dead provider fails within seconds.
 */
function networkModule(ca: string | undefined): INetworkModule {
  const send = <T>(
    method: 'GET' | 'POST',
    url: string,
    options: NetworkRequestOptions = {},
  ): Promise<NetworkResponse<T>> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        { method, headers: options.headers ?? {}, ...(ca ? { ca } : {}), timeout: 10_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown;
            try {
              body = JSON.parse(text);
            } catch {
              body = {};
            }
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers))
              if (typeof value === 'string') headers[name] = value;
            resolve({ status: res.statusCode ?? 0, headers, body: body as T });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${new URL(url).host}`)));
      req.on('error', reject);
      if (options.body) req.write(options.body);
      req.end();
    });
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}

function certificateCredential(pem: string) {
  const cert = new X509Certificate(pem);
  const key = pem.match(
    /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/,
  );
  if (!key) throw new Error('the client certificate file holds no private key');
  return {
    thumbprintSha256: createHash('sha256').update(cert.raw).digest('hex'),
    privateKey: key[0],
    x5c: cert.toString(),
  };
}

/**
 * Sign-in with @azure/msal-node as a confidential client: authorization code flow with
 * PKCE, state and nonce kept in the server session and checked on the way back. A new msal
 * instance serves each request with that session's own token cache, so users' tokens can
 * never mix; the provider's metadata is fetched once and handed to each instance.
 */
export class SignInClient implements SignIn {
  private metadata: Promise<string> | undefined;
  private endSession: string | undefined;
  private readonly network: INetworkModule;
  private readonly crypto = new CryptoProvider();

  constructor(
    private readonly settings: SignInSettings,
    private readonly logger: Logger,
  ) {
    this.network = networkModule(settings.ca);
  }

  private metadataUrl(): string {
    const base = this.settings.authority.endsWith('/')
      ? this.settings.authority
      : `${this.settings.authority}/`;
    return this.settings.protocol === 'oidc'
      ? `${base}.well-known/openid-configuration`
      : `${base}v2.0/.well-known/openid-configuration`;
  }

  private authorityMetadata(): Promise<string> {
    this.metadata ??= this.network
      .sendGetRequestAsync<Record<string, unknown>>(this.metadataUrl())
      .then((response) => {
        if (response.status !== 200 || typeof response.body['authorization_endpoint'] !== 'string')
          throw new Error(`metadata answered ${response.status}`);
        const end = response.body['end_session_endpoint'];
        this.endSession = typeof end === 'string' ? end : undefined;
        return JSON.stringify(response.body);
      })
      .catch((error: Error) => {
        this.metadata = undefined; // try again next time
        throw new ProviderUnavailableError(
          `The identity provider (${new URL(this.settings.authority).host}) cannot be reached: ${error.message}`,
        );
      });
    return this.metadata;
  }

  private async instance(tokenCache?: string): Promise<ConfidentialClientApplication> {
    const s = this.settings;
    const config: Configuration = {
      auth: {
        clientId: s.clientId,
        authority: s.authority,
        authorityMetadata: await this.authorityMetadata(),
        ...(s.knownAuthorities.length > 0 ? { knownAuthorities: s.knownAuthorities } : {}),
        ...(s.clientSecret ? { clientSecret: s.clientSecret } : {}),
        ...(s.clientCertificatePem
          ? { clientCertificate: certificateCredential(s.clientCertificatePem) }
          : {}),
      },
      system: {
        protocolMode: s.protocol === 'oidc' ? ProtocolMode.OIDC : ProtocolMode.AAD,
        networkClient: this.network,
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (_level, message) => {
            // Only Entra sends client_info; its absence is normal for another OIDC provider.
            if (s.protocol === 'oidc' && message.includes('No client info in response')) return;
            this.logger.warn('msal', { message });
          },
        },
      },
    };
    const cca = new ConfidentialClientApplication(config);
    if (tokenCache) cca.getTokenCache().deserialize(tokenCache);
    return cca;
  }

  /** Leg 1: the provider URL to send the browser to, and what the session must remember. */
  async begin(returnTo: string): Promise<{ url: string; pending: PendingSignIn }> {
    const cca = await this.instance();
    const { verifier, challenge } = await this.crypto.generatePkceCodes();
    const pending: PendingSignIn = {
      verifier,
      state: randomBytes(24).toString('base64url'),
      nonce: randomBytes(24).toString('base64url'),
      returnTo,
      createdAt: Date.now(),
    };
    const url = await cca.getAuthCodeUrl({
      scopes: [],
      redirectUri: this.settings.redirectUri,
      // query, not form_post: the provider's redirect back is a top-level GET, which carries
      // the SameSite=Lax session cookie that holds state, nonce and verifier.
      responseMode: ResponseMode.QUERY,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url, pending };
  }

  /** Leg 2: redeems the code; msal checks the state (2nd argument) and the nonce. */
  async complete(pending: PendingSignIn, code: string, state: string): Promise<Redeemed> {
    const cca = await this.instance();
    const result = await cca.acquireTokenByCode(
      {
        code,
        scopes: [],
        redirectUri: this.settings.redirectUri,
        codeVerifier: pending.verifier,
        state: pending.state,
        nonce: pending.nonce,
      },
      { code, state },
    );
    return {
      claims: (result.idTokenClaims ?? {}) as Record<string, unknown>,
      tokenCache: cca.getTokenCache().serialize(),
    };
  }

  /** Where to send the browser so the provider ends its session too. */
  async logoutUrl(): Promise<string> {
    await this.authorityMetadata().catch(() => undefined);
    const end =
      this.endSession ??
      (this.settings.protocol === 'aad'
        ? `${this.settings.authority.replace(/\/$/, '')}/oauth2/v2.0/logout`
        : undefined);
    if (!end) return this.settings.postLogoutRedirectUri;
    const url = new URL(end);
    url.searchParams.set('client_id', this.settings.clientId);
    url.searchParams.set('post_logout_redirect_uri', this.settings.postLogoutRedirectUri);
    return url.toString();
  }
}
