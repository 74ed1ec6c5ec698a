/**
 * The connection's state machine against a loopback TCP peer written here: correlation ids, the in-flight bound,
 * timeouts whose late responses are dropped, a mismatched correlation id, a peer that vanishes, socket
 * backpressure, requests without a response, graceful close and destroy, diagnostics events.
 * (The real broker is exercised by integration/connection.test.ts.)
 */
import * as assert from 'uvu/assert';
import { createServer, type Server, type Socket } from 'node:net';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { suite } from '../kit.js';
import { Connection, type ConnectionOptions } from '../../src/client/connection.js';
import { ClosedError, ConnectionError, DecodeError, RequestTimeoutError } from '../../src/errors.js';

interface Received { apiKey: number; correlationId: number; payload: Buffer; socket: Socket }

/** A peer that parses request frames by hand and lets each test decide when and what to answer. */
class Peer {
  server!: Server;
  port = 0;
  sockets: Socket[] = [];
  received: Received[] = [];
  /** Called for each request; default: echo the payload back at once. */
  onRequest: (r: Received) => void = (r) => this.reply(r);
  private waiters: Array<() => void> = [];

  async start(): Promise<void> {
    this.server = createServer((socket) => {
      this.sockets.push(socket);
      let buf = Buffer.alloc(0);
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
          const size = buf.readInt32BE(0);
          const frame = buf.subarray(4, 4 + size);
          buf = buf.subarray(4 + size);
          const r = { apiKey: frame.readInt16BE(0), correlationId: frame.readInt32BE(4), payload: Buffer.from(frame.subarray(8)), socket };
          this.received.push(r);
          this.onRequest(r);
          this.waiters.splice(0).forEach((w) => w());
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  reply(r: Received, correlationId = r.correlationId, payload: Buffer = r.payload): void {
    const head = Buffer.alloc(8);
    head.writeInt32BE(4 + payload.length, 0);
    head.writeInt32BE(correlationId, 4);
    r.socket.write(Buffer.concat([head, payload]));
  }

  async waitFor(count: number): Promise<void> {
    while (this.received.length < count) await new Promise<void>((r) => this.waiters.push(r));
  }

  async stop(): Promise<void> {
    this.sockets.forEach((s) => s.destroy());
    await new Promise((r) => this.server.close(r));
  }
}

/** A request frame: size, api key, api version, correlation id 0 (the connection sets it), payload. */
function frame(apiKey: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const f = Buffer.alloc(12 + body.length);
  f.writeInt32BE(8 + body.length, 0);
  f.writeInt16BE(apiKey, 4);
  f.writeInt16BE(1, 6);
  body.copy(f, 12);
  return f;
}

const payloadOf = (res: Buffer | undefined) => res!.subarray(4).toString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let peer: Peer;
async function open(options: Partial<ConnectionOptions> = {}): Promise<Connection> {
  return Connection.connect({ host: '127.0.0.1', port: peer.port, ...options });
}

const s = suite('connection');
s.before.each(async () => { peer = new Peer(); await peer.start(); });
s.after.each(async () => { await peer.stop(); });

s('answers requests in order with increasing correlation ids', async () => {
  const c = await open();
  const res = await Promise.all([c.request(frame(3, 'a')), c.request(frame(3, 'b')), c.request(frame(3, 'c'))]);
  assert.equal(res.map(payloadOf), ['a', 'b', 'c']);
  const ids = peer.received.map((r) => r.correlationId);
  assert.ok(ids[0]! > 0 && ids[1] === ids[0]! + 1 && ids[2] === ids[1]! + 1, `ids ${ids}`);
  assert.equal(res.map((r) => r!.readInt32BE(0)), ids, 'the response frame starts with its correlation id');
  await c.close();
});

s('a frame given in pieces goes out as one frame, pieces in order; an acks=0 one resolves once all are written', async () => {
  const c = await open();
  const whole = frame(0, Buffer.concat([Buffer.from('head:'), Buffer.alloc(300_000, 7), Buffer.from(':tail')]));
  const pieces = [whole.subarray(0, 17), whole.subarray(17, 150_017), whole.subarray(150_017)];
  const res = await c.request(pieces);
  assert.ok(res!.subarray(4).equals(whole.subarray(12)), 'the peer saw the pieces joined');
  const none = await c.request([whole.subarray(0, 40), whole.subarray(40)], { expectResponse: false });
  assert.is(none, undefined);
  await peer.waitFor(2);
  assert.ok(peer.received[1]!.payload.equals(whole.subarray(12)));
  assert.ok(peer.received[1]!.correlationId > peer.received[0]!.correlationId, 'the id is set in the first piece');
  const err = await c.request([Buffer.alloc(6)]).then(() => null, (e: Error) => e);
  assert.match(String(err), /no header/);
  await c.close();
});

s('pipelines at most maxInFlight requests and queues the rest', async () => {
  const held: Received[] = [];
  peer.onRequest = (r) => held.push(r);
  const c = await open({ maxInFlight: 3 });
  const all = Promise.all(Array.from({ length: 10 }, (_, i) => c.request(frame(1, `r${i}`))));
  await peer.waitFor(3);
  await sleep(30);
  assert.is(peer.received.length, 3, 'only 3 written while none is answered');
  assert.is(c.inFlightCount, 3);
  assert.is(c.queuedCount, 7);
  let maxOutstanding = 0;
  peer.onRequest = (r) => { held.push(r); };
  while (peer.received.length < 10 || held.length > 0) {
    maxOutstanding = Math.max(maxOutstanding, held.length);
    const r = held.shift();
    if (r) peer.reply(r);
    await sleep(2);
  }
  const res = await all;
  assert.equal(res.map(payloadOf), Array.from({ length: 10 }, (_, i) => `r${i}`));
  assert.ok(maxOutstanding <= 3, `peer saw ${maxOutstanding} unanswered`);
  await c.close();
});

s('a timed-out request fails with RequestTimeoutError; its late response is dropped and the connection goes on', async () => {
  const held: Received[] = [];
  peer.onRequest = (r) => { if (held.length < 2) held.push(r); else peer.reply(r); };
  const c = await open();
  const slow = c.request(frame(1, 'slow'), { timeoutMs: 50 });
  const err = await slow.then(() => null, (e: Error) => e);
  assert.instance(err, RequestTimeoutError);
  assert.is((err as RequestTimeoutError).timeoutMs, 50);
  assert.is(c.inFlightCount, 1, 'the abandoned request keeps its slot');
  const next = c.request(frame(1, 'next'));
  await peer.waitFor(2);
  peer.reply(held[0]!); // the late answer arrives before the next one, as the broker sends them
  peer.reply(held[1]!);
  assert.is(payloadOf(await next), 'next');
  assert.is(c.inFlightCount, 0);
  assert.is(payloadOf(await c.request(frame(1, 'again'))), 'again');
  await c.close();
});

s('a request queued behind the in-flight bound can time out without being written', async () => {
  const held: Received[] = [];
  peer.onRequest = (r) => held.push(r);
  const c = await open({ maxInFlight: 1 });
  const a = c.request(frame(1, 'a'));
  const b = c.request(frame(1, 'b'), { timeoutMs: 30 });
  assert.instance(await b.then(() => null, (e: Error) => e), RequestTimeoutError);
  assert.is(c.queuedCount, 0);
  peer.reply(held[0]!);
  assert.is(payloadOf(await a), 'a');
  await sleep(20);
  assert.is(peer.received.length, 1, 'the timed-out queued request was never sent');
  await c.close();
});

s('a response with the wrong correlation id destroys the connection and fails every pending request', async () => {
  const held: Received[] = [];
  peer.onRequest = (r) => held.push(r);
  const c = await open();
  const a = c.request(frame(1, 'a')).then(() => null, (e: Error) => e);
  const b = c.request(frame(1, 'b')).then(() => null, (e: Error) => e);
  await peer.waitFor(2);
  peer.reply(held[1]!); // answers the second first: out of step
  const [ea, eb] = await Promise.all([a, b]);
  assert.instance(ea, ConnectionError);
  assert.match(ea!.message, /correlation id/);
  assert.is(eb, ea, 'every pending request gets the same error');
  assert.ok(c.closed);
  assert.instance(await c.request(frame(1, 'c')).then(() => null, (e: Error) => e), ConnectionError);
});

s('a peer that closes mid-request gives ConnectionError to every pending request, not a hang', async () => {
  peer.onRequest = (r) => { if (peer.received.length === 3) r.socket.destroy(); };
  const c = await open();
  const errs = await Promise.all([1, 2, 3].map((i) => c.request(frame(1, `x${i}`), { timeoutMs: 5_000 }).then(() => null, (e: Error) => e)));
  for (const e of errs) assert.instance(e, ConnectionError);
  assert.ok(errs.every((e) => (e as ConnectionError).retriable));
});

s('an oversized or negative frame from the peer is a DecodeError for pending requests', async () => {
  peer.onRequest = (r) => r.socket.write(Buffer.from([0x80, 0, 0, 0, 1, 2, 3]));
  const c = await open();
  assert.instance(await c.request(frame(1, 'a')).then(() => null, (e: Error) => e), DecodeError);
  assert.ok(c.closed);
});

s('requests without a response (acks=0) resolve once written and hold no slot', async () => {
  const c = await open({ maxInFlight: 1 });
  peer.onRequest = (r) => { if (r.apiKey !== 0) peer.reply(r); };
  const fire = await Promise.all([c.request(frame(0, 'p1'), { expectResponse: false }), c.request(frame(0, 'p2'), { expectResponse: false })]);
  assert.equal(fire, [undefined, undefined]);
  assert.is(c.inFlightCount, 0);
  assert.is(payloadOf(await c.request(frame(3, 'meta'))), 'meta');
  assert.equal(peer.received.map((r) => r.payload.toString()), ['p1', 'p2', 'meta']);
  await c.close();
});

s('requests without a response resolve once the OS has the bytes: a close right after loses none', async () => {
  peer.onRequest = () => {};
  const c = await open();
  const big = Buffer.alloc(256 << 10, 2);
  const sent = Array.from({ length: 40 }, () => c.request(frame(0, big), { expectResponse: false }));
  void c.close();
  assert.equal(await Promise.all(sent), Array(40).fill(undefined));
  await peer.waitFor(40);
  assert.ok(peer.received.every((r) => r.payload.length === big.length));
});

s('socket backpressure: writes stop while the socket is full and resume on drain', async () => {
  peer.onRequest = (r) => peer.reply(r, r.correlationId, Buffer.from('ok'));
  const c = await open({ maxInFlight: 100 });
  await sleep(10);
  peer.sockets[0]!.pause(); // the peer stops reading: the kernel buffers fill, then Node's
  const big = Buffer.alloc(4 << 20, 1);
  const done: Promise<Buffer | undefined>[] = [];
  for (let i = 0; i < 16 && !c.backpressured; i++) done.push(c.request(frame(0, big)));
  assert.ok(c.backpressured, 'the socket reports full');
  done.push(c.request(frame(0, big)));
  assert.ok(c.queuedCount >= 1, 'requests after a full socket wait in the queue');
  const drained = c.waitForDrain();
  peer.sockets[0]!.resume();
  await drained;
  assert.not.ok(c.backpressured);
  const res = await Promise.all(done);
  assert.ok(res.every((r) => payloadOf(r) === 'ok'));
  await c.close();
});

s('close() waits for in-flight requests, then refuses new ones', async () => {
  peer.onRequest = (r) => setTimeout(() => peer.reply(r), 40);
  const c = await open();
  const a = c.request(frame(1, 'a'));
  let closed = false;
  const closing = c.close().then(() => { closed = true; });
  assert.is(c.close(), c.close(), 'idempotent');
  assert.instance(await c.request(frame(1, 'late')).then(() => null, (e: Error) => e), ClosedError);
  assert.not.ok(closed);
  assert.is(payloadOf(await a), 'a');
  await closing;
  assert.ok(closed);
});

s('close({ timeoutMs }) fails what is still pending at the deadline', async () => {
  peer.onRequest = () => {};
  const c = await open();
  const a = c.request(frame(1, 'a')).then(() => null, (e: Error) => e);
  await peer.waitFor(1);
  const started = Date.now();
  await c.close({ timeoutMs: 50 });
  assert.instance(await a, ClosedError);
  assert.ok(Date.now() - started < 1000);
  assert.ok(c.closed);
});

s('destroy(err) fails everything pending with that error', async () => {
  peer.onRequest = () => {};
  const c = await open({ maxInFlight: 1 });
  const ps = [c.request(frame(1, 'a')), c.request(frame(1, 'b'))].map((p) => p.then(() => null, (e: Error) => e));
  await peer.waitFor(1);
  const boom = new ConnectionError('boom');
  c.destroy(boom);
  assert.equal(await Promise.all(ps), [boom, boom]);
});

s('when every slot is held by an abandoned request the connection gives up', async () => {
  peer.onRequest = () => {};
  const c = await open({ maxInFlight: 2 });
  const errs = await Promise.all([c.request(frame(1, 'a'), { timeoutMs: 20 }), c.request(frame(1, 'b'), { timeoutMs: 20 })].map((p) => p.then(() => null, (e: Error) => e)));
  for (const e of errs) assert.instance(e, RequestTimeoutError);
  assert.ok(c.closed);
});

s('connect to a closed port is a ConnectionError', async () => {
  const port = peer.port;
  await peer.stop();
  peer = new Peer();
  await peer.start();
  const err = await Connection.connect({ host: '127.0.0.1', port: port === peer.port ? port + 1 : port }).then(() => null, (e: Error) => e);
  assert.instance(err, ConnectionError);
});

s('diagnostics_channel: connect, request start and end', async () => {
  const events: Array<[string, Record<string, unknown>]> = [];
  const on = (name: string) => (msg: unknown) => events.push([name, msg as Record<string, unknown>]);
  const handlers = ['kafka-channels:connection:connect', 'kafka-channels:request:start', 'kafka-channels:request:end'].map((n) => [n, on(n)] as const);
  handlers.forEach(([n, h]) => subscribe(n, h));
  try {
    const c = await open();
    await c.request(frame(18, 'x'));
    await c.close();
  } finally {
    handlers.forEach(([n, h]) => unsubscribe(n, h));
  }
  assert.equal(events.map(([n]) => n), ['kafka-channels:connection:connect', 'kafka-channels:request:start', 'kafka-channels:request:end']);
  assert.is(events[1]![1].apiKey, 18);
  assert.ok(typeof events[2]![1].durationMs === 'number');
});

s.run();
