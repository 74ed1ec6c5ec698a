/**
 * The fake cluster itself, driven by our real client classes (Broker, Cluster from src/client): metadata,
 * produce then fetch, idempotent sequence rules, fetch sessions, leaders moving, brokers stopping, the group
 * protocol, and each fault action firing as many times as asked and then no more.
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Broker } from '../../src/client/broker.js';
import { Cluster } from '../../src/client/cluster.js';
import { ConnectionError, RequestTimeoutError } from '../../src/errors.js';
import { Fetch, FindCoordinator, Heartbeat, InitProducerId, JoinGroup, LeaveGroup, ListOffsets, Metadata, OffsetCommit, OffsetFetch, OffsetForLeaderEpoch, Produce, SyncGroup } from '../../src/protocol/apis/index.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/protocol/record-batch.js';
import type { RecordBatchOptions } from '../../src/protocol/record-batch.js';
import { FakeCluster, responseFrame } from './fake-cluster.js';

/** Resolves with the rejection of `p` (failing if it fulfils), checked by `check` when given. */
async function rejects(p: Promise<unknown>, check: (e: unknown) => boolean = (e) => e instanceof Error): Promise<void> {
  let rejected = false;
  let error: unknown;
  try {
    await p;
  } catch (e) {
    rejected = true;
    error = e;
  }
  assert.ok(rejected, 'expected a rejection');
  assert.ok(check(error), `unexpected error: ${String(error)}`);
}

let c: FakeCluster;
const open: { close(): Promise<void> | void }[] = [];
const s = suite('fake cluster', { timeoutMs: 15_000 });
s.before.each(async () => { c = await FakeCluster.start({ brokers: 3, topics: { t: 3 } }); });
s.after.each(async () => {
  for (const x of open.splice(0)) await x.close();
  await c.close();
});

function broker(id: number, options: { requestTimeoutMs?: number; maxInFlight?: number } = {}): Broker {
  const b = new Broker({ host: '127.0.0.1', port: c.state.ports.get(id)!, nodeId: id, ...options });
  open.push({ close: () => b.destroy() });
  return b;
}

const batch = (values: string[], options: RecordBatchOptions = {}): Buffer => encodeRecordBatch(values.map((value) => ({ value })), options);

function produceBody(topic: string, partition: number, records: Buffer, acks = -1) {
  return { transactionalId: null, acks, timeoutMs: 5_000, topicData: [{ name: topic, topicId: c.topic(topic).id, partitionData: [{ index: partition, records }] }] };
}

async function produce(b: Broker, topic: string, partition: number, records: Buffer): Promise<{ errorCode: number; baseOffset: bigint }> {
  const res = await b.request(Produce, produceBody(topic, partition, records));
  return res.responses[0]!.partitionResponses[0]!;
}

