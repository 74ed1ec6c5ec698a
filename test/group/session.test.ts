/**
 * The session manager (claims, revoke, lose, cooperative hand-over) committing through the fake cluster's group
 * coordinator (test/fake-cluster) with our Cluster client; member m-1 is seated in the group at the generation
 * each test commits with (group-hooks.ts).
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Cluster } from '../../src/client/cluster.js';
import { GroupCoordinator } from '../../src/group/coordinator.js';
import type { Generation } from '../../src/group/membership.js';
import { OffsetManager } from '../../src/group/offsets.js';
import { SessionManager, type Claim, type GroupHandler, type GroupSession } from '../../src/group/session.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';
import { committedOffsets, seatMember, setCommitted } from '../fake-cluster/group-hooks.js';

const s = suite('group sessions', { timeoutMs: 10_000 });

let fake: FakeCluster;
let cluster: Cluster;
s.before.each(async () => {
  fake = await FakeCluster.start({ topics: { t: 6 } });
  cluster = new Cluster({ bootstrap: fake.bootstrap, retryMinMs: 2, retryMaxMs: 5 });
});
s.after.each(async () => {
  await cluster.close({ timeoutMs: 0 });
  await fake.close();
});

/** What group g committed for t-`partition`, as a bigint (undefined: nothing). */
const committed = (partition: number): bigint | undefined => {
  const o = fake.committed('g', 't', partition);
  return o === undefined ? undefined : BigInt(o);
};

const gen = (generationId: number, rebalanceProtocol: 'eager' | 'cooperative' = 'eager'): Generation => ({
  generationId, memberId: 'm-1', groupInstanceId: null, leaderId: 'm-1', protocolName: 'range', rebalanceProtocol, isLeader: true,
});

/** A handler whose claims "process" a record every few ms (marking offsets 0, 1, 2, ...) until their signal aborts. */
/** `ignoreAbort`: the handler runs on after its claim's signal, until `until` aborts (the test's end) or 5000 marks. */
function worker(log: string[], options: { ignoreAbort?: boolean; until?: AbortSignal; finishMs?: number } = {}): GroupHandler {
  return {
    setup: (session: GroupSession) => { log.push(`setup g${session.generationId}`); },
    cleanup: (session: GroupSession) => { log.push(`cleanup g${session.generationId} aborted=${session.signal.aborted}`); },
    async consumeClaim(session: GroupSession, claim: Claim): Promise<void> {
      log.push(`consume ${claim.partition}@${claim.initialOffset} g${session.generationId}`);
      let offset = claim.initialOffset;
      while (!claim.signal.aborted || (options.ignoreAbort && !options.until?.aborted)) {
        await new Promise((r) => setTimeout(r, 2));
        claim.mark({ offset: offset++ });
        if (options.ignoreAbort && offset > claim.initialOffset + 5000) break;
      }
      if (options.finishMs) { // an in-flight message finishing after the signal, then marked
        await new Promise((r) => setTimeout(r, options.finishMs));
        claim.mark({ offset: offset++ });
      }
      log.push(`done ${claim.partition} next=${offset}`);
    },
  };
}

/** A session manager committing as m-1, seated in group g at `generation`. */
function setUp(handler: GroupHandler, revokeTimeoutMs = 2_000, generation = 1): { sm: SessionManager; errors: unknown[] } {
  seatMember(fake, 'g', { memberId: 'm-1', generation });
  const om = new OffsetManager(cluster, new GroupCoordinator(cluster, 'g'), { groupId: 'g' });
  const errors: unknown[] = [];
  const sm = new SessionManager(handler, om, undefined, { revokeTimeoutMs, onError: (e) => errors.push(e) });
  return { sm, errors };
}

s('assign: start offsets from the group, setup before the claims run', async () => {
  const log: string[] = [];
  const { sm } = setUp(worker(log));
  setCommitted(fake, 'g', 't', 1, 50);
  await sm.assign([{ topic: 't', partitions: [0, 1] }], [{ topic: 't', partitions: [0, 1] }], gen(1));
  await sm.started;
  assert.equal(log, ['setup g1', 'consume 0@0 g1', 'consume 1@50 g1']);
  assert.equal(sm.current!.assignment, [{ topic: 't', partitions: [0, 1] }]);
  await sm.revoke([{ topic: 't', partitions: [0, 1] }], gen(1));
  sm.close();
});

