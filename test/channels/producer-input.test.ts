/**
 * The channel Producer's input boundary (issue 17 point 1, issue 18's "the seed's way of producing loses the data"):
 * a bad argument is refused at the call with an InvalidArgumentError naming the field; a message written to
 * `channels.output` directly is checked where the producer loop drains it, a bad one goes to `errors` and the loop
 * goes on; bytes or a string on `output` is the record's value, as dp-kafka's `pChannels.Output <- []byte(msg)`.
 *
 * Argument checks need no broker (the producer points at a closed port). The drain path runs a real Producer (forward
 * loop, engine, encoder) against the shared fake cluster (test/fake-cluster).
 */
import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { suite, eventually } from '../kit.js';
import { Producer } from '../../src/channels/producer.js';
import { MockConsumerGroup } from '../../src/testing/consumer.js';
import { ProducerEngine } from '../../src/client/producer-engine.js';
import { InvalidArgumentError, ProducerError } from '../../src/errors.js';
import { CrashGuard } from '../fake-cluster/crash-guard.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';

const s = suite('producer: input boundary', { timeoutMs: 8_000 });
let guard: CrashGuard;
let open: Array<{ close(options?: { signal?: AbortSignal }): Promise<void> }> = [];
let fakes: FakeCluster[] = [];
s.before.each(() => { guard = new CrashGuard().install(); open = []; fakes = []; });
s.after.each(async () => {
  await Promise.allSettled(open.map((c) => c.close({ signal: AbortSignal.timeout(1_000) })));
  await Promise.all(fakes.map((c) => c.close()));
  guard.remove();
});

const UNREACHABLE = ['127.0.0.1:1'];

function producer(): Producer {
  const p = new Producer({ brokerAddrs: UNREACHABLE, topic: 'orders', minBrokersHealthy: 1, minRetryPeriod: 60_000, maxRetryPeriod: 60_000, traceHeader: false });
  open.push(p);
  return p;
}

/** What partition 0 of `orders` holds: value and headers as text. */
interface Written { value: string | null; headers: Array<[string, string | null]> }

/** A real Producer of `orders` (one partition) on a fake cluster, initialised; `written()` is what the broker holds. */
async function connected(): Promise<{ p: Producer; written: () => Written[]; values: () => Array<string | null> }> {
  const c = await FakeCluster.start({ brokers: 1, topics: { orders: 1 } });
  fakes.push(c);
  const p = new Producer({ brokerAddrs: c.bootstrap, topic: 'orders', minBrokersHealthy: 1, minRetryPeriod: 20, maxRetryPeriod: 200, traceHeader: false, lingerMs: 0 });
  open.push(p);
  await p.channels.ready.wait();
  const written = (): Written[] => c.records('orders', 0).map((r) => ({
    value: r.value?.toString() ?? null, headers: r.headers.map((h): [string, string | null] => [h.key, h.value?.toString() ?? null]),
  }));
  return { p, written, values: () => written().map((r) => r.value) };
}

async function rejection(promise: Promise<unknown>): Promise<InvalidArgumentError> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, InvalidArgumentError);
    return err as InvalidArgumentError;
  }
  assert.unreachable('expected the call to be rejected');
  throw new Error('unreachable');
}

const BAD_SENDS: [string, unknown, RegExp][] = [
  ['send(42)', 42, /a message must be an object.*number 42/],
  ['send(true)', true, /a message must be an object/],
  ['send(null)', null, /a message must be an object.*null/],
  ['send(undefined)', undefined, /a message must be an object.*undefined/],
  ['value 42', { value: 42 }, /value must be a string, Buffer or Uint8Array.*number 42.*sendJSON/],
  ['value an object', { value: { id: 7 } }, /value must be .*an object.*sendJSON/],
  ['value true', { value: true }, /value must be .*boolean true/],
  ['value a bigint', { value: 7n }, /value must be .*bigint 7n/],
  ['value missing', { key: 'k' }, /value is missing.*null for a tombstone/],
  ['key a number', { value: 'v', key: 5 }, /key must be a string.*number 5.*String\(k\)/],
  ['header key a number', { value: 'v', headers: [{ key: 5, value: 'x' }] }, /headers\[0\]\.key must be a string/],
  ['header value a number', { value: 'v', headers: [{ key: 'k', value: 5 }] }, /headers\[0\]\.value must be a string/],
  ['headers "abc"', { value: 'v', headers: 'abc' }, /headers must be an array.*string "abc"/],
  ['headers null', { value: 'v', headers: null }, /headers must be an array.*null/],
  ['timestamp "yesterday"', { value: 'v', timestamp: 'yesterday' }, /timestamp must be an integer number of ms.*Date.now\(\)/],
  ['timestamp NaN', { value: 'v', timestamp: Number.NaN }, /timestamp must be/],
  ['timestamp 2^63', { value: 'v', timestamp: 2 ** 63 }, /timestamp must be/],
  ['partition -1', { value: 'v', partition: -1 }, /partition must be an integer from 0/],
];

