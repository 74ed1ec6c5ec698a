/**
 * The fetcher's reactions to broker answers that a healthy test broker rarely gives (lost sessions, leader moves,
 * diverged logs, fatal partition errors), driven through a scripted stand-in for the cluster and its brokers.
 * The real-broker evidence is in integration/fetch*.test.ts.
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import type { Cluster, TopicMeta } from '../../src/client/cluster.js';
import { Fetcher, fetchedRecords, LogTruncationError } from '../../src/client/fetcher.js';
import { BrokerError, KafkaError } from '../../src/errors.js';
import { Fetch } from '../../src/protocol/apis/fetch.js';
import { ListOffsets } from '../../src/protocol/apis/list-offsets.js';
import { OffsetForLeaderEpoch } from '../../src/protocol/apis/offset-for-leader-epoch.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { encodeRecordBatch } from '../../src/protocol/record-batch.js';
import { crc32c } from '../../src/protocol/crc32c.js';
import { ConnectionError, DecodeError } from '../../src/errors.js';
import type { ApiDef, RequestOf } from '../../src/protocol/schema-types.js';

const s = suite('fetcher (scripted brokers)', { timeoutMs: 10_000 });
const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

type FetchReq = RequestOf<typeof Fetch>;
interface Call { node: number; api: string; body: Record<string, unknown> }
type Script = (call: Call) => unknown;

/** A cluster of stand-in brokers answering from `script`; metadata says `leader` leads partitions 0.. at `epoch`. */
function fakeCluster(script: Script, partitionCount = 1) {
  const calls: Call[] = [];
  const meta = { leader: 1, epoch: 5, invalidations: 0 };
  const broker = (node: number) => ({
    nodeId: node,
    versionFor: async () => 17,
    request: async (api: ApiDef, body: unknown) => {
      await new Promise((r) => setTimeout(r, 1));
      const call = { node, api: api.name, body: body as Record<string, unknown> };
      calls.push(call);
      const res = script(call);
      if (res instanceof Error) throw res;
      return res;
    },
  });
  const brokers = new Map([1, 2].map((n) => [n, broker(n)]));
  const topicMeta = (): TopicMeta => ({
    name: 't', topicId: TOPIC_ID, errorCode: 0, isInternal: false,
    partitions: Array.from({ length: partitionCount }, (_, partition) =>
      ({ topic: 't', partition, leaderId: meta.leader, leaderEpoch: meta.epoch, replicas: [1, 2], isr: [1, 2], errorCode: 0 })),
  });
  const cluster = {
    topic: async () => topicMeta(),
    leader: async () => brokers.get(meta.leader),
    broker: (id: number) => brokers.get(id),
    invalidate: () => { meta.invalidations++; },
  } as unknown as Cluster;
  return { cluster, calls, meta };
}

function fetchResponse(parts: Array<{ errorCode?: number; records?: Buffer; hw?: number; diverging?: { epoch: number; endOffset: bigint } }>, sessionId = 0, errorCode = 0) {
  return {
    throttleTimeMs: 0, errorCode, sessionId, nodeEndpoints: [],
    responses: [{ topic: '', topicId: TOPIC_ID, partitions: parts.map((p) => ({
      partitionIndex: 0, errorCode: p.errorCode ?? 0, highWatermark: BigInt(p.hw ?? 100), lastStableOffset: BigInt(p.hw ?? 100), logStartOffset: 0n,
      divergingEpoch: p.diverging ?? { epoch: -1, endOffset: -1n }, currentLeader: { leaderId: -1, leaderEpoch: -1 }, snapshotId: { endOffset: -1n, epoch: -1 },
      abortedTransactions: null, preferredReadReplica: -1, records: p.records ?? Buffer.alloc(0),
    })) }],
  };
}

const batch = (base: number, n: number, epoch = 5) =>
  encodeRecordBatch(Array.from({ length: n }, (_, i) => ({ value: `v${base + i}` })), { baseOffset: base, partitionLeaderEpoch: epoch });
