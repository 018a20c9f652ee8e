import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { abortableHubCall, registryFor } from './registry.ts';

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Accepts connections and never says a word, as a stopped hub process does. */
async function hungHub() {
  const sockets: Socket[] = [];
  const state = { closed: 0 };
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('close', () => state.closed++);
    socket.on('error', () => undefined);
    socket.resume(); // reads (and drops) what arrives, so it sees the client hang up
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    sockets,
    state,
    connectionString: `HostName=localhost:${port};SharedAccessKeyName=service;SharedAccessKey=${Buffer.alloc(32).toString('base64')}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a registry whose calls can be abandoned', () => {
  it('when a hung hub never answers and the call is aborted, then the SDK request is torn down', async () => {
    const hub = await hungHub();
    const { sockets } = hub;
    const closed = () => hub.state.closed;
    const registry = registryFor(hub.connectionString);
    try {
      const controller = new AbortController();
      const call = abortableHubCall(controller.signal, () => registry.get('d1'));
      await until(() => sockets.length === 1, 'the SDK connected');
      controller.abort(new Error('deadline passed'));
      await expect(call).rejects.toThrow();
      await until(() => closed() === 1, 'the hung connection was closed');

      // A call under a signal that has already fired never reaches the hub.
      await expect(
        abortableHubCall(AbortSignal.abort(new Error('gone')), () => registry.get('d2')),
      ).rejects.toThrow();
      expect(sockets).toHaveLength(1);
    } finally {
      await hub.close();
    }
  });

  it('when a request was not bound to a call (Entra tokens come later), then its idle limit ends it', async () => {
    const hub = await hungHub();
    const registry = registryFor(hub.connectionString, { requestTimeoutMs: 300 });
    try {
      const started = Date.now();
      await expect(registry.get('d1')).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(3000);
      await until(() => hub.state.closed === 1, 'the silent connection was closed');
    } finally {
      await hub.close();
    }
  });
});
