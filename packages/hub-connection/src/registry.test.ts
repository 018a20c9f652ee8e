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

describe('a registry whose calls can be abandoned', () => {
  it('when a hung hub never answers and the call is aborted, then the SDK request is torn down', async () => {
    // Accepts connections and never says a word, as a stopped hub process does.
    const sockets: Socket[] = [];
    let closed = 0;
    const hub = createServer((socket) => {
      sockets.push(socket);
      socket.on('close', () => closed++);
      socket.on('error', () => undefined);
      socket.resume(); // reads (and drops) what arrives, so it sees the client hang up
    });
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    const { port } = hub.address() as { port: number };
    const registry = registryFor(
      `HostName=localhost:${port};SharedAccessKeyName=service;SharedAccessKey=${Buffer.alloc(32).toString('base64')}`,
    );
    try {
      const controller = new AbortController();
      const call = abortableHubCall(controller.signal, () => registry.get('d1'));
      await until(() => sockets.length === 1, 'the SDK connected');
      controller.abort(new Error('deadline passed'));
      await expect(call).rejects.toThrow();
      await until(() => closed === 1, 'the hung connection was closed');

      // A call under a signal that has already fired never reaches the hub.
      await expect(
        abortableHubCall(AbortSignal.abort(new Error('gone')), () => registry.get('d2')),
      ).rejects.toThrow();
      expect(sockets).toHaveLength(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hub.close(resolve));
    }
  });
});
