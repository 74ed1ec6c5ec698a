/**
 * Group offsets against the real broker: records consumed through GroupConsumer's claims and marked one by one,
 * committed (auto-commit and on close), and read back by Kafka's own ConsumerGroupCommand; a restarted member
 * resumes from them; `newest` skips what was there before; commits from a stale generation are refused as a
 * rebalance, not silently applied.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { ProducerEngine } from '../src/client/producer-engine.js';
import { GroupConsumer, type GroupConsumerOptions } from '../src/group/group-consumer.js';
import { GroupCoordinator } from '../src/group/coordinator.js';
import { OffsetManager, RebalanceNeededError } from '../src/group/offsets.js';
import type { GroupHandler } from '../src/group/session.js';
import { brokers, runKafkaTool, tools } from './harness/index.js';
import { produceAll, valueOf } from './produce-helpers.js';

const s = suite('group offsets', { timeoutMs: 120_000 });
const topic = `group-offsets-${Date.now()}`;
const topic2 = `group-offsets-b-${Date.now()}`;
let bootstrap: string[];
let cl: Cluster;
let engine: ProducerEngine;

/** A handler that marks every record and remembers what it saw. */
function recorder(): GroupHandler & { seen: Map<string, number[]>; count: number } {
  const seen = new Map<string, number[]>();
  const h = {
    seen, count: 0,
    async consumeClaim(_session: unknown, claim: import('../src/group/session.js').Claim): Promise<void> {
      const key = `${claim.topic}-${claim.partition}`;
      for await (const r of claim.records()) {
        let list = seen.get(key);
        if (!list) seen.set(key, (list = []));
        list.push(r.offset);
        h.count++;
        claim.mark(r);
      }
    },
  };
  return h;
}

function consumer(groupId: string, handler: GroupHandler, extra: Partial<GroupConsumerOptions> = {}): { c: GroupConsumer; cluster: Cluster } {
  const cluster = new Cluster({ bootstrap, clientId: 'group-offsets' });
  const c = new GroupConsumer(cluster, handler, { groupId, topics: [topic], heartbeatIntervalMs: 500, sessionTimeoutMs: 6_000, ...extra });
  c.start().catch(() => undefined);
  return { c, cluster };
}

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** ConsumerGroupCommand --describe rows: topic, partition, current offset, log end, lag. */
async function describeWithJava(groupId: string): Promise<{ topic: string; partition: number; current: number; end: number; lag: number }[]> {
  const out = await runKafkaTool(tools.consumerGroups, ['--bootstrap-server', bootstrap[0]!, '--describe', '--group', groupId]);
  return out.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[0] === groupId && (f[1] === topic || f[1] === topic2))
    .map((f) => ({ topic: f[1]!, partition: Number(f[2]), current: Number(f[3]), end: Number(f[4]), lag: Number(f[5]) }));
}

s.before(async () => {
  bootstrap = await brokers();
  cl = new Cluster({ bootstrap, clientId: 'group-offsets-admin' });
  await new Admin(cl).createTopics([{ name: topic, numPartitions: 6, replicationFactor: 1 }, { name: topic2, numPartitions: 2, replicationFactor: 1 }]);
  engine = new ProducerEngine({ cluster: cl, lingerMs: 5 });
  await produceAll(engine, Array.from({ length: 6000 }, (_, i) => ({ topic, key: `k${i}`, value: valueOf(i) })));
  await produceAll(engine, Array.from({ length: 100 }, (_, i) => ({ topic: topic2, key: `k${i}`, value: valueOf(i) })));
});

s.after(async () => {
  await engine?.close();
  await cl?.close();
});

