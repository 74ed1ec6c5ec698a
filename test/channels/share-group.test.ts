/**
 * ShareGroup (src/channels/share-group.ts, KIP-932) on the fake cluster's share groups
 * (test/fake-cluster/share-groups.ts), unhappy paths first: lock expiry, the delivery limit, refused and lost
 * acknowledgements, fencing, careless callers, backoff. The real broker's suite is integration/share-group.test.ts.
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../kit.js';
import { ShareGroup } from '../../src/channels/share-group.js';
import type { ShareGroupConfig } from '../../src/channels/share-group-config.js';
import { RejectRecordError, type ShareMessage } from '../../src/channels/share-message.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';
import { shareGroupsOf, type ShareGroups } from '../fake-cluster/share-groups.js';

let c: FakeCluster;
let share: ShareGroups;
let made: ShareGroup[] = [];
const s = suite('ShareGroup on the fake cluster', { timeoutMs: 30_000 });
s.before.each(async () => {
  c = await FakeCluster.start({ brokers: 2, topics: { t: 2 } });
  share = shareGroupsOf(c.state);
  share.heartbeatIntervalMs = 50;
});
s.after.each(async () => {
  await Promise.allSettled(made.splice(0).map((g) => g.close({ signal: AbortSignal.timeout(3_000) })));
  await c.close();
});

function group(config: Partial<ShareGroupConfig> = {}): ShareGroup {
  const g = new ShareGroup({
    brokerAddrs: c.bootstrap, topic: 't', groupName: 'sg', minRetryPeriod: 20, maxRetryPeriod: 200, retryBackoffMs: 20,
    fetchMaxWaitMs: 50, requestTimeoutMs: 2_000, ...config,
  });
  made.push(g);
  return g;
}

const produce = async (n: number, prefix = 'v'): Promise<void> => {
  for (const p of [0, 1]) await c.append('t', p, Array.from({ length: n }, (_, i) => `${prefix}${p}-${i}`));
};
/** Every record of both partitions is in `state`. */
const allIn = (n: number, state: string): boolean => [0, 1].every((p) => Array.from({ length: n }, (_, o) => share.record('t', p, o).state).every((x) => x === state));
const isArgError = (e: unknown): boolean => e instanceof InvalidArgumentError;
const errorsOf = (g: ShareGroup): Error[] => {
  const out: Error[] = [];
  for (let r; (r = g.channels.errors.tryRecv()) !== undefined && !r.done;) out.push(r.value);
  return out;
};

s('handlers: return accepts, a thrown error redelivers (count 2 on the next delivery), RejectRecordError archives for good', async () => {
  await produce(5);
  const g = group({ numWorkers: 3 });
  const seen = new Map<string, number[]>();
  g.registerHandler((m) => {
    const v = m.value!.toString();
    seen.set(v, [...(seen.get(v) ?? []), m.deliveryCount]);
    if (v.endsWith('-1') && m.deliveryCount === 1) throw new Error('try again');
    if (v.endsWith('-2')) throw new RejectRecordError('poison');
  });
  g.start();
  await eventually('every record settled', () => [0, 1].every((p) => [0, 1, 3, 4].every((o) => share.record('t', p, o).state === 'Acknowledged') && share.record('t', p, 2).state === 'Archived'), 5_000);
  assert.equal(seen.get('v0-1'), [1, 2], 'released once, delivered again with delivery count 2');
  assert.equal(seen.get('v1-2'), [1], 'rejected: never delivered again');
  assert.equal(seen.get('v0-0'), [1]);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(seen.get('v1-2'), [1], 'still not redelivered');
  assert.is(g.state, 'Consuming');
});

s('explicit acknowledgements on upstream: accept / redeliver / reject resolve true once the broker applied them', async () => {
  await produce(1);
  const g = group();
  g.start();
  const a = (await g.channels.upstream.recv(AbortSignal.timeout(5_000))).value as ShareMessage;
  const b = (await g.channels.upstream.recv(AbortSignal.timeout(5_000))).value as ShareMessage;
  assert.is(a.deliveryCount, 1);
  assert.is(a.acknowledgement, undefined);
  assert.is(await a.reject(), true);
  assert.is(a.acknowledgement, 'reject');
  assert.is(await b.redeliver(), true);
  const again = (await g.channels.upstream.recv(AbortSignal.timeout(5_000))).value as ShareMessage;
  assert.is(again.offset, b.offset);
  assert.is(again.partition, b.partition);
  assert.is(again.deliveryCount, 2);
  assert.is(await again.accept(), true);
  assert.is(share.record('t', a.partition, a.offset).state, 'Archived');
  assert.is(share.record('t', b.partition, b.offset).state, 'Acknowledged');
});

