import type { Connection, Container } from 'rhea';
import type { Grant } from './connection.ts';

/** A server SASL mechanism of one step: the client's initial response decides. */
class SaslMechanism {
  outcome: boolean | undefined;
  username: string | undefined;
  constructor(private readonly accept: (response: Buffer | undefined) => boolean) {}
  start(response: Buffer | undefined): void {
    this.outcome = this.accept(response);
    this.username = this.outcome ? 'sasl' : undefined;
  }
}

/**
 * The SASL mechanism a connection authenticated with (rhea keeps it in its SASL layer, which
 * its typings do not name): a selective server's SASL transport, or the server itself.
 */
function saslMechanismOf(connection: Connection): SaslMechanism | undefined {
  const transport: unknown = Reflect.get(connection, 'sasl_transport');
  if (typeof transport !== 'object' || !transport) return undefined;
  const transports: unknown = Reflect.get(transport, 'transports');
  const server: unknown =
    typeof transports === 'object' && transports ? Reflect.get(transports, 3) : transport;
  const mechanism: unknown =
    typeof server === 'object' && server ? Reflect.get(server, 'mechanism') : undefined;
  return mechanism instanceof SaslMechanism ? mechanism : undefined;
}

/**
 * The SASL mechanisms IoT Hub offers, on a container:
 *
 * - ANONYMOUS (the Node SDKs, @azure/event-hubs), or no SASL at all (.NET, Java, Python),
 *   then `$cbs`;
 * - MSSBCBS (the C SDK's devices), which says the same: authenticate on `$cbs` afterwards;
 * - PLAIN with a SAS token as the password (the C service client), when `plain` is given: it
 *   checks the login and answers the grant the connection then holds, or throws to refuse.
 *
 * Answers the grant a connection's PLAIN login earned, if it logged in that way.
 */
export function serveSasl(
  container: Container,
  plain: ((username: string, password: string) => Grant) | undefined,
  log: (line: string) => void,
): (connection: Connection) => Grant | undefined {
  container.sasl_server_mechanisms.enable_anonymous();
  container.sasl_server_mechanisms['MSSBCBS'] = () => new SaslMechanism(() => true);
  const logins = new WeakMap<SaslMechanism, Grant>();
  if (plain) {
    container.sasl_server_mechanisms['PLAIN'] = () => {
      const mechanism: SaslMechanism = new SaslMechanism((response) => {
        // `authzid \0 authcid \0 password`
        const [, username = '', password = ''] = (response?.toString('utf8') ?? '').split('\0');
        try {
          logins.set(mechanism, plain(username, password));
          return true;
        } catch (error) {
          log(`SASL PLAIN refused for ${username}: ${(error as Error).message}`);
          return false;
        }
      });
      return mechanism;
    };
  }
  return (connection) => {
    const mechanism = saslMechanismOf(connection);
    return mechanism ? logins.get(mechanism) : undefined;
  };
}
