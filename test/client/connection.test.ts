/**
 * The connection's state machine against the fake cluster (test/fake-cluster), which answers a connection's
 * requests in order as Kafka does; faults hold a request back (`delay` until a test releases it), write raw bytes
 * (a wrong correlation id, a negative frame size), or drop it; the arrival log says what the client had written
 * and how deep it pipelined. Covered: correlation ids, the in-flight bound, timeouts whose late responses are
 * dropped, a mismatched correlation id, a peer that vanishes, socket backpressure, requests without a response,
 * graceful close and destroy, diagnostics events. (The real broker is exercised by integration/connection.test.ts.)
 */
import * as assert from 'uvu/assert';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { eventually, suite } from '../kit.js';
import { Connection, type ConnectionOptions } from '../../src/client/connection.js';
import { decodeResponse, encodeRequest } from '../../src/client/broker.js';
import { ApiVersions, Metadata, Produce } from '../../src/protocol/apis/index.js';
import { encodeRecordBatch } from '../../src/protocol/record-batch.js';
import { ClosedError, ConnectionError, DecodeError, RequestTimeoutError } from '../../src/errors.js';
import { FakeCluster, responseFrame } from '../fake-cluster/fake-cluster.js';

const METADATA_V = 12;
const PRODUCE_V = 9;
const NO_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** A Metadata request naming topic `name` (its answer names it back: how a test tells answers apart). */
const meta = (name: string): Buffer =>
  encodeRequest(Metadata, METADATA_V, { topics: [{ topicId: NO_ID, name }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, 'c');
/** The topic a Metadata answer names. */
const nameOf = (res: Buffer | undefined): string => decodeResponse(Metadata, METADATA_V, res!).topics[0]!.name!;
/** A Produce request of one batch holding `records` to p-0. */
const produce = (records: Buffer, acks: number): Buffer =>
  encodeRequest(Produce, PRODUCE_V, { transactionalId: null, acks, timeoutMs: 5_000, topicData: [{ name: 'p', topicId: NO_ID, partitionData: [{ index: 0, records }] }] }, 'c');
const produceError = (res: Buffer | undefined): number => decodeResponse(Produce, PRODUCE_V, res!).responses[0]!.partitionResponses[0]!.errorCode;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise and the function that settles it: what a `delay` fault waits for before it lets a request through. */
function gate(): { until: Promise<void>; open: () => void } {
  let open!: () => void;
  const until = new Promise<void>((r) => { open = r; });
  return { until, open };
}
/** Holds the next request of `api` until the returned function is called. */
function hold(api: string): () => void {
  const g = gate();
  fake.fault({ api, times: 1, action: 'delay', until: g.until });
  return g.open;
}
/** Request frames of `api` that reached the broker. */
const arrived = (api?: number) => fake.log.arrivals.filter((a) => api === undefined || a.apiKey === api);

let fake: FakeCluster;
let opened: Connection[] = [];
async function open(options: Partial<ConnectionOptions> = {}): Promise<Connection> {
  const c = await Connection.connect({ host: '127.0.0.1', port: fake.state.ports.get(1)!, ...options });
  opened.push(c);
  return c;
}

const s = suite('connection (fake cluster)');
s.before.each(async () => { fake = await FakeCluster.start({ topics: { p: 1 } }); });
s.after.each(async () => {
  for (const c of opened.splice(0)) c.destroy(); // a test that failed half-way leaves no connection behind
  await fake.close();
});

s('answers requests in order with increasing correlation ids', async () => {
  const c = await open();
  const res = await Promise.all([c.request(meta('a')), c.request(meta('b')), c.request(meta('c'))]);
  assert.equal(res.map(nameOf), ['a', 'b', 'c']);
  const ids = fake.log.of('Metadata').map((r) => r.header.correlationId);
  assert.ok(ids[0]! > 0 && ids[1] === ids[0]! + 1 && ids[2] === ids[1]! + 1, `ids ${ids}`);
  assert.equal(res.map((r) => r!.readInt32BE(0)), ids, 'the response frame starts with its correlation id');
  await c.close();
});

s('a frame given in pieces goes out as one frame, pieces in order; an acks=0 one resolves once all are written', async () => {
  const c = await open();
  const value = Buffer.concat([Buffer.from('head:'), Buffer.alloc(300_000, 7), Buffer.from(':tail')]);
  const batch = encodeRecordBatch([{ value }]);
  const whole = produce(batch, 1);
  const pieces = [whole.subarray(0, 17), whole.subarray(17, 150_017), whole.subarray(150_017)];
  const res = await c.request(pieces);
  assert.is(produceError(res), 0);
  const stored = fake.log.of('Produce')[0]!.body as { topicData: { partitionData: { records: Buffer }[] }[] };
  assert.ok(Buffer.from(stored.topicData[0]!.partitionData[0]!.records).equals(batch), 'the broker saw the pieces joined');
  assert.ok(fake.records('p', 0)[0]!.value!.equals(value));
  const value2 = Buffer.concat([value, Buffer.from('!')]);
  const whole0 = produce(encodeRecordBatch([{ value: value2 }]), 0);
  const none = await c.request([whole0.subarray(0, 40), whole0.subarray(40)], { expectResponse: false });
  assert.is(none, undefined);
  await eventually('the acks=0 request handled', () => fake.log.of('Produce').length === 2);
  assert.ok(fake.records('p', 0)[1]!.value!.equals(value2));
  const [first, second] = fake.log.of('Produce').map((r) => r.header.correlationId);
  assert.ok(second! > first!, 'the id is set in the first piece');
  const err = await c.request([Buffer.alloc(6)]).then(() => null, (e: Error) => e);
  assert.match(String(err), /no header/);
  await c.close();
});

s('pipelines at most maxInFlight requests and queues the rest', async () => {
  const release = Array.from({ length: 10 }, () => hold('Metadata'));
  const c = await open({ maxInFlight: 3 });
  const all = Promise.all(Array.from({ length: 10 }, (_, i) => c.request(meta(`r${i}`))));
  all.catch(() => undefined); // awaited below; not an unhandled rejection if an assertion fails first
  await eventually('3 written', () => arrived().length === 3);
  await sleep(30);
  assert.is(arrived().length, 3, 'only 3 written while none is answered');
  assert.is(c.inFlightCount, 3);
  assert.is(c.queuedCount, 7);
  let maxOutstanding = 0;
  for (const r of release) {
    maxOutstanding = Math.max(maxOutstanding, fake.pending());
    r();
    await sleep(2);
  }
  const res = await all;
  assert.equal(res.map(nameOf), Array.from({ length: 10 }, (_, i) => `r${i}`));
  assert.ok(maxOutstanding <= 3, `the broker saw ${maxOutstanding} unanswered`);
  const deepest = Math.max(...arrived().map((a) => a.unanswered + 1));
  assert.is(deepest, 3, 'at every arrival, at most 3 unanswered (this one included), and 3 reached');
  await c.close();
});

s('a timed-out request fails with RequestTimeoutError; its late response is dropped and the connection goes on', async () => {
  const release = hold('Metadata');
  const c = await open();
  const slow = c.request(meta('slow'), { timeoutMs: 50 });
  const err = await slow.then(() => null, (e: Error) => e);
  assert.instance(err, RequestTimeoutError);
  assert.is((err as RequestTimeoutError).timeoutMs, 50);
  assert.is(c.inFlightCount, 1, 'the abandoned request keeps its slot');
  const next = c.request(meta('next'));
  await eventually('next written', () => arrived().length === 2);
  release(); // the late answer goes out before the next one, as the broker answers in order
  assert.is(nameOf(await next), 'next');
  assert.is(c.inFlightCount, 0);
  assert.is(nameOf(await c.request(meta('again'))), 'again');
  await c.close();
});

s('a request queued behind the in-flight bound can time out without being written', async () => {
  const release = hold('Metadata');
  const c = await open({ maxInFlight: 1 });
  const a = c.request(meta('a'));
  const b = c.request(meta('b'), { timeoutMs: 30 });
  assert.instance(await b.then(() => null, (e: Error) => e), RequestTimeoutError);
  assert.is(c.queuedCount, 0);
  release();
  assert.is(nameOf(await a), 'a');
  await sleep(20);
  assert.is(arrived().length, 1, 'the timed-out queued request was never sent');
  await c.close();
});

s('a response with the wrong correlation id destroys the connection and fails every pending request', async () => {
  // The first answer carries the second request's correlation id: answers out of step.
  fake.fault({ api: 'Metadata', times: 1, action: 'raw', bytes: (req) => responseFrame(Metadata, METADATA_V, req.header.correlationId + 1, { throttleTimeMs: 0, brokers: [], clusterId: null, controllerId: -1, topics: [] }) });
  const c = await open();
  const a = c.request(meta('a')).then(() => null, (e: Error) => e);
  const b = c.request(meta('b')).then(() => null, (e: Error) => e);
  assert.is(c.inFlightCount, 2, 'both written before any answer');
  const [ea, eb] = await Promise.all([a, b]);
  assert.instance(ea, ConnectionError);
  assert.match(ea!.message, /correlation id/);
  assert.is(eb, ea, 'every pending request gets the same error');
  assert.ok(c.closed);
  assert.instance(await c.request(meta('c')).then(() => null, (e: Error) => e), ConnectionError);
});

s('a peer that closes mid-request gives ConnectionError to every pending request, not a hang', async () => {
  hold('Metadata'); // never released: nothing is answered
  const c = await open();
  const all = Promise.all([1, 2, 3].map((i) => c.request(meta(`x${i}`), { timeoutMs: 5_000 }).then(() => null, (e: Error) => e)));
  await eventually('all 3 written', () => arrived().length === 3);
  assert.is(fake.dropConnections(), 1);
  const errs = await all;
  for (const e of errs) assert.instance(e, ConnectionError);
  assert.ok(errs.every((e) => (e as ConnectionError).retriable));
});

s('an oversized or negative frame from the peer is a DecodeError for pending requests', async () => {
  fake.fault({ api: 'Metadata', action: 'raw', bytes: Buffer.from([0x80, 0, 0, 0, 1, 2, 3]) });
  const c = await open();
  assert.instance(await c.request(meta('a')).then(() => null, (e: Error) => e), DecodeError);
  assert.ok(c.closed);
});

s('requests without a response (acks=0) resolve once written and hold no slot', async () => {
  const c = await open({ maxInFlight: 1 });
  const p = (v: string) => produce(encodeRecordBatch([{ value: Buffer.from(v) }]), 0);
  const fire = await Promise.all([c.request(p('p1'), { expectResponse: false }), c.request(p('p2'), { expectResponse: false })]);
  assert.equal(fire, [undefined, undefined]);
  assert.is(c.inFlightCount, 0);
  assert.is(nameOf(await c.request(meta('meta'))), 'meta');
  assert.equal(arrived().map((a) => a.apiKey), [0, 0, 3]);
  assert.equal(fake.records('p', 0).map((r) => r.value!.toString()), ['p1', 'p2']);
  await c.close();
});

s('requests without a response resolve once the OS has the bytes: a close right after loses none', async () => {
  const c = await open();
  const big = Buffer.alloc(256 << 10, 2);
  const frame = produce(encodeRecordBatch([{ value: big }]), 0);
  const sent = Array.from({ length: 40 }, () => c.request(frame, { expectResponse: false }));
  void c.close();
  assert.equal(await Promise.all(sent), Array(40).fill(undefined));
  await eventually('40 received', () => fake.log.of('Produce').length === 40);
  const records = fake.records('p', 0);
  assert.is(records.length, 40);
  assert.ok(records.every((r) => r.value!.length === big.length));
});

s('socket backpressure: writes stop while the socket is full and resume on drain', async () => {
  const c = await open({ maxInFlight: 100 });
  await sleep(10);
  fake.pauseReading(); // the broker stops reading: the kernel buffers fill, then Node's
  const frame = produce(encodeRecordBatch([{ value: Buffer.alloc(4 << 20, 1) }]), 1);
  const done: Promise<Buffer | undefined>[] = [];
  for (let i = 0; i < 16 && !c.backpressured; i++) done.push(c.request(frame));
  assert.ok(c.backpressured, 'the socket reports full');
  done.push(c.request(frame));
  assert.ok(c.queuedCount >= 1, 'requests after a full socket wait in the queue');
  const drained = c.waitForDrain();
  fake.resumeReading();
  await drained;
  assert.not.ok(c.backpressured);
  const res = await Promise.all(done);
  assert.equal(res.map(produceError), res.map(() => 0));
  assert.is(fake.records('p', 0).length, done.length);
  await c.close();
});

s('close() waits for in-flight requests, then refuses new ones', async () => {
  fake.fault({ api: 'Metadata', action: 'delay', ms: 40 });
  const c = await open();
  const a = c.request(meta('a'));
  let closed = false;
  const closing = c.close().then(() => { closed = true; });
  assert.is(c.close(), c.close(), 'idempotent');
  assert.instance(await c.request(meta('late')).then(() => null, (e: Error) => e), ClosedError);
  assert.not.ok(closed);
  assert.is(nameOf(await a), 'a');
  await closing;
  assert.ok(closed);
});

s('close({ timeoutMs }) fails what is still pending at the deadline', async () => {
  fake.fault({ api: 'Metadata', action: 'drop' });
  const c = await open();
  const a = c.request(meta('a')).then(() => null, (e: Error) => e);
  await eventually('written', () => arrived().length === 1);
  const started = Date.now();
  await c.close({ timeoutMs: 50 });
  assert.instance(await a, ClosedError);
  assert.ok(Date.now() - started < 1000);
  assert.ok(c.closed);
});

s('destroy(err) fails everything pending with that error', async () => {
  fake.fault({ api: 'Metadata', action: 'drop' });
  const c = await open({ maxInFlight: 1 });
  const ps = [c.request(meta('a')), c.request(meta('b'))].map((p) => p.then(() => null, (e: Error) => e));
  await eventually('written', () => arrived().length === 1);
  const boom = new ConnectionError('boom');
  c.destroy(boom);
  assert.equal(await Promise.all(ps), [boom, boom]);
});

s('when every slot is held by an abandoned request the connection gives up', async () => {
  fake.fault({ api: 'Metadata', action: 'drop' });
  const c = await open({ maxInFlight: 2 });
  const errs = await Promise.all([c.request(meta('a'), { timeoutMs: 20 }), c.request(meta('b'), { timeoutMs: 20 })].map((p) => p.then(() => null, (e: Error) => e)));
  for (const e of errs) assert.instance(e, RequestTimeoutError);
  assert.ok(c.closed);
});

s('connect to a closed port is a ConnectionError', async () => {
  const port = fake.state.ports.get(1)!;
  await fake.stopBroker(1);
  const err = await Connection.connect({ host: '127.0.0.1', port }).then(() => null, (e: Error) => e);
  assert.instance(err, ConnectionError);
});

s('diagnostics_channel: connect, request start and end', async () => {
  const events: Array<[string, Record<string, unknown>]> = [];
  const on = (name: string) => (msg: unknown) => events.push([name, msg as Record<string, unknown>]);
  const handlers = ['kafka-channels:connection:connect', 'kafka-channels:request:start', 'kafka-channels:request:end'].map((n) => [n, on(n)] as const);
  handlers.forEach(([n, h]) => subscribe(n, h));
  try {
    const c = await open();
    await c.request(encodeRequest(ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }, 'c'));
    await c.close();
  } finally {
    handlers.forEach(([n, h]) => unsubscribe(n, h));
  }
  assert.equal(events.map(([n]) => n), ['kafka-channels:connection:connect', 'kafka-channels:request:start', 'kafka-channels:request:end']);
  assert.is(events[1]![1].apiKey, 18);
  assert.ok(typeof events[2]![1].durationMs === 'number');
});

s.run();
