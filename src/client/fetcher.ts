/**
 * The fetcher: reads assigned partitions from their leaders and hands decoded batches to the application,
 * with a prefetch bounded in bytes. It is the first stage of the consume path
 * (fetcher → group session claim per partition → `consumer.channels.upstream`).
 *
 * Driving it (pull, with backpressure through byte accounting):
 * ```ts
 * const f = new Fetcher(cluster, { autoOffsetReset: 'earliest', maxBufferedBytes: 64 << 20 });
 * f.assign([{ topic: 't', partition: 0 }, { topic: 't', partition: 1, offset: 42 }]);
 * for (;;) {
 *   const b = await f.next(signal);                  // round-robin over partitions, offset order within one
 *   for (const r of fetchedRecords(b)) handle(r);    // zero-copy views into the fetch response
 *   f.consumed(b, b.nextOffset);                     // releases its bytes: fetching resumes below the bounds
 * }
 * ```
 * Bytes count against `maxBufferedBytes` (all partitions) and `maxPartitionBufferedBytes` (each) from the moment
 * a response is buffered until `consumed` passes them, so a batch held by a slow handler still holds back
 * prefetch. A partition above its bound, or all of them above the total, is simply left out of the next fetch
 * request (KIP-227 sessions make that cheap). Each request asks for no more than the room left (its MaxBytes, and
 * each partition's), so buffered plus in flight stays within the bounds; and since runs are views of their
 * response, the total counts each response whole until its last run is consumed.
 *
 * Positions: `assign` with an offset (and the leader epoch it was read at, when known: KIP-320), or without one
 * to use `autoOffsetReset` (ListOffsets earliest/latest; also after OFFSET_OUT_OF_RANGE). Leader changes
 * (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_TOPIC_OR_PARTITION, a broker that vanished) refresh
 * metadata and re-route; when the leader epoch moved on, the position is validated with OffsetForLeaderEpoch
 * and a truncated log is reported as {@link LogTruncationError} and resumed from the new end.
 *
 * Errors: retriable ones are retried with backoff and never surface. Others go to `onError(err, tp)`; without
 * one, the next `next()` rejects with them. A failed partition stops until `seek`.
 */
import { BrokerError, ClosedError, ConnectionError, InvalidArgumentError, KafkaError, RequestTimeoutError } from '../errors.js';
import { brokerError, errorCodes } from '../protocol/error-codes.js';
import { Backoff } from './backoff.js';
import type { Broker } from './broker.js';
import type { Cluster } from './cluster.js';
import { FetchBuffer, type FetchedBatch } from './fetch-buffer.js';
import type { IsolationLevel } from './fetch-isolation.js';
import { FetchLoop, type FetchLoopHost, type FetchLoopSettings } from './fetch-loop.js';
import {
  checkEpochEnd, epochEndOffsets, listOffsets, LogTruncationError, type OffsetResetPolicy, type PartitionState, type PositionAnswer,
} from './fetch-positions.js';
import { partitionKey } from './fetch-session.js';

export { FetchedRecordCursor, fetchedRecords, type FetchedBatch } from './fetch-buffer.js';
export { LogTruncationError, type OffsetResetPolicy } from './fetch-positions.js';
export type { IsolationLevel } from './fetch-isolation.js';

/** Rounds of the same problem (a leader missing from metadata, a batch that never advances) before it is reported. */
export const STALL_REPORT_ROUNDS = 3;

export interface TopicPartition { topic: string; partition: number }

/** Where to start a partition: an offset (with its leader epoch when known), an end, or the reset policy. */
export interface StartPosition extends TopicPartition {
  offset?: number | 'earliest' | 'latest';
  leaderEpoch?: number;
}

/**
 * The prefetch bounds, the consumer's memory bound (the ConsumerGroup config's defaults too). Per partition: two
 * runs at the default max.partition.fetch.bytes, one being delivered and the next ready (Java's consumer keeps
 * about one), enough to keep delivery busy without a per-partition backlog a slow handler takes minutes to reach.
 */
export const PREFETCH_DEFAULTS = { maxBufferedBytes: 64 << 20, maxPartitionBufferedBytes: 2 << 20 } as const;

