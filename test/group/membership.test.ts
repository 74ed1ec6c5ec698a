/**
 * Classic group membership (join, sync, heartbeat, leave, rebalances, start offsets) against the fake cluster's
 * group coordinator (test/fake-cluster) over the wire with our Cluster client. Errors the coordinator would not
 * give on its own are injected with faults; member ids are those the coordinator handed out (MEMBER_ID_REQUIRED).
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../kit.js';
import { Cluster } from '../../src/client/cluster.js';
import { builtInAssignor } from '../../src/group/assignors/index.js';
import { decodeSubscription, encodeAssignment, type TopicPartitions } from '../../src/group/consumer-protocol.js';
import { GroupCoordinator } from '../../src/group/coordinator.js';
import { GroupMembership, isFatalGroupError, toTopicPartitions, type Generation, type MembershipListener, type MembershipOptions } from '../../src/group/membership.js';
import { OffsetManager, tpKey } from '../../src/group/offsets.js';
import { SessionManager } from '../../src/group/session.js';
import { BrokerError, DecodeError, KafkaError } from '../../src/errors.js';
import { brokerError, errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCluster, type LoggedRequest } from '../fake-cluster/fake-cluster.js';
import { growTopic } from '../fake-cluster/group-hooks.js';

const s = suite('group membership (fake cluster)', { timeoutMs: 10_000 });

let fake: FakeCluster;
let cluster: Cluster;
/** Member ids the coordinator handed out with MEMBER_ID_REQUIRED, in order. */
let handedOut: string[];
s.before.each(async () => {
  fake = await FakeCluster.start({ topics: { t: 6 } });
  cluster = new Cluster({ bootstrap: fake.bootstrap, retryMinMs: 5, retryMaxMs: 20, retryDeadlineMs: 100 }); // an unknown topic fails its look-up in 100 ms
  handedOut = [];
  fake.onAnswer((req, res) => { if (req.api === 'JoinGroup' && res?.errorCode === errorCodes.MEMBER_ID_REQUIRED) handedOut.push(res.memberId as string); });
});
s.after.each(async () => {
  await cluster.close({ timeoutMs: 0 });
  await fake.close();
});

/** Requests of an API to group `group` (default g), in order. */
type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sent = (api: string, group = 'g'): (LoggedRequest & { body: Body })[] =>
  fake.log.of(api).filter((l) => api === 'FindCoordinator' || l.body.groupId === group || (l.body as Body).groups?.[0]?.groupId === group);
const requests = (api: string, group = 'g'): number => sent(api, group).length;
/** Fault rules answering `api` with each code in turn, once each. */
const fail = (api: string, ...codes: number[]): void => { for (const code of codes) fake.fault({ api, times: 1, action: 'error', code }); };
/** The next SyncGroup answer hands out `assignment` instead of what the leader sent. */
const nextAssignment = (assignment: Buffer): void => { fake.fault({ api: 'SyncGroup', times: 1, action: 'mutate', mutate: (res) => { res.assignment = assignment; } }); };

class Recorder implements MembershipListener {
  events: string[] = [];
  owned: TopicPartitions[] = [];
  gens: Generation[] = [];
  errors: unknown[] = [];
  assignDelayMs = 0;
  error(err: unknown): void { this.errors.push(err); }
  async revoke(p: TopicPartitions[]): Promise<void> { this.events.push(`revoke ${count(p)}`); }
  async lose(p: TopicPartitions[]): Promise<void> { this.events.push(`lose ${count(p)}`); }
  async assign(added: TopicPartitions[], all: TopicPartitions[], g: Generation): Promise<void> {
    this.events.push(`assign ${count(added)}/${count(all)} g${g.generationId}`);
    this.owned = all;
    this.gens.push(g);
    if (this.assignDelayMs) await new Promise((r) => setTimeout(r, this.assignDelayMs));
  }
}
const count = (p: TopicPartitions[]): number => p.reduce((a, tp) => a + tp.partitions.length, 0);

function setUp(options: Partial<MembershipOptions> = {}): { rec: Recorder; m: GroupMembership; run: Promise<void> } {
  const rec = new Recorder();
  const groupId = options.groupId ?? 'g';
  const m = new GroupMembership(cluster, new GroupCoordinator(cluster, groupId, { retryMinMs: 5, retryMaxMs: 20 }), rec, {
    groupId, topics: ['t'], heartbeatIntervalMs: 20, sessionTimeoutMs: 1_000, retryMinMs: 5, retryMaxMs: 20, ...options,
  });
  const run = m.start();
  run.catch(() => undefined);
  return { rec, m, run };
}

