/** Where the SDKs dial: none of them but Node's takes a port in HostName. */
export const STANDARD_PORTS = { https: 443, mqtt: 8883, amqps: 5671 } as const;

/**
 * Which SDKs reach the hub as it listens: on the standard ports, every one with a bare
 * HostName; on others, only the clients that take a port, with how to fix it. Read from the
 * SDKs' sources: .NET and Java refuse a port in HostName, C and Python resolve `host:port`
 * as a name, and every SDK dials 443 for HTTPS and WebSockets.
 */
export function reachNotes(hub: {
  hostName: string;
  httpsPort: number;
  mqttPort: number;
  amqpsPort: number;
}): string[] {
  const notes: string[] = [];
  if (hub.httpsPort !== STANDARD_PORTS.https) {
    notes.push(
      `HTTPS is on ${hub.httpsPort}, not 443 (443 was in use, or needs root): the .NET, Java, Python and C service clients, every SDK's device HTTPS, MQTT and AMQP over WebSockets, and file upload dial 443 and take no port in HostName; Node's service client takes HostName=${hub.hostName}:${hub.httpsPort}`,
      '  fix: run as root, or `sudo setcap cap_net_bind_service=+ep "$(command -v node)"`, or lower net.ipv4.ip_unprivileged_port_start; Node programs can use @twinscope/hub-connection, which dials any port',
    );
  }
  if (hub.mqttPort !== STANDARD_PORTS.mqtt) {
    notes.push(
      `MQTT is on ${hub.mqttPort}, not 8883 (in use): only Node's device SDK takes HostName=${hub.hostName}:${hub.mqttPort}; free 8883 or pass --mqtt-port`,
    );
  }
  if (hub.amqpsPort !== STANDARD_PORTS.amqps) {
    notes.push(
      `AMQP is on ${hub.amqpsPort}, not 5671 (in use): only Node's device SDK takes HostName=${hub.hostName}:${hub.amqpsPort}; free 5671 or pass --amqps-port`,
    );
  }
  if (notes.length === 0)
    notes.push(`every SDK and transport, with HostName=${hub.hostName} (ports 443, 8883, 5671)`);
  return notes;
}
