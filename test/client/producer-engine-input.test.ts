/**
 * The produce engine's input boundary (issue 17): a malformed record fails alone in its delivery report at `send`,
 * and a batch that cannot be encoded (a record changed after it was accepted) fails its own records and nothing
 * else. No exception escapes into a timer, the sender keeps going, idempotent sequences stay gap-free, and
 * `close()` resolves.
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Cluster } from '../../src/client/cluster.js';
import { ProducerEngine, type ProducerEngineOptions } from '../../src/client/producer-engine.js';
import type { DeliveryReport, ProducerRecord } from '../../src/client/accumulator.js';
import { InvalidArgumentError, KafkaError } from '../../src/errors.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { CrashGuard } from '../fake-cluster/crash-guard.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';

const s = suite('producer engine: input boundary', { timeoutMs: 5_000 });
let guard: CrashGuard;
let open: Array<() => Promise<void> | void> = [];
s.before.each(() => { guard = new CrashGuard().install(); open = []; });
s.after.each(async () => {
  for (const close of open.reverse()) await close();
  guard.remove();
});

/**
 * An engine on a fake cluster (topic `t`, `partitions` partitions) through our Cluster; `values(p)` is what
 * partition p holds, `outOfOrder()` how many batches the broker refused as OUT_OF_ORDER_SEQUENCE_NUMBER (a gap).
 */
async function onFake(options: Partial<ProducerEngineOptions> = {}, partitions = 2) {
  const fake = await FakeCluster.start({ topics: { t: partitions } });
  const cluster = new Cluster({ bootstrap: fake.bootstrap, retryMinMs: 5, retryMaxMs: 20 });
  const engine = new ProducerEngine({ cluster, ...options });
  let outOfOrder = 0;
  fake.onAnswer((req, res) => {
    if (req.api !== 'Produce' || !res) return;
    for (const t of res.responses as Array<{ partitionResponses: Array<{ errorCode: number }> }>) {
      for (const r of t.partitionResponses) if (r.errorCode === errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER) outOfOrder++;
    }
  });
  open.push(() => fake.close(), () => cluster.close({ timeoutMs: 500 }), () => engine.destroy());
  const values = (partition: number) => fake.records('t', partition).map((r) => r.value?.toString() ?? null);
  return { fake, engine, values, outOfOrder: () => outOfOrder };
}

const send = (engine: ProducerEngine, records: unknown[]): Promise<DeliveryReport> =>
  new Promise((resolve) => engine.send(records as ProducerRecord[], resolve, { topic: 't' }));
const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

const BAD: [string, Record<string, unknown> | unknown, RegExp][] = [
  ['a number value', { value: 42 }, /value must be a string, Buffer or Uint8Array.*number 42/],
  ['an object value', { value: { a: 1 } }, /value must be .*an object/],
  ['a boolean value', { value: true }, /value must be .*boolean true/],
  ['a bigint value', { value: 10n }, /value must be .*bigint 10n/],
  ['a number key', { value: 'v', key: 5 }, /key must be a string, Buffer or Uint8Array.*number 5/],
  ['a number header key', { value: 'v', headers: [{ key: 5, value: 'x' }] }, /headers\[0\]\.key must be a string/],
  ['a number header value', { value: 'v', headers: [{ key: 'k', value: 5 }] }, /headers\[0\]\.value must be/],
  ['headers as a string', { value: 'v', headers: 'abc' }, /headers must be an array/],
  ['headers null', { value: 'v', headers: null }, /headers must be an array/],
  ['timestamp "yesterday"', { value: 'v', timestamp: 'yesterday' }, /timestamp must be an integer number of ms/],
  ['timestamp NaN', { value: 'v', timestamp: Number.NaN }, /timestamp must be/],
  ['timestamp 2^63', { value: 'v', timestamp: 2 ** 63 }, /timestamp must be/],
  ['timestamp -Infinity', { value: 'v', timestamp: -Infinity }, /timestamp must be/],
  ['partition -1', { value: 'v', partition: -1 }, /partition must be an integer from 0/],
  ['partition 1.5', { value: 'v', partition: 1.5 }, /partition must be/],
  ['a null record', null, /a message must be an object/],
  ['a number record', 42, /a message must be an object/],
];

