/**
 * Cluster metadata that never makes progress: a leader the broker list does not hold, or no brokers at all.
 * The leader lookup must back off (a few Metadata requests a second, never a tight loop), give up at its
 * deadline with an error naming what it saw, and the fetcher must report it with the partition on `onError`.
 * The Metadata answers come from a stand-in broker behind the real Cluster (its `anyBroker` is replaced).
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Cluster, LeaderNotInMetadataError } from '../../src/client/cluster.js';
import { Fetcher, fetchedRecords } from '../../src/client/fetcher.js';
import { encodeRecordBatch } from '../../src/protocol/record-batch.js';
import type { KafkaError } from '../../src/errors.js';

const s = suite('cluster (metadata without progress)', { timeoutMs: 15_000 });

interface Seen { metadata: number }

/** A Cluster whose every Metadata request is answered with `brokers` and topic `t` led by `leaderId`. */
function clusterAnswering(brokers: number[], leaderId: number, options: { retryDeadlineMs?: number; topicError?: number; leaders?: number[] } = {}): { cluster: Cluster; seen: Seen } {
  const seen: Seen = { metadata: 0 };
  const cluster = new Cluster({ bootstrap: ['127.0.0.1:1'], clientId: 'test', retryDeadlineMs: options.retryDeadlineMs });
  const broker = {
    address: 'stand-in:9092',
    request: async (api: { name: string }) => {
      await new Promise((r) => setImmediate(r)); // a real broker answers after I/O
      if (api.name !== 'Metadata') throw new Error(`unexpected ${api.name}`);
      seen.metadata++;
      return {
        throttleTimeMs: 0, clusterId: 'c', controllerId: brokers[0] ?? -1, clusterAuthorizedOperations: 0,
        brokers: brokers.map((nodeId) => ({ nodeId, host: '127.0.0.1', port: 1, rack: null })),
        topics: [{ errorCode: options.topicError ?? 0, name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', isInternal: false, topicAuthorizedOperations: 0,
          partitions: (options.leaders ?? [leaderId, leaderId]).map((leader, partitionIndex) =>
            ({ errorCode: 0, partitionIndex, leaderId: leader, leaderEpoch: 1, replicaNodes: [leader], isrNodes: [leader], offlineReplicas: [] })) }],
      };
    },
  };
  (cluster as unknown as { anyBroker: () => Promise<unknown> }).anyBroker = async () => broker;
  return { cluster, seen };
}

/** Runs `leader()` for at most `windowMs`; what it settled with (or 'pending'), and Metadata requests per second. */
async function leaderWithin(cluster: Cluster, seen: Seen, windowMs: number): Promise<{ outcome: unknown; perSecond: number }> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    cluster.leader('t', 0).then(() => 'resolved', (err: unknown) => err),
    new Promise((r) => { timer = setTimeout(() => r('pending'), windowMs); }),
  ]);
  clearTimeout(timer);
  const perSecond = seen.metadata / Math.max(0.5, (Date.now() - t0) / 1000);
  await cluster.close(); // stops any loop left running
  return { outcome, perSecond };
}

s('a leader missing from the broker list: a few Metadata requests a second, then an error naming what was seen', async () => {
  const { cluster, seen } = clusterAnswering([1, 2], 7, { retryDeadlineMs: 2_500 });
  const { outcome, perSecond } = await leaderWithin(cluster, seen, 4_000);
  assert.ok(perSecond <= 5, `${seen.metadata} Metadata requests, ${perSecond.toFixed(1)}/s`);
  assert.ok(seen.metadata >= 2, 'the metadata was asked again');
  assert.instance(outcome, LeaderNotInMetadataError, `leader() gave ${String(outcome)}`);
  const err = outcome as LeaderNotInMetadataError;
  assert.equal([err.topic, err.partition, err.leaderId, [...err.brokerIds]], ['t', 0, 7, [1, 2]]);
  assert.ok(err.retriable);
  assert.match(err.message, /broker 7 as leader of t-0/);
});

s('metadata listing no brokers at all: bounded the same way', async () => {
  const { cluster, seen } = clusterAnswering([], 1, { retryDeadlineMs: 2_500 });
  const { outcome, perSecond } = await leaderWithin(cluster, seen, 4_000);
  assert.ok(perSecond <= 5, `${seen.metadata} Metadata requests, ${perSecond.toFixed(1)}/s`);
  assert.instance(outcome, LeaderNotInMetadataError, `leader() gave ${String(outcome)}`);
  assert.match((outcome as Error).message, /no brokers/);
});

s('the fetcher reports the missing leader with its partition on onError, and keeps asking at a bounded rate', async () => {
  const { cluster, seen } = clusterAnswering([1], 9);
  const reports: Array<{ err: KafkaError; tp: unknown }> = [];
  const fetcher = new Fetcher(cluster, { autoOffsetReset: 'earliest', onError: (err, tp) => reports.push({ err, tp }) });
  const t0 = Date.now();
  fetcher.assign([{ topic: 't', partition: 0 }]);
  while (reports.length === 0 && Date.now() - t0 < 3_000) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, Math.max(0, 3_000 - (Date.now() - t0))));
  const perSecond = seen.metadata / ((Date.now() - t0) / 1000);
  await fetcher.close();
  await cluster.close();
  assert.ok(perSecond <= 5, `${seen.metadata} Metadata requests in 3 s, ${perSecond.toFixed(1)}/s`);
  assert.ok(reports.length >= 1, 'the stall reached onError');
  assert.instance(reports[0]!.err, LeaderNotInMetadataError);
  assert.equal(reports[0]!.tp, { topic: 't', partition: 0 });
});