const fetchOffsetOf = (c: Call) => Number(((c.body as FetchReq).topics[0]?.partitions[0]?.fetchOffset) ?? -1n);
const until = async (cond: () => boolean, ms = 5_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

s('a lost session (FETCH_SESSION_ID_NOT_FOUND) is followed at once by a full request; data flows on', async () => {
  let n = 0;
  const { cluster, calls } = fakeCluster((c) => {
    if (c.api !== 'Fetch') throw new Error(`unexpected ${c.api}`);
    n++;
    if (n === 1) return fetchResponse([{ records: batch(10, 5) }], 42);
    if (n === 2) return fetchResponse([], 0, errorCodes.FETCH_SESSION_ID_NOT_FOUND);
    if (n === 3) return fetchResponse([{ records: batch(15, 5) }], 43);
    return fetchResponse([], 43);
  });
  const f = new Fetcher(cluster, { maxWaitMs: 10 });
  try {
    f.assign([{ topic: 't', partition: 0, offset: 10 }]);
    const a = await f.next();
    f.consumed(a, a.nextOffset);
    const b = await f.next();
    assert.equal([...fetchedRecords(a), ...fetchedRecords(b)].map((r) => r.offset), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const reqs = calls.map((c) => c.body as FetchReq);
    assert.equal([reqs[0]!.sessionId, reqs[0]!.sessionEpoch], [0, 0]);
    assert.equal([reqs[1]!.sessionId, reqs[1]!.sessionEpoch], [42, 1]);
    assert.is(fetchOffsetOf(calls[1]!), 15, 'the incremental request carries the moved position');
    assert.equal([reqs[2]!.sessionId, reqs[2]!.sessionEpoch], [0, 0], 'full again after the lost session');
    assert.is(fetchOffsetOf(calls[2]!), 15);
    assert.is(reqs[0]!.topics[0]!.topicId, TOPIC_ID, 'topic ids from metadata (Fetch v13+)');
  } finally {
    await f.close();
  }
});

s('a run pins its whole fetch response: the response counts against maxBufferedBytes until consumed, and the next fetch asks for less', async () => {
  const records = batch(10, 5);
  const frame = Buffer.allocUnsafeSlow(256 << 10); // the response the records are a view of
  records.copy(frame, 100);
  let n = 0;
  const { cluster, calls } = fakeCluster((c) => {
    if (c.api !== 'Fetch') throw new Error(`unexpected ${c.api}`);
    return ++n === 1 ? fetchResponse([{ records: frame.subarray(100, 100 + records.length) }]) : fetchResponse([]);
  });
  const f = new Fetcher(cluster, { maxWaitMs: 10, maxBufferedBytes: 1 << 20 });
  try {
    f.assign([{ topic: 't', partition: 0, offset: 10 }]);
    const a = await f.next();
    assert.is(f.bufferedBytes, 256 << 10);
    assert.is(f.partitionBufferedBytes({ topic: 't', partition: 0 }), records.length);
    await until(() => calls.length >= 2);
    assert.is((calls[1]!.body as FetchReq).maxBytes, (1 << 20) - (256 << 10), 'the room left beside the pinned response');
    f.consumed(a, a.nextOffset);
    assert.is(f.bufferedBytes, 0);
  } finally {
    await f.close();
  }
});

s('NOT_LEADER_OR_FOLLOWER: metadata refreshed, new leader asked OffsetForLeaderEpoch; a truncated log is reported and read from its end', async () => {
  const errors: KafkaError[] = [];
  const { cluster, calls, meta } = fakeCluster((c) => {
    if (c.node === 1) {
      if (calls.filter((x) => x.node === 1).length === 1) return fetchResponse([{ records: batch(0, 30) }]);
      meta.leader = 2;
      meta.epoch = 6;
      return fetchResponse([{ errorCode: errorCodes.NOT_LEADER_OR_FOLLOWER }]);
    }
    if (c.api === 'OffsetForLeaderEpoch') {
      return { throttleTimeMs: 0, topics: [{ topic: 't', partitions: [{ errorCode: 0, partition: 0, leaderEpoch: 5, endOffset: 25n }] }] };
    }
    return fetchResponse(fetchOffsetOf(c) === 25 ? [{ records: batch(25, 3, 6) }] : []);
  });
  const f = new Fetcher(cluster, { maxWaitMs: 10, onError: (e) => errors.push(e) });
  try {
    f.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const first = await f.next();
    f.consumed(first, first.nextOffset);
    const after = await f.next();
    assert.equal([...fetchedRecords(after)].map((r) => r.offset), [25, 26, 27]);
    assert.ok(meta.invalidations > 0, 'metadata invalidated');
    const ofle = calls.find((c) => c.api === 'OffsetForLeaderEpoch')!;
    assert.is(ofle.node, 2);
    const p = (ofle.body as RequestOf<typeof OffsetForLeaderEpoch>).topics[0]!.partitions[0]!;
    assert.equal([p.currentLeaderEpoch, p.leaderEpoch], [6, 5], 'new leader epoch as current, our last fetched epoch as the question');
    assert.is(errors.length, 1);
    assert.instance(errors[0], LogTruncationError);
    assert.is((errors[0] as LogTruncationError).truncatedTo, 25);
    const refetch = calls.filter((c) => c.node === 2 && c.api === 'Fetch')[0]!;
    assert.is(((refetch.body as FetchReq).topics[0]!.partitions[0]!.currentLeaderEpoch), 6);
  } finally {
    await f.close();
  }
});

s('a diverging epoch in the fetch answer (v12+) truncates without an extra request', async () => {
  const errors: KafkaError[] = [];
  let n = 0;
  const { cluster } = fakeCluster((c) => {
    n++;
    if (n === 1) return fetchResponse([{ diverging: { epoch: 4, endOffset: 7n } }]);
    return fetchResponse(fetchOffsetOf(c) === 7 ? [{ records: batch(7, 1) }] : []);
  });
  const f = new Fetcher(cluster, { maxWaitMs: 10, onError: (e) => errors.push(e) });
  try {
    f.assign([{ topic: 't', partition: 0, offset: 9 }]);
    const b = await f.next();
    assert.is([...fetchedRecords(b)][0]!.offset, 7);
    assert.instance(errors[0], LogTruncationError);
  } finally {
    await f.close();
  }
});

s('no position: ListOffsets by the reset policy; retriable partition errors are retried silently, fatal ones reported once', async () => {
  const errors: KafkaError[] = [];
  let fetches = 0;
  const { cluster, calls } = fakeCluster((c) => {
    if (c.api === 'ListOffsets') {
      return { throttleTimeMs: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 3n, leaderEpoch: 5 }] }] };
    }
    fetches++;
    if (fetches === 1) return fetchResponse([{ errorCode: errorCodes.UNKNOWN_LEADER_EPOCH }]);
    if (fetches === 2) return fetchResponse([{ records: batch(3, 2) }]);
    return fetchResponse([{ errorCode: errorCodes.TOPIC_AUTHORIZATION_FAILED }]);
  });
  const f = new Fetcher(cluster, { maxWaitMs: 10, autoOffsetReset: 'earliest', retryMinMs: 5, retryMaxMs: 20, onError: (e) => errors.push(e) });
  try {
    f.assign([{ topic: 't', partition: 0 }]);
    const b = await f.next();
    assert.equal([...fetchedRecords(b)].map((r) => r.offset), [3, 4]);
    const lo = calls.find((c) => c.api === 'ListOffsets')!.body as RequestOf<typeof ListOffsets>;
    assert.is(lo.topics[0]!.partitions[0]!.timestamp, -2n, 'earliest');
    await until(() => errors.length > 0);
    await new Promise((r) => setTimeout(r, 50));
    assert.is(errors.length, 1, 'reported once; the failed partition is not fetched again');
    assert.is((errors[0] as BrokerError).errorName, 'TOPIC_AUTHORIZATION_FAILED');
    assert.is(fetches, 3);
    const before = fetches;
    f.seek({ topic: 't', partition: 0 }, 5);
    await until(() => fetches > before);
  } finally {
    await f.close();
  }
});