s('a malformed record fails alone in the delivery report, at send; the others of the call are written', async () => {
  const { engine, values } = await onFake({ lingerMs: 0 });
  const records = [{ value: 'first' }, ...BAD.map(([, r]) => r), { value: 'last' }];
  const report = await send(engine, records);
  assert.ok(report.errors, 'the bad records failed');
  BAD.forEach(([name, , re], i) => {
    const err = report.errors![i + 1];
    assert.instance(err, InvalidArgumentError, name);
    assert.match(err!.message, re, name);
  });
  assert.is(report.errors![0], undefined);
  assert.is(report.errors![records.length - 1], undefined);
  assert.equal([...values(0), ...values(1)].sort(), ['first', 'last']);
  await engine.close();
  assert.is(guard.escaped(), '');
});

s('send with something else than an array of records throws InvalidArgumentError at the call', async () => {
  const { engine } = await onFake();
  assert.throws(() => engine.send('abc' as never, undefined, { topic: 't' }), (e: unknown) => e instanceof InvalidArgumentError && /array of records/.test((e as Error).message));
});

s('a record without a topic (and no default) fails in its report instead of throwing out of send', async () => {
  const { engine } = await onFake();
  const report = await new Promise<DeliveryReport>((resolve) => engine.send([{ value: 'v' }], resolve));
  assert.match(report.errors?.[0]?.message ?? '', /a record needs a topic/);
  await engine.close();
});

for (const [what, mutate] of [
  ['value', (r: Record<string, unknown>) => { r.value = 42; }],
  ['header key', (r: Record<string, unknown>) => { r.headers = [{ key: 5, value: 'x' }]; }],
  ['timestamp (Infinity: sizing it would never finish)', (r: Record<string, unknown>) => { r.timestamp = Infinity; }],
] as const) {
  s(`a batch that cannot be encoded (record ${what} changed after send) fails its own records and nothing else`, async () => {
    const { engine, values, outOfOrder } = await onFake({ lingerMs: 20 }, 2);
    // Two partitions: p0 gets the record changed before the sender encodes it, p1 a good one.
    const bad: Record<string, unknown> = { value: 'changed', partition: 0 };
    const pending = send(engine, [bad, { value: 'p1-a', partition: 1 }, { value: 'p0-neighbour', partition: 0 }]);
    mutate(bad);
    const report = await pending;
    const err = report.errors?.[0];
    assert.instance(err, KafkaError);
    assert.is((err as KafkaError).code, 'ERR_KAFKA_ENCODE');
    assert.match(err!.message, /could not be encoded/);
    assert.instance((err as KafkaError).cause, Error, 'the cause is kept');
    assert.instance(report.errors?.[2], KafkaError, 'its batch neighbour fails with it');
    assert.is(report.errors?.[1], undefined, 'the other partition is written');
    assert.equal([values(0), values(1)], [[], ['p1-a']]);
    // The sender goes on, and the partition's next batch is written in sequence (no gap left by the failed one).
    const next = await send(engine, [{ value: 'p0-after', partition: 0 }, { value: 'p1-after', partition: 1 }]);
    assert.is(next.errors, null);
    assert.is(outOfOrder(), 0, 'no sequence gap');
    assert.equal([values(0), values(1)], [['p0-after'], ['p1-a', 'p1-after']]);
    await engine.close();
    assert.is(guard.escaped(), '');
  });
}

s('close() resolves after an encode failure, and nothing escapes to the process', async () => {
  const { engine } = await onFake({ lingerMs: 5 });
  const r: Record<string, unknown> = { value: 'x' };
  const done = send(engine, [r]);
  r.value = 10n;
  await engine.close();
  assert.instance((await done).errors?.[0], KafkaError);
  await tick();
  assert.is(guard.escaped(), '');
});

s.run();
