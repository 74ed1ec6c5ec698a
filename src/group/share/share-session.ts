/**
 * One share session (KIP-932) with one broker: the partitions of the topic this member reads there, their
 * acquired records, and the acknowledgements going back. One loop owns the session, so its requests are strictly
 * sequential, as the session epoch demands (0 opens, then +1 per request, -1 closes):
 *
 * - ShareFetch acquires records (under the broker's acquisition lock) and carries the acknowledgements collected
 *   since the last request; partitions join the session by being named and leave it in `forgottenTopicsData`.
 *   Acknowledgements never ride on the opening request (epoch 0): Kafka refuses them there.
 * - While the loop waits for room in the application's channel (slow workers) or has no partition to fetch,
 *   acknowledgements go in a ShareAcknowledge of their own after `ackLingerMs`, so a slow consumer does not sit on
 *   finished records until their locks expire.
 * - SHARE_SESSION_NOT_FOUND / INVALID_SHARE_SESSION_EPOCH (the broker dropped the session: restart, eviction)
 *   and failed requests reopen the session after the backoff. Acknowledgements lost with a request are reported
 *   (their records come back after the lock timeout: at-least-once holds).
 * - Closing sends the remaining acknowledgements on a ShareAcknowledge at epoch -1, after releasing what was
 *   acquired but never handed out, so another member gets those records at once rather than after the lock.
 */
import { Backoff, sleep } from '../../client/backoff.js';
import type { Broker } from '../../client/broker.js';
import { ClosedError, KafkaError } from '../../errors.js';
import { ShareAcknowledge } from '../../protocol/apis/share-acknowledge.js';
import { ShareFetch } from '../../protocol/apis/share-fetch.js';
import { brokerError, errorByCode, errorCodes } from '../../protocol/error-codes.js';
import { decodeRecordBatches, type KafkaRecord } from '../../protocol/record-batch.js';
import { STALL_ROUNDS } from '../coordinator.js';
import { AcknowledgeType, PendingAcknowledgements, type AcknowledgeTypeCode, type TakenAcknowledgements } from './acknowledgements.js';

/** What a delivered record needs from its session to acknowledge itself. */
export interface AcknowledgeTarget {
  /** Queues the acknowledgement; resolves with the broker's verdict (false: not applied, reported on errors). */
  acknowledge(partition: number, offset: number, type: AcknowledgeTypeCode): Promise<boolean>;
}

/** Where a delivered message came from (the message type carries at least this). */
export interface DeliveredRecord {
  readonly partition: number;
  readonly offset: number;
}

/** How a session hands records to the application. `M` is the application's message type. */
export interface ShareDelivery<M extends DeliveredRecord> {
  /** One message for an acquired record; `deliveryCount` is the broker's (1 on first delivery). */
  make(target: AcknowledgeTarget, partition: number, record: KafkaRecord, deliveryCount: number): M;
  /** Hands `m` over now if there is room; false otherwise. */
  tryDeliver(m: M): boolean;
  /** Hands `m` over, waiting for room; rejects on abort (then `m` was not handed over). */
  deliver(m: M, signal: AbortSignal): Promise<void>;
}

export interface ShareSessionOptions<M extends DeliveredRecord> extends ShareDelivery<M> {
  groupId: string;
  memberId: string;
  topic: string;
  topicId: string;
  maxWaitMs: number;
  maxBytes: number;
  maxRecords: number;
  requestTimeoutMs: number;
  retryMinMs: number;
  retryMaxMs: number;
  /** How long acknowledgements may wait for a request while the loop is blocked. */
  ackLingerMs: number;
  maxDecompressedBytes: number;
  onError(err: unknown): void;
  /** A partition's leader moved or its topic changed: the owner should route it again. */
  onReroute(partition: number, err: KafkaError): void;
}