export interface FetcherOptions {
  /** read_committed hides aborted transactions and stops at the last stable offset (KIP-98). Default read_uncommitted. */
  isolation?: IsolationLevel;
  /** Kafka's auto.offset.reset. Default 'latest', as Kafka's consumer. */
  autoOffsetReset?: OffsetResetPolicy;
  /** Long-poll time when no data is there (fetch.max.wait.ms, 500). */
  maxWaitMs?: number;
  /** fetch.min.bytes (1). */
  minBytes?: number;
  /** Cap on one response (fetch.max.bytes, 50 MiB); lowered further to what the total bound has room for. */
  fetchMaxBytes?: number;
  /** Cap per partition in one response (max.partition.fetch.bytes, 1 MiB). */
  partitionMaxBytes?: number;
  /** Prefetch bound over all partitions (64 MiB). One batch larger than the room left may overshoot it (KIP-74). */
  maxBufferedBytes?: number;
  /** Prefetch bound per partition (2 MiB; see {@link PREFETCH_DEFAULTS}). */
  maxPartitionBufferedBytes?: number;
  /** KIP-392: lets the broker name a closer replica (ignored for now: we always read from the leader). */
  rackId?: string;
  /** Added to `maxWaitMs` for the request deadline (30 s). */
  requestTimeoutMs?: number;
  /** Check CRC-32C of fetched batches (true, as check.crcs). */
  verifyCrc?: boolean;
  /**
   * Cap on one record batch's decompressed size: a compressed batch that would inflate past it (a decompression
   * bomb) is a DecodeError for its partition, refused before memory passes the cap. Default: `maxBufferedBytes`.
   */
  maxDecompressedBytes?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Non-retriable errors, with the partition when there is one. */
  onError?: (err: KafkaError, tp: TopicPartition | undefined) => void;
}

export class Fetcher {
  readonly settings: FetchLoopSettings;
  readonly buffer = new FetchBuffer();
  private readonly states = new Map<string, PartitionState>();
  private readonly loops = new Map<number, FetchLoop>();
  private readonly policy: OffsetResetPolicy;
  private readonly onError: FetcherOptions['onError'];
  private readonly pendingErrors: KafkaError[] = [];
  private readonly backoff: Backoff;
  private maintaining = false;
  private dirty = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private isClosed = false;
  private readonly host: FetchLoopHost;

  constructor(private readonly cluster: Cluster, options: FetcherOptions = {}) {
    this.settings = {
      maxWaitMs: options.maxWaitMs ?? 500, minBytes: options.minBytes ?? 1, fetchMaxBytes: options.fetchMaxBytes ?? 50 << 20,
      partitionMaxBytes: options.partitionMaxBytes ?? 1 << 20, maxBufferedBytes: options.maxBufferedBytes ?? PREFETCH_DEFAULTS.maxBufferedBytes,
      maxPartitionBufferedBytes: options.maxPartitionBufferedBytes ?? PREFETCH_DEFAULTS.maxPartitionBufferedBytes, isolation: options.isolation ?? 'read_uncommitted',
      rackId: options.rackId ?? '', requestTimeoutMs: options.requestTimeoutMs ?? 30_000, verifyCrc: options.verifyCrc ?? true,
      maxDecompressedBytes: options.maxDecompressedBytes ?? options.maxBufferedBytes ?? PREFETCH_DEFAULTS.maxBufferedBytes,
      retryMinMs: options.retryMinMs ?? 100, retryMaxMs: options.retryMaxMs ?? 2_000,
    };
    this.policy = options.autoOffsetReset ?? 'latest';
    this.onError = options.onError;
    this.backoff = new Backoff({ minRetryPeriod: this.settings.retryMinMs, maxRetryPeriod: this.settings.retryMaxMs });
    this.buffer.onRelease = () => this.wakeLoops();
    this.host = this.makeHost();
  }

  /** Memory held by prefetched, not yet consumed runs: each fetch response whole while any of its runs is held. */
  get bufferedBytes(): number {
    return this.buffer.bytes;
  }