s('acquisition lock expiry: a record held past the lock goes to another member (count 2); the late accept is refused (INVALID_RECORD_STATE on errors)', async () => {
  share.lockTimeoutMs = 300;
  await c.append('t', 0, ['only']);
  const slow = group({ maxRecords: 1 });
  slow.start();
  const held = (await slow.channels.upstream.recv(AbortSignal.timeout(5_000))).value as ShareMessage;
  // The slow member stays in the group with its session open, but its fetches hang: only the lock can free the record.
  const [slowId] = share.members('sg');
  let unhold!: () => void;
  const hold = new Promise<void>((r) => { unhold = r; });
  c.fault({ api: 'ShareFetch', action: 'delay', until: hold, when: (req) => req.body.memberId === slowId });
  const other = group();
  other.start();
  const m = (await other.channels.upstream.recv(AbortSignal.timeout(5_000))).value as ShareMessage;
  assert.is(m.offset, held.offset);
  assert.is(m.deliveryCount, 2);
  assert.is(await m.accept(), true);
  const late = held.accept();
  unhold();
  assert.is(await late, false, 'the first member no longer holds the record');
  await eventually('reported', () => errorsOf(slow).some((e) => /INVALID_RECORD_STATE/.test(e.message)), 3_000);
  assert.is(share.record('t', 0, 0).state, 'Acknowledged');
});

s('delivery limit: a record whose handler always fails is delivered exactly limit times, then archived', async () => {
  share.deliveryLimit = 3;
  await c.append('t', 1, ['bad']);
  const g = group();
  const counts: number[] = [];
  g.registerHandler((m) => { counts.push(m.deliveryCount); throw new Error('always'); });
  g.start();
  await eventually('archived', () => share.record('t', 1, 0).state === 'Archived', 5_000);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(counts, [1, 2, 3]);
});

s('a lost share session (SHARE_SESSION_NOT_FOUND): reopened; the acknowledgements it lost are reported; every record still ends accepted', async () => {
  share.lockTimeoutMs = 300;
  await produce(20);
  const g = group({ maxRecords: 5, numWorkers: 2 });
  let handled = 0;
  g.registerHandler(async () => { handled++; await new Promise((r) => setTimeout(r, 2)); });
  c.fault({ api: 'ShareFetch', action: 'error', code: errorCodes.SHARE_SESSION_NOT_FOUND, times: 2, when: (req) => (req.body.shareSessionEpoch as number) > 1 });
  g.start();
  await eventually('all accepted', () => allIn(20, 'Acknowledged'), 8_000);
  assert.ok(handled >= 40, `${handled}`);
  const opens = c.log.of('ShareFetch').filter((r) => r.body.shareSessionEpoch === 0).length;
  assert.ok(opens >= 3, `the session was opened again after each loss (${opens} opening requests)`);
  assert.ok(errorsOf(g).some((e) => /SHARE_SESSION_NOT_FOUND/.test(e.message)), 'the loss is reported');
});

s('an acknowledgement the broker refuses (INVALID_RECORD_STATE) resolves false and is reported with its partition', async () => {
  await c.append('t', 0, ['x']);
  const g = group();
  g.start();
  const m = (await g.channels.upstream.recv(AbortSignal.timeout(5_000))).value as ShareMessage;
  const rec = share.record('t', 0, 0);
  rec.state = 'Archived'; // the broker took it away (as a lock expiry at the delivery limit does)
  rec.owner = null;
  assert.is(await m.accept(), false);
  await eventually('reported', () => errorsOf(g).some((e) => /INVALID_RECORD_STATE/.test(e.message) && /t-0/.test(e.message)), 2_000);
});

s('a fenced member (FENCED_MEMBER_EPOCH) rejoins at epoch 0 and keeps consuming', async () => {
  const g = group();
  const got: string[] = [];
  g.registerHandler((m) => { got.push(m.value!.toString()); });
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(5_000));
  const [member] = share.members('sg');
  const joinsBefore = c.log.of('ShareGroupHeartbeat').filter((r) => r.body.memberEpoch === 0).length;
  share.fence(member!);
  await eventually('rejoined', () => c.log.of('ShareGroupHeartbeat').filter((r) => r.body.memberEpoch === 0).length > joinsBefore, 3_000);
  assert.equal(share.members('sg'), [member], 'the same member id');
  await produce(2);
  await eventually('consumed after the rejoin', () => got.length === 4, 5_000);
});