/** Partition errors that mean "ask metadata where this partition lives now". */
const REROUTE = new Set<number>([errorCodes.NOT_LEADER_OR_FOLLOWER, errorCodes.UNKNOWN_TOPIC_OR_PARTITION, errorCodes.UNKNOWN_TOPIC_ID,
  errorCodes.FENCED_LEADER_EPOCH, errorCodes.LEADER_NOT_AVAILABLE]);

/** The epoch after `epoch` (wrapping past int32 max to 1, as Kafka's `ShareRequestMetadata.nextEpoch`). */
export function nextShareEpoch(epoch: number): number {
  return epoch >= 0x7fffffff ? 1 : epoch + 1;
}

/** Acquired ranges as numbers, sorted; those that are reversed, overlapping, negative or past 2^53, or have a delivery count below 1, dropped. */
export function saneRanges(ranges: readonly { firstOffset: bigint; lastOffset: bigint; deliveryCount: number }[]): { first: number; last: number; count: number }[] {
  const sorted = ranges.filter((r) => r.firstOffset >= 0n && r.firstOffset <= r.lastOffset && r.lastOffset <= BigInt(Number.MAX_SAFE_INTEGER) && r.deliveryCount >= 1)
    .map((r) => ({ first: Number(r.firstOffset), last: Number(r.lastOffset), count: r.deliveryCount }))
    .sort((a, b) => a.first - b.first);
  return sorted.filter((r, i) => i === 0 || r.first > sorted[i - 1]!.last);
}

export class ShareSession<M extends DeliveredRecord> implements AcknowledgeTarget {
  private epoch = 0;
  /** Partitions the broker has in this session. */
  private readonly inSession = new Set<number>();
  /** Partitions this session should fetch. */
  private wanted = new Set<number>();
  private readonly acks = new PendingAcknowledgements();
  private readonly stop = new AbortController();
  private closedForAcks = false;
  private loop: Promise<void> | undefined;
  private wakeIdle: (() => void) | undefined;
  /** Set while the loop waits for room to deliver: aborting it lets the loop send acknowledgements. */
  private blocked: AbortController | undefined;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** The broker's acquisition lock timeout, from the last ShareFetch (-1: not known yet). */
  lockTimeoutMs = -1;

  constructor(readonly broker: Broker, private readonly options: ShareSessionOptions<M>) {}

  /** The partitions this session fetches. */
  get partitions(): readonly number[] {
    return [...this.wanted];
  }

  /** Acknowledgements not sent yet. */
  get pendingAcknowledgements(): number {
    return this.acks.size;
  }

  /** Fetch exactly `partitions` from now on (the others leave the session on the next request). */
  setPartitions(partitions: readonly number[]): void {
    this.wanted = new Set(partitions);
    this.loop ??= this.run();
    this.poke();
  }

  acknowledge(partition: number, offset: number, type: AcknowledgeTypeCode): Promise<boolean> {
    if (this.closedForAcks) return Promise.resolve(false);
    const outcome = this.acks.add(partition, offset, type);
    this.loop ??= this.run();
    if (this.wakeIdle !== undefined) this.poke();
    else if (this.blocked !== undefined && this.lingerTimer === undefined) {
      const blocked = this.blocked;
      this.lingerTimer = setTimeout(() => { this.lingerTimer = undefined; blocked.abort(); }, this.options.ackLingerMs);
    }
    return outcome;
  }

