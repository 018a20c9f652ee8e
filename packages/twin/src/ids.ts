/**
 * IoT Hub's alphabet for device and module ids: 1 to 128 ASCII letters, digits and
 * - : . + % _ # * ? ! ( ) , = @ ; $ '. The emulator enforces it; the BFF checks it before
 * the hub sees an id.
 */
export const IDENTITY_ID_PATTERN = /^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$/;

export const IDENTITY_ID_RULE =
  "1 to 128 ASCII letters, digits or - : . + % _ # * ? ! ( ) , = @ ; $ '";

export function isIdentityId(id: string): boolean {
  return IDENTITY_ID_PATTERN.test(id);
}
