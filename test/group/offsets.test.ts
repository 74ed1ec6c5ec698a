/**
 * The offset manager (marks, commits, start offsets) against the fake cluster's group coordinator
 * (test/fake-cluster), over the wire with our Cluster client. The member whose identity commits carry is seated
 * in the group with its generation (group-hooks.ts), so the coordinator accepts or refuses commits as Kafka's would.
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../kit.js';
import { Cluster } from '../../src/client/cluster.js';
import { GroupCoordinator } from '../../src/group/coordinator.js';
import { Claim } from '../../src/group/session.js';
import { OffsetManager, RebalanceNeededError, splitKey, tpKey } from '../../src/group/offsets.js';
import { BrokerError } from '../../src/errors.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';
import { committedEpoch, committedOffsets, seatMember, setCommitted } from '../fake-cluster/group-hooks.js';

const s = suite('group offsets (fake cluster)', { timeoutMs: 10_000 });

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

/** What group g committed for t-`partition` (as a bigint, as the manager counts), undefined when nothing. */
const committed = (partition: number): bigint | undefined => {
  const o = fake.committed('g', 't', partition);
  return o === undefined ? undefined : BigInt(o);
};
/** Fault rules answering `api` with each code in turn, once each. */
const fail = (api: string, ...codes: number[]): void => { for (const code of codes) fake.fault({ api, times: 1, action: 'error', code }); };

function setUp(initialOffset?: 'oldest' | 'newest'): OffsetManager {
  seatMember(fake, 'g', { memberId: 'm-1', generation: 7 });
  const om = new OffsetManager(cluster, new GroupCoordinator(cluster, 'g', { retryMinMs: 2, retryMaxMs: 5 }), { groupId: 'g', initialOffset });
  om.identity = { generationId: 7, memberId: 'm-1', groupInstanceId: 'i-1' };
  return om;
}

s('tp keys survive topics with odd characters', () => {
  assert.equal(splitKey(tpKey('a.b-c_d', 12)), ['a.b-c_d', 12]);
});

s('mark commits offset + 1 with the leader epoch and the member identity; marks only move forward', async () => {
  const om = setUp();
  om.mark('t', 0, 41, 3);
  om.mark('t', 0, 9, 3); // older: ignored
  om.markNext('t', 1, 100n);
  assert.ok(om.hasPending());
  await om.commit();
  assert.is(committed(0), 42n);
  assert.is(committedEpoch(fake, 'g', 't', 0), 3);
  assert.is(committed(1), 100n);
  const body = fake.log.of('OffsetCommit')[0]!.body;
  assert.equal([body.groupId, body.generationIdOrMemberEpoch, body.memberId, body.groupInstanceId], ['g', 7, 'm-1', 'i-1']);
  assert.not.ok(om.hasPending());
  om.mark('t', 0, 20); // below what is committed
  assert.not.ok(om.hasPending());
  await om.commit();
  assert.is(fake.log.count('OffsetCommit'), 1, 'nothing to commit, no request');
});

s('commit of some partitions leaves the others pending', async () => {
  const om = setUp();
  om.mark('t', 0, 1);
  om.mark('t', 1, 1);
  await om.commit([tpKey('t', 1)]);
  assert.equal([...committedOffsets(fake, 'g').keys()], ['t-1']);
  assert.ok(om.hasPending([tpKey('t', 0)]));
  om.forget([tpKey('t', 0)]);
  assert.not.ok(om.hasPending());
});

s('coordinator errors in a commit rediscover and retry; generation errors become RebalanceNeededError', async () => {
  const om = setUp();
  fail('OffsetCommit', errorCodes.NOT_COORDINATOR, errorCodes.COORDINATOR_LOAD_IN_PROGRESS);
  om.mark('t', 0, 1);
  await om.commit();
  assert.is(fake.log.count('OffsetCommit'), 3);
  assert.is(fake.log.count('FindCoordinator'), 2, 'rediscovered once (NOT_COORDINATOR), not for LOAD_IN_PROGRESS');
  const cases: [number, boolean, boolean][] = [
    [errorCodes.REBALANCE_IN_PROGRESS, false, false], [errorCodes.ILLEGAL_GENERATION, true, false], [errorCodes.UNKNOWN_MEMBER_ID, true, true],
  ];
  for (const [code, gen, member] of cases) {
    fail('OffsetCommit', code);
    om.mark('t', 0, fake.committed('g', 't', 0)! + 5);
    const err = await om.commit().then(() => null, (e: unknown) => e);
    assert.instance(err, RebalanceNeededError);
    assert.equal([(err as RebalanceNeededError).resetGeneration, (err as RebalanceNeededError).resetMemberId], [gen, member]);
    assert.ok(om.hasPending(), 'a refused commit keeps the mark');
  }
  fail('OffsetCommit', errorCodes.OFFSET_METADATA_TOO_LARGE);
  const other = await om.commit().then(() => null, (e: unknown) => e);
  assert.instance(other, BrokerError);
});