  private poke(): void {
    const wake = this.wakeIdle;
    this.wakeIdle = undefined;
    wake?.();
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ minRetryPeriod: this.options.retryMinMs, maxRetryPeriod: this.options.retryMaxMs });
    while (!this.stop.signal.aborted) {
      try {
        if (this.wanted.size > 0) {
          // An answer that only brought partition errors came back at once (no long poll): pause before the next.
          if (!(await this.fetchOnce())) {
            await sleep(backoff.next(), this.stop.signal).catch(() => undefined);
            continue;
          }
        } else if (this.epoch > 0 && this.acks.size > 0) await this.acknowledgeNow();
        else {
          await new Promise<void>((resolve) => { this.wakeIdle = resolve; });
          continue;
        }
        backoff.reset();
      } catch (err) {
        if (this.stop.signal.aborted) break;
        this.epoch = 0;
        this.inSession.clear();
        const pause = backoff.next();
        if (backoff.attempt >= STALL_ROUNDS || !(err instanceof KafkaError && err.retriable)) this.options.onError(err);
        await sleep(pause, this.stop.signal).catch(() => undefined);
      }
    }
  }

  /** Reports acknowledgements that did not reach the broker (or that it refused), once per partition. */
  private failed(taken: readonly TakenAcknowledgements[], err: unknown): void {
    for (const t of taken) {
      t.settle(false);
      this.options.onError(new KafkaError(`share group ${this.options.groupId}: acknowledgements of ${t.count} record(s) of ${this.options.topic}-${t.partition} ` +
        `were not applied (${err instanceof Error ? err.message : String(err)}); records not acknowledged return after the acquisition lock`,
      'ERR_KAFKA_SHARE_ACKNOWLEDGE', { retriable: true, cause: err }));
    }
  }

  private topError(code: number, message: string | null, api: string): KafkaError {
    return brokerError(code, { api, groupId: this.options.groupId, brokerMessage: message ?? undefined });
  }

  /** One ShareFetch and the delivery of what it acquired; false when the answer was nothing but partition errors. */
  private async fetchOnce(): Promise<boolean> {
    const o = this.options;
    const opening = this.epoch === 0;
    const add = [...this.wanted].filter((p) => opening || !this.inSession.has(p));
    const forget = opening ? [] : [...this.inSession].filter((p) => !this.wanted.has(p));
    const taken = opening ? [] : this.acks.takeAll();
    const named = [...new Set([...add, ...taken.map((t) => t.partition)])];
    const byPartition = new Map(taken.map((t) => [t.partition, t]));
    let res;
    try {
      res = await this.broker.request(ShareFetch, {
        groupId: o.groupId, memberId: o.memberId, shareSessionEpoch: this.epoch, maxWaitMs: o.maxWaitMs, minBytes: 1, maxBytes: o.maxBytes,
        maxRecords: o.maxRecords, batchSize: o.maxRecords, shareAcquireMode: 0, isRenewAck: false,
        topics: named.length === 0 ? [] : [{ topicId: o.topicId, partitions: named.map((p) => ({
          partitionIndex: p, partitionMaxBytes: 0, acknowledgementBatches: byPartition.get(p)?.batches ?? [] })) }],
        forgottenTopicsData: forget.length === 0 ? [] : [{ topicId: o.topicId, partitions: forget }],
      }, { lane: 'fetch', timeoutMs: o.requestTimeoutMs + o.maxWaitMs });
    } catch (err) {
      this.failed(taken, err);
      throw err;
    }
    if (res.errorCode !== 0) {
      const err = this.topError(res.errorCode, res.errorMessage, 'ShareFetch');
      this.failed(taken, err);
      throw err;
    }
    this.epoch = nextShareEpoch(this.epoch);
    for (const p of add) this.inSession.add(p);
    for (const p of forget) this.inSession.delete(p);
    if (res.acquisitionLockTimeoutMs > 0) this.lockTimeoutMs = res.acquisitionLockTimeoutMs;
    const delivered: M[] = [];
    const answered = new Set<number>();
    let partitionErrors = 0;
    for (const t of res.responses) {
      if (t.topicId !== o.topicId) continue;
      for (const p of t.partitions) {
        answered.add(p.partitionIndex);
        this.settle(byPartition.get(p.partitionIndex), p.acknowledgeErrorCode, p.acknowledgeErrorMessage, 'ShareFetch');
        if (p.errorCode !== 0) {
          partitionErrors++;
          this.partitionError(p.partitionIndex, p.errorCode, p.errorMessage);
        }
        if (p.acquiredRecords.length > 0) this.collect(p.partitionIndex, p.records, p.acquiredRecords, delivered);
      }
    }
    const missing = taken.filter((t) => !answered.has(t.partition));
    if (missing.length > 0) this.failed(missing, new KafkaError('the broker did not answer for the partition', 'ERR_KAFKA_SHARE_ACKNOWLEDGE', { retriable: true }));
    await this.deliverAll(delivered);
    return partitionErrors === 0 || delivered.length > 0 || taken.length > 0;
  }

  /** Settles one partition's acknowledgements from its error code; a refusal is reported. */
  private settle(taken: TakenAcknowledgements | undefined, code: number, message: string | null, api: string): void {
    if (taken === undefined) return;
    if (code === 0) taken.settle(true);
    else this.failed([taken], brokerError(code, { api, topic: this.options.topic, partition: taken.partition, groupId: this.options.groupId, brokerMessage: message ?? undefined }));
  }

  private partitionError(partition: number, code: number, message: string | null): void {
    const err = brokerError(code, { api: 'ShareFetch', topic: this.options.topic, partition, groupId: this.options.groupId, brokerMessage: message ?? undefined });
    if (REROUTE.has(code) || errorByCode(code).refreshMetadata) this.options.onReroute(partition, err);
    else this.options.onError(err);
  }

  /**
   * The records of the acquired ranges, as messages with their delivery counts. Offsets of an acquired range that
   * hold no record (transaction markers, compaction gaps) are acknowledged as gaps at once, one batch per run;
   * a range whose bytes cannot be decoded is released (its delivery count grows, so a poison batch ends archived
   * at the limit). Ranges that make no sense (reversed, overlapping, negative, a count below 1) are reported and
   * left alone: their locks expire.
   */
  private collect(partition: number, records: Buffer | null, ranges: readonly { firstOffset: bigint; lastOffset: bigint; deliveryCount: number }[], out: M[]): void {
    const spans = saneRanges(ranges);
    if (spans.length < ranges.length) {
      this.options.onError(new KafkaError(`share group ${this.options.groupId}: ShareFetch for ${this.options.topic}-${partition} acquired ${ranges.length - spans.length} ` +
        'range(s) that make no sense (reversed, overlapping or out of range); left to their lock timeout', 'ERR_KAFKA_SHARE_FETCH', { retriable: true }));
    }
    if (spans.length === 0) return;
    const seen: number[] = [];
    let j = 0;
    let failure: unknown;
    try {
      for (const batch of decodeRecordBatches(records ?? Buffer.alloc(0), { maxDecompressedBytes: this.options.maxDecompressedBytes })) {
        if (batch.isControl || batch.lastOffset < spans[0]!.first) continue;
        for (const record of batch.records()) {
          // Both ascend (records out of order are skipped), so one walk over the spans serves every record.
          if (seen.length > 0 && record.offset <= seen[seen.length - 1]!) continue;
          while (j < spans.length && spans[j]!.last < record.offset) j++;
          if (j === spans.length) break;
          if (record.offset < spans[j]!.first) continue;
          seen.push(record.offset);
          out.push(this.options.make(this, partition, record, spans[j]!.count));
        }
      }
    } catch (err) {
      failure = err;
      this.options.onError(err);
    }
    // What no record covered: gaps, or (after a decode failure) what could not be read, released.
    const type = failure === undefined ? AcknowledgeType.gap : AcknowledgeType.release;
    let i = 0;
    for (const sp of spans) {
      let next = sp.first;
      for (; i < seen.length && seen[i]! <= sp.last; i++) {
        if (seen[i]! > next) this.acks.addRange(partition, next, seen[i]! - 1, type);
        next = seen[i]! + 1;
      }
      if (next <= sp.last) this.acks.addRange(partition, next, sp.last, type);
    }
  }

  /** Hands messages over in order; while waiting for room, sends the acknowledgements that pile up. */
  private async deliverAll(messages: M[]): Promise<void> {
    const o = this.options;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (!this.stop.signal.aborted && o.tryDeliver(m)) continue;
      for (;;) {
        if (this.stop.signal.aborted) return this.releaseUndelivered(messages.slice(i));
        const blocked = new AbortController();
        this.blocked = blocked;
        try {
          await o.deliver(m, AbortSignal.any([this.stop.signal, blocked.signal]));
          break;
        } catch (err) {
          if (err instanceof ClosedError) return this.releaseUndelivered(messages.slice(i));
          if (!this.stop.signal.aborted && blocked.signal.aborted) await this.acknowledgeNow();
        } finally {
          this.blocked = undefined;
          clearTimeout(this.lingerTimer);
          this.lingerTimer = undefined;
        }
      }
    }
  }

  /** Messages acquired but never handed over go back at once (release), not after the lock timeout. */
  private releaseUndelivered(messages: readonly M[]): void {
    for (const m of messages) void this.acks.add(m.partition, m.offset, AcknowledgeType.release);
  }

  /** A ShareAcknowledge with everything pending (epoch -1 closes the session with it). */
  private async acknowledgeNow(closing = false): Promise<void> {
    if (this.epoch === 0 || (this.acks.size === 0 && !closing)) return;
    const o = this.options;
    const taken = this.acks.takeAll();
    const byPartition = new Map(taken.map((t) => [t.partition, t]));
    let res;
    try {
      res = await this.broker.request(ShareAcknowledge, {
        groupId: o.groupId, memberId: o.memberId, shareSessionEpoch: closing ? -1 : this.epoch, isRenewAck: false,
        topics: taken.length === 0 ? [] : [{ topicId: o.topicId, partitions: taken.map((t) => ({ partitionIndex: t.partition, acknowledgementBatches: t.batches })) }],
      }, { lane: 'fetch', timeoutMs: o.requestTimeoutMs });
    } catch (err) {
      this.failed(taken, err);
      throw err;
    }
    if (res.errorCode !== 0) {
      const err = this.topError(res.errorCode, res.errorMessage, 'ShareAcknowledge');
      this.failed(taken, err);
      throw err;
    }
    this.epoch = closing ? 0 : nextShareEpoch(this.epoch);
    for (const t of res.responses) {
      if (t.topicId !== o.topicId) continue;
      for (const p of t.partitions) {
        this.settle(byPartition.get(p.partitionIndex), p.errorCode, p.errorMessage, 'ShareAcknowledge');
        byPartition.delete(p.partitionIndex);
      }
    }
    if (byPartition.size > 0) this.failed([...byPartition.values()], new KafkaError('the broker did not answer for the partition', 'ERR_KAFKA_SHARE_ACKNOWLEDGE', { retriable: true }));
  }

  /** Stops fetching and waits for the request in flight; acknowledgements are still taken, for {@link close}. */
  async stopFetching(): Promise<void> {
    this.stop.abort(new ClosedError('share session closed'));
    this.blocked?.abort();
    this.poke();
    await this.loop?.catch(() => undefined);
  }

  /**
   * Stops fetching (waiting at most `timeoutMs` for the request in flight), then sends what is still pending and
   * closes the session (epoch -1). Acknowledgements that arrive after this get false at once.
   */
  async close(timeoutMs: number): Promise<void> {
    const deadline = AbortSignal.timeout(timeoutMs);
    await Promise.race([this.stopFetching(), new Promise((resolve) => deadline.addEventListener('abort', resolve, { once: true }))]);
    this.closedForAcks = true;
    clearTimeout(this.lingerTimer);
    if (this.epoch === 0 || deadline.aborted) {
      const lost = this.acks.abandon();
      if (lost > 0) this.options.onError(new KafkaError(`share group ${this.options.groupId}: ${lost} acknowledgement(s) on ${this.broker.address} were not sent before the session closed; those records return after the acquisition lock`, 'ERR_KAFKA_SHARE_ACKNOWLEDGE', { retriable: true }));
      return;
    }
    await this.acknowledgeNow(true).catch(() => undefined);
  }
}
