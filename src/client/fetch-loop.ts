/**
 * One broker's fetch loop: a long-polling Fetch request at a time on the broker's `fetch` lane, over a KIP-227
 * fetch session, for the partitions it leads that have room in the prefetch buffer. Answers are sorted into
 * data (decoded batches pushed to the buffer), errors that mean "ask metadata again" (re-route), errors worth a
 * retry after a pause, and errors that are reported.
 */
import { DecodeError, KafkaError } from '../errors.js';
import { Fetch } from '../protocol/apis/fetch.js';
import { brokerError, errorByCode, errorCodes } from '../protocol/error-codes.js';
import { decodeRecordBatches, type RecordBatch } from '../protocol/record-batch.js';
import type { ResponseOf } from '../protocol/schema-types.js';
import { Backoff, retryDelay, sleep } from './backoff.js';
import type { Broker } from './broker.js';
import type { FetchBuffer, FetchFrame } from './fetch-buffer.js';
import { visibleBatches, type IsolationLevel } from './fetch-isolation.js';
import type { PartitionState } from './fetch-positions.js';
import { FetchSession, partitionKey, type SessionPartition } from './fetch-session.js';

type PartitionData = ResponseOf<typeof Fetch>['responses'][number]['partitions'][number];

/** Settings the loop reads (the fetcher's resolved options). */
export interface FetchLoopSettings {
  maxWaitMs: number;
  minBytes: number;
  fetchMaxBytes: number;
  partitionMaxBytes: number;
  maxBufferedBytes: number;
  maxPartitionBufferedBytes: number;
  isolation: IsolationLevel;
  rackId: string;
  requestTimeoutMs: number;
  verifyCrc: boolean;
  /** Cap on one batch's decompressed size (a bomb is refused at it). */
  maxDecompressedBytes: number;
  retryMinMs: number;
  retryMaxMs: number;
}

/** What the loop needs from the fetcher that owns it. */
export interface FetchLoopHost {
  readonly settings: FetchLoopSettings;
  readonly buffer: FetchBuffer;
  readonly closed: boolean;
  /** Bytes promised to requests in flight on every loop (so loops together stay within the total bound). */
  reserved: number;
  /** Loops running (each reserves at most an even share of `maxBufferedBytes`). */
  readonly loopCount: number;
  broker(nodeId: number): Broker;
  /** Partitions in `fetch` phase led by `nodeId`. */
  partitionsOf(nodeId: number): PartitionState[];
  /** Leader gone or moved: look the partition up again. */
  reroute(state: PartitionState, topicToo: boolean): void;
  /** OFFSET_OUT_OF_RANGE: reset by policy (or report). */
  outOfRange(state: PartitionState, err: KafkaError): void;
  /** The broker says the log diverged (Fetch v12+ divergingEpoch). */
  diverged(state: PartitionState, epoch: number, endOffset: number): void;
  /** A non-retriable problem with one partition (or with all, `state` undefined). */
  fail(state: PartitionState | undefined, err: KafkaError): void;
  /** A partition that made no progress for `round` fetches in a row (it is retried with backoff): report when due. */
  stalled(state: PartitionState, err: KafkaError, round: number): void;
}

/** Resolves waiters on `notify()`, or after a timeout. */
export class Wakeup {
  private resolvers: Array<() => void> = [];
  notify(): void {
    for (const r of this.resolvers.splice(0)) r();
  }
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        const i = self.resolvers.indexOf(done);
        if (i >= 0) self.resolvers.splice(i, 1);
        resolve();
      }
      this.resolvers.push(done);
    });
  }
}

export class FetchLoop {
  readonly session = new FetchSession();
  readonly wakeup = new Wakeup();
  private readonly backoff: Backoff;
  /** Requests sent, for tests and diagnostics. */
  requests = 0;
  incrementalRequests = 0;
  done: Promise<void> = Promise.resolve();

  constructor(readonly nodeId: number, private readonly host: FetchLoopHost) {
    this.backoff = new Backoff({ minRetryPeriod: host.settings.retryMinMs, maxRetryPeriod: host.settings.retryMaxMs });
  }

  start(onExit: () => void): void {
    this.done = this.run().finally(onExit);
  }

  private async run(): Promise<void> {
    const h = this.host;
    while (!h.closed) {
      const all = h.partitionsOf(this.nodeId);
      if (all.length === 0) return; // nothing led by this broker any more
      const now = Date.now();
      // At most an even share of the total bound: an idle loop long-polling with the whole room (and taking it back
      // in the step that frees it) kept the other loops from ever sending, so a dead leader was never noticed.
      const share = Math.ceil(h.settings.maxBufferedBytes / Math.max(1, h.loopCount));
      const budget = Math.min(h.settings.fetchMaxBytes, share, h.settings.maxBufferedBytes - h.buffer.bytes - h.reserved);
      const wanted = budget > 0 ? all.filter((s) => !s.buf.paused && s.retryAt <= now && s.buf.bytes < h.settings.maxPartitionBufferedBytes) : [];
      if (wanted.length === 0) {
        const nextRetry = Math.min(...all.map((s) => (s.retryAt > now ? s.retryAt - now : 1_000)));
        await this.wakeup.wait(Math.max(1, nextRetry));
        continue;
      }
      h.reserved += budget;
      let failure: { err: unknown } | undefined;
      try {
        await this.fetchOnce(wanted, budget);
        this.backoff.reset();
      } catch (err) {
        failure = { err };
      } finally {
        h.reserved -= budget;
      }
      // Released before the backoff: a loop whose leader is down must not hold the other loops' room while it waits.
      if (failure) await this.requestFailed(failure.err, all);
    }
  }

