import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { createMockConsumer, type IConsumerGroup } from '../../src/testing/index.js';
import type { Message } from '../../src/channels/message.js';
import { ClosedError, InvalidArgumentError } from '../../src/errors.js';

const s = suite('testing-consumer', { timeoutMs: 5_000 });

const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};
const cfg = { brokerAddrs: ['a:9092'], topic: 'in', groupName: 'g' };

/** Receives what is in upstream now, without waiting. */
function drainNow(c: IConsumerGroup): Message[] {
  const out: Message[] = [];
  for (let r = c.channels.upstream.tryRecv(); r !== undefined && !r.done; r = c.channels.upstream.tryRecv()) out.push(r.value);
  return out;
}

s('a new consumer is initialised and Stopped; nothing is delivered until started (dp-kafka)', async () => {
  const c = createMockConsumer(cfg);
  assert.is(c.state, 'Stopped');
  assert.ok(c.isInitialised());
  assert.ok(c.channels.ready.closed);
  await c.queueJSON({ n: 1 });
  await settle();
  assert.equal(drainNow(c), []);
  c.start();
  assert.is(c.state, 'Consuming');
  const r = await c.channels.upstream.recv();
  assert.equal(JSON.parse(r.value!.value!.toString()), { n: 1 });
  assert.is(r.value!.offset, 1);
  await r.value!.commitAndRelease();
  assert.is(c.committedOffsets.get(r.value!.partition), 2);
  await c.close();
});

s('queueMessage / queueBytes carry value, key and headers; offsets count 1, 2, 3', async () => {
  const c = createMockConsumer({ ...cfg, numWorkers: 3 });
  c.start();
  await c.queueMessage({ value: 'a', key: 'k', headers: { 'request-id': 'r' } });
  await c.queueBytes(new Uint8Array([7]));
  await c.queueJSON(3);
  await settle();
  const got = drainNow(c);
  assert.equal(got.map((m) => m.offset), [1, 2, 3]);
  assert.is(got[0]!.key!.toString(), 'k');
  assert.is(got[0]!.getHeader('request-id'), 'r');
  assert.is(got[0]!.topic, 'in');
  assert.equal([...got[1]!.value!], [7]);
  for (const m of got) m.release();
  await c.close();
});

s('each partition delivers its next message only after release', async () => {
  const c = createMockConsumer({ ...cfg, numWorkers: 10 }, { numPartitions: 2 });
  c.start();
  for (let i = 0; i < 5; i++) await c.queueJSON(i);
  await settle();
  const first = drainNow(c);
  assert.is(first.length, 2, 'one in flight per partition');
  assert.not.equal(first[0]!.partition, first[1]!.partition);
  first[0]!.release();
  await settle();
  const next = drainNow(c);
  assert.is(next.length, 1);
  assert.is(next[0]!.partition, first[0]!.partition);
  for (const m of [first[1]!, next[0]!]) m.release();
  await settle();
  for (const m of drainNow(c)) m.release();
  await c.close();
});

s('registerHandler consumes with the commit rule; a second registration throws', async () => {
  const c = createMockConsumer({ ...cfg, numWorkers: 2 }, { numPartitions: 4 });
  const seen: number[] = [];
  c.registerHandler((m) => {
    seen.push(m.offset);
    if (m.offset === 2) throw Object.assign(new Error('retry'), { shouldCommit: () => false });
  });
  assert.throws(() => c.registerBatchHandler(() => undefined), (e: unknown) => e instanceof InvalidArgumentError);
  c.start();
  for (let i = 0; i < 4; i++) await c.queueJSON(i);
  await c.stopAndWait();
  assert.equal(seen.sort(), [1, 2, 3, 4]);
  assert.is(c.handlerFailures.length, 1);
  assert.is(c.handlerFailures[0]!.committed, false);
  const committed = [...c.committedOffsets.values()].sort();
  assert.not.ok(committed.includes(3), 'offset 2 was not committed');
  await c.close();
});

s('start before initialisation is remembered; initialise moves straight to Consuming', async () => {
  const c = createMockConsumer({ ...cfg, minRetryPeriod: 5_000, maxRetryPeriod: 10_000 }, { initAtCreation: false });
  assert.is(c.state, 'Initialising');
  // Not initialised and a broker down: WARNING (with every broker healthy the check would initialise, the seed's rule).
  c.setBrokerHealth([{ address: cfg.brokerAddrs[0]!, reachable: false, hasTopic: false }]);
  assert.is((await c.checker()).status, 'WARNING');
  assert.is(c.state, 'Initialising');
  c.setBrokerHealth([{ address: cfg.brokerAddrs[0]!, reachable: true, hasTopic: true }]);
  c.start();
  assert.is(c.state, 'Initialising');
  await c.initialise();
  assert.is(c.state, 'Consuming');
  assert.is((await c.checker()).status, 'OK');
  await c.close();
});

s('stop before initialisation keeps it Stopped; it initialises by itself after minRetryPeriod', async () => {
  const c = createMockConsumer({ ...cfg, minRetryPeriod: 20, maxRetryPeriod: 100 }, { initAtCreation: false });
  c.start();
  c.stop();
  await c.channels.ready.wait(AbortSignal.timeout(1000));
  assert.is(c.state, 'Stopped');
  await c.close();
});

