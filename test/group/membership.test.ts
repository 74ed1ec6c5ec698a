import * as assert from 'uvu/assert';
import { eventually, suite } from '../kit.js';
import { builtInAssignor } from '../../src/group/assignors/index.js';
import { decodeSubscription, encodeAssignment, type TopicPartitions } from '../../src/group/consumer-protocol.js';
import { GroupCoordinator } from '../../src/group/coordinator.js';
import { GroupMembership, isFatalGroupError, toTopicPartitions, type Generation, type MembershipListener, type MembershipOptions } from '../../src/group/membership.js';
import { OffsetManager, tpKey } from '../../src/group/offsets.js';
import { SessionManager } from '../../src/group/session.js';
import { BrokerError, DecodeError, KafkaError } from '../../src/errors.js';
import { brokerError, errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCoordinator } from './fake-coordinator.js';

const s = suite('group membership (fake coordinator)', { timeoutMs: 10_000 });

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

function setUp(options: Partial<MembershipOptions> = {}): { fake: FakeCoordinator; rec: Recorder; m: GroupMembership; run: Promise<void> } {
  const fake = new FakeCoordinator();
  const rec = new Recorder();
  const m = new GroupMembership(fake.cluster, new GroupCoordinator(fake.cluster, 'g', { retryMinMs: 5, retryMaxMs: 20 }), rec, {
    groupId: 'g', topics: ['t'], heartbeatIntervalMs: 20, sessionTimeoutMs: 1_000, retryMinMs: 5, retryMaxMs: 20, ...options,
  });
  const run = m.start();
  run.catch(() => undefined);
  return { fake, rec, m, run };
}