s('without onError, a fatal error rejects the next next()', async () => {
  const { cluster } = fakeCluster(() => fetchResponse([{ errorCode: errorCodes.TOPIC_AUTHORIZATION_FAILED }]));
  const f = new Fetcher(cluster, { maxWaitMs: 10 });
  try {
    f.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const err = await f.next().then(() => null, (e: unknown) => e);
    assert.instance(err, BrokerError);
  } finally {
    await f.close();
  }
});

// ---------------------------------------------------------------------------------------------------------
// Corrupt batches: one partition's answers are bad, the other's are good. The bad partition must never be
// fetched in a tight loop, its problem must reach onError as a DecodeError naming it, and the good one flows.
// ---------------------------------------------------------------------------------------------------------

/** `b` with its CRC-32C recomputed (after an edit of the header), as a careful hostile broker would send it. */
const withCrc = (b: Buffer): Buffer => { b.writeUInt32BE(crc32c(b, 21, b.length), 17); return b; };
const WINDOW_MS = 2_000;

/**
 * Partition 0 (asked from offset 10) is answered with `bad(fetchOffset)`, partition 1 (from 0) with one good record
 * at its position. For WINDOW_MS: what reached onError, how often partition 0 was asked, what partition 1 delivered.
 */
async function againstCorrupt(bad: (fetchOffset: number) => Buffer | { errorCode: number }, options: { verifyCrc?: boolean; requestTimeoutMs?: number } = {}) {
  const { cluster, calls } = fakeCluster((c) => {
    if (c.api !== 'Fetch') throw new Error(`unexpected ${c.api}`);
    const asked = (c.body as FetchReq).topics.flatMap((t) => t.partitions);
    const res = fetchResponse(asked.map((p) => {
      if (p.partition !== 0) return { records: batch(Number(p.fetchOffset), 1) };
      const answer = bad(Number(p.fetchOffset));
      return Buffer.isBuffer(answer) ? { records: answer } : answer;
    }));
    res.responses[0]!.partitions.forEach((p, i) => { p.partitionIndex = asked[i]!.partition; });
    return res;
  }, 2);
  const reports: Array<{ err: KafkaError; tp: unknown }> = [];
  const f = new Fetcher(cluster, { maxWaitMs: 10, ...options, onError: (err, tp) => reports.push({ err, tp }) });
  const delivered: number[][] = [[], []];
  const t0 = Date.now();
  try {
    f.assign([{ topic: 't', partition: 0, offset: 10 }, { topic: 't', partition: 1, offset: 0 }]);
    const stop = AbortSignal.timeout(WINDOW_MS);
    for (;;) {
      const b = await f.next(stop).catch(() => undefined);
      if (b === undefined) break;
      for (const r of fetchedRecords(b)) delivered[b.partition]!.push(r.offset);
      f.consumed(b, b.nextOffset);
    }
  } finally {
    await f.close();
  }
  const seconds = (Date.now() - t0) / 1000;
  const asksOf0 = calls.filter((c) => (c.body as FetchReq).topics.some((t) => t.partitions.some((p) => p.partition === 0))).length;
  return { reports, perSecond: asksOf0 / seconds, asksOf0, delivered };
}