s('careless callers: the same acknowledgement twice is one; a different one throws; after close an acknowledgement resolves false', async () => {
  await c.append('t', 0, ['a', 'b']);
  const g = group();
  g.start();
  const a = (await g.channels.upstream.recv(AbortSignal.timeout(5_000))).value as ShareMessage;
  const b = (await g.channels.upstream.recv(AbortSignal.timeout(5_000))).value as ShareMessage;
  const first = a.accept();
  assert.is(a.accept(), first, 'the second accept returns the first outcome');
  assert.throws(() => a.reject(), (e: unknown) => e instanceof InvalidArgumentError && /already acknowledged with accept/.test((e as Error).message));
  assert.throws(() => a.redeliver(), isArgError);
  assert.is(await first, true);
  await g.close();
  assert.is(await b.accept(), false, 'too late: the session is closed');
  assert.is(g.state, 'Closing');
  // b was never acknowledged: closing the share session gave it back at once.
  assert.is(share.record('t', 0, 1).state, 'Available');
});

s('stop hands buffered messages back at once (redeliver), not after the lock', async () => {
  share.lockTimeoutMs = 60_000;
  await produce(10);
  const g = group({ numWorkers: 1 });
  g.start();
  const one = (await g.channels.upstream.recv(AbortSignal.timeout(5_000))).value as ShareMessage;
  await eventually('upstream full', () => g.channels.upstream.length === g.channels.upstream.capacity, 3_000);
  await one.accept();
  await g.stopAndWait(AbortSignal.timeout(5_000));
  const acquired = [0, 1].flatMap((p) => Array.from({ length: 10 }, (_, o) => share.record('t', p, o))).filter((r) => r.state === 'Acquired');
  assert.equal(acquired, [], 'nothing stays locked by a stopped member');
  // Not left to the broker's session clean-up: every record acquired and not accepted was released explicitly.
  const released = new Set<string>();
  for (const r of [...c.log.of('ShareFetch'), ...c.log.of('ShareAcknowledge')]) {
    for (const t of r.body.topics as { partitions: { partitionIndex: number; acknowledgementBatches: { firstOffset: bigint; lastOffset: bigint; acknowledgeTypes: number[] }[] }[] }[]) {
      for (const p of t.partitions) for (const b of p.acknowledgementBatches) {
        for (let o = Number(b.firstOffset); o <= Number(b.lastOffset); o++) {
          if ((b.acknowledgeTypes.length === 1 ? b.acknowledgeTypes[0] : b.acknowledgeTypes[o - Number(b.firstOffset)]) === 2) released.add(`${p.partitionIndex}/${o}`);
        }
      }
    }
  }
  const delivered = [0, 1].flatMap((p) => Array.from({ length: 10 }, (_, o) => [p, o] as const)).filter(([p, o]) => share.record('t', p, o).deliveryCount > 0);
  assert.is(released.size, delivered.length - 1, `${released.size} released of ${delivered.length} acquired, one accepted`);
  assert.is(share.record('t', one.partition, one.offset).state, 'Acknowledged');
});

s('a failing ShareFetch backs off (cyclic backoff, not a tight loop) and is reported', async () => {
  const g = group({ retryBackoffMs: 50 });
  c.fault({ api: 'ShareFetch', action: 'error', code: errorCodes.UNKNOWN_SERVER_ERROR });
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(5_000));
  const since = Date.now();
  await new Promise((r) => setTimeout(r, 1_500));
  const n = c.log.count('ShareFetch', { since });
  assert.ok(n <= 20, `${n} ShareFetch requests in 1.5 s`);
  assert.ok(n >= 2, `${n}: it keeps trying`);
  assert.ok(errorsOf(g).some((e) => /UNKNOWN_SERVER_ERROR/.test(e.message)), 'reported');
  c.clearFaults();
  await produce(1);
  const m = (await g.channels.upstream.recv(AbortSignal.timeout(5_000))).value as ShareMessage;
  assert.is(await m.accept(), true, 'recovers once the broker answers');
});