for (const [name, message, re] of BAD_SENDS) {
  s(`send: ${name} is rejected at the call, naming the field; nothing is queued`, async () => {
    const p = producer();
    const err = await rejection(p.send(message as never));
    assert.match(err.message, re);
    assert.is(p.channels.output.length, 0);
    assert.is(guard.escaped(), '');
  });
}

s('send: a signal that is not an AbortSignal is rejected', async () => {
  assert.match((await rejection(producer().send({ value: 'v' }, 'soon' as never))).message, /signal must be an AbortSignal/);
});

s('sendJSON / sendBytes / addHeader / close refuse bad arguments at the call', async () => {
  const p = producer();
  assert.match((await rejection(p.sendJSON(10n))).message, /cannot be written as JSON/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.match((await rejection(p.sendJSON(cyclic))).message, /cannot be written as JSON/);
  assert.match((await rejection(p.sendJSON(undefined))).message, /JSON has no form for undefined/);
  assert.match((await rejection(p.sendJSON({ a: 1 }, 5 as never))).message, /options must be an object/);
  assert.match((await rejection(p.sendBytes('text' as never))).message, /sendBytes: value must be a Buffer or Uint8Array/);
  assert.match((await rejection(p.sendBytes(Buffer.from('x'), { key: 5 } as never))).message, /key must be/);
  assert.throws(() => p.addHeader(5 as never, 'v'), (e: unknown) => e instanceof InvalidArgumentError && /addHeader: key must be a string/.test((e as Error).message));
  assert.throws(() => p.addHeader('k', 5 as never), (e: unknown) => e instanceof InvalidArgumentError && /addHeader: value must be a string or bytes/.test((e as Error).message));
  assert.match((await rejection(p.close(null as never))).message, /close: options must be an object/);
  assert.match((await rejection(p.close({ signal: 5 } as never))).message, /signal must be an AbortSignal/);
  assert.is(p.channels.output.length, 0);
});

s('registerHandler / registerBatchHandler refuse a handler that is not a function', () => {
  // ConsumerGroup's registerHandler is its base class's, shared with the mock: no broker needed.
  const g = new MockConsumerGroup({ brokerAddrs: UNREACHABLE, topic: 'orders', groupName: 'g' });
  open.push(g);
  assert.throws(() => g.registerHandler('not a function' as never), (e: unknown) => e instanceof InvalidArgumentError && /handler must be a function/.test((e as Error).message));
  assert.throws(() => g.registerBatchHandler(42 as never), (e: unknown) => e instanceof InvalidArgumentError && /handler must be a function/.test((e as Error).message));
  assert.throws(() => g.registerHandler(() => undefined, { signal: 'x' } as never), (e: unknown) => e instanceof InvalidArgumentError);
  // The refused calls registered nothing: a real handler is still accepted.
  g.registerHandler(() => undefined);
});

s('a constructor option of the wrong type is refused', () => {
  assert.throws(() => new Producer({ brokerAddrs: UNREACHABLE, topic: 't', minBrokersHealthy: 1 }, { requestId: 42 as never }), (e: unknown) => e instanceof InvalidArgumentError);
});

s('headers given as an object are sent as headers, in key order (send and output alike)', async () => {
  const { p, written } = await connected();
  await p.send({ value: 'a', headers: { kind: 'text', raw: Buffer.from([0x41]), none: null } });
  await p.channels.output.send({ value: 'b', headers: { via: 'output' } });
  await eventually('both written', () => written().length === 2);
  assert.equal(written().map((r) => [r.value, r.headers]), [
    ['a', [['kind', 'text'], ['raw', 'A'], ['none', null]]],
    ['b', [['via', 'output']]],
  ]);
  assert.is(guard.escaped(), '');
});

s('bytes or a string written to output is the record value (the seed\'s pChannels.Output <- []byte(msg))', async () => {
  const { p, values } = await connected();
  await p.channels.output.send(Buffer.from('seed bytes'));
  await p.channels.output.send(new Uint8Array([0x68, 0x69]));
  await p.channels.output.send('seed text');
  await p.send('via send' as never);
  await eventually('all written', () => values().length === 4);
  assert.equal(values(), ['seed bytes', 'hi', 'seed text', 'via send']);
  assert.is(guard.escaped(), '');
});

s('a bad message written to output goes to errors with its cause; the loop goes on and close() resolves', async () => {
  const { p, values } = await connected();
  const bad: unknown[] = [{ value: 42 }, null, 42, { value: 'v', headers: 'abc' }, { value: 'v', timestamp: 'yesterday' }, undefined, { value: 7n }];
  await p.channels.output.send({ value: 'before' });
  for (const m of bad) await p.channels.output.send(m as never);
  await p.channels.output.send({ value: 'after' });
  await eventually('good ones written', () => values().length === 2);
  const errors: Error[] = [];
  await eventually('every bad one reported', () => {
    for (let e = p.channels.errors.tryRecv(); e !== undefined && !e.done; e = p.channels.errors.tryRecv()) errors.push(e.value);
    return errors.length === bad.length;
  });
  errors.forEach((err, i) => {
    assert.instance(err, ProducerError);
    assert.instance(err.cause, InvalidArgumentError, `error ${i} keeps its cause`);
    assert.is((err as ProducerError).produced, bad[i], 'the message itself is on the error');
  });
  await p.send({ value: 'later' });
  await eventually('later written', () => values().length === 3);
  assert.equal(values(), ['before', 'after', 'later']);
  await p.close({ signal: AbortSignal.timeout(3_000) });
  assert.ok(p.channels.closed.closed);
  assert.is(guard.escaped(), '');
});

s('on the fake cluster, a real Producer: the seed\'s bytes on output are the value; a bad output message is reported and the rest delivered', async () => {
  const c = await FakeCluster.start({ brokers: 1, topics: { seed: 1 } });
  try {
    const p = new Producer({ brokerAddrs: c.bootstrap, topic: 'seed', minBrokersHealthy: 1, minRetryPeriod: 20, maxRetryPeriod: 200, retryBackoffMs: 20, requestTimeoutMs: 2_000 });
    open.push(p);
    await p.channels.ready.wait();
    await p.channels.output.send(Buffer.from('pChannels.Output <- []byte(msg)') as never);
    await p.channels.output.send({ value: 42 } as never);
    await p.channels.output.send({ value: 'v', headers: 'abc' } as never);
    await p.channels.output.send('a string' as never);
    await p.send({ value: 'object headers', headers: { k: 'v' } });
    await p.close({ signal: AbortSignal.timeout(5_000) });
    const records = c.records('seed', 0);
    assert.equal(records.map((r) => r.value?.toString() ?? null), ['pChannels.Output <- []byte(msg)', 'a string', 'object headers']);
    assert.ok(records[2]!.headers.some((h) => h.key === 'k' && h.value?.toString() === 'v'), 'object headers arrive as headers');
    const errors: Error[] = [];
    for (let r; (r = p.channels.errors.tryRecv()) !== undefined && !r.done;) errors.push(r.value);
    assert.is(errors.length, 2);
    for (const e of errors) assert.instance(e.cause, InvalidArgumentError);
    assert.is(guard.escaped(), '');
  } finally {
    await c.close();
  }
});

s('close({ signal }) while the broker never answers Produce: ends with the signal, the handed-over message is reported on errors, nothing left to time', async () => {
  const c = await FakeCluster.start({ brokers: 1, topics: { stuck: 1 } });
  try {
    const p = new Producer({ brokerAddrs: c.bootstrap, topic: 'stuck', minBrokersHealthy: 1, minRetryPeriod: 20, maxRetryPeriod: 200, requestTimeoutMs: 2_000 });
    open.push(p);
    await p.channels.ready.wait();
    c.fault({ api: 'Produce', action: 'drop' });
    await p.send('stuck');
    await new Promise((r) => setTimeout(r, 100)); // handed to the engine, its request in flight
    const t0 = Date.now();
    await p.close({ signal: AbortSignal.timeout(300) });
    const took = Date.now() - t0;
    assert.ok(took < 1_300, `close took ${took} ms for a 300 ms signal`);
    const errors: Error[] = [];
    for await (const e of p.channels.errors) errors.push(e);
    assert.ok(errors.some((e) => e instanceof ProducerError && (e as ProducerError).produced !== undefined), `the message is reported: ${errors.map(String).join('; ')}`);
    const engine = (p as unknown as { engine: ProducerEngine }).engine;
    assert.is(engine.accumulator.bufferedRecords, 0, 'nothing left for a delivery-timeout timer');
    assert.is(guard.escaped(), '');
  } finally {
    await c.close();
  }
});

s.run();