/** Common checks: partition 0 asked a few times a second at most, a DecodeError about it reported, partition 1 flowing. */
function assertContained(r: Awaited<ReturnType<typeof againstCorrupt>>, what: RegExp, type: Function = DecodeError): void {
  assert.ok(r.perSecond <= 5, `partition 0 asked ${r.asksOf0} times (${r.perSecond.toFixed(1)}/s)`);
  const mine = r.reports.filter((x) => (x.tp as { partition?: number } | undefined)?.partition === 0);
  assert.ok(mine.length >= 1, `reported: ${r.reports.map((x) => x.err.message).join('; ') || 'nothing'}`);
  assert.instance(mine[0]!.err, type);
  assert.match(mine[0]!.err.message, what);
  assert.equal(mine[0]!.tp, { topic: 't', partition: 0 });
  assert.ok(r.delivered[1]!.length >= 20, `partition 1 delivered ${r.delivered[1]!.length} records`);
  assert.equal(r.delivered[1]!.slice(0, 5), [0, 1, 2, 3, 4]);
  assert.is(r.delivered[0]!.length, 0, 'nothing delivered from the corrupt partition');
}

s('a batch whose batchLength runs past the bytes sent: backed off, a DecodeError reported, the other partition flows', async () => {
  const r = await againstCorrupt((at) => { const b = batch(at, 3); b.writeInt32BE(b.readInt32BE(8) + 1_000, 8); return b; });
  assertContained(r, /t-0 at offset 10: .*no complete record batch/);
});