  private async fetchOnce(wanted: PartitionState[], budget: number): Promise<void> {
    const h = this.host;
    const s = h.settings;
    const broker = h.broker(this.nodeId);
    const version = await broker.versionFor(Fetch);
    const useIds = version >= 13;
    const states = new Map<string, PartitionState>();
    const gens = new Map<string, number>();
    const list: SessionPartition[] = wanted.map((st) => {
      const key = partitionKey(st.topic, st.partition);
      states.set(key, st);
      gens.set(key, st.generation);
      return {
        topic: st.topic, topicId: st.topicId, partition: st.partition, fetchOffset: st.fetchOffset,
        currentLeaderEpoch: st.leaderEpoch, lastFetchedEpoch: st.lastFetchedEpoch,
        partitionMaxBytes: Math.max(1, Math.min(s.partitionMaxBytes, s.maxPartitionBufferedBytes - st.buf.bytes)),
      };
    });
    const req = this.session.build(list);
    this.requests++;
    if (!req.full) this.incrementalRequests++;
    const res = await broker.request(Fetch, {
      replicaId: -1, maxWaitMs: s.maxWaitMs, minBytes: s.minBytes, maxBytes: budget,
      isolationLevel: s.isolation === 'read_committed' ? 1 : 0, sessionId: req.sessionId, sessionEpoch: req.sessionEpoch,
      topics: group(req.partitions, useIds).map((g) => ({
        topic: g.topic, topicId: g.topicId,
        partitions: g.list.map((p) => ({ partition: p.partition, currentLeaderEpoch: p.currentLeaderEpoch, fetchOffset: BigInt(p.fetchOffset), lastFetchedEpoch: p.lastFetchedEpoch, partitionMaxBytes: p.partitionMaxBytes })),
      })),
      forgottenTopicsData: group(req.forgotten, useIds).map((g) => ({ topic: g.topic, topicId: g.topicId, partitions: g.list.map((p) => p.partition) })),
      rackId: s.rackId,
    }, { lane: 'fetch', timeoutMs: s.requestTimeoutMs + s.maxWaitMs });
    if (!this.session.handleResponse(res.errorCode, res.sessionId)) return; // session lost: the next request is full
    if (res.errorCode !== 0) {
      const err = brokerError(res.errorCode, { api: 'Fetch' });
      if (errorByCode(res.errorCode).refreshMetadata) { for (const st of wanted) h.reroute(st, true); return; }
      throw err;
    }
    const names = new Map<string, string>();
    for (const p of list) names.set(p.topicId, p.topic);
    const frames: Frames = new Map(); // the response's memory, shared by the runs cut from it
    for (const t of res.responses) {
      const topic = useIds ? names.get(t.topicId) : t.topic;
      if (topic === undefined) continue;
      for (const p of t.partitions) {
        const key = partitionKey(topic, p.partitionIndex);
        const st = states.get(key);
        // Dropped: not ours any more, or seeked / reset / re-routed while the request was out.
        if (!st || st.generation !== gens.get(key) || st.phase !== 'fetch' || st.leaderId !== this.nodeId) continue;
        this.handlePartition(st, p, frames);
      }
    }
  }

  private handlePartition(st: PartitionState, p: PartitionData, frames: Frames): void {
    const h = this.host;
    if (p.errorCode === 0) {
      st.highWatermark = Number(p.highWatermark);
      if (p.divergingEpoch && p.divergingEpoch.epoch >= 0) { h.diverged(st, p.divergingEpoch.epoch, Number(p.divergingEpoch.endOffset)); return; }
      if (p.records === null || p.records.length === 0) st.stalls = 0; // an answer: nothing new yet
      this.buffer(st, p, frames);
      return;
    }
    const info = errorByCode(p.errorCode);
    const err = brokerError(p.errorCode, { api: 'Fetch', topic: st.topic, partition: st.partition });
    if (p.errorCode === errorCodes.OFFSET_OUT_OF_RANGE) h.outOfRange(st, err);
    else if (info.refreshMetadata) { this.stall(st, err); h.reroute(st, true); } // metadata at once, the fetch after the pause
    else if (info.retriable) this.stall(st, err);
    else h.fail(st, err);
  }

