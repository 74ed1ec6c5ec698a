/**
 * The produce path below the channel API: records → partition (Java-compatible; topic metadata and the partition
 * choice in producer-topics.ts) → per-partition batches (accumulator.ts) → each batch encoded once as a RecordBatch
 * v2 → one Produce request per leader broker on the produce lane → per-record results through one callback per
 * `send` call.
 *
 * Idempotence (KIP-98) is on by default with acks=all, as in Kafka 3+: a producer id and epoch, a sequence per
 * partition, up to `maxInFlight` requests per broker; retried batches keep their sequence and go back in order,
 * one at a time, so the broker writes every record exactly once and in order even across leader changes.
 * Retriable errors are retried (with a metadata refresh when the error says the leader moved) until the
 * delivery timeout (Kafka's delivery.timeout.ms, KIP-91); a gap in the sequences bumps the epoch (KIP-360).
 */
import { ClosedError, InvalidArgumentError, KafkaError } from '../errors.js';
import { Produce } from '../protocol/apis/produce.js';
import { brokerError, errorByCode, errorCodes } from '../protocol/error-codes.js';
import { encodeRecordBatch } from '../protocol/record-batch.js';
import type { RequestOf, ResponseOf } from '../protocol/schema-types.js';
import { Accumulator, Delivery, estimateHeadersSize, estimateRecordSize, type DeliveryCallback, type PartitionQueue, type ProducerBatch, type ProducerRecord, type SendContext } from './accumulator.js';
import { retryDelay } from './backoff.js';
import { describeValue, recordProblem } from './record-check.js';
import { MAX_TIMER_MS } from './settings.js';
import { BufferPool } from './buffer-pool.js';
import { ProducerIdentity, stampProducerState } from './idempotence.js';
import { StickyPartitioner } from './partitioner.js';
import { ProducerTopics } from './producer-topics.js';
import type { TransactionManager } from './transaction-manager.js';
import { DeliveryTimeoutError, resolveOptions, type ProducerCluster, type ProducerEngineOptions, type ResolvedProducerOptions } from './producer-options.js';

export { DeliveryTimeoutError, type ProducerCluster, type ProducerEngineOptions } from './producer-options.js';

/** One Produce request being assembled for a broker. */
interface RequestGroup {
  nodeId: number;
  bytes: number;
  batches: ProducerBatch[];
}

type ProduceResponse = ResponseOf<typeof Produce>;

const DUPLICATE_SEQUENCE = errorCodes.DUPLICATE_SEQUENCE_NUMBER;
const OUT_OF_ORDER = errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER;
const UNKNOWN_PRODUCER = errorCodes.UNKNOWN_PRODUCER_ID;
const FENCED = new Set<number>([errorCodes.INVALID_PRODUCER_EPOCH, errorCodes.PRODUCER_FENCED]);
/** Most memory kept for reuse by encoded batches (less with a smaller maxBufferedBytes). */
const POOL_MAX_BYTES = 8 * 1024 * 1024;
/** While records wait, the sender wakes at least this often to expire them. */
const IDLE_WAKE_MS = 1_000;

/**
 * The sender. `send(records, callback)` accepts records at once (no await per record) and returns false when
 * the memory bound is reached: await `waitForSpace()` before sending more. `flush()` and `close()` wait for
 * every accepted record's outcome.
 */
export class ProducerEngine {
  private readonly o: ResolvedProducerOptions;
  private readonly cluster: ProducerCluster;
  private readonly sticky: StickyPartitioner;
  readonly accumulator: Accumulator;
  /** Encoded batches' memory, recycled once the broker acknowledged them (see buffer-pool.ts). */
  private readonly buffers: BufferPool;
  private readonly identity = new ProducerIdentity();
  private readonly topics: ProducerTopics;
  /** Set for a transactional producer: it gates sends and partitions, and hears of failures (transaction-manager.ts). */
  private readonly txn: TransactionManager | undefined;
  private readonly brokerInFlight = new Map<number, number>();
  private inFlightTotal = 0;
  /** Pending epoch change: 'bump' (local, KIP-360) or 'reinit' (new producer id). */
  private epochChange: 'bump' | 'reinit' | undefined;
  private identityBusy = false;
  private identityAttempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private timerAt = Infinity;
  private flushing = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  /** Set once the engine gives up on everything (destroy, or a fatal InitProducerId error). */
  private closedForGood = false;
  /** Counters for tests and metrics: requests sent, batch retries, epoch changes (bumps or new ids). */
  readonly stats = { requests: 0, batches: 0, retries: 0, epochChanges: 0 };

