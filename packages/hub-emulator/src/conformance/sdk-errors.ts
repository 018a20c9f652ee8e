import { expect } from 'vitest';

/** Awaits a promise the SDK should reject, and checks the SDK's error class by name. */
export async function expectSdkError(
  promise: Promise<unknown>,
  className: string,
): Promise<Error & { responseBody?: string }> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected the SDK to raise ${className}`).toBeInstanceOf(Error);
  const error = caught as Error & { responseBody?: string };
  expect(error.constructor.name).toBe(className);
  return error;
}
