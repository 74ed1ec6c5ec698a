/**
 * The Workers sockets transport (src/client/transports/workers.ts) through a double of `cloudflare:sockets`
 * (sockets-double.ts: Web streams over node:net) against the fake cluster: records produced and fetched back
 * through it, back-pressure through the writable's high-water mark, connect failures typed and bounded, TLS options
 * the API cannot honour refused, and the socket contract the connection relies on (one 'close', idempotent
 * end/destroy). integration/workerd.test.ts proves it under workerd against the real broker.
 */
import * as assert from 'uvu/assert';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { suite } from '../../kit.js';
import { FakeCluster } from '../../fake-cluster/fake-cluster.js';
import { Cluster } from '../../../src/client/cluster.js';
import { ProducerEngine } from '../../../src/client/producer-engine.js';
import { Fetcher } from '../../../src/client/fetcher.js';
import { fetchedRecords } from '../../../src/client/fetch-buffer.js';
import type { Transport, TransportSocket } from '../../../src/client/transport.js';
import { workersTransport } from '../../../src/client/transports/workers.js';
import { ConnectionError, InvalidArgumentError } from '../../../src/errors.js';
import { socketsDouble } from './sockets-double.js';

const s = suite('workers sockets transport (double of cloudflare:sockets, fake cluster)', { timeoutMs: 20_000 });

/** Produces `values` to `topic` partition 0 and reads them back, every connection through `transport`. */
async function roundTrip(fake: FakeCluster, transport: Transport, topic: string, values: string[]): Promise<string[]> {
  const cluster = new Cluster({ bootstrap: fake.bootstrap, transport });
  const engine = new ProducerEngine({ cluster, lingerMs: 1, deliveryTimeoutMs: 10_000 });
  const fetcher = new Fetcher(cluster, { maxWaitMs: 20 });
  try {
    const reports: Promise<void>[] = values.map((value) => new Promise((resolve, reject) => {
      engine.send([{ value, partition: 0 }], (r) => (r.errors ? reject(r.errors.find((e) => e)) : resolve()), { topic });
    }));
    await Promise.all(reports);
    fetcher.assign([{ topic, partition: 0, offset: 0 }]);
    const got: string[] = [];
    while (got.length < values.length) {
      const b = await fetcher.next(AbortSignal.timeout(10_000));
      for (const r of fetchedRecords(b)) got.push(r.value!.toString());
      fetcher.consumed(b, b.nextOffset);
    }
    return got;
  } finally {
    await fetcher.close();
    await engine.close();
    await cluster.close();
  }
}

/** Counts writes refused (returned false) and 'drain' events of every socket `inner` opens. */
function counting(inner: Transport): { transport: Transport; full: number; drains: number; sockets: TransportSocket[] } {
  const c = { full: 0, drains: 0, sockets: [] as TransportSocket[], transport: undefined as unknown as Transport };
  c.transport = {
    connect: async (o) => {
      const sock = await inner.connect(o);
      c.sockets.push(sock);
      const write = sock.write.bind(sock);
      sock.write = (chunk, cb) => { const room = write(chunk, cb); if (!room) c.full++; return room; };
      sock.on('drain', () => { c.drains++; });
      return sock;
    },
  };
  return c;
}

s('records produced and fetched back through the transport; every connection is the double\'s', async () => {
  const fake = await FakeCluster.start({ brokers: 2, topics: { t: 1 } });
  try {
    const { connect, log } = socketsDouble();
    const values = Array.from({ length: 50 }, (_, i) => `v${i}`);
    assert.equal(await roundTrip(fake, workersTransport(connect), 't', values), values);
    assert.ok(log.connects.length >= 1);
    assert.is(log.connects.length, fake.connectionCount(), 'no connection but through the double');
    assert.ok(log.connects.every((c) => c.options?.secureTransport === 'off' && c.options.allowHalfOpen === false), JSON.stringify(log.connects));
  } finally {
    await fake.close();
  }
});

s('back-pressure: past the writable\'s high-water mark write() returns false, \'drain\' follows, nothing is lost', async () => {
  const fake = await FakeCluster.start({ brokers: 1, topics: { big: 1 } });
  try {
    const { connect } = socketsDouble({ highWaterMark: 1024 });
    const c = counting(workersTransport(connect));
    const values = Array.from({ length: 40 }, (_, i) => `${i}:`.padEnd(20_000, 'x'));
    const got = await roundTrip(fake, c.transport, 'big', values);
    assert.equal(got.map((v) => v.slice(0, 4)), values.map((v) => v.slice(0, 4)));
    assert.ok(got.every((v, i) => v === values[i]));
    assert.ok(c.full > 0, 'some write found the writable full');
    assert.ok(c.drains > 0, 'drain came');
  } finally {
    await fake.close();
  }
});

