/**
 * `initialise(signal)` on the real ConsumerGroup and Producer: the caller's signal ends its wait even while the
 * cluster never answers (a listener that accepts and stays silent), and a non-signal argument is refused (rejected with InvalidArgumentError).
 */
import * as assert from 'uvu/assert';
import { createServer, type Server, type Socket } from 'node:net';
import { suite } from '../kit.js';
import { ConsumerGroup } from '../../src/channels/consumer-group.js';
import { Producer } from '../../src/channels/producer.js';
import { InvalidArgumentError } from '../../src/errors.js';

const s = suite('initialise(signal)', { timeoutMs: 10_000 });

async function silentBroker(): Promise<{ address: string; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((sock) => { sockets.add(sock); sock.on('error', () => undefined); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { address: `127.0.0.1:${port}`, server, sockets };
}

for (const kind of ['ConsumerGroup', 'Producer'] as const) {
  s(`${kind}.initialise(signal) rejects with the signal's reason when it aborts, though the cluster never answers`, async () => {
    const b = await silentBroker();
    const client = kind === 'ConsumerGroup'
      ? new ConsumerGroup({ brokerAddrs: [b.address], topic: 't', groupName: 'g', requestTimeoutMs: 30_000 })
      : new Producer({ brokerAddrs: [b.address], topic: 't', minBrokersHealthy: 1, requestTimeoutMs: 30_000 });
    try {
      const t0 = Date.now();
      const err = await client.initialise(AbortSignal.timeout(200)).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof Error && err.name === 'TimeoutError', String(err));
      assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
      assert.not.ok(client.isInitialised());
      const aborted = new AbortController();
      aborted.abort(new Error('already'));
      await client.initialise(aborted.signal).then(() => assert.unreachable(), (e: unknown) => assert.is((e as Error).message, 'already'));
      await client.initialise('soon' as never).then(() => assert.unreachable(), (e: unknown) => assert.instance(e, InvalidArgumentError));
    } finally {
      for (const sock of b.sockets) sock.destroy();
      await client.close({ signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      b.server.close();
    }
  });
}

s.run();