  /** Per-broker request counts (all, incremental), for tests and diagnostics. */
  get stats(): { requests: number; incrementalRequests: number; validations: number; resets: number } {
    let requests = 0;
    let incrementalRequests = 0;
    for (const l of this.loops.values()) { requests += l.requests; incrementalRequests += l.incrementalRequests; }
    return { requests: requests + this.finishedRequests[0], incrementalRequests: incrementalRequests + this.finishedRequests[1],
      validations: this.counts.validations, resets: this.counts.resets };
  }
  private readonly counts = { validations: 0, resets: 0 };
  private finishedRequests: [number, number] = [0, 0];

  /** Adds partitions (a partition already assigned is moved to the new position). */
  assign(positions: readonly StartPosition[]): void {
    if (this.isClosed) throw new ClosedError('the fetcher is closed');
    for (const p of positions) {
      const key = partitionKey(p.topic, p.partition);
      let st = this.states.get(key);
      if (!st) {
        st = {
          topic: p.topic, partition: p.partition, buf: FetchBuffer.partition(p.topic, p.partition), phase: 'route', resetTo: 'latest',
          fetchOffset: -1, lastFetchedEpoch: -1, leaderId: -1, leaderEpoch: -1, topicId: '', generation: 0, retryAt: 0, stalls: 0, stalledSince: 0, reportedAt: 0, highWatermark: -1,
        };
        this.states.set(key, st);
      }
      this.position(st, p.offset, p.leaderEpoch);
    }
    this.kick();
  }

  /** Stops fetching these partitions and drops what was buffered for them. */
  unassign(tps: readonly TopicPartition[]): void {
    for (const tp of tps) {
      const st = this.states.get(partitionKey(tp.topic, tp.partition));
      if (!st) continue;
      this.states.delete(partitionKey(tp.topic, tp.partition));
      st.generation++;
      this.buffer.clear(st.buf);
    }
    this.wakeLoops();
  }