function fetchBody(parts: { topic: string; partition: number; offset: number }[], session = { id: 0, epoch: -1 }, forgotten: { topic: string; partition: number }[] = []) {
  return {
    replicaId: -1, maxWaitMs: 50, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: session.id, sessionEpoch: session.epoch,
    topics: parts.map((p) => ({ topic: p.topic, topicId: c.topic(p.topic).id, partitions: [{ partition: p.partition, currentLeaderEpoch: -1, fetchOffset: BigInt(p.offset), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] })),
    forgottenTopicsData: forgotten.map((f) => ({ topic: f.topic, topicId: c.topic(f.topic).id, partitions: [f.partition] })),
    rackId: '',
  };
}

const values = (records: Buffer | null): string[] => (records ? decodeRecordBatches(records).flatMap((b) => b.records().map((r) => r.value!.toString())) : []);

s('metadata through our Cluster: 3 brokers, leaders spread, topic ids', async () => {
  const cluster = new Cluster({ bootstrap: c.bootstrap, retryDeadlineMs: 300 });
  open.push(cluster);
  const t = await cluster.topic('t');
  assert.equal(t.partitions.map((p) => p.leaderId), [1, 2, 3]);
  assert.is(t.topicId, c.topic('t').id);
  assert.equal(cluster.knownBrokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
  await rejects(cluster.topic('nope'));
});

s('produce then fetch round trip at the versions our client picks (topic ids above Fetch v12)', async () => {
  const cluster = new Cluster({ bootstrap: c.bootstrap });
  open.push(cluster);
  const leader = await cluster.leader('t', 1);
  const r = await produce(leader, 't', 1, batch(['a', 'b', 'c']));
  assert.equal([r.errorCode, r.baseOffset], [0, 0n]);
  const r2 = await produce(leader, 't', 1, batch(['d']));
  assert.is(r2.baseOffset, 3n);
  const res = await leader.request(Fetch, fetchBody([{ topic: 't', partition: 1, offset: 1 }]), { lane: 'fetch' });
  const p = res.responses[0]!.partitions[0]!;
  assert.is(p.highWatermark, 4n);
  assert.equal(values(p.records), ['a', 'b', 'c', 'd'], 'whole batches from the one holding the offset');
  assert.equal(c.records('t', 1).map((x) => [x.offset, x.value!.toString()]), [[0, 'a'], [1, 'b'], [2, 'c'], [3, 'd']]);
  const lo = await leader.request(ListOffsets, { replicaId: -1, isolationLevel: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 1, currentLeaderEpoch: -1, timestamp: -1n }] }], timeoutMs: 1000 });
  assert.is(lo.topics[0]!.partitions[0]!.offset, 4n);
  const other = await produce(broker(1), 't', 1, batch(['x']));
  assert.is(other.errorCode, errorCodes.NOT_LEADER_OR_FOLLOWER, 'a broker that does not lead refuses');
});

s('Fetch long-polls until data arrives, up to maxWaitMs', async () => {
  const b = broker(1);
  const t0 = Date.now();
  const empty = await b.request(Fetch, { ...fetchBody([{ topic: 't', partition: 0, offset: 0 }]), maxWaitMs: 200 }, { lane: 'fetch' });
  assert.ok(Date.now() - t0 >= 190, `waited ${Date.now() - t0} ms`);
  assert.is(empty.responses[0]!.partitions[0]!.records?.length ?? 0, 0);
  const pending = b.request(Fetch, { ...fetchBody([{ topic: 't', partition: 0, offset: 0 }]), maxWaitMs: 5_000 }, { lane: 'fetch' });
  setTimeout(() => void produce(b, 't', 0, batch(['late'])), 50);
  const t1 = Date.now();
  const got = await pending;
  assert.ok(Date.now() - t1 < 2_000);
  assert.equal(values(got.responses[0]!.partitions[0]!.records), ['late']);
});

s('acks=0: stored, no answer', async () => {
  const b = broker(1);
  await b.request(Produce, produceBody('t', 0, batch(['q']), 0), { expectResponse: false });
  await new Promise((r) => setTimeout(r, 50));
  assert.is(c.endOffset('t', 0), 1);
});

s('idempotent producer: in-sequence accepted, duplicate answered with its first offset, gaps and old epochs refused', async () => {
  const b = broker(1);
  const init = await b.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000 });
  const pid = Number(init.producerId);
  assert.is(init.producerEpoch, 0);
  const idem = (seq: number, vals: string[], epoch = 0) => batch(vals, { producerId: pid, producerEpoch: epoch, baseSequence: seq });
  const first = await produce(b, 't', 0, idem(0, ['a', 'b']));
  assert.equal([first.errorCode, first.baseOffset], [0, 0n]);
  assert.is((await produce(b, 't', 0, idem(2, ['c']))).baseOffset, 2n);
  const dup = await produce(b, 't', 0, idem(0, ['a', 'b']));
  assert.equal([dup.errorCode, dup.baseOffset], [0, 0n], 'a retried batch is not written twice');
  assert.is(c.endOffset('t', 0), 3);
  assert.is((await produce(b, 't', 0, idem(5, ['gap']))).errorCode, errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.is((await produce(b, 't', 0, idem(3, ['x'], 1))).errorCode, errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER, 'a new epoch starts at 0');
  assert.is((await produce(b, 't', 0, idem(0, ['y'], 1))).errorCode, 0);
  assert.is((await produce(b, 't', 0, idem(1, ['z'], 0))).errorCode, errorCodes.INVALID_PRODUCER_EPOCH);
  c.forgetProducers();
  assert.is((await produce(b, 't', 0, idem(7, ['after loss'], 1))).errorCode, 0, 'no state: any sequence (KIP-360)');
  const bump = await b.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: BigInt(pid), producerEpoch: 0 });
  assert.equal([bump.errorCode, Number(bump.producerId), bump.producerEpoch], [0, pid, 1]);
});

