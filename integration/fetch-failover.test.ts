/**
 * The fetcher through a leader change in the 3-node cluster: the leader of a partition is killed mid-read; the
 * fetcher re-routes, validates its positions against the new leader (OffsetForLeaderEpoch, KIP-320) and reads
 * every record, in order, without user action.
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../test/kit.js';
import { Admin, OffsetSpec } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { Fetcher, fetchedRecords } from '../src/client/fetcher.js';
import type { KafkaError } from '../src/errors.js';
import { cluster as threeNodes, runKafkaTool, tools } from './harness/index.js';

const s = suite('fetcher failover', { timeoutMs: 240_000 });
const RECORDS = 100_000;

s('leader killed mid-read: re-routed, validated, every record read in order', async () => {
  const c = await threeNodes();
  const cl = new Cluster({ bootstrap: c.bootstrap, clientId: 'fetch-failover', retryDeadlineMs: 60_000 });
  const admin = new Admin(cl);
  const topic = `fetch-failover-${Date.now()}`;
  const errors: KafkaError[] = [];
  const f = new Fetcher(cl, { autoOffsetReset: 'earliest', maxBufferedBytes: 512 << 10, maxPartitionBufferedBytes: 128 << 10, onError: (e) => errors.push(e) });
  let killed = -1;
  try {
    await admin.createTopics([{ name: topic, numPartitions: 6, replicationFactor: 3 }]);
    await runKafkaTool(tools.producerPerformance, ['--topic', topic, '--num-records', String(RECORDS), '--record-size', '100', '--throughput', '-1',
      '--producer-props', `bootstrap.servers=${c.bootstrap.join(',')}`, 'acks=all', 'compression.type=lz4'], { timeoutMs: 120_000 });
    const ends = await admin.listOffsets(topic, OffsetSpec.latest);
    assert.is([...ends.values()].reduce((a, b) => a + b, 0n), BigInt(RECORDS));
    const before = await cl.topic(topic);
    f.assign(before.partitions.map((p) => ({ topic, partition: p.partition })));
    const next = new Map<number, number>([...ends.keys()].map((p) => [p, 0]));
    let read = 0;
    let kill: Promise<void> | undefined;
    let victim = -1;
    while ([...ends].some(([p, e]) => next.get(p)! < Number(e))) {
      const b = await f.next(AbortSignal.timeout(60_000)).catch((err: unknown) => {
        // Say where it stood: which partitions were left, what the fetcher reported, whom it killed.
        const left = [...ends].filter(([p, e]) => next.get(p)! < Number(e)).map(([p, e]) => `${p}: ${next.get(p)}/${e}`);
        throw new Error(`nothing fetched for 60 s (${String(err)}); killed node ${killed} (victim partition ${victim}); left ${left.join(', ')}; `
          + `stats ${JSON.stringify(f.stats)}; reported: ${errors.map((e) => e.message).join(' | ') || 'nothing'}`);
      });
      for (const r of fetchedRecords(b)) {
        if (r.offset !== next.get(b.partition)) throw new Error(`partition ${b.partition}: offset ${r.offset}, expected ${next.get(b.partition)}`);
        next.set(b.partition, r.offset + 1);
        if (r.value?.length !== 100) throw new Error('value damaged');
        read++;
      }
      f.consumed(b, b.nextOffset);
      if (kill === undefined && read >= RECORDS / 3) {
        // The victim leads the partition with most left to read, so the rest of it must come from a new leader.
        victim = [...ends].reduce((a, b) => (Number(b[1]) - next.get(b[0])! > Number(a[1]) - next.get(a[0])! ? b : a))[0];
        killed = before.partitions.find((p) => p.partition === victim)!.leaderId;
        kill = c.kill(killed);
      }
    }
    await kill;
    assert.is(read, RECORDS);
    // Brokers' metadata caches can lag the controller for a moment after the kill.
    await eventually(`metadata naming a new leader of partition ${victim}`, async () => {
      cl.invalidate(topic);
      return (await cl.topic(topic)).partitions.find((p) => p.partition === victim)!.leaderId !== killed;
    }, 30_000, 250);
    const st = f.stats;
    console.log(`  failover: killed node ${killed}; ${st.requests} fetches, ${st.validations} positions validated with OffsetForLeaderEpoch`);
    assert.ok(st.validations > 0, 'positions were validated against the new leader');
    assert.equal(errors.map((e) => e.message), [], 'nothing reported (acks=all: no truncation)');
  } finally {
    await f.close();
    await cl.close();
    if (killed >= 0) await c.start(killed);
  }
});

s.run();
