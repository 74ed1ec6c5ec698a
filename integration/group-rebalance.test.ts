/**
 * Consuming through rebalances, against the real broker: three members read 300,000 records while members join
 * and leave (one closes gracefully, one is destroyed without LeaveGroup, as a crash would). Every record must be
 * processed at least once, and a record processed twice must be one the destroyed member had processed but not
 * yet committed. With cooperative-sticky (KIP-429), partitions that do not move keep being consumed while the
 * group rebalances.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { ProducerEngine } from '../src/client/producer-engine.js';
import { builtInAssignor } from '../src/group/assignors/index.js';
import { GroupConsumer } from '../src/group/group-consumer.js';
import type { Claim, GroupHandler } from '../src/group/session.js';
import { brokers } from './harness/index.js';
import { produceAll, valueOf } from './produce-helpers.js';

const s = suite('group rebalance', { timeoutMs: 240_000 });
const PARTITIONS = 6;
let bootstrap: string[];
let cl: Cluster;
let bigTopic = '';

/** What every member processed: per partition, how often each offset was seen and who saw it first. */
class Ledger {
  readonly counts: Uint8Array[];
  readonly firstBy: Uint8Array[];
  readonly duplicates: { partition: number; offset: number; by: number; firstBy: number }[] = [];
  /** Per partition, processing times (ms) and the member, for the continuity check. */
  readonly times: { at: number; member: number }[][] = Array.from({ length: PARTITIONS }, () => []);
  total = 0;
  constructor(perPartition: number[]) {
    this.counts = perPartition.map((n) => new Uint8Array(n));
    this.firstBy = perPartition.map((n) => new Uint8Array(n));
  }
  see(member: number, partition: number, offset: number): void {
    const c = this.counts[partition]!;
    if (c[offset]! > 0) this.duplicates.push({ partition, offset, by: member, firstBy: this.firstBy[partition]![offset]! });
    else { this.firstBy[partition]![offset] = member; this.total++; }
    c[offset] = Math.min(255, c[offset]! + 1);
    const t = this.times[partition]!;
    if (t.length === 0 || t[t.length - 1]!.at !== Date.now() || t[t.length - 1]!.member !== member) t.push({ at: Date.now(), member });
  }
}

/** A handler that marks each record, pausing 1 ms every `every` records per claim so rebalances happen mid-stream. */
function handler(ledger: Ledger, member: number, every: number): GroupHandler {
  return {
    async consumeClaim(_session, claim: Claim): Promise<void> {
      let n = 0;
      for await (const r of claim.records()) {
        ledger.see(member, claim.partition, r.offset);
        claim.mark(r);
        if (++n % every === 0) await new Promise((res) => setTimeout(res, 1));
      }
    },
  };
}

interface Member { id: number; c: GroupConsumer; cluster: Cluster }

function member(id: number, groupId: string, topic: string, ledger: Ledger, every: number, assignor: 'range' | 'cooperative-sticky'): Member {
  const cluster = new Cluster({ bootstrap, clientId: `member-${id}` });
  const c = new GroupConsumer(cluster, handler(ledger, id, every), {
    groupId, topics: [topic], sessionTimeoutMs: 3_000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 15_000,
    assignors: [builtInAssignor(assignor)], autoCommitIntervalMs: 1_000,
  });
  c.start().catch((err: unknown) => console.error(`member ${id} ended:`, err));
  return { id, c, cluster };
}

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const owned = (m: Member): number => m.c.assignment.reduce((a, tp) => a + tp.partitions.length, 0);

async function setUpTopic(topic: string, records: number): Promise<number[]> {
  await new Admin(cl).createTopics([{ name: topic, numPartitions: PARTITIONS, replicationFactor: 1 }]);
  const engine = new ProducerEngine({ cluster: cl, lingerMs: 5, batchBytes: 64 * 1024 });
  const t0 = performance.now();
  await produceAll(engine, Array.from({ length: records }, (_, i) => ({ topic, partition: i % PARTITIONS, key: `k${i}`, value: valueOf(i) })));
  await engine.close();
  console.log(`    produced ${records} records in ${Math.round(performance.now() - t0)} ms`);
  return Array.from({ length: PARTITIONS }, (_, p) => Math.floor(records / PARTITIONS) + (p < records % PARTITIONS ? 1 : 0));
}

s.before(async () => {
  bootstrap = await brokers();
  cl = new Cluster({ bootstrap, clientId: 'group-rebalance-admin' });
});
s.after(async () => { await cl?.close(); });