s('stopAndWait waits for the in-flight handler; start again resumes with the rest', async () => {
  const c = createMockConsumer(cfg, { numPartitions: 1 });
  let open!: () => void;
  const seen: number[] = [];
  c.registerHandler(async (m) => {
    seen.push(m.offset);
    if (m.offset === 1) await new Promise<void>((resolve) => (open = resolve));
  });
  c.start();
  await c.queueJSON('a');
  await c.queueJSON('b');
  await settle();
  let stopped = false;
  const p = c.stopAndWait().then(() => {
    stopped = true;
  });
  await settle();
  assert.is(c.state, 'Stopping');
  assert.is(stopped, false);
  open();
  await p;
  assert.is(c.state, 'Stopped');
  assert.equal(seen, [1]);
  c.start();
  await c.stateWait('Consuming');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(seen, [1, 2]);
  await c.close();
});

s('start while Stopping takes effect once Stopped', async () => {
  const c = createMockConsumer(cfg, { numPartitions: 1 });
  c.start();
  await c.queueJSON('x');
  await settle();
  const [m] = drainNow(c);
  c.stop();
  c.start();
  assert.is(c.state, 'Stopping');
  m!.release();
  await c.stateWait('Consuming');
  assert.is(c.sessions, 2);
  await c.close();
});

s('the consume channel starts and stops it (true / false)', async () => {
  const c = createMockConsumer(cfg);
  await c.channels.consume.send(true);
  await c.stateWait('Consuming');
  await c.channels.consume.send(false);
  await c.stateWait('Stopped');
  await c.close();
});

s('onHealthUpdate: OK starts, WARNING and CRITICAL stop', async () => {
  const c = createMockConsumer(cfg);
  c.onHealthUpdate('OK');
  assert.is(c.state, 'Consuming');
  c.onHealthUpdate('CRITICAL');
  await c.stateWait('Stopped');
  c.onHealthUpdate('OK');
  c.onHealthUpdate('WARNING');
  await c.stateWait('Stopped');
  await c.close();
  c.onHealthUpdate('OK'); // after close: no throw
});

s('rebalance goes Consuming → Starting → Consuming and delivers what the old session did not', async () => {
  const c = createMockConsumer({ ...cfg, numWorkers: 1 }, { numPartitions: 1 });
  c.start();
  const states: string[] = [];
  (c as unknown as { machine: { onChange(fn: (to: string) => void): void } }).machine.onChange((to) => states.push(to));
  await c.queueJSON(1);
  await c.queueJSON(2);
  await settle();
  const [m1] = drainNow(c);
  const r = c.rebalance();
  assert.is(c.state, 'Starting');
  m1!.release(); // the old session ends once its in-flight message is released
  await r;
  assert.equal(states, ['Starting', 'Consuming']);
  assert.is(c.sessions, 2);
  await settle();
  const [m2] = drainNow(c);
  assert.is(m2!.offset, 2);
  m2!.release();
  await c.close();
});

s('close: Closing, closer and closed signals, upstream closed, start refused', async () => {
  const c = createMockConsumer(cfg);
  c.start();
  await c.close();
  assert.is(c.state, 'Closing');
  assert.ok(c.channels.closer.closed && c.channels.closed.closed && c.channels.upstream.closed);
  assert.throws(() => c.start(), (e: unknown) => e instanceof ClosedError);
  c.stop(); // no-op
  await c.close(); // idempotent
  const err = await c.queueJSON(1).then(() => undefined, (e: unknown) => e);
  assert.instance(err, ClosedError);
});

s('close drains: a partial batch of the batch handler is handled before close resolves', async () => {
  const c = createMockConsumer({ ...cfg, batchSize: 10, batchWaitTime: 5_000 }, { numPartitions: 3 });
  const batches: Array<Array<[number, number]>> = [];
  c.registerBatchHandler((b) => void batches.push(b.map((m) => [m.partition, m.offset])));
  c.start();
  for (let i = 0; i < 3; i++) await c.queueJSON(i);
  await settle();
  await c.close();
  assert.equal(batches.map((b) => b.map(([, offset]) => offset).sort()), [[1, 2, 3]]);
  // The drained batch was marked: per partition, the offset after its last message.
  const expected = new Map<number, number>();
  for (const [partition, offset] of batches[0]!) expected.set(partition, Math.max(expected.get(partition) ?? 0, offset + 1));
  assert.equal([...c.markedOffsets].sort(), [...expected].sort());
});

s('close with an aborted deadline does not wait for stuck handlers', async () => {
  const c = createMockConsumer(cfg, { numPartitions: 1 });
  c.registerHandler(() => new Promise<void>(() => undefined)); // never finishes
  c.start();
  await c.queueJSON(1);
  await settle();
  const signal = AbortSignal.timeout(30);
  const err = await c.close({ signal }).then(() => undefined, (e: unknown) => e);
  assert.ok(err === signal.reason && err instanceof Error && err.name === 'TimeoutError',
    `close rejects with the signal's reason, so the caller sees the deadline cut draining short: ${String(err)}`);
  assert.ok(c.channels.closed.closed);
});

s('logErrors drains the errors channel', async () => {
  const c = createMockConsumer(cfg);
  c.logErrors();
  const boom = new Error('commit failed');
  c.channels.errors.trySend(boom);
  await settle();
  assert.equal(c.loggedErrors, [boom]);
  await c.close();
});

s.run();