s('duplicateSequenceError: a duplicate gets DUPLICATE_SEQUENCE_NUMBER', async () => {
  await c.close();
  c = await FakeCluster.start({ topics: { t: 1 }, duplicateSequenceError: true });
  const b = broker(1);
  const one = batch(['a'], { producerId: 5, producerEpoch: 0, baseSequence: 0 });
  assert.is((await produce(b, 't', 0, one)).errorCode, 0);
  assert.is((await produce(b, 't', 0, one)).errorCode, errorCodes.DUPLICATE_SEQUENCE_NUMBER);
});

s('fetch sessions (KIP-227): full then incremental answers, epochs checked, eviction', async () => {
  const b = broker(1); // leads t-0
  await produce(b, 't', 0, batch(['a']));
  const first = await b.request(Fetch, fetchBody([{ topic: 't', partition: 0, offset: 0 }], { id: 0, epoch: 0 }), { lane: 'fetch' });
  assert.ok(first.sessionId > 0);
  assert.equal(values(first.responses[0]!.partitions[0]!.records), ['a']);
  const id = first.sessionId;
  // Incremental, nothing new: the partition is left out of the answer (after the long poll).
  const quiet = await b.request(Fetch, { ...fetchBody([{ topic: 't', partition: 0, offset: 1 }], { id, epoch: 1 }), maxWaitMs: 20 }, { lane: 'fetch' });
  assert.equal([quiet.errorCode, quiet.sessionId, quiet.responses.length], [0, id, 0]);
  await produce(b, 't', 0, batch(['b']));
  const moved = await b.request(Fetch, fetchBody([], { id, epoch: 2 }), { lane: 'fetch' });
  assert.equal(values(moved.responses[0]!.partitions[0]!.records), ['b']);
  // A fault naming the partition hits an incremental fetch that fetches it without naming it.
  const h = c.fault({ api: 'Fetch', topic: 't', partition: 0, times: 1, action: 'error', code: errorCodes.NOT_LEADER_OR_FOLLOWER });
  const faulted = await b.request(Fetch, fetchBody([], { id, epoch: 3 }), { lane: 'fetch' });
  assert.is(h.fired, 1);
  assert.is(faulted.responses[0]!.partitions[0]!.errorCode, errorCodes.NOT_LEADER_OR_FOLLOWER);
  const stale = await b.request(Fetch, fetchBody([], { id, epoch: 3 }), { lane: 'fetch' });
  assert.is(stale.errorCode, errorCodes.INVALID_FETCH_SESSION_EPOCH);
  assert.is(c.evictFetchSessions(1), 1);
  const gone = await b.request(Fetch, fetchBody([], { id, epoch: 4 }), { lane: 'fetch' });
  assert.is(gone.errorCode, errorCodes.FETCH_SESSION_ID_NOT_FOUND);
});

