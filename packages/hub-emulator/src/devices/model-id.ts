// The Plug and Play model id a device or module announces as it connects: IoT Hub keeps it
// in the twin's `modelId` (and answers queries on it). Over MQTT it is the user name's
// `model-id=` parameter (C and Python URL-encode it, Node does not); over AMQP the link
// attach property `com.microsoft:model-id` (.NET on every link, Java on its sender links).

/** A Digital Twin Model Identifier (DTDL): `dtmi:<path>;<version>`, at most 2,048 characters. */
const DTMI =
  /^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*;[1-9][0-9]{0,8}$/;

export function isModelId(text: string): boolean {
  return text.length <= 2048 && DTMI.test(text);
}

/** The `model-id` an MQTT CONNECT user name carries (`host/device/?api-version=…&model-id=…`). */
export function modelIdOfUsername(username: string | undefined): string | undefined {
  const query = username?.split('?')[1];
  if (!query) return undefined;
  for (const part of query.split('&')) {
    const at = part.indexOf('=');
    if (at < 0 || part.slice(0, at).toLowerCase() !== 'model-id') continue;
    try {
      return decodeURIComponent(part.slice(at + 1));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The model id an AMQP link's attach announces, if any. */
export function modelIdOfLink(link: {
  remote?: { attach?: { properties?: unknown } };
}): string | undefined {
  const properties = link.remote?.attach?.properties;
  if (typeof properties !== 'object' || properties === null) return undefined;
  const value = (properties as Record<string, unknown>)['com.microsoft:model-id'];
  return typeof value === 'string' ? value : undefined;
}
