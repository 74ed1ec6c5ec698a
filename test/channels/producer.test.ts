/**
 * The channel Producer (src/channels/producer.ts) against the in-process fake cluster (test/fake-cluster):
 * send and delivery, idempotent produce, retriable refusals retried, a refused produce reported on `errors`,
 * initialisation once the cluster appears, and close bounded by its signal. The real broker's tests are in
 * integration/producer.test.ts.
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../kit.js';
import { Producer } from '../../src/channels/producer.js';
import type { ProducerConfig } from '../../src/channels/config.js';
import { ClosedError, ProducerError } from '../../src/errors.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';

let c: FakeCluster;
let producers: Producer[] = [];
const s = suite('channel Producer on the fake cluster', { timeoutMs: 20_000 });
s.before.each(async () => { c = await FakeCluster.start({ brokers: 3, topics: { t: 3, one: 1 } }); });
s.after.each(async () => {
  await Promise.allSettled(producers.map((p) => p.close({ signal: AbortSignal.timeout(2_000) })));
  producers = [];
  await c.close();
});

function producer(config: Partial<ProducerConfig> = {}): Producer {
  const p = new Producer({ brokerAddrs: c.bootstrap, topic: 't', minRetryPeriod: 20, maxRetryPeriod: 200, retryBackoffMs: 20, requestTimeoutMs: 2_000, ...config });
  producers.push(p);
  return p;
}

/** Every stored value of a topic, all partitions. */
function stored(topic: string): string[] {
  return c.topic(topic).partitions.flatMap((p) => c.records(topic, p.partition).map((r) => r.value!.toString()));
}

/** Drains what `errors` holds now. */
function drainErrors(p: Producer): Error[] {
  const out: Error[] = [];
  for (let r; (r = p.channels.errors.tryRecv()) !== undefined && !r.done;) out.push(r.value);
  return out;
}

s('send, sendJSON, sendBytes and `output` all reach the topic; keys keep to one partition; close delivers first', async () => {
  const p = producer();
  await p.channels.ready.wait();
  assert.ok(p.isInitialised());
  await p.send('plain');
  await p.sendJSON({ n: 1 });
  await p.sendBytes(Buffer.from('bytes'));
  await p.channels.output.send({ value: 'via output' });
  for (let i = 0; i < 20; i++) await p.send({ key: 'same-key', value: `k${i}` });
  await p.close();
  assert.ok(p.channels.closed.closed);
  const all = stored('t');
  assert.is(all.length, 24);
  for (const v of ['plain', '{"n":1}', 'bytes', 'via output']) assert.ok(all.includes(v), v);
  const keyed = c.topic('t').partitions.filter((x) => c.records('t', x.partition).some((r) => r.key?.toString() === 'same-key'));
  assert.is(keyed.length, 1, 'one key, one partition');
  assert.equal(c.records('t', keyed[0]!.partition).filter((r) => r.key?.toString() === 'same-key').map((r) => r.value!.toString()), Array.from({ length: 20 }, (_, i) => `k${i}`), 'in order');
  assert.equal(drainErrors(p), []);
});

s('idempotent by default: one InitProducerId, batches carry the producer id, nothing written twice', async () => {
  const p = producer({ topic: 'one', lingerMs: 1 });
  for (let i = 0; i < 50; i++) await p.send(`m${i}`);
  await p.close();
  assert.is(c.log.count('InitProducerId'), 1);
  const batches = c.topic('one').partitions[0]!.batches;
  assert.ok(batches.length > 0 && batches.every((b) => b.producerId >= 1000), 'every batch from the id the fake handed out');
  assert.equal(stored('one'), Array.from({ length: 50 }, (_, i) => `m${i}`));
});

s('retriable refusals (NOT_LEADER_OR_FOLLOWER twice, then a moved leader) are retried: delivered once, nothing on errors', async () => {
  const p = producer({ topic: 'one' });
  await p.channels.ready.wait();
  const h = c.fault({ api: 'Produce', topic: 'one', times: 2, action: 'error', code: errorCodes.NOT_LEADER_OR_FOLLOWER });
  await p.send('a');
  await eventually('delivered after two refusals', () => stored('one').length === 1, 5_000);
  assert.is(h.fired, 2);
  c.moveLeader('one', 0);
  await p.send('b');
  await p.close();
  assert.equal(stored('one'), ['a', 'b']);
  assert.equal(drainErrors(p), []);
});

