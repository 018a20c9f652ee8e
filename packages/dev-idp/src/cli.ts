import { parseArgs } from 'node:util';
import { startDevIdp } from './idp.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '4443' },
    'tls-dir': { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    'post-logout-redirect-uri': { type: 'string', multiple: true, default: [] },
  },
});

const idp = await startDevIdp({
  host: values.host,
  port: Number(values.port),
  ...(values['tls-dir'] ? { tlsDir: values['tls-dir'] } : {}),
  ...(values['client-id'] ? { clientId: values['client-id'] } : {}),
  ...(values['client-secret'] ? { clientSecret: values['client-secret'] } : {}),
  redirectUris: values['redirect-uri'],
  postLogoutRedirectUris: values['post-logout-redirect-uri'],
});
console.log(`Twinscope dev identity provider ready at ${idp.authority} (development only)`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void idp.close().then(() => process.exit(0)));
}