s('a batch with a negative lastOffsetDelta: a DecodeError, the partition stops, the other flows', async () => {
  const r = await againstCorrupt((at) => { const b = batch(at, 3); b.writeInt32BE(-1, 23); return withCrc(b); });
  assertContained(r, /t-0 at offset 10: .*lastOffsetDelta -1/);
  assert.is(r.asksOf0, 1, 'a stopped partition is not asked again');
});

s('batches that all end before the fetch position: backed off, a DecodeError reported, the other partition flows', async () => {
  const r = await againstCorrupt(() => batch(0, 5)); // offsets 0-4, asked from 10
  assertContained(r, /t-0 at offset 10: every batch ends before the fetch position/);
});

s('a corrupt CRC is refused by default (verifyCrc defaults to true): a DecodeError, the partition stops', async () => {
  const r = await againstCorrupt((at) => { const b = batch(at, 3); b[b.length - 2]! ^= 0x01; return b; });
  assertContained(r, /t-0 at offset 10: .*CRC mismatch/);
  assert.is(r.asksOf0, 1);
  // With verifyCrc: false the same bytes pass the batch check (the flipped byte is record data): the option is what refused it.
  const off = await againstCorrupt((at) => { const b = batch(at, 3); b[b.length - 2]! ^= 0x01; return b; }, { verifyCrc: false });
  assert.ok(off.delivered[0]!.length > 0 && off.reports.length === 0, 'verifyCrc: false delivers the batch');
});

s('a truncated LAST batch after complete ones is normal: the complete ones are delivered, no error, the next fetch starts at the cut one', async () => {
  let n = 0;
  const { cluster, calls } = fakeCluster((c) => {
    if (c.api !== 'Fetch') throw new Error(`unexpected ${c.api}`);
    n++;
    if (n === 1) { const cut = batch(13, 4); return fetchResponse([{ records: Buffer.concat([batch(10, 3), cut.subarray(0, cut.length - 7)]) }]); }
    if (n === 2) return fetchResponse([{ records: batch(13, 4) }]);
    return fetchResponse([]);
  });
  const errors: KafkaError[] = [];
  const f = new Fetcher(cluster, { maxWaitMs: 10, onError: (e) => errors.push(e) });
  try {
    f.assign([{ topic: 't', partition: 0, offset: 10 }]);
    const a = await f.next();
    f.consumed(a, a.nextOffset);
    const b = await f.next();
    assert.equal([...fetchedRecords(a), ...fetchedRecords(b)].map((r) => r.offset), [10, 11, 12, 13, 14, 15, 16]);
    assert.is(fetchOffsetOf(calls[1]!), 13);
    assert.equal(errors, []);
  } finally {
    await f.close();
  }
});