  constructor(options: ProducerEngineOptions) {
    this.o = resolveOptions(options);
    this.cluster = options.cluster;
    this.sticky = options.partitioner ?? new StickyPartitioner();
    this.accumulator = new Accumulator({ batchBytes: this.o.batchBytes, maxBufferedBytes: this.o.maxBufferedBytes });
    this.buffers = new BufferPool(Math.min(POOL_MAX_BYTES, this.o.maxBufferedBytes / 4), 2 * this.o.batchBytes + 64 * 1024);
    this.topics = new ProducerTopics({
      cluster: this.cluster, accumulator: this.accumulator, sticky: this.sticky, retryBackoffMs: this.o.retryBackoffMs,
      schedule: (ms) => this.schedule(ms), checkIdle: () => this.checkIdle(),
    });
    this.txn = options.transactions;
    this.txn?.attach({ flush: () => this.flush(), wake: () => this.schedule(0), abortQueued: (e) => this.abortQueued(e), failAll: (e) => this.failAll(e),
      newEpoch: () => this.afterEpochChange() }, this.identity);
  }

  /** The producer id and epoch in use (-1 before the first InitProducerId, or without idempotence). */
  get producerId(): { id: number; epoch: number } {
    return { id: this.identity.producerId, epoch: this.identity.epoch };
  }