s('back-pressure where the stream never pushes back (as workerd\'s sink): the transport\'s own byte bound refuses past highWaterMark', async () => {
  const fake = await FakeCluster.start({ brokers: 1, topics: { big: 1 } });
  try {
    const { connect } = socketsDouble({ highWaterMark: 1 << 30 });
    const c = counting(workersTransport(connect, { highWaterMark: 4096 }));
    const values = Array.from({ length: 20 }, (_, i) => `${i}:`.padEnd(20_000, 'y'));
    assert.ok((await roundTrip(fake, c.transport, 'big', values)).every((v, i) => v === values[i]));
    assert.ok(c.full > 0 && c.drains > 0, `full ${c.full}, drains ${c.drains}`);
    assert.throws(() => workersTransport(connect, { highWaterMark: 0 }), (e: unknown) => e instanceof InvalidArgumentError);
  } finally {
    await fake.close();
  }
});

s('a stream whose high-water mark is 0 (ready pending even when empty) does not wedge the writer', async () => {
  const fake = await FakeCluster.start({ brokers: 1, topics: { t: 1 } });
  try {
    const { connect } = socketsDouble({ highWaterMark: 0 });
    const values = Array.from({ length: 30 }, (_, i) => `z${i}`);
    assert.equal(await roundTrip(fake, workersTransport(connect), 't', values), values);
  } finally {
    await fake.close();
  }
});

s('the broker closing the connection: \'close\' once, and the client reconnects through the transport', async () => {
  const fake = await FakeCluster.start({ brokers: 1, topics: { t: 1 } });
  try {
    const { connect, log } = socketsDouble();
    const c = counting(workersTransport(connect));
    const closes: number[] = [];
    const transport: Transport = { connect: async (o) => { const sock = await c.transport.connect(o); const i = closes.push(0) - 1; sock.on('close', () => closes[i]!++); return sock; } };
    const cluster = new Cluster({ bootstrap: fake.bootstrap, transport });
    try {
      await cluster.refresh(['t']);
      const before = log.connects.length;
      assert.ok(fake.dropConnections() >= 1);
      const t0 = Date.now();
      while (closes.some((n) => n === 0) && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 10));
      assert.ok(closes.every((n) => n === 1), `closes per socket: ${closes}`);
      await cluster.refresh(['t']);
      assert.ok(log.connects.length > before, 'a new connection');
    } finally {
      await cluster.close();
    }
  } finally {
    await fake.close();
  }
});

s('connect: refused, hanging (connectTimeoutMs), aborted and thrown at once all reject with ConnectionError', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  const refused = await workersTransport(socketsDouble().connect).connect({ host: '127.0.0.1', port }).catch((e: unknown) => e);
  assert.instance(refused, ConnectionError);
  assert.match((refused as Error).message, `cannot connect to 127.0.0.1:${port}`);

  const t0 = Date.now();
  const hung = await workersTransport(socketsDouble({ hang: true }).connect).connect({ host: '127.0.0.1', port, connectTimeoutMs: 150 }).catch((e: unknown) => e);
  assert.instance(hung, ConnectionError);
  assert.match((hung as Error).message, 'timed out after 150 ms');
  assert.ok(Date.now() - t0 < 1_000, `${Date.now() - t0} ms`);

  const ac = new AbortController();
  const pending = workersTransport(socketsDouble({ hang: true }).connect).connect({ host: '127.0.0.1', port, signal: ac.signal });
  ac.abort(new Error('stop'));
  const aborted = await pending.catch((e: unknown) => e);
  assert.instance(aborted, ConnectionError);
  assert.match((aborted as Error).message, 'aborted');
  const already = await workersTransport(socketsDouble().connect).connect({ host: '127.0.0.1', port, signal: AbortSignal.abort() }).catch((e: unknown) => e);
  assert.instance(already, ConnectionError);

  const thrown = await workersTransport(() => { throw new Error('private address not allowed'); }).connect({ host: '10.0.0.1', port: 9092 }).catch((e: unknown) => e);
  assert.instance(thrown, ConnectionError);
  assert.match((thrown as Error).message, 'private address not allowed');
});