s('a mark made while a commit is in flight stays pending for the next one', async () => {
  const om = setUp();
  om.mark('t', 0, 1);
  const first = om.commit();
  om.mark('t', 0, 5);
  await first;
  assert.is(committed(0), 2n);
  assert.ok(om.hasPending());
  await om.commit();
  assert.is(committed(0), 6n);
});

s('commits asked for while one is in flight share the one that follows it (one request, every mark in it)', async () => {
  const om = setUp();
  om.mark('t', 0, 1);
  const first = om.commit();
  const later: Promise<void>[] = [];
  for (let i = 2; i < 1002; i++) {
    om.mark('t', i % 3, i);
    later.push(om.commit());
  }
  assert.ok(later.every((p) => p === later[0]), 'one promise for all of them, not a waiter each (that was quadratic)');
  await first;
  await Promise.all(later);
  assert.is(fake.log.count('OffsetCommit'), 2, 'the 1,000 later callers shared one commit');
  assert.equal([committed(0), committed(1), committed(2)], [1000n, 1001n, 1002n]);
  assert.not.ok(om.hasPending());
});

s('start offsets: committed where there is one, else ListOffsets earliest (oldest) or latest (newest)', async () => {
  await fake.append('t', 1, Array.from({ length: 100 }, (_, i) => `v${i}`)); // t-1 holds offsets 0 to 99
  for (const [policy, expected] of [['oldest', 0n], ['newest', 100n]] as const) {
    const om = setUp(policy);
    setCommitted(fake, 'g', 't', 2, 33);
    const since = fake.log.entries.length;
    const starts = await om.startOffsets([{ topic: 't', partitions: [1, 2] }]);
    assert.is(starts.get(tpKey('t', 2))!.offset, 33n);
    assert.is(starts.get(tpKey('t', 1))!.offset, expected);
    const list = fake.log.entries.slice(since).find((l) => l.api === 'ListOffsets')!.body as { topics: { partitions: { timestamp: bigint }[] }[] };
    assert.is(list.topics[0].partitions[0].timestamp, policy === 'oldest' ? -2n : -1n);
  }
});

s('commits use the stable generation of the source; none while rebalancing (no request, marks kept)', async () => {
  seatMember(fake, 'g', { memberId: 'm-9', generation: 12 });
  let stable: { generationId: number; memberId: string; groupInstanceId: string | null } | undefined;
  const om = new OffsetManager(cluster, new GroupCoordinator(cluster, 'g'), { groupId: 'g', identitySource: () => stable });
  om.mark('t', 0, 4);
  const err = await om.commit().then(() => null, (e: unknown) => e);
  assert.is((err as { code?: string }).code, 'ERR_KAFKA_NO_STABLE_GENERATION');
  assert.is(fake.log.count('OffsetCommit'), 0);
  assert.ok(om.hasPending());
  stable = { generationId: 12, memberId: 'm-9', groupInstanceId: null };
  fail('OffsetCommit', errorCodes.ILLEGAL_GENERATION);
  const refused = await om.commit().then(() => null, (e: unknown) => e);
  assert.is((refused as RebalanceNeededError).generationId, 12, 'the refusal names the generation it was sent with');
  await om.commit();
  assert.is(fake.log.of('OffsetCommit').at(-1)!.body.generationIdOrMemberEpoch, 12);
  assert.is(committed(0), 5n);
});

s('auto-commit commits marks on its interval and stops when told', async () => {
  const om = setUp();
  const errors: unknown[] = [];
  om.startAutoCommit(20, (e) => errors.push(e));
  om.mark('t', 3, 10);
  await eventually('auto-committed', () => committed(3) === 11n);
  om.stopAutoCommit();
  om.mark('t', 3, 20);
  await new Promise((r) => setTimeout(r, 80));
  assert.is(committed(3), 11n);
  assert.equal(errors, []);
});

s('a claim keeps its mark between records, and starts a new one once that mark was committed or forgotten', async () => {
  const om = setUp();
  const claim = new Claim('t', 0, 0, undefined, om);
  claim.markNext(5, 2);
  claim.markNext(3, 2); // older: ignored, also on the kept mark
  claim.mark({ offset: 9, leaderEpoch: 4 });
  await om.commit();
  assert.is(committed(0), 10n);
  assert.is(committedEpoch(fake, 'g', 't', 0), 4);
  assert.not.ok(om.hasPending(), 'the committed mark is gone');
  claim.markNext(8); // below the commit: nothing pending, as a mark through the manager
  assert.not.ok(om.hasPending());
  claim.markNext(12, 5);
  assert.ok(om.hasPending(), 'a new mark after the commit');
  om.forget([tpKey('t', 0)]);
  assert.not.ok(om.hasPending());
  claim.markNext(13, 5);
  assert.ok(om.hasPending(), 'a forgotten mark is not advanced in secret');
  await om.commit();
  assert.is(committed(0), 13n);
});

s.run();
