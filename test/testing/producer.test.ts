import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { suite } from '../kit.js';
import { createMockProducer, MockExpectationError, type IProducer } from '../../src/testing/index.js';
import { ClosedError, InvalidArgumentError } from '../../src/errors.js';

const s = suite('testing-producer', { timeoutMs: 5_000 });

const cfg = { brokerAddrs: ['a:9092'], topic: 'out', minBrokersHealthy: 1 };

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => assert.unreachable('expected a rejection'), (e: unknown) => e);
}

s('validates its config like the real producer (dp-kafka default minBrokersHealthy 2 with one broker fails)', () => {
  assert.throws(() => createMockProducer({ brokerAddrs: ['a:9092'], topic: 'out' }), (e: unknown) => e instanceof InvalidArgumentError);
});

s('records what the code under test sends, in order, each wait taking one', async () => {
  const p = createMockProducer(cfg);
  const api: IProducer = p; // usable wherever the real producer is
  await api.sendJSON({ id: 1 });
  await api.sendBytes(new Uint8Array([1, 2, 3]), { key: 'k' });
  await api.send({ value: 'text', headers: [{ key: 'h', value: 'v' }], partition: 4 });
  assert.equal(await p.waitForJSONMessageSent(1000), { id: 1 });
  const b = await p.waitForMessageSent(1000);
  assert.equal([...b.value!], [1, 2, 3]);
  assert.is(b.key!.toString(), 'k');
  assert.is(b.topic, 'out');
  const t = await p.waitForMessageSent(1000);
  assert.is(t.value!.toString(), 'text');
  assert.is(t.partition, 4);
  assert.equal(t.headers, [{ key: 'h', value: Buffer.from('v') }]);
  assert.is(p.sent.length, 3);
  await p.close();
});

s('waitForMessageSent waits for a later send, and times out with MockExpectationError', async () => {
  const p = createMockProducer(cfg);
  setTimeout(() => void p.sendJSON('late'), 20);
  assert.is(await p.waitForJSONMessageSent(1000), 'late');
  const t0 = performance.now();
  const err = await rejection(p.waitForMessageSent(40));
  assert.instance(err, MockExpectationError);
  assert.ok(performance.now() - t0 >= 35);
  await p.close();
});

s('waitNoMessageSent resolves after a quiet window and rejects when something is sent', async () => {
  const p = createMockProducer(cfg);
  await p.waitNoMessageSent(30);
  setTimeout(() => void p.sendJSON({ oops: true }), 10);
  const err = await rejection(p.waitNoMessageSent(500));
  assert.instance(err, MockExpectationError);
  assert.match((err as Error).message, /oops/);
  await p.close();
});

s('close ends waits with ClosedError; send after close rejects', async () => {
  const p = createMockProducer(cfg);
  const w = p.waitForMessageSent(5_000);
  setTimeout(() => void p.close(), 10);
  assert.instance(await rejection(w), ClosedError);
  await p.channels.closed.wait();
  assert.instance(await rejection(p.sendJSON(1)), ClosedError);
  await p.close(); // idempotent
});

s('not initialised at creation: messages wait, and are recorded once it initialises', async () => {
  const p = createMockProducer({ ...cfg, minRetryPeriod: 5_000, maxRetryPeriod: 10_000 }, { initAtCreation: false });
  assert.is(p.isInitialised(), false);
  // Not initialised and a broker down: WARNING, and the check does not initialise.
  p.setBrokerHealth([{ address: cfg.brokerAddrs[0]!, reachable: false, hasTopic: false }]);
  assert.is((await p.checker()).status, 'WARNING');
  assert.is(p.isInitialised(), false);
  await p.sendJSON('early');
  await p.waitNoMessageSent(20);
  // Every broker healthy: the check initialises and says OK (the real producer's rule, health.ts's checkHealth).
  p.setBrokerHealth([{ address: cfg.brokerAddrs[0]!, reachable: true, hasTopic: true }]);
  assert.is((await p.checker()).status, 'OK');
  assert.ok(p.channels.ready.closed);
  assert.is(await p.waitForJSONMessageSent(1000), 'early');
  await p.close();
});

s('not initialised at creation: initialises by itself after minRetryPeriod', async () => {
  const p = createMockProducer({ ...cfg, minRetryPeriod: 20, maxRetryPeriod: 100 }, { initAtCreation: false });
  assert.is(p.isInitialised(), false);
  await p.channels.ready.wait(AbortSignal.timeout(1000));
  assert.is(p.isInitialised(), true);
  await p.close();
});

s('checker follows the simulated broker health', async () => {
  const p = createMockProducer({ brokerAddrs: ['a:1', 'b:1'], topic: 'out' });
  assert.equal((await p.checker()).status, 'OK');
  p.setBrokerHealth([{ address: 'a:1', reachable: true, hasTopic: true }, { address: 'b:1', reachable: false, hasTopic: false }]);
  const c = await p.checker();
  assert.is(c.status, 'CRITICAL'); // default minBrokersHealthy 2
  assert.match(c.message, /b:1/);
  await p.close();
});

s('output takes what the real producer\'s output takes: bytes or a string is the value; a non-message goes to errors', async () => {
  const p = createMockProducer(cfg);
  await p.channels.output.send(Buffer.from('seed bytes')); // the seed's pChannels.Output <- []byte(msg), type-checked
  await p.channels.output.send('seed text');
  await p.channels.output.send({ value: 'obj', headers: { h: 'v' } });
  await p.channels.output.send(42 as never);
  assert.is((await p.waitForMessageSent(1000)).value!.toString(), 'seed bytes');
  assert.is((await p.waitForMessageSent(1000)).value!.toString(), 'seed text');
  const o = await p.waitForMessageSent(1000);
  assert.equal([o.value!.toString(), o.headers], ['obj', [{ key: 'h', value: Buffer.from('v') }]]);
  const err = await p.channels.errors.recv();
  assert.ok(!err.done && err.value.name === 'ProducerError' && err.value.cause instanceof InvalidArgumentError, String(err.value));
  assert.is(p.sent.length, 3);
  await p.close();
});

s.run();
