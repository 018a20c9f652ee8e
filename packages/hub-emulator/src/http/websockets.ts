import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { clientCertificateOf, type ClientCertificate } from '../auth/x509.ts';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';

/** The subprotocols IoT Hub serves at `/$iothub/websocket`. */
const PROTOCOLS = ['mqtt', 'AMQPWSB10'] as const;
export type WebSocketProtocol = (typeof PROTOCOLS)[number];

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
 * `mqtt` or `AMQPWSB10` (echoed, as the `ws` client requires). Authentication happens
 * inside the protocol, as over TCP (a client certificate is taken from the TLS connection). Anything else is refused before the upgrade.
 */
export function webSocketUpgrade(handlers: WebSocketHandlers) {
  const server = new WebSocketServer({
    noServer: true,
    // IoT Hub's messages are at most 256 KB; frames around them stay well under this.
    maxPayload: 1024 * 1024,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  return (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/$iothub/websocket') {
      refuse(socket, '404 Not Found', 'WebSockets are served at /$iothub/websocket only.');
      return;
    }
    const offered = String(request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    const protocol = PROTOCOLS.find((p) => offered.includes(p));
    if (!protocol) {
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
      if (ws.protocol === 'mqtt') handlers.mqtt(createWebSocketStream(ws), certificate);
      else handlers.amqp(ws, certificate);
    });
  };
}