s('revoke waits for in-flight work, commits what it marked, then ends the session (eager)', async () => {
  const log: string[] = [];
  const { sm } = setUp(worker(log, { finishMs: 50 }), 2_000, 3);
  await sm.assign([{ topic: 't', partitions: [0] }], [{ topic: 't', partitions: [0] }], gen(3));
  await sm.started;
  const session = sm.current!;
  await new Promise((r) => setTimeout(r, 30));
  await sm.revoke([{ topic: 't', partitions: [0] }], gen(3));
  assert.ok(log.at(-2)!.startsWith('done 0'));
  assert.is(log.at(-1), 'cleanup g3 aborted=true');
  const commit = fake.log.of('OffsetCommit').at(-1)!.body;
  const t0 = committed(0)!;
  assert.ok(t0 > 1n, `committed ${t0}`);
  assert.is(commit.generationIdOrMemberEpoch, 3);
  assert.ok(session.signal.aborted);
  assert.is(sm.current, undefined);
  // Everything the handler marked, including the message that finished after the abort, was committed.
  assert.is(`done 0 next=${t0}`, log.at(-2));
  assert.is(fake.log.count('OffsetCommit'), 1);
  sm.close();
});

s('a handler that ignores the abort is given up after revokeTimeoutMs; marks so far are committed', async () => {
  const log: string[] = [];
  const testEnd = new AbortController(); // the ignoring handler would otherwise tick on for 10 s after the test
  const { sm } = setUp(worker(log, { ignoreAbort: true, until: testEnd.signal }), 60);
  await sm.assign([{ topic: 't', partitions: [0] }], [{ topic: 't', partitions: [0] }], gen(1));
  await sm.started;
  const t0 = Date.now();
  await sm.revoke([{ topic: 't', partitions: [0] }], gen(1));
  const ms = Date.now() - t0;
  assert.ok(ms >= 55 && ms < 1_000, `revoke took ${ms} ms`);
  assert.ok((committed(0) ?? 0n) > 0n);
  assert.not.ok(log.some((l) => l.startsWith('done 0')));
  testEnd.abort();
  sm.close();
});

s('lose stops claims without committing', async () => {
  const log: string[] = [];
  const { sm } = setUp(worker(log));
  await sm.assign([{ topic: 't', partitions: [0, 1] }], [{ topic: 't', partitions: [0, 1] }], gen(1));
  await sm.started;
  await new Promise((r) => setTimeout(r, 20));
  await sm.lose([{ topic: 't', partitions: [0, 1] }]);
  assert.is(fake.log.count('OffsetCommit'), 0);
  assert.ok(log.includes('cleanup g1 aborted=true'));
  sm.close();
});

s('cooperative: only revoked claims stop; the others keep running into the next generation', async () => {
  const log: string[] = [];
  const { sm } = setUp(worker(log), 2_000, 2);
  let stayed: Claim | undefined;
  const base = worker(log);
  (sm as unknown as { handler: GroupHandler }).handler.consumeClaim = (session, claim) => {
    if (claim.partition === 0) stayed = claim;
    return base.consumeClaim(session, claim);
  };
  await sm.assign([{ topic: 't', partitions: [0, 1] }], [{ topic: 't', partitions: [0, 1] }], gen(1, 'cooperative'));
  await sm.started;
  await sm.revoke([{ topic: 't', partitions: [1] }], gen(2, 'cooperative'));
  assert.ok(log.some((l) => l.startsWith('done 1')));
  assert.not.ok(stayed!.signal.aborted, 'partition 0 keeps going');
  assert.equal([...committedOffsets(fake, 'g').keys()], ['t-1'], 'only the revoked partition was committed');
  await sm.assign([], [{ topic: 't', partitions: [0] }], gen(2, 'cooperative'));
  assert.ok(log.includes('cleanup g1 aborted=true'));
  assert.is(sm.current!.generationId, 2);
  assert.equal(sm.current!.assignment, [{ topic: 't', partitions: [0] }]);
  assert.not.ok(stayed!.signal.aborted);
  assert.not.ok(log.some((l) => l.startsWith('done 0')));
  await sm.revoke([{ topic: 't', partitions: [0] }], gen(2, 'cooperative'));
  assert.ok(stayed!.signal.aborted);
  sm.close();
});

s('handler failures are reported, never thrown into the membership', async () => {
  const { sm, errors } = setUp({
    setup: () => { throw new Error('setup failed'); },
    consumeClaim: async () => { throw new Error('claim failed'); },
  });
  await sm.assign([{ topic: 't', partitions: [0] }], [{ topic: 't', partitions: [0] }], gen(1));
  await sm.started;
  await sm.revoke([{ topic: 't', partitions: [0] }], gen(1));
  assert.equal(errors.map((e) => (e as Error).message), ['setup failed', 'claim failed']);
  sm.close();
});

s.run();
