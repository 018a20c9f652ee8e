/** What a hub call knows of the request it is made for, passed down from the route. */
export interface CallContext {
  /** Aborts when the browser goes away before the answer is sent. */
  signal: AbortSignal;
  /** Who asks (their user id), once known: budgets are kept per person. */
  caller?: string;
}

/** The browser closed the connection: whatever the request still waits for can stop. */
export class ClientGoneError extends Error {
  constructor() {
    super('The browser went away before the answer.');
  }
}
