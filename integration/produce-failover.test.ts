/**
 * Idempotent acks=all production across a crash: a 3-node cluster (replication 3, min.insync.replicas 2), a
 * producer sending steadily, and `kill -9` of the node leading a partition mid-stream, then its restart. Every
 * record is read back by Kafka's console consumer and checked: none lost, none duplicated, each partition in the
 * order it was sent.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { ProducerEngine } from '../src/client/producer-engine.js';
import type { DeliveryReport, ProducerRecord } from '../src/client/accumulator.js';
import { cluster } from './harness/index.js';
import { consume, valueOf } from './produce-helpers.js';

const s = suite('produce across a leader crash (3-node cluster)', { timeoutMs: 300_000 });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

s('kill -9 of a leader mid-stream: every record written once, in order per partition', async () => {
  const c = await cluster();
  const cl = new Cluster({ bootstrap: c.bootstrap, clientId: 'produce-failover', allowAutoTopicCreation: false });
  const topic = `produce-failover-${Date.now()}`;
  try {
    await new Admin(cl).createTopics([{ name: topic, numPartitions: 3, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
    const meta = await cl.topic(topic);
    const victim = meta.partitions[0]!.leaderId;
    const engine = new ProducerEngine({ cluster: cl, lingerMs: 5 });
    const N = 200_000;
    let acked = 0;
    const reports: Promise<DeliveryReport>[] = [];
    const producing = (async () => {
      for (let i = 0; i < N; i += 200) {
        const chunk: ProducerRecord[] = [];
        for (let j = i; j < i + 200; j++) chunk.push({ topic, key: `k${j}`, value: valueOf(j) });
        let ok!: boolean;
        reports.push(new Promise((resolve) => {
          ok = engine.send(chunk, (r) => { acked += r.records.length; resolve(r); });
        }));
        if (!ok) await engine.waitForSpace();
        await sleep(10);
      }
      await engine.flush();
    })();
    while (acked < 20_000) await sleep(20);
    const ackedAtKill = acked;
    await c.kill(victim);
    try {
      console.log(`  killed node ${victim} (leader of ${topic}-0) after ${ackedAtKill} acknowledged records`);
      await sleep(6_000);
    } finally {
      await c.start(victim);
    }
    console.log(`  restarted node ${victim}; ${acked} acknowledged so far`);
    await producing;
    await engine.close();
    const all = await Promise.all(reports);
    const errors = all.flatMap((r) => (r.errors ?? []).filter((e) => e !== undefined));
    assert.is(errors.length, 0, `delivery errors: ${errors[0]?.message}`);
    const after = await cl.topic(topic);
    console.log(`  partition 0 now led by node ${after.partitions[0]!.leaderId}; producer ${JSON.stringify(engine.producerId)}; ${JSON.stringify(engine.stats)}`);
    assert.ok(ackedAtKill < N, 'the crash happened mid-stream');
    assert.ok(engine.stats.retries > 0, 'batches were retried across the crash');

    const got = await consume(c.bootstrap.join(','), topic, N);
    assert.is(got.length, N, 'records read back');
    const seen = new Set<number>();
    const lastByPartition = new Map<number, number>();
    for (const r of got) {
      const i = Number(r.key.slice(1));
      assert.not.ok(seen.has(i), `duplicate k${i}`);
      seen.add(i);
      assert.is(r.value, valueOf(i), `value of k${i}`);
      assert.ok((lastByPartition.get(r.partition) ?? -1) < i, `k${i} out of order in partition ${r.partition}`);
      lastByPartition.set(r.partition, i);
    }
    assert.is(seen.size, N);
  } finally {
    await cl.close();
  }
});

s.run();