  assignment(): TopicPartition[] {
    return [...this.states.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /** Moves a partition's position (buffered data is dropped); also restarts a failed partition. */
  seek(tp: TopicPartition, offset: number | 'earliest' | 'latest', leaderEpoch?: number): void {
    this.position(this.state(tp), offset, leaderEpoch);
    this.kick();
  }

  /** The offset the next fetch of `tp` reads from (ahead of the application by what is buffered); -1 before a reset. */
  fetchPosition(tp: TopicPartition): number {
    return this.state(tp).fetchOffset;
  }

  /** Buffered plus delivered-unconsumed bytes of `tp`. */
  partitionBufferedBytes(tp: TopicPartition): number {
    return this.state(tp).buf.bytes;
  }

  /** Stops delivering and fetching `tps`; what was buffered stays for `resume`. */
  pause(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.buffer.pause(this.state(tp).buf);
  }

  resume(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.buffer.resume(this.state(tp).buf);
    this.wakeLoops();
  }

  /** The next fetched run of batches without waiting, or undefined. */
  tryNext(): FetchedBatch | undefined {
    return this.buffer.tryNext();
  }

  /** The next fetched run of batches; rejects with a pending error (when there is no `onError`), on abort or close. */
  next(signal?: AbortSignal): Promise<FetchedBatch> {
    const err = this.pendingErrors.shift();
    if (err) return Promise.reject(err);
    return this.buffer.next(signal);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<FetchedBatch> {
    for (;;) {
      try {
        yield await this.next();
      } catch (err) {
        if (err instanceof ClosedError) return;
        throw err;
      }
    }
  }

  /** The application is done with `tp` below `nextOffset`: those bytes stop counting against the bounds. */
  consumed(tp: TopicPartition, nextOffset: number): void {
    const st = this.states.get(partitionKey(tp.topic, tp.partition));
    if (st) this.buffer.consumed(st.buf, nextOffset);
  }

  /** Stops every loop (waiting for requests in flight) and fails pending `next` calls. Idempotent. */
  async close(): Promise<void> {
    this.isClosed = true;
    clearTimeout(this.retryTimer);
    this.buffer.close();
    this.wakeLoops();
    await Promise.allSettled([...this.loops.values()].map((l) => l.done));
  }

  private state(tp: TopicPartition): PartitionState {
    const st = this.states.get(partitionKey(tp.topic, tp.partition));
    if (!st) throw new InvalidArgumentError(`${tp.topic}-${tp.partition} is not assigned`);
    return st;
  }

  private position(st: PartitionState, offset: StartPosition['offset'], leaderEpoch: number | undefined): void {
    st.generation++;
    this.buffer.clear(st.buf);
    st.retryAt = 0;
    st.stalls = 0;
    if (typeof offset === 'number') {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgumentError(`offset ${offset} for ${st.topic}-${st.partition} is not a valid offset`);
      st.fetchOffset = offset;
      st.lastFetchedEpoch = leaderEpoch ?? -1;
      st.phase = st.leaderId < 0 ? 'route' : st.lastFetchedEpoch >= 0 ? 'validate' : 'fetch';
      return;
    }
    const end = offset ?? (this.policy === 'none' ? undefined : this.policy);
    if (end === undefined) {
      this.fail(st, new InvalidArgumentError(`${st.topic}-${st.partition} has no position and autoOffsetReset is 'none'`));
      return;
    }
    st.fetchOffset = -1;
    st.lastFetchedEpoch = -1;
    st.resetTo = end;
    st.phase = st.leaderId < 0 ? 'route' : 'reset';
  }

  private makeHost(): FetchLoopHost {
    const self = this;
    return {
      settings: this.settings, buffer: this.buffer, reserved: 0,
      get closed() { return self.isClosed; },
      get loopCount() { return self.loops.size; },
      broker: (id) => this.cluster.broker(id),
      partitionsOf: (id) => [...this.states.values()].filter((s) => s.phase === 'fetch' && s.leaderId === id),
      reroute: (st, topicToo) => {
        if (topicToo) this.cluster.invalidate(st.topic);
        st.generation++;
        st.phase = 'route';
        this.kick();
      },
      outOfRange: (st, err) => {
        if (this.policy === 'none') { this.fail(st, err); return; }
        this.position(st, this.policy, undefined);
        this.kick();
      },
      diverged: (st, epoch, endOffset) => this.applyEpochEnd(st, epoch, endOffset),
      fail: (st, err) => this.fail(st, err),
      stalled: (st, err, round) => this.stalled(st, err, round),
    };
  }

  private fail(st: PartitionState | undefined, err: KafkaError): void {
    if (st) { st.phase = 'failed'; st.generation++; }
    const tp = st ? { topic: st.topic, partition: st.partition } : undefined;
    if (this.onError) { this.onError(err, tp); return; }
    if (!this.buffer.failOne(err)) this.pendingErrors.push(err);
  }

  private wakeLoops(): void {
    for (const l of this.loops.values()) l.wakeup.notify();
  }

  /** Runs the maintenance pass (route, reset, validate, start loops) now, or again after the current one. */
  private kick(): void {
    if (this.isClosed) return;
    if (this.maintaining) { this.dirty = true; return; }
    this.maintaining = true;
    void this.maintain();
  }

  /**
   * The maintenance passes. `maintaining` is cleared in the same synchronous step as the last `dirty` check: a kick
   * between them (a loop that startLoops just began failing at once, whose continuation runs before any `.finally`
   * callback) would set `dirty` for a pass that never comes, leaving its partitions in `route` for good.
   */
  private async maintain(): Promise<void> {
    let failed = false;
    try {
      do {
        this.dirty = false;
        const results = await Promise.allSettled([this.route()]);
        const more = await Promise.allSettled([this.resolvePositions('reset'), this.resolvePositions('validate')]);
        for (const r of [...results, ...more]) if (r.status === 'rejected') { failed = true; this.report(r.reason); }
        this.startLoops();
        // A failed pass waits out the backoff below even when it asked for another (a re-route): never a tight loop.
      } while (this.dirty && !failed && !this.isClosed);
    } finally {
      this.maintaining = false;
    }
    if (failed && !this.isClosed) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.kick(), this.backoff.next());
    } else this.backoff.reset();
  }

  /**
   * A retriable problem of one partition that keeps coming back, at its `round` (1 = the first): reported with
   * the partition, which is not stopped (its retries go on with backoff). What no broker in a normal state says
   * (a corrupt batch that never advances, a leader missing from metadata, a partition left out of an answer) is
   * reported from round {@link STALL_REPORT_ROUNDS}; the errors of a broker restart or an election (retriable
   * broker errors, lost connections, timeouts) only once they lasted `requestTimeoutMs`. Then at most once per
   * `requestTimeoutMs`. Without `onError` nothing is queued: `next()` rejects only for errors that stop something.
   */
  private stalled(st: PartitionState, err: KafkaError, round: number): void {
    const now = Date.now();
    if (round <= 1) st.stalledSince = now;
    if (this.isClosed || round < STALL_REPORT_ROUNDS || now - st.reportedAt < this.settings.requestTimeoutMs) return;
    const transient = err instanceof BrokerError || err instanceof ConnectionError || err instanceof RequestTimeoutError;
    if (transient && now - st.stalledSince < this.settings.requestTimeoutMs) return;
    st.reportedAt = now;
    this.onError?.(err, { topic: st.topic, partition: st.partition });
  }

  /** A failure of a whole maintenance step: retriable ones are retried by the next pass, others reported. */
  private report(err: unknown): void {
    if (err instanceof KafkaError && err.retriable) return;
    this.fail(undefined, err instanceof KafkaError ? err : new KafkaError(String(err), 'ERR_KAFKA', { cause: err }));
  }

  /**
   * Finds the leader (and topic id, and leader epoch) of every partition in `route`. One attempt each (the pass's
   * backoff paces the next): a partition without a usable leader (none elected, or one the broker list lacks)
   * stays in `route`, counted and reported as it persists, and never holds back the others.
   */
  private async route(): Promise<void> {
    const waiting = [...this.states.values()].filter((s) => s.phase === 'route');
    const topics = [...new Set(waiting.map((s) => s.topic))];
    let firstError: unknown;
    const retry = (st: PartitionState, err: unknown): void => {
      if (!(err instanceof KafkaError && err.retriable)) throw err;
      firstError ??= err;
      this.positionStalled(st, err);
    };
    await Promise.all(topics.map(async (topic) => {
      try {
        const meta = await this.cluster.topic(topic, { allowLeaderless: true, deadlineMs: 0 });
        for (const st of waiting) {
          if (st.topic !== topic || st.phase !== 'route') continue;
          const pm = meta.partitions[st.partition];
          if (!pm || pm.partition !== st.partition) { this.fail(st, new InvalidArgumentError(`topic ${topic} has no partition ${st.partition}`)); continue; }
          if (pm.leaderId < 0) {
            retry(st, brokerError(pm.errorCode || errorCodes.LEADER_NOT_AVAILABLE, { api: 'Metadata', topic, partition: st.partition }));
            continue;
          }
          let leader: Broker;
          try {
            leader = await this.cluster.leader(topic, st.partition, { deadlineMs: 0 });
          } catch (err) {
            retry(st, err);
            continue;
          }
          if (leader.nodeId !== pm.leaderId) {
            // That look refreshed metadata (the topic was stale) and it names another leader than `meta`: the
            // partition stays in route and the pass's backoff brings the next look, at metadata that agrees.
            firstError ??= new KafkaError(`the leader of ${topic}-${st.partition} moved from ${pm.leaderId} to ${leader.nodeId} while it was looked up`, 'ERR_KAFKA_LEADER_MOVED', { retriable: true });
            continue;
          }
          const epochMoved = st.leaderEpoch >= 0 && pm.leaderEpoch > st.leaderEpoch;
          st.leaderId = pm.leaderId;
          st.leaderEpoch = pm.leaderEpoch;
          st.topicId = meta.topicId;
          st.generation++;
          if (st.fetchOffset < 0) st.phase = 'reset';
          else st.phase = (epochMoved || st.leaderEpoch < 0) && st.lastFetchedEpoch >= 0 ? 'validate' : 'fetch';
        }
      } catch (err) {
        firstError ??= err;
      }
    }));
    if (firstError !== undefined) throw firstError;
  }

  /** ListOffsets for partitions in `reset`, OffsetForLeaderEpoch for those in `validate`, grouped by leader. */
  private async resolvePositions(phase: 'reset' | 'validate'): Promise<void> {
    const byLeader = new Map<number, PartitionState[]>();
    for (const s of this.states.values()) {
      if (s.phase !== phase) continue;
      const list = byLeader.get(s.leaderId);
      if (list) list.push(s);
      else byLeader.set(s.leaderId, [s]);
    }
    let firstError: unknown;
    await Promise.all([...byLeader].map(async ([leaderId, states]) => {
      const gens = states.map((s) => s.generation);
      let answers: PositionAnswer[];
      try {
        const broker: Broker = this.cluster.broker(leaderId);
        answers = phase === 'reset'
          ? await listOffsets(broker, states, this.settings.isolation === 'read_committed' ? 1 : 0, this.settings.requestTimeoutMs)
          : await epochEndOffsets(broker, states);
      } catch (err) {
        firstError ??= err;
        for (const s of states) {
          this.positionStalled(s, err);
          this.routeAgain(s);
        }
        return;
      }
      const api = phase === 'reset' ? 'ListOffsets' : 'OffsetForLeaderEpoch';
      for (const st of states) {
        if (answers.some((a) => a.state === st) || st.phase !== phase || st.generation !== gens[states.indexOf(st)]) continue;
        const err = new KafkaError(`${api}: no answer for ${st.topic}-${st.partition}`, 'ERR_KAFKA_NO_ANSWER', { retriable: true });
        firstError ??= err;
        this.positionStalled(st, err);
      }
      for (const a of answers) {
        const st = a.state;
        if (st.phase !== phase || st.generation !== gens[states.indexOf(st)]) continue; // seeked meanwhile
        if (!a.ok) {
          if (a.refreshMetadata) { firstError ??= a.error; this.positionStalled(st, a.error); this.routeAgain(st); }
          else if (a.error.retriable) { firstError ??= a.error; this.positionStalled(st, a.error); }
          else this.fail(st, a.error);
          continue;
        }
        st.stalls = 0;
        this.counts[phase === 'reset' ? 'resets' : 'validations']++;
        if (phase === 'reset') { st.fetchOffset = a.offset; st.lastFetchedEpoch = a.epoch; st.phase = 'fetch'; st.generation++; }
        else this.applyEpochEnd(st, a.epoch, a.offset);
      }
    }));
    if (firstError !== undefined) throw firstError;
  }

  /** Back to `route` after the backoff of the failed pass (not at once: {@link kick} would loop without a pause). */
  private routeAgain(st: PartitionState): void {
    this.cluster.invalidate(st.topic);
    st.generation++;
    st.phase = 'route';
  }

  /** A ListOffsets / OffsetForLeaderEpoch round that did not settle `st`'s position: counted, reported when due. */
  private positionStalled(st: PartitionState, err: unknown): void {
    st.stalls++;
    this.stalled(st, err instanceof KafkaError ? err : new KafkaError(String(err), 'ERR_KAFKA', { cause: err }), st.stalls);
  }

  /** Applies KIP-320's check: keep going, continue from a truncated log's end (reported), or reset by policy. */
  private applyEpochEnd(st: PartitionState, epoch: number, endOffset: number): void {
    const check = checkEpochEnd(st.fetchOffset, epoch, endOffset);
    st.generation++;
    if (check.kind === 'ok') { st.phase = 'fetch'; this.wakeLoops(); return; }
    if (check.kind === 'unknown') { this.host.outOfRange(st, new LogTruncationError(st.topic, st.partition, st.fetchOffset, -1)); return; }
    const err = new LogTruncationError(st.topic, st.partition, st.fetchOffset, check.offset);
    this.buffer.clear(st.buf);
    st.fetchOffset = check.offset;
    st.lastFetchedEpoch = check.epoch;
    st.phase = 'fetch';
    this.onError?.(err, { topic: st.topic, partition: st.partition });
    this.kick();
  }

  /** One loop per broker that leads a partition ready to fetch. */
  private startLoops(): void {
    for (const s of this.states.values()) {
      if (s.phase !== 'fetch' || this.loops.has(s.leaderId)) continue;
      const loop = new FetchLoop(s.leaderId, this.host);
      this.loops.set(s.leaderId, loop);
      loop.start(() => {
        if (this.loops.get(loop.nodeId) === loop) this.loops.delete(loop.nodeId);
        this.finishedRequests[0] += loop.requests;
        this.finishedRequests[1] += loop.incrementalRequests;
        // Partitions may have come back to this broker while the loop was ending.
        if (!this.isClosed && this.host.partitionsOf(loop.nodeId).length > 0) this.startLoops();
      });
    }
    this.wakeLoops();
  }
}