s('joins with the KIP-394 round trip, leads, assigns itself every partition and heartbeats', async () => {
  const { fake, rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  const joins = fake.log.filter((l) => l.api === 'JoinGroup');
  assert.is(joins.length, 2);
  assert.is(joins[0]!.body.memberId, '');
  assert.is(joins[1]!.body.memberId, 'member-1', 'second join carries the id from MEMBER_ID_REQUIRED');
  assert.is(joins[1]!.body.protocolType, 'consumer');
  const sub = decodeSubscription(joins[1]!.body.protocols[0].metadata);
  // range (the default) writes v1, which Sarama (dp-kafka) members can read; consumer-protocol.test.ts says why
  assert.equal([sub.version, sub.topics, sub.generationId], [1, ['t'], -1]);
  assert.equal(rec.owned, [{ topic: 't', partitions: [0, 1, 2, 3, 4, 5] }]);
  assert.equal(rec.gens[0]!.isLeader, true);
  await eventually('heartbeats', () => fake.count('Heartbeat') >= 3);
  const hb = fake.log.find((l) => l.api === 'Heartbeat')!.body;
  assert.equal([hb.generationId, hb.memberId], [1, 'member-1']);
  await m.close();
});

s('REBALANCE_IN_PROGRESS on a heartbeat: an eager member revokes everything, rejoins with its id, commits nothing lost', async () => {
  const { fake, rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  fake.fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('rejoined', () => rec.gens.length === 2);
  assert.equal(rec.events, ['assign 6/6 g1', 'revoke 6', 'assign 6/6 g2']);
  assert.is(fake.log.filter((l) => l.api === 'JoinGroup').at(-1)!.body.memberId, 'member-1');
  await m.close();
});

s('UNKNOWN_MEMBER_ID on a heartbeat: partitions are lost (not revoked) and the member joins afresh', async () => {
  const { fake, rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  fake.fail('Heartbeat', errorCodes.UNKNOWN_MEMBER_ID);
  await eventually('rejoined', () => rec.gens.length === 2);
  assert.equal(rec.events, ['assign 6/6 g1', 'lose 6', 'assign 6/6 g2']);
  assert.is(rec.gens[1]!.memberId, 'member-2', 'a new member id via MEMBER_ID_REQUIRED');
  await m.close();
});

s('ILLEGAL_GENERATION on a heartbeat: lost, rejoins keeping its member id', async () => {
  const { fake, rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  fake.fail('Heartbeat', errorCodes.ILLEGAL_GENERATION);
  await eventually('rejoined', () => rec.gens.length === 2);
  assert.equal(rec.events, ['assign 6/6 g1', 'lose 6', 'assign 6/6 g2']);
  assert.is(rec.gens[1]!.memberId, 'member-1');
  await m.close();
});

s('NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE rediscover; COORDINATOR_LOAD_IN_PROGRESS retries the same coordinator', async () => {
  const { fake, rec, m } = setUp();
  fake.fail('JoinGroup', errorCodes.COORDINATOR_LOAD_IN_PROGRESS, errorCodes.COORDINATOR_LOAD_IN_PROGRESS);
  await eventually('assigned', () => rec.gens.length === 1);
  assert.is(fake.count('FindCoordinator'), 1, 'loading: same coordinator');
  assert.is(fake.count('JoinGroup'), 4);
  fake.fail('Heartbeat', errorCodes.NOT_COORDINATOR);
  await eventually('rediscovered', () => fake.count('FindCoordinator') === 2);
  fake.fail('Heartbeat', errorCodes.COORDINATOR_NOT_AVAILABLE);
  await eventually('rediscovered again', () => fake.count('FindCoordinator') === 3);
  await eventually('heartbeats resume', () => fake.log.at(-1)!.api === 'Heartbeat');
  assert.is(rec.gens.length, 1, 'no rebalance for a coordinator move');
  await m.close();
});

s('heartbeats continue while the application blocks in a callback', async () => {
  const { fake, rec, m } = setUp();
  rec.assignDelayMs = 300;
  await eventually('assign called', () => rec.gens.length === 1);
  const before = fake.count('Heartbeat');
  await new Promise((r) => setTimeout(r, 250));
  assert.ok(fake.count('Heartbeat') - before >= 5, `heartbeats during the block: ${fake.count('Heartbeat') - before}`);
  await m.close();
});

s('close revokes then sends LeaveGroup; a static member (KIP-345) sends none', async () => {
  const { fake, rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  await m.close();
  assert.equal(rec.events.at(-1), 'revoke 6');
  const leave = fake.log.find((l) => l.api === 'LeaveGroup');
  assert.equal(leave?.body.members, [{ memberId: 'member-1', groupInstanceId: null, reason: 'the consumer is closing' }]);
  const st = setUp({ groupInstanceId: 'i-1' });
  await eventually('static assigned', () => st.rec.gens.length === 1);
  assert.is(st.fake.count('JoinGroup'), 1, 'static members skip MEMBER_ID_REQUIRED');
  await st.m.close();
  assert.is(st.fake.count('LeaveGroup'), 0);
  assert.equal(st.rec.events.at(-1), 'revoke 6');
});

s('FENCED_INSTANCE_ID is fatal: the membership ends with it and partitions are lost', async () => {
  const { fake, rec, m, run } = setUp({ groupInstanceId: 'i-1' });
  await eventually('assigned', () => rec.gens.length === 1);
  fake.fail('Heartbeat', errorCodes.FENCED_INSTANCE_ID);
  const err = await run.then(() => null, (e: unknown) => e);
  assert.instance(err, BrokerError);
  assert.is((err as BrokerError).errorName, 'FENCED_INSTANCE_ID');
  assert.equal(rec.events.at(-1), 'lose 6');
  await m.close();
  assert.is(fake.count('LeaveGroup'), 0);
});

s('cooperative members keep their partitions through a rebalance and send them as owned', async () => {
  const { fake, rec, m } = setUp({ assignors: [builtInAssignor('cooperative-sticky')] });
  await eventually('assigned', () => rec.gens.length === 1);
  fake.fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('rejoined', () => rec.gens.length === 2);
  assert.equal(rec.events, ['assign 6/6 g1', 'assign 0/6 g2'], 'nothing revoked, nothing new');
  const sub = decodeSubscription(fake.log.filter((l) => l.api === 'JoinGroup').at(-1)!.body.protocols[0].metadata);
  assert.equal(sub.ownedPartitions, [{ topic: 't', partitions: [0, 1, 2, 3, 4, 5] }]);
  assert.equal([sub.version, sub.generationId], [3, 1]);
  await m.close();
});

function sessionSetUp(fake: FakeCoordinator, started: string[], errors: unknown[]): GroupMembership {
  const coordinator = new GroupCoordinator(fake.cluster, 'g', { retryMinMs: 5, retryMaxMs: 20 });
  const sessions = new SessionManager({ consumeClaim: async (session, claim) => { started.push(`${claim.topic}-${claim.partition}@g${session.generationId}`); } },
    new OffsetManager(fake.cluster, coordinator, { groupId: 'g' }), undefined, { onError: (e) => errors.push(e), retryMinMs: 5, retryMaxMs: 20 });
  const m = new GroupMembership(fake.cluster, coordinator, sessions, { groupId: 'g', topics: ['t'], heartbeatIntervalMs: 20, sessionTimeoutMs: 1_000, retryMinMs: 5, retryMaxMs: 20 });
  m.start().catch(() => undefined);
  return m;
}

s('start offsets that cannot be fetched are reported and retried with the backoff in the same generation', async () => {
  const fake = new FakeCoordinator();
  const errors: unknown[] = [];
  const started: string[] = [];
  fake.fail('OffsetFetch', errorCodes.UNKNOWN_SERVER_ERROR, errorCodes.UNKNOWN_SERVER_ERROR);
  const m = sessionSetUp(fake, started, errors);
  await eventually('claims started', () => started.length === 6);
  assert.ok(started.every((x) => x.endsWith('@g1')), started.join(' '));
  assert.is(errors.length, 1, 'the failed attempt of a partition alone reported (the topic-wide failure only splits the topic)');
  assert.instance((errors[0] as KafkaError).cause, BrokerError);
  assert.is(((errors[0] as KafkaError).cause as BrokerError).errorName, 'UNKNOWN_SERVER_ERROR');
  assert.is(fake.count('JoinGroup'), 2, 'no rebalance for it');
  await m.close();
});

s('one assigned partition of an unknown topic never blocks the others, and close is not held by it', async () => {
  const fake = new FakeCoordinator();
  fake.unknownTopics.add('gone');
  const errors: unknown[] = [];
  const started: string[] = [];
  // The leader (another member, say, with older metadata) hands out a partition of a topic that does not exist.
  fake.syncAnswers.push(encodeAssignment({ assignedPartitions: [{ topic: 'gone', partitions: [0] }, { topic: 't', partitions: [0, 1] }] }));
  const m = sessionSetUp(fake, started, errors);
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
  const fake = new FakeCoordinator();
  fake.listOffsetsErrors.set('t-3', errorCodes.UNKNOWN_SERVER_ERROR); // no committed offset: ListOffsets, refused for t-3
  const errors: unknown[] = [];
  const started: string[] = [];
  const m = sessionSetUp(fake, started, errors);
  await eventually('the five others started', () => started.length === 5);
  assert.not.ok(started.includes('t-3@g1'));
  await eventually('t-3 reported more than once', () => errors.filter((e) => /t-3 /.test(String((e as Error).message))).length >= 2);
  fake.listOffsetsErrors.clear();
  await eventually('t-3 started once its offset could be had', () => started.includes('t-3@g1'));
  assert.is(fake.count('JoinGroup'), 2, 'no rebalance for it');
  await m.close();
});

s('marks are committed before a JoinGroup (cooperative too), while the generation still accepts them', async () => {
  const fake = new FakeCoordinator();
  const coordinator = new GroupCoordinator(fake.cluster, 'g', { retryMinMs: 5, retryMaxMs: 20 });
  let m: GroupMembership | undefined;
  const om = new OffsetManager(fake.cluster, coordinator, { groupId: 'g', identitySource: () => m?.stableGeneration });
  const sessions = new SessionManager({ consumeClaim: async (_s, claim) => { claim.mark({ offset: 41 }); } }, om, undefined);
  m = new GroupMembership(fake.cluster, coordinator, sessions, {
    groupId: 'g', topics: ['t'], heartbeatIntervalMs: 20, sessionTimeoutMs: 1_000, retryMinMs: 5, retryMaxMs: 20, assignors: [builtInAssignor('cooperative-sticky')],
  });
  m.start().catch(() => undefined);
  await eventually('generation 1', () => m!.stableGeneration?.generationId === 1);
  await eventually('marked', () => om.hasPending());
  fake.fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('generation 2', () => m!.stableGeneration?.generationId === 2);
  const apis = fake.log.map((l) => l.api).filter((a) => a === 'OffsetCommit' || a === 'JoinGroup');
  assert.equal(apis.slice(-2), ['OffsetCommit', 'JoinGroup'], 'committed, then joined');
  const commit = fake.log.find((l) => l.api === 'OffsetCommit')!.body;
  assert.is(commit.generationIdOrMemberEpoch, 1);
  assert.is(fake.committed.get('t-0'), 42n);
  await m.close();
});

s('a JoinGroup accepted with generation -1 is a failed round: reported, and the member joins again after a pause', async () => {
  const { fake, rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  fake.rewrite('JoinGroup', (r) => ({ ...r, generationId: -1 }));
  fake.fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('joined again after the void answer', () => rec.gens.length === 2);
  assert.is(rec.gens[1]!.generationId, 3, 'generation 2 was the void answer');
  assert.ok(rec.errors.some((e) => e instanceof KafkaError && /generation -1/.test(e.message)), 'the void answer is reported');
  await m.close();
});

s('a SyncGroup assignment that cannot be decoded is reported and the member rejoins (never stuck before assign)', async () => {
  const { fake, rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  fake.syncAnswers.push(Buffer.from([0, 0, 0, 0, 0, 9, 0])); // v0, 9 topics announced, one byte follows
  fake.fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('assigned again', () => rec.gens.length === 2);
  assert.instance(rec.errors.find((e) => e instanceof DecodeError), DecodeError);
  const joins = fake.log.filter((l) => l.api === 'JoinGroup');
  const syncs = fake.log.filter((l) => l.api === 'SyncGroup');
  assert.is(joins.length, 4, 'KIP-394 pair, the round with bad bytes, the rejoin');
  assert.ok(joins[3]!.at - syncs[1]!.at >= 4, 'the rejoin waits the backoff (5 ms minimum, jitter below 25 %)');
  await m.close();
});

s('JoinGroup UNKNOWN_MEMBER_ID: the stale member id is dropped and the next join goes without one', async () => {
  const { fake, rec, m } = setUp();
  await eventually('assigned', () => rec.gens.length === 1);
  fake.fail('JoinGroup', errorCodes.UNKNOWN_MEMBER_ID);
  fake.fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('assigned again', () => rec.gens.length === 2);
  const joins = fake.log.filter((l) => l.api === 'JoinGroup').map((l) => l.body.memberId);
  assert.equal(joins, ['', 'member-1', 'member-1', '', 'member-2']);
  assert.is(rec.gens[1]!.memberId, 'member-2');
  await m.close();
});

s('cooperative (KIP-429): partitions revoked at a rebalance are given up, then a second rebalance follows by itself', async () => {
  const { fake, rec, m } = setUp({ assignors: [builtInAssignor('cooperative-sticky')] });
  await eventually('assigned', () => rec.gens.length === 1);
  fake.syncAnswers.push(encodeAssignment({ assignedPartitions: [{ topic: 't', partitions: [0, 1, 2] }] }));
  fake.fail('Heartbeat', errorCodes.REBALANCE_IN_PROGRESS);
  await eventually('the follow-up rebalance', () => rec.gens.length === 3);
  assert.equal(rec.events, ['assign 6/6 g1', 'revoke 3', 'assign 0/3 g2', 'assign 3/6 g3']);
  const sub = decodeSubscription(fake.log.filter((l) => l.api === 'JoinGroup').at(-1)!.body.protocols[0].metadata);
  assert.equal(sub.ownedPartitions, [{ topic: 't', partitions: [0, 1, 2] }], 'the second join says what the member kept');
  await m.close();
});

s("the leader's partition-count check rejoins when a subscribed topic grows", async () => {
  const { fake, rec, m } = setUp({ partitionCheckIntervalMs: 20 });
  await eventually('assigned', () => rec.gens.length === 1);
  fake.partitions = 8;
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
  const fake = new FakeCoordinator();
  assert.throws(() => new GroupMembership(fake.cluster, new GroupCoordinator(fake.cluster, ''), new Recorder(), { groupId: '', topics: [], heartbeatIntervalMs: 5_000, sessionTimeoutMs: 1_000 }),
    (e: Error) => /3 problems/.test(e.message));
});

s.run();
