/**
 * gzip without node:zlib (issue 19): our own coder (gzip-pure.ts) against the real broker and Kafka's Java client.
 * Records we compress with fixed-Huffman DEFLATE are accepted by the broker (which decompresses to validate) and
 * read back by Java's console consumer; batches Java's ProducerPerformance wrote with gzip are read by our inflate.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin, OffsetSpec } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { Fetcher, fetchedRecords } from '../src/client/fetcher.js';
import { Producer } from '../src/channels/producer.js';
import { useGzipPure } from '../src/protocol/compression/gzip.js';
import { consume, valueOf } from './produce-helpers.js';
import { brokers, runKafkaTool, tools } from './harness/index.js';

const s = suite('gzip without node:zlib (our inflate and deflate) on the real broker', { timeoutMs: 240_000 });
const COUNT = 3000;

s.before(() => useGzipPure(true));
s.after(() => useGzipPure(false));

s('what our deflate writes is accepted by the broker and read by Java\'s console consumer', async () => {
  const bootstrap = await brokers();
  const topic = `gzip-pure-out-${Date.now()}`;
  const cl = new Cluster({ bootstrap });
  try { await new Admin(cl).createTopics([{ name: topic, numPartitions: 1 }]); } finally { await cl.close(); }
  const p = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1, compression: 'gzip', traceHeader: false, lingerMs: 20 });
  const errors: Error[] = [];
  void (async () => { for await (const e of p.channels.errors) errors.push(e); })();
  await p.channels.ready.wait();
  for (let i = 0; i < COUNT; i++) await p.send({ key: String(i), value: valueOf(i) });
  await p.close();
  assert.equal(errors.map(String), []);
  const got = await consume(bootstrap[0]!, topic, COUNT);
  assert.is(got.length, COUNT);
  got.forEach((r, i) => { assert.is(r.offset, i); assert.is(r.value, valueOf(i)); });
});

s('what Java writes with gzip is read by our inflate, every record in order', async () => {
  const bootstrap = (await brokers())[0]!;
  const topic = `gzip-pure-in-${Date.now()}`;
  const cl = new Cluster({ bootstrap: [bootstrap] });
  const admin = new Admin(cl);
  const f = new Fetcher(cl, { maxWaitMs: 100 });
  try {
    await admin.createTopics([{ name: topic, numPartitions: 1 }]);
    await runKafkaTool(tools.producerPerformance, ['--topic', topic, '--num-records', String(COUNT * 10), '--record-size', '200',
      '--throughput', '-1', '--producer-props', `bootstrap.servers=${bootstrap}`, 'compression.type=gzip', 'linger.ms=20', 'batch.size=65536'], { timeoutMs: 120_000 });
    const end = Number((await admin.listOffsets(topic, OffsetSpec.latest)).get(0));
    assert.is(end, COUNT * 10);
    f.assign([{ topic, partition: 0, offset: 0 }]);
    let next = 0;
    while (next < end) {
      const b = await f.next(AbortSignal.timeout(30_000));
      for (const r of fetchedRecords(b)) {
        assert.is(r.offset, next);
        assert.is(r.value!.length, 200);
        next++;
      }
      f.consumed(b, b.nextOffset);
    }
    assert.is(next, end);
  } finally {
    await f.close();
    await cl.close();
  }
});

s.run();