s('a fault fires N times, then the request is served normally; counters see every request', async () => {
  const b = broker(1);
  const answers: number[][] = [];
  const stop = c.onAnswer((req, res) => {
    if (req.api === 'Produce') answers.push((res!.responses as { partitionResponses: { errorCode: number }[] }[]).flatMap((t) => t.partitionResponses.map((p) => p.errorCode)));
  });
  const h = c.fault({ api: 'Produce', topic: 't', partition: 0, times: 2, action: 'error', code: errorCodes.NOT_ENOUGH_REPLICAS });
  assert.is((await produce(b, 't', 0, batch(['1']))).errorCode, errorCodes.NOT_ENOUGH_REPLICAS);
  assert.is((await produce(b, 't', 0, batch(['2']))).errorCode, errorCodes.NOT_ENOUGH_REPLICAS);
  assert.is(c.endOffset('t', 0), 0, 'nothing appended for a refused partition');
  const ok = await produce(b, 't', 0, batch(['3']));
  assert.equal([ok.errorCode, ok.baseOffset], [0, 0n]);
  assert.equal([h.fired, h.remaining], [2, 0]);
  assert.equal(answers, [[errorCodes.NOT_ENOUGH_REPLICAS], [errorCodes.NOT_ENOUGH_REPLICAS], [0]], 'onAnswer sees each answer');
  stop();
  assert.is(c.log.count('Produce'), 3);
  assert.is(c.log.count(0, { broker: 1 }), 3);
  assert.equal(c.log.of('Produce').map((r) => r.fault ?? '-'), ['error', 'error', '-']);
  assert.ok(c.log.rate('Produce', { windowMs: 5_000 }) > 0);
  assert.ok(c.log.peakRate('Produce') >= 3);
});