  /**
   * Accepts `records`; `callback` gets one report when all of them are written or have failed. Returns false
   * when the buffered bytes reached `maxBufferedBytes`: the records are kept, but the caller should await
   * {@link waitForSpace} before sending more. Throws ClosedError after `close()`. `defaults`: the topic of every
   * record, and headers written before every record's own.
   */
  send(records: readonly ProducerRecord[], callback?: DeliveryCallback, defaults?: SendContext): boolean {
    if (this.closed) throw new ClosedError('the producer is closed');
    this.txn?.checkSend();
    if (!Array.isArray(records)) throw new InvalidArgumentError(`send takes an array of records, got ${describeValue(records)}`);
    const owner = new Delivery(records, callback, defaults);
    const defaultTopic = defaults?.topic;
    const leadSize = defaults?.headers === undefined ? 0 : estimateHeadersSize(defaults.headers);
    const check = defaults?.checked === true ? undefined : { valueRequired: false, topicRequired: defaultTopic === undefined };
    const now = Date.now();
    let filled = false;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      // The one input boundary (record-check.ts): nothing malformed reaches the accumulator, a timer or the encoder.
      const problem = check === undefined ? undefined : recordProblem(r, check);
      if (problem !== undefined) {
        owner.fail(i, new InvalidArgumentError(problem));
        continue;
      }
      const size = estimateRecordSize(r) + leadSize;
      if (size > this.o.maxMessageBytes) {
        owner.fail(i, new InvalidArgumentError(`a record of about ${size} bytes does not fit in a request of maxMessageBytes ${this.o.maxMessageBytes}`));
        continue;
      }
      const t = this.topics.state(defaultTopic ?? r.topic);
      if (t.leaders.length === 0) {
        this.topics.park(t, r, owner, i, size, now);
        continue;
      }
      const p = this.topics.partitionFor(r, t, size, owner, i);
      if (p >= 0 && this.accumulator.append(r, size, p, owner, i, now)) filled = true;
    }
    this.schedule(filled || this.flushing > 0 ? 0 : this.o.lingerMs);
    return !this.accumulator.full;
  }

  /** Resolves once the buffered bytes are below `maxBufferedBytes`. */
  waitForSpace(): Promise<void> {
    return this.accumulator.waitForSpace();
  }

  /** Sends everything now, without lingering, and resolves when every record accepted so far has its outcome. */
  async flush(): Promise<void> {
    if (this.accumulator.bufferedRecords === 0) return;
    this.flushing++;
    this.schedule(0);
    try {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    } finally {
      this.flushing--;
    }
  }

  /** Refuses new records, then flushes what was accepted. Idempotent. The cluster stays open (it is the caller's). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    this.cancelWake();
  }

  /**
   * Refuses new records and fails every record not yet sent with `error`; batches in flight still get their
   * broker's answer, but are not retried.
   */
  destroy(error: Error = new ClosedError('the producer was destroyed')): void {
    this.closed = true;
    this.failAll(error);
    this.cancelWake();
  }

  /** Runs the sender after `delayMs` (sooner if already due sooner). */
  private schedule(delayMs: number): void {
    const at = Date.now() + delayMs;
    if ((this.timer !== undefined || this.immediate !== undefined) && this.timerAt <= at) return;
    this.cancelWake();
    this.timerAt = at;
    const wake = (): void => {
      this.timer = undefined;
      this.immediate = undefined;
      this.timerAt = Infinity;
      this.run();
    };
    // Node clamps setTimeout(fn, 0) to 1 ms: a "send now" (linger 0, a full batch, a flush) would wait that long.
    if (delayMs <= 0) this.immediate = setImmediate(wake);
    else this.timer = setTimeout(wake, delayMs);
  }

  private cancelWake(): void {
    clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** One sender pass: expire, handle identity, send what is ready, and plan the next wake. */
  private run(): void {
    const now = Date.now();
    let wake = this.expire(now);
    if (this.o.idempotent && !this.identityReady()) {
      if (this.accumulator.bufferedRecords > 0) this.schedule(Math.min(wake - now, IDLE_WAKE_MS));
      return;
    }
    for (let pass = 0; pass < 64; pass++) {
      const [sent, next] = this.drain(now);
      wake = Math.min(wake, next);
      if (!sent) break;
    }
    if (this.accumulator.bufferedRecords > 0) this.schedule(Math.max(0, Math.min(wake - now, IDLE_WAKE_MS)));
  }

  /**
   * True when batches may be stamped and sent: a producer id is known and no epoch change is pending. Starts
   * InitProducerId, or the epoch change once nothing is in flight, when needed.
   */
  private identityReady(): boolean {
    if (this.txn !== undefined) return this.txn.sending;
    if (this.identityBusy) return false;
    if (this.identity.hasId && this.epochChange === undefined) return true;
    if (this.accumulator.bufferedRecords === 0 && !this.identity.hasId) return false;
    if (this.inFlightTotal > 0) return false; // the change waits for every in-flight answer
    if (this.epochChange === 'bump' && this.identity.bumpEpoch()) {
      this.afterEpochChange();
      return true;
    }
    if (!this.identity.mayInit()) return false; // backing off after a failed InitProducerId (idempotence.ts)
    this.identityBusy = true;
    void this.cluster.anyBroker()
      .then((b) => this.identity.init(b, this.o.requestTimeoutMs))
      .then(() => { this.identityAttempts = 0; this.afterEpochChange(); }, (err: unknown) => {
        this.identityAttempts++;
        this.identity.failed(err, this.o.retryBackoffMs, this.o.retryBackoffMaxMs);
        if (err instanceof KafkaError && !err.retriable) this.failAll(err);
      })
      .finally(() => {
        this.identityBusy = false;
        this.schedule(this.identityAttempts === 0 ? 0 : this.identity.retryAt - Date.now());
      });
    return false;
  }

  /** New id or epoch: every partition starts at sequence 0; queued batches are re-stamped when sent. */
  private afterEpochChange(): void {
    this.epochChange = undefined;
    this.stats.epochChanges++;
    for (const q of this.accumulator.queues) q.sequence.reset();
  }

  private requestEpochChange(kind: 'bump' | 'reinit'): void {
    if (!this.o.idempotent || this.txn !== undefined) return;
    if (this.epochChange !== 'reinit') this.epochChange = kind;
  }

  /** Sends what is ready as one request per leader. Returns whether anything was sent, and the next wake time. */
  private drain(now: number): [boolean, number] {
    const groups = new Map<number, RequestGroup>();
    let wake = Infinity;
    const linger = this.flushing > 0 || this.closed ? 0 : this.o.lingerMs;
    for (const q of this.accumulator.queues) {
      const head = q.batches[0];
      if (head === undefined) continue;
      const t = this.topics.get(q.topic)!;
      if (t.loading) continue;
      if (head.retryAt > now) { wake = Math.min(wake, head.retryAt); continue; }
      if (!head.closed && now - head.createdAt < linger) { wake = Math.min(wake, head.createdAt + linger); continue; }
      // Idempotent: one batch at a time while retrying (order) or before the epoch's first acknowledgement (see
      // PartitionSequence.hasAcknowledged), otherwise up to maxInFlight.
      if (this.o.idempotent && q.inFlight >= (q.retrying > 0 || !q.sequence.hasAcknowledged ? 1 : this.o.maxInFlight)) continue;
      const leader = t.leaders[q.partition] ?? -1;
      if (leader < 0) { this.topics.refresh(q.topic); continue; }
      const gate = this.txn?.gate(q.topic, q.partition) ?? true;
      if (gate !== true) {
        while (gate instanceof Error && q.batches.length > 0) this.fail(this.accumulator.take(q), q, gate);
        continue;
      }
      let g = groups.get(leader);
      if (g === undefined) {
        if ((this.brokerInFlight.get(leader) ?? 0) >= this.o.maxInFlight) continue;
        groups.set(leader, (g = { nodeId: leader, bytes: 0, batches: [] }));
      }
      if (g.batches.length > 0 && g.bytes + head.sizeBytes > this.o.maxMessageBytes) continue;
      const batch = this.accumulator.take(q);
      try {
        this.prepare(batch, q);
      } catch (err) {
        // A batch that cannot be encoded (a record changed after it was accepted, a codec failure) fails its own
        // records and nothing else: the sender, its timer and every other batch go on.
        this.failUnencodable(batch, q, err);
        continue;
      }
      g.bytes += batch.encoded!.length;
      g.batches.push(batch);
      q.inFlight++;
    }
    for (const g of groups.values()) this.sendRequest(g);
    return [groups.size > 0, wake];
  }

  /** Encodes a batch on its first send; stamps sequences under the current producer id and epoch. */
  private prepare(batch: ProducerBatch, q: PartitionQueue): void {
    batch.attempts++;
    if (batch.order < 0) batch.order = q.nextOrder++;
    const id = this.identity;
    if (this.o.idempotent && batch.generation !== id.generation) {
      batch.baseSequence = q.sequence.assign(batch.recordCount);
      batch.generation = id.generation;
      if (batch.encoded !== undefined) stampProducerState(batch.encoded, id.producerId, id.epoch, batch.baseSequence);
    }
    if (batch.encoded !== undefined) return;
    try {
      batch.encoded = encodeRecordBatch(batch.records, {
        compression: this.o.compression, baseTimestamp: batch.createdAt,
        producerId: this.o.idempotent ? id.producerId : -1, producerEpoch: this.o.idempotent ? id.epoch : -1,
        baseSequence: this.o.idempotent ? batch.baseSequence : -1, buffers: this.buffers, leadingHeaders: batch.leadingHeaders,
        isTransactional: this.txn !== undefined,
      });
    } catch (err) {
      // Never sent: give its sequences back (it was the last batch given any), so the next batch leaves no gap.
      if (this.o.idempotent) q.sequence.next = batch.baseSequence;
      batch.attempts--;
      throw err;
    }
  }

  /** Fails a batch that could not be encoded, with the cause; nothing of it reached a broker. */
  private failUnencodable(batch: ProducerBatch, q: PartitionQueue, err: unknown): void {
    const cause = err instanceof Error ? err : new Error(String(err));
    this.fail(batch, q, new KafkaError(`${batch.topic}-${batch.partition}: a batch of ${batch.recordCount} record(s) could not be encoded: ${cause.message}`,
      'ERR_KAFKA_ENCODE', { retriable: false, cause }));
  }

  private sendRequest(g: RequestGroup): void {
    type PartitionData = { index: number; records: Buffer };
    const byTopic = new Map<string, { name: string; topicId: string; partitionData: PartitionData[] }>();
    for (const b of g.batches) {
      let td = byTopic.get(b.topic);
      if (td === undefined) byTopic.set(b.topic, (td = { name: b.topic, topicId: this.topics.get(b.topic)!.topicId, partitionData: [] }));
      td.partitionData.push({ index: b.partition, records: b.encoded! });
    }
    const body: RequestOf<typeof Produce> = {
      transactionalId: this.txn?.transactionalId ?? null, acks: this.o.acks, timeoutMs: this.o.requestTimeoutMs, topicData: [...byTopic.values()],
    };
    this.brokerInFlight.set(g.nodeId, (this.brokerInFlight.get(g.nodeId) ?? 0) + 1);
    this.inFlightTotal++;
    this.stats.requests++;
    this.stats.batches += g.batches.length;
    let pending: Promise<ProduceResponse | undefined>;
    try {
      const broker = this.cluster.broker(g.nodeId);
      pending = this.o.acks === 0
        ? broker.request(Produce, body, { lane: 'produce', expectResponse: false })
        : broker.request(Produce, body, { lane: 'produce', timeoutMs: Math.min(this.o.requestTimeoutMs + 5_000, MAX_TIMER_MS), version: this.txn?.produceVersion });
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then((res) => this.onResponse(g, res), (err: unknown) => this.onRequestError(g, err)).finally(() => {
      this.brokerInFlight.set(g.nodeId, this.brokerInFlight.get(g.nodeId)! - 1);
      this.inFlightTotal--;
      this.schedule(0);
    }).catch((err: unknown) => queueMicrotask(() => { throw err; }));
  }

  private onResponse(g: RequestGroup, res: ProduceResponse | undefined): void {
    if (res === undefined) {
      for (const b of g.batches) this.complete(b, 0, -1);
      return;
    }
    const done = new Set<ProducerBatch>();
    for (const tr of res.responses) {
      const name = tr.name !== '' ? tr.name : this.topics.nameOfTopicId(tr.topicId);
      for (const pr of tr.partitionResponses) {
        const b = g.batches.find((x) => x.topic === name && x.partition === pr.index && !done.has(x));
        if (b === undefined) continue;
        done.add(b);
        if (pr.errorCode === 0 || pr.errorCode === DUPLICATE_SEQUENCE) {
          this.complete(b, pr.errorCode, Number(pr.baseOffset));
        } else {
          this.onPartitionError(b, pr.errorCode, pr.errorMessage ?? pr.recordErrors[0]?.batchIndexErrorMessage ?? null);
        }
      }
    }
    for (const b of g.batches) {
      if (!done.has(b)) this.retryOrFail(b, new KafkaError(`no answer for ${b.topic}-${b.partition} in the Produce response`, 'ERR_KAFKA_PRODUCE', { retriable: true }));
    }
  }

  /** The batch is written (or was already: a duplicate); its records get their offsets. */
  private complete(b: ProducerBatch, errorCode: number, baseOffset: number): void {
    const q = this.accumulator.queue(b.topic, b.partition);
    q.inFlight--;
    if (b.requeued) q.retrying--;
    if (this.o.idempotent) q.sequence.acknowledge(b.baseSequence, b.recordCount);
    b.succeed(errorCode === 0 ? baseOffset : -1);
    // Acknowledged, so its bytes have left the socket: the memory serves the next batch. (Failed batches are left to
    // the GC: a timed-out request's bytes may still be queued in the socket.)
    if (b.encoded !== undefined) {
      this.buffers.give(b.encoded);
      b.encoded = undefined;
    }
    this.accumulator.release(b);
    this.checkIdle();
  }

  /** Kafka's idempotent-producer rules for a refused batch (TransactionManager.canRetry, KIP-360). */
  private onPartitionError(b: ProducerBatch, code: number, message: string | null): void {
    const err = brokerError(code, { api: 'Produce', topic: b.topic, partition: b.partition, brokerMessage: message });
    const q = this.accumulator.queue(b.topic, b.partition);
    if (this.txn?.refuses(code)) return this.retryOrFail(b, err, false); // the transaction decides (fail → batchFailed)
    if (this.o.idempotent && (code === OUT_OF_ORDER || code === UNKNOWN_PRODUCER)) {
      // Out of order behind a batch that failed first: retrying in order closes the gap. Otherwise the broker
      // lost our state or a batch is missing for good: a new epoch starts the sequences again. A batch behind
      // one already acknowledged (it failed, a later one got in) can never be written in order: it fails now
      // rather than at the delivery timeout.
      if (code === OUT_OF_ORDER && q.sequence.isAcknowledged(b.baseSequence)) {
        this.retryOrFail(b, err, false);
        return;
      }
      if (code === UNKNOWN_PRODUCER || q.sequence.isNextExpected(b.baseSequence)) this.requestEpochChange('bump');
      this.retryOrFail(b, err, true);
      return;
    }
    if (this.o.idempotent && FENCED.has(code)) {
      this.requestEpochChange('reinit');
      this.retryOrFail(b, err, true);
      return;
    }
    const info = errorByCode(code);
    if (info.refreshMetadata) this.topics.refresh(b.topic);
    this.retryOrFail(b, err, info.retriable);
  }

  /** The whole request failed (connection lost, timeout): every batch in it is retried or failed. */
  private onRequestError(g: RequestGroup, err: unknown): void {
    const e = err instanceof Error ? err : new KafkaError(String(err));
    const retriable = e instanceof KafkaError && e.retriable;
    // A lost connection may mean a lost leader: look again before retrying.
    if (retriable) for (const topic of new Set(g.batches.map((b) => b.topic))) this.topics.refresh(topic);
    for (const b of g.batches) this.retryOrFail(b, e, retriable);
  }

  private retryOrFail(b: ProducerBatch, err: Error, retriable = true): void {
    const q = this.accumulator.queue(b.topic, b.partition);
    q.inFlight--;
    const now = Date.now();
    if (!retriable || this.closedForGood || now - b.createdAt >= this.o.deliveryTimeoutMs) {
      this.fail(b, q, retriable ? new DeliveryTimeoutError(`${b.topic}-${b.partition}: not written within ${this.o.deliveryTimeoutMs} ms`, err) : err);
      return;
    }
    if (!b.requeued) { b.requeued = true; q.retrying++; }
    b.lastError = err;
    this.stats.retries++;
    b.retryAt = now + retryDelay(b.attempts, this.o.retryBackoffMs, this.o.retryBackoffMaxMs);
    q.requeue(b);
  }

  private fail(b: ProducerBatch, q: PartitionQueue, err: Error): void {
    if (b.requeued) q.retrying--;
    // A batch that may have reached the broker leaves a sequence gap behind it: start a new epoch.
    if (this.o.idempotent && b.attempts > 0) this.requestEpochChange('bump');
    this.txn?.batchFailed(err, b.attempts > 0);
    b.fail(err);
    this.accumulator.release(b);
    this.checkIdle();
  }

  /** Fails queued batches and waiting records past the delivery timeout; returns the next expiry time. */
  private expire(now: number): number {
    const limit = this.o.deliveryTimeoutMs;
    let next = Infinity;
    for (const q of this.accumulator.queues) {
      for (let i = 0; i < q.batches.length; i++) {
        const b = q.batches[i]!;
        if (now - b.createdAt < limit) { next = Math.min(next, b.createdAt + limit); continue; }
        q.batches.splice(i--, 1);
        if (!b.closed && b.attempts === 0) b.closed = true;
        else if (b.attempts === 0) this.accumulator.fullBatches--;
        const t = this.topics.get(b.topic);
        this.fail(b, q, new DeliveryTimeoutError(`${b.topic}-${b.partition}: not written within ${limit} ms`, b.lastError ?? t?.lastError ?? this.identity.lastError));
      }
    }
    return Math.min(next, this.topics.expireWaiting(now, limit));
  }

  /** A fatal error: every queued record fails with it. */
  private failAll(err: Error): void {
    this.closedForGood = true;
    this.abortQueued(err);
  }

  /** Fails every record not sent yet (queued, retrying, or waiting for metadata) with `err`. */
  private abortQueued(err: Error): void {
    for (const q of this.accumulator.queues) {
      while (q.batches.length > 0) this.fail(this.accumulator.take(q), q, err);
    }
    this.topics.failAllWaiting(err);
  }

  private checkIdle(): void {
    if (this.accumulator.bufferedRecords !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