s('a compressed batch that inflates past the consumer byte bound (maxBufferedBytes) is refused at it with a DecodeError', async () => {
  // One record's batch whose zstd payload is 128 RLE blocks of 128 KiB (16 MiB out of 518 bytes).
  const head = encodeRecordBatch([{ value: 'x' }], { compression: 4, baseOffset: 0 }).subarray(0, 61);
  const blocks = 128;
  const zstd = Buffer.alloc(6 + blocks * 4);
  zstd.writeUInt32LE(0xfd2fb528, 0);
  zstd[5] = 7 << 3; // no content size, 128 KiB window
  for (let b = 0; b < blocks; b++) zstd.writeUIntLE(((128 << 10) << 3) | (1 << 1) | (b === blocks - 1 ? 1 : 0), 6 + b * 4, 3), zstd[9 + b * 4] = 0x61;
  const bomb = Buffer.concat([head, zstd]);
  bomb.writeInt32BE(bomb.length - 12, 8);
  withCrc(bomb);
  let n = 0;
  const { cluster } = fakeCluster(() => (++n === 1 ? fetchResponse([{ records: bomb }]) : fetchResponse([])));
  const f = new Fetcher(cluster, { maxWaitMs: 10, maxBufferedBytes: 8 << 20 });
  try {
    f.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const b = await f.next();
    const err = (() => { try { [...fetchedRecords(b)]; return null; } catch (e) { return e; } })();
    assert.instance(err, DecodeError);
    assert.match((err as Error).message, /exceeds the 8388608-byte limit/);
  } finally {
    await f.close();
  }
});

// A killed leader: routed to it, then the broker list no longer holds it (another user of the Cluster refreshed), so
// the loop started for it fails at once (no request). Its re-route must start another maintenance pass even though it lands
// while the pass that started the loop is finishing; otherwise the partition waits in `route` for good.
s('a loop for a leader gone from the broker list fails at once: the partition is routed again and read from the new leader', async () => {
  const { cluster, meta } = fakeCluster((c) => (c.node === 2 && c.api === 'Fetch' && fetchOffsetOf(c) === 0 ? fetchResponse([{ records: batch(0, 3) }]) : fetchResponse([])));
  meta.leader = 3;
  const c = cluster as unknown as { broker: (id: number) => unknown; leader: (...a: unknown[]) => Promise<unknown> };
  const known = c.broker;
  const leader = c.leader;
  c.leader = async (...a) => (meta.leader === 3 ? { nodeId: 3 } : leader(...a)); // routed to 3, which then leaves the broker list
  let unknownAsked = 0;
  c.broker = (id) => {
    if (id !== 3) return known(id);
    unknownAsked++;
    meta.leader = 2; // the next metadata names the new leader
    throw new KafkaError('broker 3 is not in the cluster metadata', 'ERR_KAFKA_UNKNOWN_BROKER', { retriable: true });
  };
  const f = new Fetcher(cluster, { maxWaitMs: 10 });
  try {
    f.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const b = await f.next(AbortSignal.timeout(3_000)).catch((err: unknown) => { throw new Error(`nothing fetched (${String(err)}); broker 3 asked ${unknownAsked} times`); });
    assert.equal([...fetchedRecords(b)].map((r) => r.offset), [0, 1, 2]);
    assert.ok(unknownAsked >= 1);
  } finally {
    await f.close();
  }
});

