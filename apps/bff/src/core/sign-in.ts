/** Signing in with Entra ID (or another OpenID Connect provider): what the sign-in routes need of it. */

export interface PendingSignIn {
  verifier: string;
  state: string;
  nonce: string;
  returnTo: string;
  createdAt: number;
}

export interface Redeemed {
  claims: Record<string, unknown>;
  /** The session's own serialized msal token cache. */
  tokenCache: string;
}

/** The identity provider could not be reached or answered nonsense. */
export class ProviderUnavailableError extends Error {}

/** The provider's side of a sign-in: where to send the browser, and the code redeemed. */
export interface SignIn {
  /** Leg 1: the provider's URL (with PKCE, state and nonce) and what the session keeps until the callback. */
  begin(returnTo: string): Promise<{ url: string; pending: PendingSignIn }>;
  /** Leg 2: the code the provider sent back, redeemed for the user's claims. */
  complete(pending: PendingSignIn, code: string, state: string): Promise<Redeemed>;
  /** Where to send the browser so the provider signs out too. */
  logoutUrl(): Promise<string>;
}