  private buffer(st: PartitionState, p: PartitionData, frames: Frames): void {
    const records = p.records;
    if (records === null || records.length === 0) return;
    let batches;
    try {
      batches = decodeRecordBatches(records, { verifyCrc: this.host.settings.verifyCrc, maxDecompressedBytes: this.host.settings.maxDecompressedBytes });
      checkOrder(batches);
    } catch (err) {
      // A corrupt batch (CRC, header, offsets out of order): the partition stops here, reported; a seek restarts it.
      this.host.fail(st, partitionDecodeError(st, err));
      return;
    }
    // Bytes but no complete batch: a batch longer than what was sent. Brokers since KIP-74 always send the first
    // batch whole, so this is no "partial batch at the end" (that is dropped above, after complete ones): as Java's
    // consumer says, no progress can be made. Retried with backoff (the next answer may be whole), reported.
    if (batches.length === 0) {
      this.stall(st, this.noProgress(st, `${records.length} bytes hold no complete record batch (the first says ${records.length >= 12 ? records.readInt32BE(8) + 12 : '?'} bytes)`));
      return;
    }
    // A batch that ends before our position can come back (compaction, an old compressed batch): skip it.
    let first = 0;
    while (first < batches.length && batches[first]!.nextOffset <= st.fetchOffset) first++;
    if (first === batches.length) {
      this.stall(st, this.noProgress(st, `every batch ends before the fetch position (the last ends at ${batches[first - 1]!.nextOffset})`));
      return;
    }
    st.stalls = 0;
    if (first > 0) batches = batches.slice(first);
    let bytes = 0;
    for (const b of batches) bytes += b.bytes.length;
    const last = batches[batches.length - 1]!;
    const fromOffset = st.fetchOffset;
    st.fetchOffset = last.nextOffset;
    st.lastFetchedEpoch = last.partitionLeaderEpoch;
    const visible = visibleBatches(batches, this.host.settings.isolation, p.abortedTransactions);
    if (visible.length === 0) return; // only markers or aborted data: the position moved, nothing to show
    let frame = frames.get(records.buffer);
    if (frame === undefined) frames.set(records.buffer, (frame = { bytes: records.buffer.byteLength, held: 0 }));
    this.host.buffer.push(st.buf, {
      topic: st.topic, partition: st.partition, batches: visible, fromOffset, nextOffset: st.fetchOffset,
      highWatermark: st.highWatermark, lastStableOffset: Number(p.lastStableOffset), logStartOffset: Number(p.logStartOffset), bytes, frame,
    });
  }

  /** The DecodeError of a fetch that gave bytes but no progress. */
  private noProgress(st: PartitionState, what: string): DecodeError {
    return new DecodeError(`${st.topic}-${st.partition} at offset ${st.fetchOffset}: ${what}; no progress after ${st.stalls + 1} fetch(es)`);
  }

  /**
   * A fetch of `st` that made no progress (a retriable error, bytes without a new batch): the partition waits out
   * its own backoff (backoff.ts; the other partitions go on), and the host reports it when it persists.
   */
  private stall(st: PartitionState, err: KafkaError): void {
    st.stalls++;
    const s = this.host.settings;
    st.retryAt = Date.now() + retryDelay(st.stalls, s.retryMinMs, s.retryMaxMs);
    this.host.stalled(st, err, st.stalls);
  }

  /** The request failed (broker gone, timeout): re-route its partitions and pause before the next try. */
  private async requestFailed(err: unknown, states: PartitionState[]): Promise<void> {
    this.session.handleRequestError();
    const retriable = err instanceof KafkaError ? err.retriable : false;
    if (!retriable) this.host.fail(undefined, err instanceof KafkaError ? err : new KafkaError(String(err), 'ERR_KAFKA', { cause: err }));
    for (const st of states) this.host.reroute(st, true);
    if (!this.host.closed) await sleep(this.backoff.next());
  }
}

/** Batches of one partition must follow each other: a batch that ends at or before the one before it is corrupt. */
function checkOrder(batches: readonly RecordBatch[]): void {
  for (let i = 1; i < batches.length; i++) {
    const prev = batches[i - 1]!, b = batches[i]!;
    if (b.baseOffset < prev.nextOffset) throw new DecodeError(`record batch at offset ${b.baseOffset} follows one that ends at ${prev.nextOffset}`);
  }
}

/** A decode failure as a DecodeError naming the partition and position (the cause keeps the decoder's detail). */
function partitionDecodeError(st: PartitionState, err: unknown): KafkaError {
  const detail = err instanceof Error ? err.message : String(err);
  return new DecodeError(`${st.topic}-${st.partition} at offset ${st.fetchOffset}: ${detail}`, undefined, { cause: err });
}

/** The frames of one response by the memory they are views of (normally one: the response's own buffer). */
type Frames = Map<ArrayBufferLike, FetchFrame>;

interface TopicGroup { topic: string; topicId: string; list: SessionPartition[] }

function group(parts: readonly SessionPartition[], byId: boolean): TopicGroup[] {
  const m = new Map<string, TopicGroup>();
  for (const p of parts) {
    const k = byId ? p.topicId : p.topic;
    let g = m.get(k);
    if (!g) m.set(k, (g = { topic: p.topic, topicId: p.topicId, list: [] }));
    g.list.push(p);
  }
  return [...m.values()];
}