s('a topic error (TOPIC_AUTHORIZATION_FAILED) looked up on every send: the cached answer is reused for retryMaxMs, about one Metadata a second', async () => {
  const { cluster, seen } = clusterAnswering([1], 1, { topicError: 29 });
  const t0 = Date.now();
  let rejected = 0;
  while (Date.now() - t0 < 2_000) {
    // A producer sending every 2 ms to a topic it may not write: one lookup per send.
    await cluster.topic('t').then(() => undefined, () => { rejected++; });
    await new Promise((r) => setTimeout(r, 2));
  }
  const perSecond = seen.metadata / ((Date.now() - t0) / 1000);
  await cluster.close();
  assert.ok(rejected > 200, `${rejected} lookups`);
  assert.ok(perSecond <= 3, `${seen.metadata} Metadata requests in 2 s (${perSecond.toFixed(1)}/s) for ${rejected} lookups`);
  assert.ok(seen.metadata >= 2, 'the topic is still asked about again');
});

s('one partition whose leader the broker list lacks does not hold back the other: it is consumed, the bad one reported', async () => {
  const { cluster, seen } = clusterAnswering([1], 1, { leaders: [9, 1] });
  // Broker 1 answers ListOffsets (offset 0) and Fetch (one record at the position asked) for partition 1.
  const fetches = { count: 0 };
  const broker1 = {
    nodeId: 1, address: 'stand-in-1:9092',
    versionFor: async () => 17,
    request: async (api: { name: string }, body: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      await new Promise((r) => setTimeout(r, 2));
      if (api.name === 'ListOffsets') return { throttleTimeMs: 0, topics: [{ name: 't', partitions: body.topics[0].partitions.map((p: { partitionIndex: number }) => ({ partitionIndex: p.partitionIndex, errorCode: 0, timestamp: -1n, offset: 0n, leaderEpoch: 1 })) }] };
      if (api.name !== 'Fetch') throw new Error(`unexpected ${api.name}`);
      fetches.count++;
      const asked = body.topics[0].partitions;
      return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, nodeEndpoints: [], responses: [{ topic: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: asked.map((p: { partition: number; fetchOffset: bigint }) => ({
        partitionIndex: p.partition, errorCode: 0, highWatermark: 100n, lastStableOffset: 100n, logStartOffset: 0n, divergingEpoch: { epoch: -1, endOffset: -1n },
        currentLeader: { leaderId: -1, leaderEpoch: -1 }, snapshotId: { endOffset: -1n, epoch: -1 }, abortedTransactions: null, preferredReadReplica: -1,
        records: encodeRecordBatch([{ value: `v${p.fetchOffset}` }], { baseOffset: Number(p.fetchOffset), partitionLeaderEpoch: 1 }),
      })) }] };
    },
  };
  const realBroker = cluster.broker.bind(cluster);
  (cluster as unknown as { broker: (id: number) => unknown }).broker = (id: number) => (id === 1 ? broker1 : realBroker(id));
  const reports: Array<{ err: KafkaError; tp: unknown }> = [];
  const fetcher = new Fetcher(cluster, { autoOffsetReset: 'earliest', maxWaitMs: 10, onError: (err, tp) => reports.push({ err, tp }) });
  const t0 = Date.now();
  const offsets: number[] = [];
  try {
    fetcher.assign([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    const stop = AbortSignal.timeout(3_000);
    for (;;) {
      const b = await fetcher.next(stop).catch(() => undefined);
      if (b === undefined) break;
      for (const r of fetchedRecords(b)) offsets.push(r.offset);
      fetcher.consumed(b, b.nextOffset);
    }
  } finally {
    await fetcher.close();
    await cluster.close();
  }
  const perSecond = seen.metadata / ((Date.now() - t0) / 1000);
  assert.ok(offsets.length >= 20, `partition 1 delivered ${offsets.length} records`);
  assert.equal(offsets.slice(0, 3), [0, 1, 2]);
  assert.ok(perSecond <= 5, `${seen.metadata} Metadata requests in 3 s (${perSecond.toFixed(1)}/s)`);
  const mine = reports.filter((x) => (x.tp as { partition?: number }).partition === 0);
  assert.ok(mine.length >= 1 && mine[0]!.err instanceof LeaderNotInMetadataError, reports.map((x) => x.err.message).join('; ') || 'nothing reported');
  assert.ok(reports.every((x) => (x.tp as { partition?: number }).partition === 0), 'only the bad partition is reported');
});

s('a topic answered with a partition still leaderless (allowLeaderless) is asked again on the next lookup: the election may be over', async () => {
  const { cluster, seen } = clusterAnswering([1], 1, { leaders: [-1, 1] });
  const meta = await cluster.topic('t', { allowLeaderless: true });
  assert.equal(meta.partitions.map((p) => p.leaderId), [-1, 1]);
  await cluster.topic('t', { allowLeaderless: true });
  assert.is(seen.metadata, 2, 'refreshed, not served from the cache');
  const err = await cluster.leader('t', 0, { deadlineMs: 0 }).then(() => null, (e: unknown) => e);
  assert.match(String(err), /LEADER_NOT_AVAILABLE/);
  assert.ok(await cluster.leader('t', 1, { deadlineMs: 0 }), 'the partition with a leader is routed');
  await cluster.close();
});

s.run();