s('TLS: secureTransport \'on\' by default; \'starttls\' (or a servername other than the host) upgrades with expectedServerHostname', async () => {
  const fake = await FakeCluster.start({ brokers: 1 });
  try {
    const [host, port] = fake.bootstrap[0]!.split(':') as [string, string];
    const on = socketsDouble();
    const a = await workersTransport(on.connect).connect({ host, port: Number(port), tls: { minVersion: 'TLSv1.2' } });
    a.destroy();
    assert.equal([on.log.connects[0]!.options?.secureTransport, on.log.startTls.length], ['on', 0]);
    const st = socketsDouble();
    const b = await workersTransport(st.connect, { secureTransport: 'starttls' }).connect({ host, port: Number(port), tls: {} });
    b.destroy();
    assert.equal([st.log.connects[0]!.options?.secureTransport, st.log.startTls], ['starttls', [{ expectedServerHostname: host }]]);
    const named = socketsDouble();
    const c = await workersTransport(named.connect).connect({ host, port: Number(port), tls: { servername: 'broker.example' } });
    c.destroy();
    assert.equal([named.log.connects[0]!.options?.secureTransport, named.log.startTls], ['starttls', [{ expectedServerHostname: 'broker.example' }]]);
  } finally {
    await fake.close();
  }
});

s('TLS options the Workers API cannot honour are refused with InvalidArgumentError listing each, before connecting', async () => {
  const { connect, log } = socketsDouble();
  const err = await workersTransport(connect).connect({ host: 'h', port: 1, tls: { ca: 'PEM', cert: 'C', key: 'K', rejectUnauthorized: false } }).catch((e: unknown) => e);
  assert.instance(err, InvalidArgumentError);
  const problems = (err as InvalidArgumentError).problems;
  assert.is(problems.length, 4, problems.join('\n'));
  assert.ok(['tls.ca', 'tls.cert', 'tls.key', 'tls.insecureSkipVerify'].every((k) => problems.some((p) => p.startsWith(k))), problems.join('\n'));
  assert.is(log.connects.length, 0);
  assert.throws(() => workersTransport(undefined as never), (e: unknown) => e instanceof InvalidArgumentError);
  assert.throws(() => workersTransport(connect, { secureTransport: 'off' as never }), (e: unknown) => e instanceof InvalidArgumentError);
});

s('socket contract: end() flushes then closes once; end/destroy repeat harmlessly; a write after end fails its callback', async () => {
  const received: Buffer[] = [];
  let peer: Socket | undefined;
  const server = createServer((sock) => { peer = sock; sock.on('data', (d) => received.push(d)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const sock = await workersTransport(socketsDouble({ highWaterMark: 8 }).connect).connect({ host: '127.0.0.1', port });
    const events: string[] = [];
    sock.on('close', () => events.push('close'));
    sock.on('error', (e) => events.push(`error ${e.message}`));
    sock.on('data', () => events.push('data'));
    const flushed: Array<Error | null | undefined> = [];
    assert.is(sock.write(new Uint8Array(64).fill(7), (e) => flushed.push(e)), false, '64 bytes over an 8-byte high-water mark');
    sock.end();
    sock.end();
    let late: Error | null | undefined;
    assert.is(sock.write(new Uint8Array(1), (e) => { late = e; }), false);
    sock.destroy();
    sock.destroy(new Error('ignored: already closing'));
    const t0 = Date.now();
    while ((events.length === 0 || Buffer.concat(received).length < 64) && Date.now() - t0 < 3_000) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(events, ['close']);
    assert.is(Buffer.concat(received).length, 64, 'what was written before end() arrived');
    assert.equal(flushed, [null]);
    assert.instance(late, ConnectionError);

    // destroy(err): 'error' then 'close', once each.
    const sock2 = await workersTransport(socketsDouble().connect).connect({ host: '127.0.0.1', port });
    const ev2: string[] = [];
    sock2.on('close', () => ev2.push('close'));
    sock2.on('error', (e) => ev2.push(`error ${e.message}`));
    sock2.destroy(new Error('boom'));
    sock2.destroy(new Error('again'));
    sock2.end();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(ev2, ['error boom', 'close']);

    // The peer resetting the connection: 'error' then 'close' (or 'close' alone for a clean end), once.
    const sock3 = await workersTransport(socketsDouble().connect).connect({ host: '127.0.0.1', port });
    const ev3: string[] = [];
    sock3.on('close', () => ev3.push('close'));
    sock3.on('error', () => ev3.push('error'));
    sock3.on('data', () => undefined);
    await new Promise((r) => setTimeout(r, 20));
    peer!.resetAndDestroy();
    const t1 = Date.now();
    while (!ev3.includes('close') && Date.now() - t1 < 3_000) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(ev3.join() === 'error,close' || ev3.join() === 'close', ev3.join());
  } finally {
    server.close();
  }
});

s.run();