s('metadata refreshed between the topic look and the leader look (the leader moved): the partition is fetched from the new leader only', async () => {
  const { cluster, calls, meta } = fakeCluster((c) => (c.api === 'Fetch' && fetchOffsetOf(c) === 0 ? fetchResponse([{ records: batch(0, 3) }]) : fetchResponse([])));
  const c = cluster as unknown as { leader: (...a: unknown[]) => Promise<unknown> };
  const leader = c.leader;
  c.leader = async (...a) => { meta.leader = 2; return leader(...a); }; // its refresh names broker 2
  const f = new Fetcher(cluster, { maxWaitMs: 10 });
  try {
    f.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const b = await f.next(AbortSignal.timeout(3_000));
    assert.is(b.partition, 0);
    assert.equal(calls.filter((x) => x.api === 'Fetch').map((x) => x.node).filter((n) => n !== 2), [], 'no fetch from the old leader');
  } finally {
    await f.close();
  }
});

s('a loop backing off after a failed request (its leader is down) holds no prefetch budget: the other broker\'s partition flows', async () => {
  let served = 0;
  const { cluster } = fakeCluster((c) => {
    if (c.node === 1) return new ConnectionError('connection refused'); // partition 0's leader, killed
    const r = fetchResponse([{ records: batch(fetchOffsetOf(c), 10) }]);
    r.responses[0]!.partitions[0]!.partitionIndex = 1;
    served++;
    return r;
  }, 2);
  const c = cluster as unknown as { topic: () => Promise<TopicMeta>; leader: (t: string, p: number) => Promise<unknown> };
  const topic = c.topic;
  c.topic = async () => { const t = await topic(); t.partitions[0]!.leaderId = 1; t.partitions[1]!.leaderId = 2; return t; };
  c.leader = async (_t, p) => cluster.broker(p === 0 ? 1 : 2);
  const f = new Fetcher(cluster, { maxWaitMs: 10, maxBufferedBytes: 64 << 10, retryMinMs: 300, retryMaxMs: 300 });
  let read = 0;
  try {
    f.assign([{ topic: 't', partition: 0, offset: 0 }, { topic: 't', partition: 1, offset: 0 }]);
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      const b = await f.next(AbortSignal.timeout(2_000));
      read += [...fetchedRecords(b)].length;
      f.consumed(b, b.nextOffset);
    }
  } finally {
    await f.close();
  }
  assert.ok(read >= 500, `partition 1: ${read} records in 1.5 s (${served} fetches answered)`);
});

s('an idle loop long-polling does not hold the whole prefetch room: the other broker\'s partition is fetched', async () => {
  const { cluster } = fakeCluster((c) => {
    if (c.node === 1) return new Promise((r) => setTimeout(() => r(fetchResponse([])), 100)); // partition 0: read to its end
    const r = fetchResponse([{ records: batch(fetchOffsetOf(c), 10) }]);
    r.responses[0]!.partitions[0]!.partitionIndex = 1;
    return r;
  }, 2);
  const c = cluster as unknown as { topic: () => Promise<TopicMeta>; leader: (t: string, p: number) => Promise<unknown> };
  const topic = c.topic;
  c.topic = async () => { const t = await topic(); t.partitions[0]!.leaderId = 1; t.partitions[1]!.leaderId = 2; return t; };
  c.leader = async (_t, p) => cluster.broker(p === 0 ? 1 : 2);
  const f = new Fetcher(cluster, { maxWaitMs: 100, maxBufferedBytes: 64 << 10 });
  try {
    f.assign([{ topic: 't', partition: 0, offset: 0 }, { topic: 't', partition: 1, offset: 0 }]);
    let read = 0;
    while (read < 100) {
      const b = await f.next(AbortSignal.timeout(3_000));
      read += [...fetchedRecords(b)].length;
      f.consumed(b, b.nextOffset);
    }
  } finally {
    await f.close();
  }
});

// Retriable broker errors are what a restart or an election looks like: reported only once they lasted requestTimeoutMs.
s('a partition answered NOT_LEADER_OR_FOLLOWER while metadata keeps naming the same leader: backed off, reported after requestTimeoutMs, the other flows', async () => {
  const r = await againstCorrupt(() => ({ errorCode: errorCodes.NOT_LEADER_OR_FOLLOWER }), { requestTimeoutMs: 500 });
  assertContained(r, /NOT_LEADER_OR_FOLLOWER|not the current leader/, BrokerError);
});

