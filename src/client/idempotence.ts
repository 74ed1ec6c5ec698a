/**
 * The idempotent producer's bookkeeping (KIP-98, KIP-360): one producer id and epoch for the whole producer,
 * and per partition the next sequence number to hand out and the last one the broker acknowledged.
 *
 * The broker keeps, per producer id and partition, the sequences of the last five batches it appended; a batch
 * whose sequence it has seen is answered as a duplicate (with the original offset) instead of being appended
 * again, and a batch that skips a sequence is refused with OUT_OF_ORDER_SEQUENCE_NUMBER. So a batch that is
 * retried keeps its sequence, batches of one partition are sent in sequence order, and when a gap cannot be
 * closed (a batch failed for good or timed out after it may have been written) the producer bumps its epoch and
 * starts every partition again at sequence 0, as Kafka's Java producer does for idempotent, non-transactional
 * producers (KIP-360).
 */
import { KafkaError } from '../errors.js';
import { InitProducerId } from '../protocol/apis/init-producer-id.js';
import { brokerError } from '../protocol/error-codes.js';
import { crc32c } from '../protocol/crc32c.js';
import { CRC_START } from '../protocol/record-batch.js';
import { retryDelay } from './backoff.js';
import type { Broker } from './broker.js';

/** Producer id of a producer without idempotence; batches carry it with epoch -1 and sequence -1. */
export const NO_PRODUCER_ID = -1;
/** Sequences are int32 and wrap to 0 after 2^31 - 1 (Kafka's `DefaultRecordBatch.incrementSequence`). */
const SEQUENCE_MODULUS = 0x80000000;
/** Epochs are int16; at the maximum, a new producer id is needed instead of a bump. */
const MAX_EPOCH = 0x7fff;

/** `sequence + delta`, wrapping as Kafka's brokers expect. */
export function addSequence(sequence: number, delta: number): number {
  return (sequence + delta) % SEQUENCE_MODULUS;
}

/** Per-partition sequence state of the current producer id and epoch. */
export class PartitionSequence {
  /** Base sequence of the next batch that has never been sent. */
  next = 0;
  /** Last sequence the broker acknowledged (-1: none yet under this epoch). */
  lastAcked = -1;

  /** Hands out `count` sequences for a new batch and returns its base sequence. */
  assign(count: number): number {
    const base = this.next;
    this.next = addSequence(base, count);
    return base;
  }

  /** Records that the batch at `baseSequence` with `count` records was acknowledged. */
  acknowledge(baseSequence: number, count: number): void {
    const last = addSequence(baseSequence, count - 1);
    // Responses of one partition arrive in order, but a retried batch may be acknowledged after a later one's
    // duplicate; keep the highest, treating a wrap-around as higher.
    if (this.lastAcked < 0 || last > this.lastAcked || this.lastAcked - last > SEQUENCE_MODULUS / 2) this.lastAcked = last;
  }

  /**
   * True once the broker acknowledged a batch under this epoch. Until then a partition's batches go one at a time:
   * a broker without state for this producer id and epoch accepts whatever sequence comes first, so a later batch
   * that overtook a refused first one would be written and the first could never follow it (its records lost).
   */
  get hasAcknowledged(): boolean {
    return this.lastAcked >= 0;
  }

  /** True when `baseSequence` is the one the broker expects next: a refusal of it means a real gap. */
  isNextExpected(baseSequence: number): boolean {
    return baseSequence === addSequence(this.lastAcked, 1);
  }

  /** True when the broker acknowledged a later sequence than `baseSequence` (comparing across the wrap). */
  isAcknowledged(baseSequence: number): boolean {
    if (this.lastAcked < 0) return false;
    const behind = (this.lastAcked - baseSequence + SEQUENCE_MODULUS) % SEQUENCE_MODULUS;
    return behind < SEQUENCE_MODULUS / 2;
  }

  /** Starts over at 0, after a new producer id or epoch. */
  reset(): void {
    this.next = 0;
    this.lastAcked = -1;
  }
}

/** Byte offsets of the producer fields in a RecordBatch v2 header. */
const PRODUCER_ID_OFFSET = 43;
const PRODUCER_EPOCH_OFFSET = 51;
const BASE_SEQUENCE_OFFSET = 53;

