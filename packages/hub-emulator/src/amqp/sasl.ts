import type { Connection, Container } from 'rhea';
import type { Grant } from './connection.ts';

/** A server SASL mechanism of one step: the client's initial response decides. */
class SaslMechanism {
  outcome: boolean | undefined;
  username: string | undefined;
  constructor(
    readonly name: string,
    private readonly accept: (response: Buffer | undefined) => boolean,
  ) {}
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
 * - EXTERNAL, for clients that name their TLS client certificate as the credential (X.509).
 *
 * Answers how a connection authenticated: its SASL mechanism, and the grant a PLAIN login
 * earned.
 */
export function serveSasl(
  container: Container,
  plain: ((username: string, password: string) => Grant) | undefined,
  log: (line: string) => void,
): (connection: Connection) => { mechanism?: string; login?: Grant } {
  container.sasl_server_mechanisms.enable_anonymous();
  container.sasl_server_mechanisms['MSSBCBS'] = () => new SaslMechanism('MSSBCBS', () => true);
  // EXTERNAL: the TLS client certificate is the credential (checked per link, as X.509
  // devices are); a connection that chose it without presenting one is closed once open.
  container.sasl_server_mechanisms['EXTERNAL'] = () => new SaslMechanism('EXTERNAL', () => true);
  const logins = new WeakMap<SaslMechanism, Grant>();
  if (plain) {
    container.sasl_server_mechanisms['PLAIN'] = () => {
      const mechanism: SaslMechanism = new SaslMechanism('PLAIN', (response) => {
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
    if (!mechanism) return {};
    const login = logins.get(mechanism);
    return { mechanism: mechanism.name, ...(login ? { login } : {}) };
  };
}