s('joins with the KIP-394 round trip, leads, assigns itself every partition and heartbeats', async () => {
  const { rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  const joins = sent('JoinGroup');
  assert.is(joins.length, 2);
  assert.is(joins[0]!.body.memberId, '');
  assert.is(handedOut.length, 1);
  assert.ok(handedOut[0]!.length > 0);
  assert.is(joins[1]!.body.memberId, handedOut[0], 'second join carries the id from MEMBER_ID_REQUIRED');
  assert.is(joins[1]!.body.protocolType, 'consumer');
  const sub = decodeSubscription(joins[1]!.body.protocols[0].metadata);
  // range (the default) writes v1, which Sarama (dp-kafka) members can read; consumer-protocol.test.ts says why
  assert.equal([sub.version, sub.topics, sub.generationId], [1, ['t'], -1]);
  assert.equal(rec.owned, [{ topic: 't', partitions: [0, 1, 2, 3, 4, 5] }]);
  assert.equal(rec.gens[0]!.isLeader, true);
  await eventually('heartbeats', () => requests('Heartbeat') >= 3);
  const hb = sent('Heartbeat')[0]!.body;
  assert.equal([hb.generationId, hb.memberId], [1, handedOut[0]]);
  await m.close();
});

s('REBALANCE_IN_PROGRESS on a heartbeat: an eager member revokes everything, rejoins with its id, commits nothing lost', async () => {
  const { rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('rejoined', () => rec.gens.length === 2);
  assert.equal(rec.events, ['assign 6/6 g1', 'revoke 6', 'assign 6/6 g2']);
  assert.is(sent('JoinGroup').at(-1)!.body.memberId, handedOut[0]);
  assert.is(handedOut.length, 1);
  await m.close();
});

s('UNKNOWN_MEMBER_ID on a heartbeat: partitions are lost (not revoked) and the member joins afresh', async () => {
  const { rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  // The coordinator forgets the member (its next heartbeat is answered UNKNOWN_MEMBER_ID); the group, empty, ends generation 1 with 2.
  assert.is(fake.group('g').remove(rec.gens[0]!.memberId), 0);
  await eventually('rejoined', () => rec.gens.length === 2);
  assert.equal(rec.events, ['assign 6/6 g1', 'lose 6', 'assign 6/6 g3']);
  assert.is(sent('Heartbeat').at(-1)!.body.memberId, handedOut[0]);
  assert.is(handedOut.length, 2);
  assert.is.not(handedOut[1], handedOut[0]);
  assert.is(rec.gens[1]!.memberId, handedOut[1], 'a new member id via MEMBER_ID_REQUIRED');
  await m.close();
});

s('ILLEGAL_GENERATION on a heartbeat: lost, rejoins keeping its member id', async () => {
  const { rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  fail('Heartbeat', errorCodes.ILLEGAL_GENERATION);
  await eventually('rejoined', () => rec.gens.length === 2);
  assert.equal(rec.events, ['assign 6/6 g1', 'lose 6', 'assign 6/6 g2']);
  assert.is(rec.gens[1]!.memberId, handedOut[0]);
  assert.is(handedOut.length, 1);
  await m.close();
});

s('NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE rediscover; COORDINATOR_LOAD_IN_PROGRESS retries the same coordinator', async () => {
  const { rec, m } = setUp();
  fail('JoinGroup', errorCodes.COORDINATOR_LOAD_IN_PROGRESS, errorCodes.COORDINATOR_LOAD_IN_PROGRESS);
  await eventually('assigned', () => rec.gens.length === 1);
  assert.is(requests('FindCoordinator'), 1, 'loading: same coordinator');
  assert.is(requests('JoinGroup'), 4);
  fail('Heartbeat', errorCodes.NOT_COORDINATOR);
  await eventually('rediscovered', () => requests('FindCoordinator') === 2);
  fail('Heartbeat', errorCodes.COORDINATOR_NOT_AVAILABLE);
  await eventually('rediscovered again', () => requests('FindCoordinator') === 3);
  // The last request of the group (metadata and version look-ups aside) is a heartbeat again.
  await eventually('heartbeats resume', () => fake.log.entries.filter((l) => l.api !== 'Metadata' && l.api !== 'ApiVersions').at(-1)!.api === 'Heartbeat');
  assert.is(rec.gens.length, 1, 'no rebalance for a coordinator move');
  await m.close();
});

s('heartbeats continue while the application blocks in a callback', async () => {
  const { rec, m } = setUp();
  rec.assignDelayMs = 300;
  await eventually('assign called', () => rec.gens.length === 1);
  const before = requests('Heartbeat');
  await new Promise((r) => setTimeout(r, 250));
  assert.ok(requests('Heartbeat') - before >= 5, `heartbeats during the block: ${requests('Heartbeat') - before}`);
  await m.close();
});

s('close revokes then sends LeaveGroup; a static member (KIP-345) sends none', async () => {
  const { rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  await m.close();
  assert.equal(rec.events.at(-1), 'revoke 6');
  const leave = sent('LeaveGroup');
  assert.is(leave.length, 1);
  assert.equal(leave[0]!.body.members, [{ memberId: handedOut[0], groupInstanceId: null, reason: 'the consumer is closing' }]);
  const st = setUp({ groupId: 'static', groupInstanceId: 'i-1' });
  await eventually('static assigned', () => st.rec.gens.length === 1);
  assert.is(requests('JoinGroup', 'static'), 1, 'static members skip MEMBER_ID_REQUIRED');
  assert.is(sent('JoinGroup', 'static')[0]!.body.groupInstanceId, 'i-1');
  await st.m.close();
  assert.is(requests('LeaveGroup', 'static'), 0);
  assert.equal(st.rec.events.at(-1), 'revoke 6');
});

s('FENCED_INSTANCE_ID is fatal: the membership ends with it and partitions are lost', async () => {
  const { rec, m, run } = setUp({ groupInstanceId: 'i-1' });
  await eventually('assigned', () => rec.gens.length === 1);
  fail('Heartbeat', errorCodes.FENCED_INSTANCE_ID);
  const err = await run.then(() => null, (e: unknown) => e);
  assert.instance(err, BrokerError);
  assert.is((err as BrokerError).errorName, 'FENCED_INSTANCE_ID');
  assert.equal(rec.events.at(-1), 'lose 6');
  await m.close();
  assert.is(requests('LeaveGroup'), 0);
});

s('cooperative members keep their partitions through a rebalance and send them as owned', async () => {
  const { rec, m } = setUp({ assignors: [builtInAssignor('cooperative-sticky')] });
  await eventually('assigned', () => rec.gens.length === 1);
  fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('rejoined', () => rec.gens.length === 2);
  assert.equal(rec.events, ['assign 6/6 g1', 'assign 0/6 g2'], 'nothing revoked, nothing new');
  const sub = decodeSubscription(sent('JoinGroup').at(-1)!.body.protocols[0].metadata);
  assert.equal(sub.ownedPartitions, [{ topic: 't', partitions: [0, 1, 2, 3, 4, 5] }]);
  assert.equal([sub.version, sub.generationId], [3, 1]);
  await m.close();
});

function sessionSetUp(started: string[], errors: unknown[]): GroupMembership {
  const coordinator = new GroupCoordinator(cluster, 'g', { retryMinMs: 5, retryMaxMs: 20 });
  const sessions = new SessionManager({ consumeClaim: async (session, claim) => { started.push(`${claim.topic}-${claim.partition}@g${session.generationId}`); } },
    new OffsetManager(cluster, coordinator, { groupId: 'g' }), undefined, { onError: (e) => errors.push(e), retryMinMs: 5, retryMaxMs: 20 });
  const m = new GroupMembership(cluster, coordinator, sessions, { groupId: 'g', topics: ['t'], heartbeatIntervalMs: 20, sessionTimeoutMs: 1_000, retryMinMs: 5, retryMaxMs: 20 });
  m.start().catch(() => undefined);
  return m;
}

s('start offsets that cannot be fetched are reported and retried with the backoff in the same generation', async () => {
  const errors: unknown[] = [];
  const started: string[] = [];
  fail('OffsetFetch', errorCodes.UNKNOWN_SERVER_ERROR, errorCodes.UNKNOWN_SERVER_ERROR);
  const m = sessionSetUp(started, errors);
  await eventually('claims started', () => started.length === 6);
  assert.ok(started.every((x) => x.endsWith('@g1')), started.join(' '));
  assert.is(errors.length, 1, 'the failed attempt of a partition alone reported (the topic-wide failure only splits the topic)');
  assert.instance((errors[0] as KafkaError).cause, BrokerError);
  assert.is(((errors[0] as KafkaError).cause as BrokerError).errorName, 'UNKNOWN_SERVER_ERROR');
  assert.is(requests('JoinGroup'), 2, 'no rebalance for it');
  await m.close();
});

s('one assigned partition of an unknown topic never blocks the others, and close is not held by it', async () => {
  const errors: unknown[] = []; // topic 'gone' does not exist in the cluster
  const started: string[] = [];
  // The leader (another member, say, with older metadata) hands out a partition of a topic that does not exist.
  nextAssignment(encodeAssignment({ assignedPartitions: [{ topic: 'gone', partitions: [0] }, { topic: 't', partitions: [0, 1] }] }));
  const m = sessionSetUp(started, errors);
  await eventually('the good partitions started', () => started.length === 2);
  assert.equal(started, ['t-0@g1', 't-1@g1']);
  await eventually('the bad one reported, more than once', () => errors.filter((e) => /gone-0 /.test(String((e as Error).message))).length >= 2);
  const t0 = Date.now();
  await m.close();
  assert.ok(Date.now() - t0 < 500, `close took ${Date.now() - t0} ms`);
  const n = errors.length;
  await new Promise((r) => setTimeout(r, 60));
  assert.is(errors.length, n, 'the retries stopped with the close');
});

s('one partition whose start offset cannot be had never holds the other partitions of its topic', async () => {
  // no committed offset: ListOffsets, refused for t-3
  const refused = fake.fault({ api: 'ListOffsets', topic: 't', partition: 3, action: 'error', code: errorCodes.UNKNOWN_SERVER_ERROR });
  const errors: unknown[] = [];
  const started: string[] = [];
  const m = sessionSetUp(started, errors);
  await eventually('the five others started', () => started.length === 5);
  assert.not.ok(started.includes('t-3@g1'));
  await eventually('t-3 reported more than once', () => errors.filter((e) => /t-3 /.test(String((e as Error).message))).length >= 2);
  refused.remove();
  await eventually('t-3 started once its offset could be had', () => started.includes('t-3@g1'));
  assert.is(requests('JoinGroup'), 2, 'no rebalance for it');
  await m.close();
});

s('marks are committed before a JoinGroup (cooperative too), while the generation still accepts them', async () => {
  const coordinator = new GroupCoordinator(cluster, 'g', { retryMinMs: 5, retryMaxMs: 20 });
  let m: GroupMembership | undefined;
  const om = new OffsetManager(cluster, coordinator, { groupId: 'g', identitySource: () => m?.stableGeneration });
  const sessions = new SessionManager({ consumeClaim: async (_s, claim) => { claim.mark({ offset: 41 }); } }, om, undefined);
  m = new GroupMembership(cluster, coordinator, sessions, {
    groupId: 'g', topics: ['t'], heartbeatIntervalMs: 20, sessionTimeoutMs: 1_000, retryMinMs: 5, retryMaxMs: 20, assignors: [builtInAssignor('cooperative-sticky')],
  });
  m.start().catch(() => undefined);
  await eventually('generation 1', () => m!.stableGeneration?.generationId === 1);
  await eventually('marked', () => om.hasPending());
  fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('generation 2', () => m!.stableGeneration?.generationId === 2);
  const apis = fake.log.entries.map((l) => l.api).filter((a) => a === 'OffsetCommit' || a === 'JoinGroup');
  assert.equal(apis.slice(-2), ['OffsetCommit', 'JoinGroup'], 'committed, then joined');
  const commit = sent('OffsetCommit')[0]!.body;
  assert.is(commit.generationIdOrMemberEpoch, 1);
  assert.is(fake.committed('g', 't', 0), 42);
  await m.close();
});

s('a JoinGroup accepted with generation -1 is a failed round: reported, and the member joins again after a pause', async () => {
  const { rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  fake.fault({ api: 'JoinGroup', times: 1, action: 'mutate', mutate: (r) => { r.generationId = -1; } });
  fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('joined again after the void answer', () => rec.gens.length === 2);
  // The coordinator had completed generation 2 (the answer the member got as -1); the member's next join is
  // answered with it again, as Kafka answers a member rejoining a rebalance that awaits its SyncGroup.
  assert.is(requests('JoinGroup'), 4, 'KIP-394 pair, the void answer, the join after it');
  assert.is(rec.gens[1]!.generationId, 2);
  assert.is(sent('SyncGroup').at(-1)!.body.generationId, 2, 'no SyncGroup with the void generation');
  assert.is(requests('SyncGroup'), 2);
  assert.ok(rec.errors.some((e) => e instanceof KafkaError && /generation -1/.test(e.message)), 'the void answer is reported');
  await m.close();
});

s('a SyncGroup assignment that cannot be decoded is reported and the member rejoins (never stuck before assign)', async () => {
  // A backoff long enough to tell from the answer's own round trip at millisecond stamps under load (at 5 ms a
  // rejoin seen 3 ms after the SyncGroup failed the test on a loaded machine, backoff or not).
  const { rec, m } = setUp({ retryMinMs: 60, retryMaxMs: 120 });
  await eventually('assigned', () => rec.gens.length === 1);
  nextAssignment(Buffer.from([0, 0, 0, 0, 0, 9, 0])); // v0, 9 topics announced, one byte follows
  fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('assigned again', () => rec.gens.length === 2);
  assert.instance(rec.errors.find((e) => e instanceof DecodeError), DecodeError);
  const joins = sent('JoinGroup');
  const syncs = sent('SyncGroup');
  assert.is(joins.length, 4, 'KIP-394 pair, the round with bad bytes, the rejoin');
  assert.ok(joins[3]!.at - syncs[1]!.at >= 44, `the rejoin waits the backoff (60 ms minimum, jitter below 25 %): ${joins[3]!.at - syncs[1]!.at} ms`);
  await m.close();
});

s('JoinGroup UNKNOWN_MEMBER_ID: the stale member id is dropped and the next join goes without one', async () => {
  const { rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  // The coordinator has forgotten the member by the time it rejoins (removed as the fault fires, so the group
  // does not wait for it), and says so.
  fake.fault({ api: 'JoinGroup', times: 1, action: 'error', code: errorCodes.UNKNOWN_MEMBER_ID, when: (req) => { fake.group('g').remove(req.body.memberId as string); return true; } });
  fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('assigned again', () => rec.gens.length === 2);
  const joins = sent('JoinGroup').map((l) => l.body.memberId);
  assert.is(handedOut.length, 2);
  assert.equal(joins, ['', handedOut[0], handedOut[0], '', handedOut[1]]);
  assert.is(rec.gens[1]!.memberId, handedOut[1]);
  await m.close();
});

s('cooperative (KIP-429): partitions revoked at a rebalance are given up, then a second rebalance follows by itself', async () => {
  const { rec, m } = setUp({ assignors: [builtInAssignor('cooperative-sticky')] });
  await eventually('assigned', () => rec.gens.length === 1);
  nextAssignment(encodeAssignment({ assignedPartitions: [{ topic: 't', partitions: [0, 1, 2] }] }));
  fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('the follow-up rebalance', () => rec.gens.length === 3);
  assert.equal(rec.events, ['assign 6/6 g1', 'revoke 3', 'assign 0/3 g2', 'assign 3/6 g3']);
  const sub = decodeSubscription(sent('JoinGroup').at(-1)!.body.protocols[0].metadata);
  assert.equal(sub.ownedPartitions, [{ topic: 't', partitions: [0, 1, 2] }], 'the second join says what the member kept');
  await m.close();
});

s("the leader's partition-count check rejoins when a subscribed topic grows", async () => {
  const { rec, m } = setUp({ partitionCheckIntervalMs: 20 });
  await eventually('assigned', () => rec.gens.length === 1);
  growTopic(fake, 't', 8);
  await eventually('rebalanced for the new partitions', () => rec.gens.length === 2);
  assert.equal(rec.owned, [{ topic: 't', partitions: [0, 1, 2, 3, 4, 5, 6, 7] }]);
  await m.close();
});

s('fatal classification and helpers', () => {
  assert.ok(isFatalGroupError(brokerError(errorCodes.INCONSISTENT_GROUP_PROTOCOL)));
  assert.ok(isFatalGroupError(brokerError(errorCodes.GROUP_AUTHORIZATION_FAILED)));
  assert.not.ok(isFatalGroupError(brokerError(errorCodes.REBALANCE_IN_PROGRESS)));
  assert.not.ok(isFatalGroupError(brokerError(errorCodes.NOT_COORDINATOR)));
  assert.equal(toTopicPartitions([tpKey('b', 2), tpKey('a', 1), tpKey('b', 0)]), [{ topic: 'b', partitions: [0, 2] }, { topic: 'a', partitions: [1] }]);
  assert.throws(() => new GroupMembership(cluster, new GroupCoordinator(cluster, ''), new Recorder(), { groupId: '', topics: [], heartbeatIntervalMs: 5_000, sessionTimeoutMs: 1_000 }),
    (e: Error) => /3 problems/.test(e.message));
});

s.run();