s('marked offsets are committed and ConsumerGroupCommand sees them (lag 0 everywhere, two topics)', async () => {
  const g = `offsets-${Date.now()}`;
  const h = recorder();
  const { c, cluster } = consumer(g, h, { topics: [topic, topic2] });
  await until('6100 records', () => h.count >= 6100);
  await c.close();
  await cluster.close();
  assert.is(h.count, 6100, 'each record once');
  for (const [, offsets] of h.seen) assert.ok(offsets.every((o, i) => o === i), 'in order, from 0, no gaps');
  const rows = await describeWithJava(g);
  assert.is(rows.length, 8);
  assert.ok(rows.every((r) => r.lag === 0 && r.current === r.end), JSON.stringify(rows));
  assert.is(rows.filter((r) => r.topic === topic).reduce((a, r) => a + r.current, 0), 6000);
});

s('a restarted member resumes from the committed offsets (auto-commit), with the leader epoch kept', async () => {
  const g = `resume-${Date.now()}`;
  const h1 = recorder();
  const first = consumer(g, h1, { autoCommitIntervalMs: 200 });
  await until('6000 records', () => h1.count >= 6000);
  await new Promise((r) => setTimeout(r, 600)); // auto-commit, not close, must have committed them
  const coord = new GroupCoordinator(cl, g);
  const committed = await new OffsetManager(cl, coord, { groupId: g }).fetchCommitted([{ topic, partitions: [0, 1, 2, 3, 4, 5] }]);
  assert.is([...committed.values()].reduce((a, o) => a + o.offset, 0n), 6000n, 'auto-committed');
  assert.ok([...committed.values()].every((o) => o.leaderEpoch >= 0), 'leader epoch committed (KIP-320)');
  await first.c.destroy(); // no final commit: what was auto-committed must be enough
  await first.cluster.close();
  await produceAll(engine, Array.from({ length: 600 }, (_, i) => ({ topic, key: `r${i}`, value: valueOf(i) })));
  const h2 = recorder();
  const second = consumer(g, h2, { sessionTimeoutMs: 6_000 });
  await until('600 new records', () => h2.count >= 600, 30_000);
  await new Promise((r) => setTimeout(r, 500));
  assert.is(h2.count, 600, 'only the new records');
  await second.c.close();
  await second.cluster.close();
});

s('initial offset newest: a new group starts at the end', async () => {
  const g = `newest-${Date.now()}`;
  const h = recorder();
  const { c, cluster } = consumer(g, h, { initialOffset: 'newest' });
  await c.nextGeneration();
  await until('claims started', () => (c.session?.claims.size ?? 0) === 6, 10_000);
  await new Promise((r) => setTimeout(r, 500));
  await produceAll(engine, Array.from({ length: 60 }, (_, i) => ({ topic, key: `n${i}`, value: valueOf(i) })));
  await until('60 records', () => h.count >= 60, 20_000);
  await new Promise((r) => setTimeout(r, 300));
  assert.is(h.count, 60);
  await c.close();
  await cluster.close();
});

s('a commit from a stale generation is refused as a rebalance (ILLEGAL_GENERATION), not applied', async () => {
  const g = `stale-${Date.now()}`;
  const h = recorder();
  const { c, cluster } = consumer(g, h, { autoCommitIntervalMs: 0 });
  const gen = await c.nextGeneration();
  const om = new OffsetManager(cl, new GroupCoordinator(cl, g), { groupId: g });
  om.identity = { generationId: gen.generationId + 5, memberId: gen.memberId, groupInstanceId: null };
  om.mark(topic, 0, 10);
  const err = await om.commit().then(() => null, (e: unknown) => e);
  assert.instance(err, RebalanceNeededError);
  assert.is((err as RebalanceNeededError).resetGeneration, true);
  om.identity = { generationId: gen.generationId, memberId: 'nobody', groupInstanceId: null };
  const err2 = await om.commit().then(() => null, (e: unknown) => e);
  assert.instance(err2, RebalanceNeededError);
  assert.is((err2 as RebalanceNeededError).resetMemberId, true);
  await c.destroy();
  await cluster.close();
});

s.run();
