import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { clientCertificateOf, type ClientCertificate } from '../auth/x509.ts';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';

/** The subprotocols IoT Hub serves at `/$iothub/websocket`. */
const PROTOCOLS = ['mqtt', 'AMQPWSB10'] as const;
export type WebSocketProtocol = (typeof PROTOCOLS)[number];

/**
 * The subprotocol a client offered that IoT Hub serves, spelled as the client spelled it
 * (matched without regard to case: the C SDK offers `MQTT`, Node `mqtt`; a client checks
 * the echo against what it offered), and which one it is.
 */
function chosenProtocol(
  offered: Iterable<string>,
): { offered: string; protocol: WebSocketProtocol } | undefined {
  for (const candidate of offered) {
    const protocol = PROTOCOLS.find((p) => p.toLowerCase() === candidate.trim().toLowerCase());
    if (protocol) return { offered: candidate.trim(), protocol };
  }
  return undefined;
}

export interface WebSocketHandlers {
  /**
   * MQTT over WebSockets: the stream carries MQTT packets, as a TLS socket would; with the
   * certificate the client presented on the TLS connection under it (X.509 devices).
   */
  mqtt(stream: Duplex, certificate?: ClientCertificate): void;
  /** AMQP over WebSockets: the WebSocket itself, for rhea, and the client's certificate. */
  amqp(socket: WebSocket, certificate?: ClientCertificate): void;
  log?: (line: string) => void;
}

function refuse(socket: Duplex, status: string, message: string): void {
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`,
  );
}

/**
 * IoT Hub's WebSocket endpoint on the HTTPS port: `/$iothub/websocket` with subprotocol
 * `mqtt` or `AMQPWSB10`, in any case (echoed as offered, as clients require). Authentication
 * happens inside the protocol, as over TCP (a client certificate is taken from the TLS
 * connection). Anything else is refused before the upgrade.
 */
export function webSocketUpgrade(handlers: WebSocketHandlers) {
  const server = new WebSocketServer({
    noServer: true,
    // IoT Hub's messages are at most 256 KB; frames around them stay well under this.
    maxPayload: 1024 * 1024,
    handleProtocols: (offered) => chosenProtocol(offered)?.offered ?? false,
  });
  return (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/$iothub/websocket') {
      refuse(socket, '404 Not Found', 'WebSockets are served at /$iothub/websocket only.');
      return;
    }
    const offered = String(request.headers['sec-websocket-protocol'] ?? '').split(',');
    const chosen = chosenProtocol(offered);
    if (!chosen) {
      handlers.log?.(`websocket: refused subprotocol '${offered.join(',')}'`);
      refuse(
        socket,
        '400 Bad Request',
        `Unknown WebSocket subprotocol: use ${PROTOCOLS.join(' or ')}.`,
      );
      return;
    }
    const certificate =
      request.socket instanceof TLSSocket ? clientCertificateOf(request.socket) : undefined;
    server.handleUpgrade(request, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      if (chosen.protocol === 'mqtt') handlers.mqtt(createWebSocketStream(ws), certificate);
      else handlers.amqp(ws, certificate);
    });
  };
}