s('drop: no answer (our request times out); reset: the connection closes; delay; raw bytes; mutate', async () => {
  c.fault({ api: 'Metadata', times: 1, action: 'drop' });
  // maxInFlight 1: the connection is given up after one request timed out (the fake never answers on it again).
  const slow = broker(1, { requestTimeoutMs: 300, maxInFlight: 1 });
  const md = { topics: [{ name: 't' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false };
  await rejects(slow.request(Metadata, md), (e: unknown) => e instanceof RequestTimeoutError);
  assert.is((await slow.request(Metadata, md)).topics.length, 1, 'fired once');

  c.fault({ api: 'Metadata', broker: 2, times: 1, action: 'reset' });
  const b2 = broker(2);
  await rejects(b2.request(Metadata, md), (e: unknown) => e instanceof ConnectionError);
  assert.is((await b2.request(Metadata, md)).topics.length, 1);

  c.fault({ api: 'Metadata', times: 1, action: 'delay', ms: 150 });
  const t0 = Date.now();
  await b2.request(Metadata, md);
  assert.ok(Date.now() - t0 >= 140);

  c.fault({ api: 'Metadata', times: 1, action: 'raw', bytes: (req) => responseFrame(Metadata, req.version, req.header.correlationId, { brokers: [], clusterId: 'raw', topics: [] }) });
  assert.is((await b2.request(Metadata, md)).clusterId, 'raw');

  c.fault({ api: 'Metadata', times: 1, action: 'mutate', mutate: (res) => { (res.topics as { errorCode: number }[])[0]!.errorCode = errorCodes.LEADER_NOT_AVAILABLE; } });
  assert.is((await b2.request(Metadata, md)).topics[0]!.errorCode, errorCodes.LEADER_NOT_AVAILABLE);
  assert.is((await b2.request(Metadata, md)).topics[0]!.errorCode, 0);
});

s('delay until: held until released, later requests on the connection wait behind it (pending counts both); reset-after: written, answer lost', async () => {
  const b = broker(1);
  let release!: () => void;
  const h = c.fault({ api: 'Produce', times: 1, action: 'delay', until: new Promise<void>((r) => { release = r; }) });
  const first = produce(b, 't', 0, batch(['held']));
  const second = produce(b, 't', 0, batch(['behind']));
  for (let i = 0; i < 100 && c.pending('Produce') < 2; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal([c.pending('Produce'), c.pending('Produce', 2), c.pending('Metadata'), c.log.count('Produce'), c.endOffset('t', 0)], [2, 0, 0, 1, 0], 'both in flight, one handled, none written');
  release();
  assert.equal([(await first).baseOffset, (await second).baseOffset], [0n, 1n]);
  assert.equal([h.fired, c.pending()], [1, 0]);
  c.fault({ api: 'Produce', times: 1, action: 'reset-after' });
  await rejects(produce(b, 't', 0, batch(['lost answer'])), (e: unknown) => e instanceof ConnectionError);
  assert.equal(c.records('t', 0).map((r) => r.value!.toString()), ['held', 'behind', 'lost answer'], 'written before the connection closed');
  assert.equal(c.batches('t', 0).map((x) => [x.baseOffset, x.recordCount, x.producerId]), [[0, 1, -1], [1, 1, -1], [2, 1, -1]]);
});

s('moveLeader: old leader refuses, new one accepts, metadata shows the bumped epoch; stopBroker re-elects', async () => {
  const cluster = new Cluster({ bootstrap: c.bootstrap, retryMinMs: 10, retryMaxMs: 50 });
  open.push(cluster);
  assert.is((await cluster.leader('t', 0)).nodeId, 1);
  assert.is((await produce(broker(1), 't', 0, batch(['a', 'b']))).errorCode, 0);
  assert.is(c.moveLeader('t', 0, 3), 3);
  assert.is((await produce(broker(1), 't', 0, batch(['a']))).errorCode, errorCodes.NOT_LEADER_OR_FOLLOWER);
  assert.is((await produce(broker(3), 't', 0, batch(['c']))).errorCode, 0);
  const epochs = await broker(3).request(OffsetForLeaderEpoch, { replicaId: -1, topics: [{ topic: 't', partitions: [{ partition: 0, currentLeaderEpoch: 1, leaderEpoch: 0 }] }] });
  const end = epochs.topics[0]!.partitions[0]!;
  assert.equal([end.errorCode, end.leaderEpoch, end.endOffset], [0, 0, 2n], 'epoch 0 ended where leadership moved');
  const fenced = await broker(3).request(OffsetForLeaderEpoch, { replicaId: -1, topics: [{ topic: 't', partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }] }] });
  assert.is(fenced.topics[0]!.partitions[0]!.errorCode, errorCodes.FENCED_LEADER_EPOCH);
  cluster.invalidate('t');
  const t = await cluster.topic('t');
  assert.equal([t.partitions[0]!.leaderId, t.partitions[0]!.leaderEpoch], [3, 1]);
  await c.stopBroker(3);
  assert.is.not(c.leaderOf('t', 0), 3);
  cluster.invalidate();
  const after = await cluster.topic('t');
  assert.ok(after.partitions.every((p) => p.leaderId !== 3));
  assert.equal(cluster.knownBrokers.map((b) => b.nodeId).sort(), [1, 2]);
  await c.startBroker(3);
  assert.is(c.bootstrap.length, 3);
});

s('classic group protocol: MEMBER_ID_REQUIRED, join, sync, heartbeat, a second member rebalances, leave, commit', async () => {
  const b = broker(1);
  const fc = await b.request(FindCoordinator, { keyType: 0, key: 'g', coordinatorKeys: ['g'] });
  const coordId = 'coordinators' in fc && fc.coordinators.length ? fc.coordinators[0]!.nodeId : fc.nodeId;
  assert.is(coordId, c.coordinatorOf('g'));
  const coord = broker(coordId);
  const join = (memberId: string) => coord.request(JoinGroup, {
    groupId: 'g', sessionTimeoutMs: 500, rebalanceTimeoutMs: 1_000, memberId, groupInstanceId: null, protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('m') }], reason: null,
  });
  const j0 = await join('');
  assert.is(j0.errorCode, errorCodes.MEMBER_ID_REQUIRED);
  const j1 = await join(j0.memberId);
  assert.equal([j1.errorCode, j1.generationId, j1.leader, j1.members.length], [0, 1, j0.memberId, 1]);
  const sync = await coord.request(SyncGroup, { groupId: 'g', generationId: 1, memberId: j0.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: j0.memberId, assignment: Buffer.from('A') }] });
  assert.equal([sync.errorCode, sync.assignment.toString()], [0, 'A']);
  const hb = (memberId: string, generationId: number) => coord.request(Heartbeat, { groupId: 'g', generationId, memberId, groupInstanceId: null });
  assert.is((await hb(j0.memberId, 1)).errorCode, 0);
  // A second member: the first learns from its heartbeat, rejoins, and both get generation 2.
  const other = broker(coordId);
  const k0 = await other.request(JoinGroup, { groupId: 'g', sessionTimeoutMs: 500, rebalanceTimeoutMs: 1_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('n') }], reason: null });
  const k1 = other.request(JoinGroup, { groupId: 'g', sessionTimeoutMs: 500, rebalanceTimeoutMs: 1_000, memberId: k0.memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('n') }], reason: null });
  await new Promise((r) => setTimeout(r, 20));
  assert.is((await hb(j0.memberId, 1)).errorCode, errorCodes.REBALANCE_IN_PROGRESS);
  const [j2, k2] = await Promise.all([join(j0.memberId), k1]);
  assert.equal([j2.generationId, k2.generationId, j2.members.length, k2.members.length], [2, 2, 2, 0]);
  const commit = await coord.request(OffsetCommit, { groupId: 'g', generationIdOrMemberEpoch: 2, memberId: k0.memberId, groupInstanceId: null, topics: [{ name: 't', topicId: c.topic('t').id, partitions: [{ partitionIndex: 1, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: null }] }] });
  assert.is(commit.topics[0]!.partitions[0]!.errorCode, errorCodes.REBALANCE_IN_PROGRESS, 'not before the sync');
  const syncs = await Promise.all([
    coord.request(SyncGroup, { groupId: 'g', generationId: 2, memberId: j0.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] }),
    other.request(SyncGroup, { groupId: 'g', generationId: 2, memberId: k0.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] }),
  ]);
  assert.equal(syncs.map((x) => x.errorCode), [0, 0]);
  const commit2 = await coord.request(OffsetCommit, { groupId: 'g', generationIdOrMemberEpoch: 2, memberId: k0.memberId, groupInstanceId: null, topics: [{ name: 't', topicId: c.topic('t').id, partitions: [{ partitionIndex: 1, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: null }] }] });
  assert.is(commit2.topics[0]!.partitions[0]!.errorCode, 0);
  const fetched = await coord.request(OffsetFetch, { groupId: 'g', topics: [{ name: 't', partitionIndexes: [1, 2] }], groups: [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 't', topicId: c.topic('t').id, partitionIndexes: [1, 2] }] }], requireStable: false });
  const parts = 'groups' in fetched && fetched.groups.length ? fetched.groups[0]!.topics[0]!.partitions : fetched.topics[0]!.partitions;
  assert.equal(parts.map((p) => Number(p.committedOffset)), [42, -1]);
  assert.is(c.committed('g', 't', 1), 42);
  // The second member goes silent: its session expires and the first is told to rebalance.
  for (let i = 0; i < 7; i++) {
    await new Promise((r) => setTimeout(r, 100));
    await hb(j0.memberId, 2);
  }
  assert.is(c.group('g').members.size, 1);
  assert.equal(c.state.groups.expired.map((e) => e.member), [k0.memberId]);
  const left = await coord.request(LeaveGroup, { groupId: 'g', memberId: j0.memberId, members: [{ memberId: j0.memberId, groupInstanceId: null, reason: null }] });
  assert.is(left.errorCode, 0);
  assert.is(c.group('g').state, 'Empty');
  const wrong = broker(coordId === 1 ? 2 : 1);
  const refused = await wrong.request(Heartbeat, { groupId: 'g', generationId: 1, memberId: 'x', groupInstanceId: null });
  assert.is(refused.errorCode, errorCodes.NOT_COORDINATOR);
});

s.run();