s('a refused produce (non-retriable error) reaches `errors` as a ProducerError naming the message and the cause', async () => {
  const p = producer({ topic: 'one' });
  await p.channels.ready.wait();
  c.fault({ api: 'Produce', topic: 'one', times: 1, action: 'error', code: errorCodes.TOPIC_AUTHORIZATION_FAILED });
  await p.send({ key: 'k', value: 'refused' });
  const r = await p.channels.errors.recv(AbortSignal.timeout(5_000));
  assert.ok(r.value instanceof ProducerError, String(r.value));
  assert.match(String((r.value as ProducerError).cause), /TOPIC_AUTHORIZATION_FAILED|authoriz/i);
  assert.match(r.value!.message, /one/);
  await p.send('accepted');
  await p.close();
  assert.equal(stored('one'), ['accepted'], 'the refused record was not written; the next one was');
});

s('a cluster that is down: not initialised, messages wait; once it is up they are delivered', async () => {
  for (const id of c.brokerIds) await c.stopBroker(id, { moveLeaders: false });
  const p = producer({ brokerAddrs: [`127.0.0.1:${c.state.ports.get(1)}`], topic: 'one', minBrokersHealthy: 1 });
  await p.send('early');
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok(p.isInitialised());
  for (const id of c.brokerIds) await c.startBroker(id);
  await p.channels.ready.wait(AbortSignal.timeout(5_000));
  await p.close({ signal: AbortSignal.timeout(5_000) });
  assert.equal(stored('one'), ['early']);
});

// Producer.close({ signal }) with a Produce that is never answered: it used to take requestTimeoutMs + 5 s (35 s at
// the default, 7 s at 2 000) whatever the signal said, the message handed to the engine was neither delivered nor
// reported, and a timer of its delivery timeout kept the process alive after close (fixed in 7cca73b).
s('close({ signal }) ends soon after its signal when the broker never answers Produce, and reports the message', async () => {
  const p = producer({ topic: 'one', requestTimeoutMs: 30_000 });
  await p.channels.ready.wait();
  c.fault({ api: 'Produce', action: 'drop' });
  await p.send('stuck');
  const t0 = Date.now();
  await p.close({ signal: AbortSignal.timeout(300) });
  const took = Date.now() - t0;
  assert.ok(took < 1_500, `close took ${took} ms`);
  assert.ok(p.channels.closed.closed);
  const errors: Error[] = [];
  for await (const e of p.channels.errors) errors.push(e);
  assert.ok(errors.length >= 1, 'the undelivered message is reported');
  assert.ok(errors.every((e) => e instanceof ProducerError || e instanceof ClosedError), errors.map(String).join('; '));
  assert.is(c.endOffset('one', 0), 0);
});

s('after close: send rejects with ClosedError', async () => {
  const p = producer({ topic: 'one' });
  await p.close();
  let err: unknown;
  try {
    await p.send('late');
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ClosedError || (err instanceof Error && /closed/i.test(err.message)), String(err));
});

s('leaders moving and a broker stopping while sending: every message delivered once (idempotent), in order per partition', async () => {
  const p = producer({ topic: 'one', lingerMs: 2 });
  await p.channels.ready.wait();
  const sent: string[] = [];
  for (let i = 0; i < 300; i++) {
    const v = `v${i}`;
    sent.push(v);
    await p.send(v);
    if (i === 100) c.moveLeader('one', 0);
    if (i === 200) await c.stopBroker(c.leaderOf('one', 0));
  }
  await p.close({ signal: AbortSignal.timeout(10_000) });
  assert.equal(drainErrors(p).map(String), []);
  assert.equal(stored('one'), sent);
});

s('a partition refused for good (retriable NOT_ENOUGH_REPLICAS): retried with backoff, not hammered; reported after the delivery timeout', async () => {
  const p = producer({ topic: 'one', retryBackoffMs: 100, deliveryTimeoutMs: 2_000, requestTimeoutMs: 1_000 });
  await p.channels.ready.wait();
  c.fault({ api: 'Produce', action: 'error', code: errorCodes.NOT_ENOUGH_REPLICAS });
  const t0 = Date.now();
  await p.send('never');
  const r = await p.channels.errors.recv(AbortSignal.timeout(8_000));
  const took = Date.now() - t0;
  assert.ok(r.value instanceof ProducerError, String(r.value));
  const rate = (c.log.count('Produce', { since: t0 }) * 1000) / took;
  console.log(`  [rates] Produce ${rate.toFixed(1)}/s to a partition refusing for good; reported after ${took} ms`);
  assert.ok(rate <= 15, `Produce ${rate.toFixed(1)}/s`);
  assert.ok(took < 6_000, `reported after ${took} ms`);
});

s.run();
