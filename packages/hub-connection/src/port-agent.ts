import type { Socket } from 'node:net';
import { Agent, type AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';

/**
 * An HTTPS agent for the device SDKs' transports that always dial 443 whatever HostName
 * says: MqttWs and AmqpWs (their `webSocketAgent` option) and Http (`http.agent`). It dials
 * `port` instead and trusts `ca`, so a hub on another port (the emulator in tests, two
 * stacks on one machine) is reached with the SDK unchanged.
 */
export function portAgentFor(options: { port: number; ca?: string }): Agent {
  class PortAgent extends Agent {
    override createConnection(
      connectOptions: AgentOptions & { port?: number },
      callback?: (error: Error | null, socket: Duplex) => void,
    ): Duplex {
      const create = Agent.prototype.createConnection as (
        this: Agent,
        o: object,
        cb?: (error: Error | null, socket: Duplex) => void,
      ) => Duplex | Socket;
      return create.call(this, { ...connectOptions, port: options.port }, callback) as Duplex;
    }
  }
  return new PortAgent({ keepAlive: false, ...(options.ca ? { ca: options.ca } : {}) });
}