s('300,000 records through joins, a graceful leave and a crash: all processed, duplicates only where uncommitted', async () => {
  const topic = (bigTopic = `rebalance-${Date.now()}`);
  const N = 300_000;
  const ledger = new Ledger(await setUpTopic(topic, N));
  const g = `rebalance-${Date.now()}`;
  const t0 = Date.now();
  const step = async (what: string, grow: number): Promise<void> => {
    const at = ledger.total;
    await until(what, () => ledger.total >= Math.min(N, at + grow));
    console.log(`    ${what}: ${ledger.total} processed at ${Date.now() - t0} ms`);
  };
  const a = member(1, g, topic, ledger, 20, 'range');
  await until('a assigned', () => owned(a) === 6);
  await step('a alone', 30_000);
  const b = member(2, g, topic, ledger, 20, 'range');
  await until('a and b', () => owned(a) === 3 && owned(b) === 3);
  await step('a+b', 30_000);
  const c = member(3, g, topic, ledger, 20, 'range');
  await until('a, b, c', () => owned(a) === 2 && owned(b) === 2 && owned(c) === 2);
  await step('a+b+c', 30_000);
  await b.c.close(); // graceful: commit, LeaveGroup
  await b.cluster.close();
  await until('a and c', () => owned(a) === 3 && owned(c) === 3);
  await step('a+c after b left', 30_000);
  const cPartitions = c.c.assignment.flatMap((tp) => tp.partitions);
  const cCommitted = new Map(cPartitions.map((p) => [p, Number(c.c.offsets.committedOffset(topic, p)?.offset ?? 0n)]));
  await c.c.destroy(); // a crash: no commit, no LeaveGroup
  await c.cluster.close();
  const tCrash = Date.now();
  await until('a alone again', () => owned(a) === 6, 20_000);
  console.log(`    a took over the crashed member's partitions after ${Date.now() - tCrash} ms`);
  await until('every record', () => ledger.total >= N, 120_000);
  const elapsed = Date.now() - t0;
  await a.c.close();
  await a.cluster.close();
  for (let p = 0; p < PARTITIONS; p++) {
    const missing = ledger.counts[p]!.findIndex((n) => n === 0);
    assert.is(missing, -1, `partition ${p} offset ${missing} never processed`);
  }
  // A duplicate must be a record the crashed member processed at or after its last commit on that partition.
  for (const d of ledger.duplicates) {
    const base = cCommitted.get(d.partition);
    assert.ok(d.firstBy === 3 && base !== undefined && d.offset >= base,
      `unexpected duplicate ${JSON.stringify(d)} (crashed member committed ${base} there)`);
  }
  console.log(`    ${N} records in ${elapsed} ms with 4 rebalances; ${ledger.duplicates.length} duplicates, all uncommitted work of the crashed member`);
});

s('cooperative-sticky: partitions that stay keep being consumed while a member joins', async () => {
  const topic = `coop-${Date.now()}`;
  const N = 120_000;
  const ledger = new Ledger(await setUpTopic(topic, N));
  const g = `coop-${Date.now()}`;
  // Slow consumers (1 ms every 2 records per claim), so the stream outlasts the rebalance.
  const a = member(1, g, topic, ledger, 2, 'cooperative-sticky');
  const b = member(2, g, topic, ledger, 2, 'cooperative-sticky');
  await until('a and b', () => owned(a) === 3 && owned(b) === 3);
  await until('both consuming', () => ledger.total > 3_000);
  const before = new Map([...a.c.assignment, ...b.c.assignment].flatMap((tp) => tp.partitions.map((p) => [p, owned(a) && a.c.assignment.some((x) => x.partitions.includes(p)) ? 1 : 2] as const)));
  const tJoin = Date.now();
  const c = member(3, g, topic, ledger, 2, 'cooperative-sticky');
  await until('a, b, c balanced', () => owned(a) === 2 && owned(b) === 2 && owned(c) === 2, 30_000);
  const tDone = Date.now();
  const stayed = [...before].filter(([p, m]) => (m === 1 ? a : b).c.assignment.some((x) => x.partitions.includes(p)));
  assert.is(stayed.length, 4, 'cooperative-sticky moves only two partitions');
  for (const [p, m] of stayed) {
    const during = ledger.times[p]!.filter((t) => t.at > tJoin && t.at < tDone && t.member === m).length;
    assert.ok(during > 0, `partition ${p} was not consumed during the ${tDone - tJoin} ms rebalance`);
  }
  console.log(`    rebalance with a joining member took ${tDone - tJoin} ms; the 4 partitions that stayed were consumed throughout`);
  await until('every record', () => ledger.total >= N, 180_000);
  // One at a time, each after the group settled: a member that closes while another's leave is still being
  // rebalanced commits into a generation that is ending, and the coordinator refuses that (Java's consumer too).
  await c.c.close();
  await until('a and b after c left', () => owned(a) === 3 && owned(b) === 3);
  await b.c.close();
  await until('a alone', () => owned(a) === 6);
  await a.c.close();
  await Promise.all([a, b, c].map((m) => m.cluster.close()));
  for (let p = 0; p < PARTITIONS; p++) assert.is(ledger.counts[p]!.indexOf(0), -1, `partition ${p} has a gap`);
  assert.is(ledger.duplicates.length, 0, 'graceful cooperative rebalances commit before moving a partition: no duplicates');
});

s('throughput: one member reads the 300,000 records, marking each (auto-commit on)', async () => {
  assert.ok(bigTopic, 'the first test made the topic');
  const N = 300_000;
  const ledger = new Ledger(Array.from({ length: PARTITIONS }, () => N / PARTITIONS));
  const m = member(1, `throughput-${Date.now()}`, bigTopic, ledger, Number.MAX_SAFE_INTEGER, 'range');
  await until('assigned', () => owned(m) === 6);
  const t0 = performance.now();
  await until('every record', () => ledger.total >= N, 120_000);
  const ms = performance.now() - t0;
  await m.c.close();
  await m.cluster.close();
  assert.is(ledger.duplicates.length, 0);
  console.log(`    ${N} records (100-byte values) in ${Math.round(ms)} ms: ${Math.round(N / (ms / 1000))} records/s through claims with a mark each`);
});

s.run();
