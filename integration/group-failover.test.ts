/**
 * Coordinator failover on a 3-node cluster: `kill -9` of the broker coordinating the group while two members
 * consume. The members must find the new coordinator (NOT_COORDINATOR / dead socket → FindCoordinator again),
 * keep or regain their membership, keep committing, and process every record at least once.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { ProducerEngine } from '../src/client/producer-engine.js';
import { GroupConsumer } from '../src/group/group-consumer.js';
import { GroupCoordinator } from '../src/group/coordinator.js';
import { OffsetManager } from '../src/group/offsets.js';
import type { Claim, GroupHandler } from '../src/group/session.js';
import { cluster as threeNodes } from './harness/index.js';
import { produceAll, valueOf } from './produce-helpers.js';

const s = suite('group coordinator failover', { timeoutMs: 240_000 });
const N = 60_000;
const PARTITIONS = 6;

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

s('kill -9 of the group coordinator: members move to the new one, every record processed, commits continue', async () => {
  const c = await threeNodes();
  const admin = new Cluster({ bootstrap: c.bootstrap, clientId: 'failover-admin' });
  const topic = `group-failover-${Date.now()}`;
  const g = `failover-${Date.now()}`;
  await new Admin(admin).createTopics([{ name: topic, numPartitions: PARTITIONS, replicationFactor: 3 }]);
  const engine = new ProducerEngine({ cluster: admin, lingerMs: 5 });
  await produceAll(engine, Array.from({ length: N }, (_, i) => ({ topic, partition: i % PARTITIONS, key: `k${i}`, value: valueOf(i) })));
  await engine.close();

  const seen = Array.from({ length: PARTITIONS }, () => new Uint8Array(N / PARTITIONS));
  let total = 0;
  const handler: GroupHandler = {
    async consumeClaim(_s, claim: Claim) {
      let n = 0;
      for await (const r of claim.records()) {
        if (seen[claim.partition]![r.offset]++ === 0) total++;
        claim.mark(r);
        if (++n % 5 === 0) await new Promise((res) => setTimeout(res, 1));
      }
    },
  };
  const errors: unknown[] = [];
  const members = [1, 2].map((i) => {
    const cl = new Cluster({ bootstrap: c.bootstrap, clientId: `failover-${i}`, requestTimeoutMs: 5_000 });
    const m = new GroupConsumer(cl, handler, { groupId: g, topics: [topic], sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500, onError: (e) => errors.push(e) });
    m.start().catch((e: unknown) => errors.push(e));
    return { cl, m };
  });
  await until('consuming', () => total >= N / 4);
  const victim = members[0]!.m.coordinator.nodeId;
  assert.ok(c.nodes.some((n) => n.id === victim), `the coordinator (${victim}) is one of the cluster's nodes`);
  const gensBefore = members.map((x) => x.m.generation?.generationId);
  await c.kill(victim);
  try {
    const tKill = Date.now();
    console.log(`    killed coordinator node ${victim} at ${total} records (generations ${gensBefore.join(',')})`);
    await until('members on a new coordinator', () => members.every((x) => x.m.coordinator.nodeId > 0 && x.m.coordinator.nodeId !== victim), 60_000);
    console.log(`    both members found coordinator ${members[0]!.m.coordinator.nodeId} after ${Date.now() - tKill} ms`);
    await until('every record', () => total >= N, 120_000);
    console.log(`    all ${N} records processed ${Date.now() - tKill} ms after the kill; generations now ${members.map((x) => x.m.generation?.generationId).join(',')}`);
    for (const x of members) await x.m.close();
    const committed = await new OffsetManager(admin, new GroupCoordinator(admin, g), { groupId: g }).fetchCommitted([{ topic, partitions: [0, 1, 2, 3, 4, 5] }]);
    assert.is([...committed.values()].reduce((a, o) => a + o.offset, 0n), BigInt(N), 'final commits landed on the new coordinator');
    for (let p = 0; p < PARTITIONS; p++) assert.is(seen[p]!.indexOf(0), -1, `partition ${p} has a gap`);
  } finally {
    await c.start(victim);
  }
  await Promise.all(members.map((x) => x.cl.close()));
  await admin.close();
});

s.run();
