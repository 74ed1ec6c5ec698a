/**
 * close() while initialise() is still connecting to a cluster that never answers (a listener that accepts and
 * stays silent): close resolves at once and nothing the attempt started keeps the process alive. Each case runs
 * in a child node process, so "the process exits" is measured directly rather than guessed from handles.
 */
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { suite } from '../kit.js';

const s = suite('close() while connecting', { timeoutMs: 20_000 });

const modules = {
  ConsumerGroup: fileURLToPath(new URL('../../src/channels/consumer-group.js', import.meta.url)),
  Producer: fileURLToPath(new URL('../../src/channels/producer.js', import.meta.url)),
} as const;

for (const kind of ['ConsumerGroup', 'Producer'] as const) {
  s(`${kind}: close() during connect resolves fast and the process exits (the lookup deadline is 30 s)`, async () => {
    const sockets = new Set<Socket>();
    const server = createServer((sock) => { sockets.add(sock); sock.on('error', () => undefined); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const config = kind === 'ConsumerGroup'
      ? { brokerAddrs: [address], topic: 't', groupName: 'g', requestTimeoutMs: 30_000, connectTimeoutMs: 30_000 }
      : { brokerAddrs: [address], topic: 't', minBrokersHealthy: 1, requestTimeoutMs: 30_000, connectTimeoutMs: 30_000 };
    const script = `
      const { ${kind} } = await import(${JSON.stringify(modules[kind])});
      const client = new ${kind}(${JSON.stringify(config)});
      const init = client.initialise().then(() => 'initialised', (e) => e.name);
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      await client.close();
      const closeMs = Date.now() - t0;
      console.log(JSON.stringify({ closeMs, init: await Promise.race([init, new Promise((r) => setTimeout(() => r('pending'), 500))]) }));`;
    try {
      const t0 = Date.now();
      const { out, timedOut } = await new Promise<{ out: string; timedOut: boolean }>((resolve) => {
        execFile(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 8_000 },
          (err, stdout) => resolve({ out: stdout, timedOut: err !== null && (err as { killed?: boolean }).killed === true }));
      });
      const exitMs = Date.now() - t0;
      assert.not.ok(timedOut, `the child was still alive after 8 s (output: ${out.trim()})`);
      const r = JSON.parse(out.trim().split('\n').pop()!) as { closeMs: number; init: string };
      assert.ok(r.closeMs < 1_000, `close() took ${r.closeMs} ms`);
      assert.is(r.init, 'ClosedError', 'the connect attempt ends with ClosedError');
      assert.ok(exitMs < 3_000, `the child process took ${exitMs} ms to exit`);
    } finally {
      for (const sock of sockets) sock.destroy();
      server.close();
    }
  });
}

s.run();
