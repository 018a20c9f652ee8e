/**
 * IoT Hub's alphabet for device and module ids: 1 to 128 ASCII letters, digits and
 * - : . + % _ # * ? ! ( ) , = @ ; $ '. The emulator enforces it; the BFF checks it before
 * the hub sees an id.
 *
 * An id made only of dots (`.`, `..`) is refused although every character is allowed: in a
 * URL path it is a dot-segment, which any path normaliser (a proxy, a client library) may
 * rewrite, so `DELETE /devices/d1/modules/..` could become `DELETE /devices/d1`.
 */
export const IDENTITY_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$/;

export const IDENTITY_ID_RULE =
  "1 to 128 ASCII letters, digits or - : . + % _ # * ? ! ( ) , = @ ; $ ', not only dots";

export function isIdentityId(id: string): boolean {
  return IDENTITY_ID_PATTERN.test(id);
}