s('a hostile ShareFetch answer (an acquired range of 2^50 offsets, reversed ranges) neither spins nor crashes; the session goes on', async () => {
  await c.append('t', 0, ['a', 'b']);
  const g = group();
  let mutated = false; // the first answer that acquires something (another broker's session may answer first, empty)
  c.fault({ api: 'ShareFetch', action: 'mutate', mutate: (res) => {
    const topics = res.responses as { partitions: { acquiredRecords: { firstOffset: bigint; lastOffset: bigint; deliveryCount: number }[] }[] }[];
    for (const t of topics) for (const p of t.partitions) {
      if (!mutated && p.acquiredRecords.length > 0) {
        mutated = true;
        p.acquiredRecords.push({ firstOffset: 5n, lastOffset: 2n ** 50n, deliveryCount: 1 }, { firstOffset: 9n, lastOffset: 3n, deliveryCount: 1 });
      }
    }
  } });
  g.start();
  const got: ShareMessage[] = [];
  while (got.length < 2) got.push((await g.channels.upstream.recv(AbortSignal.timeout(5_000))).value as ShareMessage);
  assert.equal(got.map((m) => m.value!.toString()), ['a', 'b']);
  // The gap acknowledgement of the huge range goes out as one batch; the fake (as Kafka) refuses the partition's
  // acknowledgements for it, which is reported: the client does not walk 2^50 offsets.
  await Promise.all(got.map((m) => m.accept()));
  const errors = errorsOf(g);
  assert.ok(errors.some((e) => /make no sense/.test(e.message)), 'the reversed range is reported');
  await c.append('t', 1, ['c']);
  let next: ShareMessage;
  do next = (await g.channels.upstream.recv(AbortSignal.timeout(5_000))).value as ShareMessage; while (next.value!.toString() !== 'c');
  assert.is(await next.accept(), true, 'the session goes on');
});

s('partition errors on every ShareFetch answer (NOT_LEADER_OR_FOLLOWER, answered at once) back off too, and are reported', async () => {
  await c.append('t', 0, ['a']);
  const g = group({ retryBackoffMs: 50 });
  c.fault({ api: 'ShareFetch', action: 'mutate', mutate: (res) => {
    const topics = (res.responses ?? []) as { partitions: { errorCode: number; acquiredRecords: unknown[]; records: Buffer }[] }[];
    for (const t of topics) for (const p of t.partitions) { p.errorCode = errorCodes.NOT_LEADER_OR_FOLLOWER; p.acquiredRecords = []; p.records = Buffer.alloc(0); }
    // every partition of the session answers, as a broker that lost leadership does
    if (topics.length === 0) res.responses = [...c.state.topics.get('t')!.partitions.map((p) => ({ topicId: c.topic('t').id, partitions: [{
      partitionIndex: p.partition, errorCode: errorCodes.NOT_LEADER_OR_FOLLOWER, errorMessage: null, acknowledgeErrorCode: 0, acknowledgeErrorMessage: null,
      currentLeader: { leaderId: -1, leaderEpoch: -1 }, records: Buffer.alloc(0), acquiredRecords: [] }] }))];
  } });
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(5_000));
  const since = Date.now();
  await new Promise((r) => setTimeout(r, 1_500));
  const n = c.log.count('ShareFetch', { since });
  assert.ok(n <= 25, `${n} ShareFetch requests in 1.5 s`);
  assert.ok(errorsOf(g).some((e) => /NOT_LEADER_OR_FOLLOWER/.test(e.message)), 'reported');
});

s('config: consumer-group-only settings and a bad maxRecords are refused together; handlers are checked at the call', () => {
  assert.throws(() => new ShareGroup({ brokerAddrs: ['127.0.0.1:1'], topic: 't', groupName: 'g', assignors: ['range'], maxRecords: 0, offset: 'sideways' } as never),
    (e: unknown) => e instanceof InvalidArgumentError && /assignors is a consumer group setting/.test((e as Error).message) && /maxRecords/.test((e as Error).message)
      && /offset must be 'oldest' or 'newest'/.test((e as Error).message));
  assert.throws(() => new ShareGroup({ brokerAddrs: [], topic: 't', groupName: 'g' }), isArgError);
  const g = new ShareGroup({ brokerAddrs: ['127.0.0.1:1'], topic: 't', groupName: 'g', minBrokersHealthy: 1 });
  made.push(g);
  assert.throws(() => g.registerHandler(42 as never), isArgError);
  g.registerHandler(() => undefined);
  assert.throws(() => g.registerBatchHandler(() => undefined), isArgError);
  assert.is(g.config.maxRecords, 500);
  assert.is(g.config.fetchMaxWaitMs, 500);
});

s.run();