s('a partition answered a retriable error (UNKNOWN_LEADER_EPOCH) on every fetch: backed off, reported after requestTimeoutMs, the other flows', async () => {
  const r = await againstCorrupt(() => ({ errorCode: errorCodes.UNKNOWN_LEADER_EPOCH }), { requestTimeoutMs: 500 });
  assertContained(r, /UNKNOWN_LEADER_EPOCH|newer than the epoch/, BrokerError);
});

s('retriable broker errors shorter than requestTimeoutMs (a restart, an election) are retried with backoff and not reported', async () => {
  const r = await againstCorrupt(() => ({ errorCode: errorCodes.NOT_LEADER_OR_FOLLOWER }), { requestTimeoutMs: 30_000 });
  assert.ok(r.perSecond <= 5, `partition 0 asked ${r.asksOf0} times (${r.perSecond.toFixed(1)}/s)`);
  assert.equal(r.reports.map((x) => x.err.message), []);
});

/** Partition 0 without a position, ListOffsets answered by `answer` for WINDOW_MS: ListOffsets per second, reports. */
async function againstListOffsets(answer: () => unknown) {
  const { cluster, calls } = fakeCluster((c) => {
    if (c.api === 'ListOffsets') return answer();
    if (c.api === 'Fetch') return fetchResponse([]);
    throw new Error(`unexpected ${c.api}`);
  });
  const reports: Array<{ err: KafkaError; tp: unknown }> = [];
  const f = new Fetcher(cluster, { maxWaitMs: 10, requestTimeoutMs: 500, autoOffsetReset: 'earliest', onError: (err, tp) => reports.push({ err, tp }) });
  const t0 = Date.now();
  try {
    f.assign([{ topic: 't', partition: 0 }]);
    await new Promise((r) => setTimeout(r, WINDOW_MS));
  } finally {
    await f.close();
  }
  const asks = calls.filter((c) => c.api === 'ListOffsets').length;
  return { reports, asks, perSecond: asks / ((Date.now() - t0) / 1000) };
}

const listOffsetsAnswer = (partitions: unknown[]) => ({ throttleTimeMs: 0, topics: [{ name: 't', partitions }] });

for (const [name, answer, what] of [
  ['answered NOT_LEADER_OR_FOLLOWER', () => listOffsetsAnswer([{ partitionIndex: 0, errorCode: errorCodes.NOT_LEADER_OR_FOLLOWER, timestamp: -1n, offset: -1n, leaderEpoch: -1 }]), /NOT_LEADER_OR_FOLLOWER|not the current leader/],
  ['answered a retriable error (UNKNOWN_LEADER_EPOCH)', () => listOffsetsAnswer([{ partitionIndex: 0, errorCode: errorCodes.UNKNOWN_LEADER_EPOCH, timestamp: -1n, offset: -1n, leaderEpoch: -1 }]), /UNKNOWN_LEADER_EPOCH|newer than the epoch/],
  ['failing as a dropped connection does', () => new ConnectionError('connection reset'), /connection reset/],
  ['answered without the partition', () => listOffsetsAnswer([]), /no answer for t-0/],
] as const) {
  s(`ListOffsets ${name} on every try: a few requests a second, reported with the partition`, async () => {
    const r = await againstListOffsets(answer);
    assert.ok(r.perSecond <= 5, `ListOffsets asked ${r.asks} times (${r.perSecond.toFixed(1)}/s)`);
    const mine = r.reports.filter((x) => (x.tp as { partition?: number } | undefined)?.partition === 0);
    assert.ok(mine.length >= 1, `reported: ${r.reports.map((x) => x.err.message).join('; ') || 'nothing'}`);
    assert.match(mine[0]!.err.message, what);
  });
}

s.run();
