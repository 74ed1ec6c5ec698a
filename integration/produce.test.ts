/**
 * The produce engine against the real broker. What we write is read back by Kafka's own console consumer (Java),
 * so a record counts as delivered only if Kafka's client decodes it; keyed records are compared with where
 * Kafka's console producer (the Java partitioner) puts the same keys.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { ProducerEngine, type ProducerEngineOptions } from '../src/client/producer-engine.js';
import type { DeliveryReport, ProducerRecord } from '../src/client/accumulator.js';
import type { CompressionCodec } from '../src/protocol/compression/index.js';
import { brokers, runKafkaTool, tools } from './harness/index.js';
import { consume, produceAll, valueOf } from './produce-helpers.js';

const s = suite('produce (real broker)', { timeoutMs: 240_000 });
let cl: Cluster;
let admin: Admin;
const run = Date.now();

s.before(async () => {
  cl = new Cluster({ bootstrap: await brokers(), clientId: 'produce-test', allowAutoTopicCreation: false });
  admin = new Admin(cl);
});
s.after(async () => { await cl?.close(); });

function checkReports(reports: DeliveryReport[]): Map<string, [number, number]> {
  const where = new Map<string, [number, number]>();
  for (const r of reports) {
    assert.is(r.errors, null, `delivery errors: ${r.errors?.find((e) => e)?.message}`);
    for (let i = 0; i < r.records.length; i++) {
      assert.ok(r.offsets[i]! >= 0, 'offset reported');
      where.set(r.records[i]!.key as string, [r.partitions[i]!, r.offsets[i]!]);
    }
  }
  return where;
}

const codecs: Array<[string, CompressionCodec]> = [['none', 0], ['gzip', 1], ['snappy', 2], ['lz4', 3], ['zstd', 4]];
const N = 100_000;

for (const [name, codec] of codecs) {
  s(`${N} keyed records, ${name}: Kafka's console consumer reads every one back intact, where we said`, async () => {
    const topic = `produce-${name}-${run}`;
    await admin.createTopics([{ name: topic, numPartitions: 3, replicationFactor: 1 }]);
    const engine = new ProducerEngine({ cluster: cl, compression: codec, lingerMs: 5, batchBytes: 64 * 1024 });
    const records: ProducerRecord[] = Array.from({ length: N }, (_, i) => ({ topic, key: `k${i}`, value: valueOf(i) }));
    const started = performance.now();
    const reports = await produceAll(engine, records);
    const ms = performance.now() - started;
    await engine.close();
    console.log(`  ${name}: ${N} records of 100 B in ${ms.toFixed(0)} ms = ${Math.round(N / (ms / 1000))} records/s (producer id ${engine.producerId.id})`);
    const where = checkReports(reports);
    assert.is(where.size, N);
    const got = await consume((await brokers())[0]!, topic, N);
    assert.is(got.length, N, 'console consumer count');
    const seen = new Set<string>();
    for (const c of got) {
      assert.not.ok(seen.has(c.key), `duplicate ${c.key}`);
      seen.add(c.key);
      const i = Number(c.key.slice(1));
      assert.is(c.value, valueOf(i), `value of ${c.key}`);
      assert.equal([c.partition, c.offset], where.get(c.key), `partition/offset of ${c.key}`);
    }
  });
}

s('keyed records land where Kafka\'s Java producer puts the same keys', async () => {
  const ours = `produce-keys-ours-${run}`;
  const java = `produce-keys-java-${run}`;
  await admin.createTopics([{ name: ours, numPartitions: 7, replicationFactor: 1 }, { name: java, numPartitions: 7, replicationFactor: 1 }]);
  const keys = Array.from({ length: 2000 }, (_, i) => (i % 3 === 0 ? `key-${i}` : i % 3 === 1 ? `ключ-${i}-日本` : `${i * 7919}`));
  const engine = new ProducerEngine({ cluster: cl });
  await produceAll(engine, keys.map((k, i) => ({ topic: ours, key: k, value: `v${i}` })));
  await engine.close();
  const bootstrap = (await brokers())[0]!;
  await runKafkaTool(tools.consoleProducer, ['--bootstrap-server', bootstrap, '--topic', java,
    '--property', 'parse.key=true', '--property', 'key.separator=|'], { input: keys.map((k, i) => `${k}|v${i}`).join('\n') + '\n' });
  const [a, b] = await Promise.all([consume(bootstrap, ours, keys.length), consume(bootstrap, java, keys.length)]);
  const javaPartition = new Map(b.map((c) => [c.key, c.partition]));
  assert.is(a.length, keys.length);
  assert.is(javaPartition.size, keys.length);
  const used = new Set<number>();
  for (const c of a) {
    assert.is(c.partition, javaPartition.get(c.key), `partition of ${c.key}`);
    used.add(c.partition);
  }
  assert.is(used.size, 7, 'keys spread over every partition');
});

s('acks=0 and acks=1 write without idempotence; explicit partitions are honoured', async () => {
  const topic = `produce-acks-${run}`;
  await admin.createTopics([{ name: topic, numPartitions: 4, replicationFactor: 1 }]);
  // acks=1 first: acks=0 is at most once by definition, and a just-created partition that is not quite ready
  // drops it silently (the broker closes the connection), so it goes second, once the partition has taken writes.
  for (const acks of [1, 0] as const) {
    const engine = new ProducerEngine({ cluster: cl, acks } satisfies ProducerEngineOptions);
    const reports = await produceAll(engine, Array.from({ length: 1000 }, (_, i) => ({ topic, partition: 2, key: `a${acks}-${i}`, value: `v${i}` })));
    await engine.close();
    assert.is(engine.producerId.id, -1, 'no producer id without idempotence');
    for (const r of reports) {
      assert.is(r.errors, null);
      assert.ok(r.partitions.every((p) => p === 2));
      assert.ok(r.offsets.every((o) => (acks === 0 ? o === -1 : o >= 0)));
    }
  }
  const got = await consume((await brokers())[0]!, topic, 2000);
  assert.is(got.length, 2000);
  assert.ok(got.every((c) => c.partition === 2));
  assert.is(new Set(got.map((c) => c.key)).size, 2000);
});

s.run();