/**
 * Rewrites the producer id, epoch and base sequence of an encoded batch in place and recomputes its CRC-32C:
 * after an epoch bump a queued batch gets new sequences without being encoded (or compressed) again.
 * The CRC covers the attributes onwards, which includes these fields.
 */
export function stampProducerState(batch: Buffer, producerId: number, producerEpoch: number, baseSequence: number): void {
  batch.writeBigInt64BE(BigInt(producerId), PRODUCER_ID_OFFSET);
  batch.writeInt16BE(producerEpoch, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET);
  batch.writeUInt32BE(crc32c(batch, CRC_START, batch.length), 17);
}

/** Transaction timeout sent with InitProducerId; brokers ignore it without a transactional id. */
const TRANSACTION_TIMEOUT_MS = 60_000;

/**
 * The producer id and epoch. `init()` asks a broker for a fresh id (InitProducerId on the control lane);
 * `bumpEpoch()` moves to the next epoch locally, which the broker accepts from an idempotent producer whose
 * sequences start again at 0 (KIP-360), falling back to a fresh id when the epoch is exhausted.
 */
export class ProducerIdentity {
  producerId = NO_PRODUCER_ID;
  epoch = -1;
  /** Incremented on every new id or epoch, so batches can tell whether their stamp is current. */
  generation = 0;

  get hasId(): boolean {
    return this.producerId !== NO_PRODUCER_ID;
  }

  /** InitProducerId rounds that failed in a row (0 after a usable answer). */
  failures = 0;
  /** No InitProducerId before this time: the pause after a failed round (see {@link failed}). */
  retryAt = 0;
  /** Why the last round failed, kept as the cause of the delivery timeouts it leads to. */
  lastError: Error | undefined;

  /** True when a new InitProducerId may be sent (not inside the pause after a failure). */
  mayInit(now = Date.now()): boolean {
    return now >= this.retryAt;
  }

  /**
   * Obtains a new producer id and epoch from `broker`. Throws the broker's error (typed) on failure, and a
   * retriable {@link KafkaError} when the broker says "no error" but gives no usable id or epoch (negative, or
   * beyond int16 for the epoch): taken as is, it would look like "no id yet" and be asked for again at once.
   */
  async init(broker: Pick<Broker, 'request'>, timeoutMs?: number): Promise<void> {
    const res = await broker.request(InitProducerId, {
      transactionalId: null, transactionTimeoutMs: TRANSACTION_TIMEOUT_MS, producerId: -1n, producerEpoch: -1,
      enable2Pc: false, keepPreparedTxn: false,
    }, { lane: 'control', timeoutMs });
    if (res.errorCode !== 0) throw brokerError(res.errorCode, { api: 'InitProducerId' });
    const id = res.producerId;
    if (id < 0n || id > BigInt(Number.MAX_SAFE_INTEGER) || res.producerEpoch < 0 || res.producerEpoch > MAX_EPOCH) {
      throw new KafkaError(`InitProducerId answered no error but no usable producer id (id ${id}, epoch ${res.producerEpoch})`,
        'ERR_KAFKA_NO_PRODUCER_ID', { retriable: true });
    }
    this.producerId = Number(id);
    this.epoch = res.producerEpoch;
    this.generation++;
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = undefined;
  }

  /**
   * Records a failed round: the next {@link init} waits for the backoff (backoff.ts, the one helper) of
   * `failures` rounds between `minMs` and `maxMs`, whatever else wakes the sender. Returns the pause.
   */
  failed(err: unknown, minMs: number, maxMs: number): number {
    this.failures++;
    this.lastError = err instanceof Error ? err : new KafkaError(String(err));
    const pause = retryDelay(this.failures, minMs, maxMs);
    this.retryAt = Date.now() + pause;
    return pause;
  }

  /** Local epoch bump; returns false when the epoch is exhausted and `init()` is needed instead. */
  bumpEpoch(): boolean {
    if (!this.hasId || this.epoch >= MAX_EPOCH) return false;
    this.epoch++;
    this.generation++;
    return true;
  }
}
