/**
 * The transactional producer's state machine (KIP-98; transaction protocol v2, KIP-890), beside the produce engine:
 * the engine batches and sends records; this module owns the transaction around them.
 *
 * States, as Kafka's Java client names them: uninitialized → (InitProducerId with the transactional id, to the
 * transaction coordinator found by FindCoordinator key type 1) → ready → begin → in-transaction → commit → committing
 * → (every batch acknowledged, then EndTxn) → ready; abort → aborting → ready. A record that cannot be written, or
 * TRANSACTION_ABORTABLE, moves the transaction to abortable-error: it must be aborted, and the producer goes on. A
 * newer producer with the same id (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH), INVALID_TXN_STATE or a refused
 * authorization moves it to fatal-error: the producer is finished (reported through `onFatal`).
 *
 * Transaction protocol v1 (brokers without `transaction.version` 2): before the first record to a partition, the
 * partition is added with AddPartitionsToTxn (v3 and below: the client versions); Produce stays at v11 and EndTxn at
 * v4; offsets go through AddOffsetsToTxn then TxnOffsetCommit v4. v2 (the broker's finalized `transaction.version`
 * is 2 or more): Produce v12+ lets the broker add partitions itself, TxnOffsetCommit v5 adds the group, and every
 * EndTxn v5 answers the next epoch (the epoch is bumped on each commit or abort).
 *
 * Coordinator moves (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a lost connection) are re-looked-up by the
 * coordinator's `call` (src/group/coordinator.ts, given to us by the channel layer); CONCURRENT_TRANSACTIONS and
 * COORDINATOR_LOAD_IN_PROGRESS are retried in place with the one backoff helper. Every wait is bounded by the
 * transaction timeout.
 */
import { BrokerError, ClosedError, KafkaError, ProducerFencedError, TransactionError, TransactionStateError } from '../errors.js';
import { AddPartitionsToTxn } from '../protocol/apis/add-partitions-to-txn.js';
import { ApiVersions } from '../protocol/apis/api-versions.js';
import { EndTxn } from '../protocol/apis/end-txn.js';
import { InitProducerId } from '../protocol/apis/init-producer-id.js';
import { brokerError, errorCodes } from '../protocol/error-codes.js';
import { Backoff, sleep } from './backoff.js';
import { CLIENT_SOFTWARE_NAME, CLIENT_SOFTWARE_VERSION, type Broker } from './broker.js';
import type { ProducerIdentity } from './idempotence.js';
import { sendOffsets, type GroupMetadata, type OffsetToCommit, type TransactionCoordinator } from './transaction-offsets.js';

export type { GroupMetadata, OffsetToCommit, TransactionCoordinator } from './transaction-offsets.js';

/** Kafka's TransactionManager states, in our spelling. */
export type TransactionState = 'uninitialized' | 'initializing' | 'ready' | 'in-transaction' | 'committing' | 'aborting' | 'abortable-error' | 'fatal-error';

/** What the manager needs of the produce engine (producer-engine.ts attaches itself). */
export interface EngineSide {
  /** Resolves once every record accepted so far has its outcome. */
  flush(): Promise<void>;
  /** Runs the sender soon (a partition was added). */
  wake(): void;
  /** Fails every record not yet sent with `err` (an abort). */
  abortQueued(err: Error): void;
  /** A fatal error: every queued record fails with it. */
  failAll(err: Error): void;
  /** A new producer id or epoch: sequences start again at 0. */
  newEpoch(): void;
}

export interface TransactionManagerOptions {
  transactionalId: string;
  transactionTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  requestTimeoutMs: number;
  /** The transaction coordinator (FindCoordinator key type 1, the transactional id). */
  coordinator: TransactionCoordinator;
  /** A group's coordinator, for TxnOffsetCommit (KIP-447). */
  groupCoordinator: (groupId: string) => TransactionCoordinator;
  /** Told once when the producer is finished (fenced, or another fatal error). */
  onFatal?: (err: TransactionError) => void;
}

/** Produce's last version before transaction protocol v2 (KIP-890): from v12 the broker adds partitions itself. */
export const PRODUCE_MAX_TV1 = 11;
/** EndTxn v5 bumps the epoch on each end (v2 only). */
const END_TXN_MAX_TV1 = 4;
/** AddPartitionsToTxn v4+ is for brokers (verifyOnly batches); clients send v3 at most. */
const ADD_PARTITIONS_CLIENT_MAX = 3;

/** Retried in place, after a pause: the coordinator is busy with this id or loading, or metadata is catching up. */
const RETRY_IN_PLACE = new Set<number>([errorCodes.CONCURRENT_TRANSACTIONS, errorCodes.COORDINATOR_LOAD_IN_PROGRESS, errorCodes.UNKNOWN_TOPIC_OR_PARTITION]);
/** The transaction must be aborted; the producer goes on (Java's abortable errors). */
const ABORTABLE = new Set<number>([
  errorCodes.TRANSACTION_ABORTABLE, errorCodes.TOPIC_AUTHORIZATION_FAILED, errorCodes.GROUP_AUTHORIZATION_FAILED,
  errorCodes.OPERATION_NOT_ATTEMPTED, errorCodes.UNKNOWN_MEMBER_ID, errorCodes.ILLEGAL_GENERATION, errorCodes.FENCED_INSTANCE_ID,
]);
const FENCED = new Set<number>([errorCodes.PRODUCER_FENCED, errorCodes.INVALID_PRODUCER_EPOCH]);
/** Produce answers that fail the batch at once and need an abort (with an epoch bump for a lost sequence). */
const PRODUCE_ABORTABLE = new Set<number>([
  errorCodes.TRANSACTION_ABORTABLE, errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER, errorCodes.UNKNOWN_PRODUCER_ID, errorCodes.INVALID_PRODUCER_ID_MAPPING,
]);
const SENDING = new Set<TransactionState>(['in-transaction', 'committing', 'aborting', 'abortable-error']);

const key = (topic: string, partition: number): string => `${partition}:${topic}`;

export class TransactionManager {
  state: TransactionState = 'uninitialized';
  /** Why the transaction (abortable) or the producer (fatal) cannot go on. */
  lastError: TransactionError | undefined;
  /** Transaction protocol v2 in use (KIP-890), from the broker's finalized features at initialisation. */
  v2 = false;
  /** Counters for tests: coordinator requests by API, retries in place. */
  readonly stats = { addPartitions: 0, endTxn: 0, initProducerId: 0, retries: 0 };
  private engine: EngineSide | undefined;
  private identity: ProducerIdentity | undefined;
  private readonly added = new Set<string>();
  private readonly pending = new Map<string, { topic: string; partition: number }>();
  private adding: Promise<void> | undefined;
  /** Something of this transaction reached the coordinator (a partition, offsets): EndTxn is needed. */
  private started = false;
  private epochBumpRequired = false;
  private initialising: Promise<void> | undefined;
  private readonly stop = new AbortController();

  constructor(private readonly o: TransactionManagerOptions) {}

  get transactionalId(): string {
    return this.o.transactionalId;
  }

  /** Called once by the engine that sends this producer's records. */
  attach(engine: EngineSide, identity: ProducerIdentity): void {
    this.engine = engine;
    this.identity = identity;
  }

  // ---- the engine's side ----

  /** True when batches may be stamped and sent (an id is known and a transaction is open or ending). */
  get sending(): boolean {
    return this.identity!.hasId && SENDING.has(this.state);
  }

  /** Throws unless records may be accepted now: only inside a transaction (not while it commits or aborts). */
  checkSend(): void {
    if (this.state === 'in-transaction' || this.state === 'abortable-error') return;
    if (this.state === 'fatal-error') throw this.lastError!;
    throw new TransactionStateError(`transactional producer ${JSON.stringify(this.o.transactionalId)}: records can only be sent inside a transaction (state ${this.state}); call beginTransaction() first`);
  }

  /** The Produce version cap: v11 under protocol v1 (the broker must not add partitions itself). */
  get produceVersion(): number | undefined {
    return this.v2 ? undefined : PRODUCE_MAX_TV1;
  }

  /**
   * May a batch for this partition be sent? True once the partition is in the transaction (v2: always); false while
   * AddPartitionsToTxn is pending (the engine is woken when it is done); an Error when the transaction failed: the
   * batch fails with it.
   */
  gate(topic: string, partition: number): boolean | Error {
    if (this.state === 'abortable-error' || this.state === 'fatal-error') return this.lastError!;
    if (this.state === 'aborting') return abortedError();
    if (this.v2) { this.started = true; return true; }
    const k = key(topic, partition);
    if (this.added.has(k)) return true;
    if (!this.pending.has(k)) this.pending.set(k, { topic, partition });
    this.adding ??= this.addPartitions().finally(() => { this.adding = undefined; this.engine?.wake(); });
    return false;
  }

  /**
   * Produce codes the transaction decides, not the idempotent retry rules: the batch fails at once (fencing and
   * INVALID_TXN_STATE end the producer; TRANSACTION_ABORTABLE and a lost sequence need an abort).
   */
  refuses(code: number): boolean {
    return FENCED.has(code) || PRODUCE_ABORTABLE.has(code) || code === errorCodes.INVALID_TXN_STATE;
  }

  /** A batch of the transaction failed: the transaction must be aborted (`gap`: its sequence may be lost, KIP-360). */
  batchFailed(err: Error, gap: boolean): void {
    if (gap) this.epochBumpRequired = true;
    if (err instanceof BrokerError && FENCED.has(err.errorCode)) return this.fenced(err);
    if (err instanceof BrokerError && err.errorCode === errorCodes.INVALID_TXN_STATE) return this.fatal(new TransactionError(`Produce: ${err.message}`, false, { cause: err }));
    if (err instanceof TransactionError && !err.abortable) return this.fatal(err);
    if (this.state === 'aborting' || this.state === 'fatal-error') return;
    this.abortable(err instanceof TransactionError ? err : new TransactionError(`the transaction must be aborted: a record was not written (${err.message})`, true, { cause: err }));
  }

  /** Produce answered a fencing error: a newer producer has this id. */
  fenced(err: Error): void {
    this.fatal(new ProducerFencedError(this.o.transactionalId, err));
  }

  // ---- the application's side ----

  /** Starts a transaction, initialising the producer id first if needed. */
  async begin(): Promise<void> {
    this.throwIfFatal();
    if (this.state === 'uninitialized') {
      this.initialising ??= this.initialise().finally(() => { this.initialising = undefined; });
      await this.initialising;
    } else if (this.state === 'initializing') {
      await this.initialising;
    }
    this.throwIfFatal();
    if (this.state !== 'ready') {
      const hint = this.state === 'abortable-error' ? ': the failed transaction must be aborted first' : ': commit or abort it first';
      throw new TransactionStateError(`cannot begin a transaction while one is ${this.state}${hint}`);
    }
    this.state = 'in-transaction';
  }

  /** Waits for every record of the transaction, then commits it (EndTxn). */
  async commit(): Promise<void> {
    this.throwIfFatal();
    if (this.state === 'abortable-error') throw this.lastError!;
    if (this.state !== 'in-transaction' && this.state !== 'committing') {
      throw new TransactionStateError(`commitTransaction: no transaction is open (state ${this.state}); call beginTransaction() first`);
    }
    this.state = 'committing';
    await this.engine!.flush();
    await this.adding;
    this.throwIfFatal();
    if ((this.state as TransactionState) === 'abortable-error') throw this.lastError!;
    await this.end(true);
  }

  /** Drops unsent records, waits for those in flight, then aborts the transaction (EndTxn). */
  async abort(): Promise<void> {
    this.throwIfFatal();
    if (this.state !== 'in-transaction' && this.state !== 'abortable-error' && this.state !== 'aborting') {
      throw new TransactionStateError(`abortTransaction: no transaction is open (state ${this.state})`);
    }
    this.state = 'aborting';
    this.engine!.abortQueued(abortedError());
    await this.engine!.flush();
    await this.adding;
    this.throwIfFatal();
    await this.end(false);
  }

  /** Adds a consumer group's offsets to the transaction (KIP-447): they commit or abort with its records. */
  async sendOffsets(offsets: readonly OffsetToCommit[], group: GroupMetadata): Promise<void> {
    this.throwIfFatal();
    if (this.state === 'abortable-error') throw this.lastError!;
    if (this.state !== 'in-transaction') throw new TransactionStateError(`sendOffsetsToTransaction: no transaction is open (state ${this.state})`);
    if (offsets.length === 0) return;
    const id = this.identity!;
    try {
      await sendOffsets({
        transactionalId: this.o.transactionalId, producerId: id.producerId, epoch: id.epoch, v2: this.v2, offsets, group,
        coordinator: this.o.coordinator, groupCoordinator: this.o.groupCoordinator(group.groupId),
        run: (what, coordinator, fn) => this.retry(what, coordinator, fn),
      });
      this.started = true;
    } catch (err) {
      throw this.classify(err, 'sendOffsetsToTransaction');
    }
  }

  /** Stops every retry loop (the producer is closing). */
  close(): void {
    this.stop.abort(new ClosedError('the producer is closed'));
  }

  // ---- internals ----

  private throwIfFatal(): void {
    if (this.state === 'fatal-error') throw this.lastError!;
  }

  private abortable(err: TransactionError): void {
    if (this.state === 'fatal-error') return;
    this.lastError = err;
    this.state = 'abortable-error';
  }

  private fatal(err: TransactionError): void {
    if (this.state === 'fatal-error') return;
    this.lastError = err;
    this.state = 'fatal-error';
    this.engine?.failAll(err);
    this.o.onFatal?.(err);
  }

  /** Turns a failure into the transaction's outcome (abortable or fatal) and returns the error to throw. */
  private classify(err: unknown, what: string): Error {
    if (err instanceof ClosedError) return err;
    if (err instanceof TransactionError) {
      if (err.abortable) this.abortable(err); else this.fatal(err);
      return err;
    }
    if (err instanceof BrokerError && FENCED.has(err.errorCode)) {
      const fenced = new ProducerFencedError(this.o.transactionalId, err);
      this.fatal(fenced);
      return fenced;
    }
    if (err instanceof BrokerError && ABORTABLE.has(err.errorCode)) {
      const e = new TransactionError(`${what}: the transaction must be aborted: ${err.message}`, true, { cause: err });
      this.abortable(e);
      return e;
    }
    if (err instanceof KafkaError && err.retriable) return err; // a timeout: the caller may try again
    const e = new TransactionError(`${what} failed: ${err instanceof Error ? err.message : String(err)}`, false, { cause: err });
    this.fatal(e);
    return e;
  }

  /**
   * Runs `fn` on `coordinator` until it succeeds: coordinator moves are handled by `call`, the codes of
   * {@link RETRY_IN_PLACE} here, both with backoff and within the transaction timeout. Other errors are thrown.
   */
  private async retry<T>(what: string, coordinator: TransactionCoordinator, fn: (broker: Broker) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.o.transactionTimeoutMs;
    const backoff = new Backoff({ minRetryPeriod: this.o.retryBackoffMs, maxRetryPeriod: this.o.retryBackoffMaxMs });
    // The lookup of a coordinator retries until its signal aborts: the deadline is a signal too.
    const timer = AbortSignal.timeout(Math.max(1, this.o.transactionTimeoutMs));
    const signal = AbortSignal.any([this.stop.signal, timer]);
    let last: unknown;
    for (;;) {
      try {
        return await coordinator.call(fn, { signal, deadlineMs: Math.max(0, deadline - Date.now()) });
      } catch (err) {
        if (this.stop.signal.aborted) throw this.stop.signal.reason;
        if (timer.aborted) throw timedOut(last ?? err, what, deadline, true);
        last = err;
        if (!(err instanceof BrokerError && RETRY_IN_PLACE.has(err.errorCode))) throw timedOut(err, what, deadline);
        const pause = backoff.next();
        if (Date.now() + pause > deadline) throw timedOut(err, what, deadline, true);
        this.stats.retries++;
        await sleep(pause, signal).catch(() => undefined);
      }
    }
  }

  /** InitProducerId with the transactional id: aborts whatever an earlier incarnation left open, fences it. */
  private async initialise(): Promise<void> {
    this.state = 'initializing';
    try {
      this.v2 = await this.retry('FindCoordinator', this.o.coordinator, (b) => transactionVersion2(b));
      await this.initProducerId(false);
      this.state = 'ready';
    } catch (err) {
      const e = this.classify(err, 'InitProducerId');
      if (this.state === 'initializing') this.state = 'uninitialized'; // retriable: the next begin tries again
      throw e;
    }
  }

  /** InitProducerId; `bump`: keep the id, bump its epoch (KIP-360, after a lost sequence). */
  private async initProducerId(bump: boolean): Promise<void> {
    const id = this.identity!;
    const res = await this.retry('InitProducerId', this.o.coordinator, async (b) => {
      this.stats.initProducerId++;
      const r = await b.request(InitProducerId, {
        transactionalId: this.o.transactionalId, transactionTimeoutMs: this.o.transactionTimeoutMs,
        producerId: bump ? BigInt(id.producerId) : -1n, producerEpoch: bump ? id.epoch : -1, enable2Pc: false, keepPreparedTxn: false,
      }, { timeoutMs: this.o.requestTimeoutMs });
      if (r.errorCode !== 0) throw brokerError(r.errorCode, { api: 'InitProducerId' });
      return r;
    });
    if (res.producerId < 0n || res.producerId > BigInt(Number.MAX_SAFE_INTEGER) || res.producerEpoch < 0) {
      throw new TransactionError(`InitProducerId answered no usable producer id (id ${res.producerId}, epoch ${res.producerEpoch})`, false);
    }
    this.setIdentity(Number(res.producerId), res.producerEpoch);
    this.epochBumpRequired = false;
  }

  private setIdentity(producerId: number, epoch: number): void {
    const id = this.identity!;
    id.producerId = producerId;
    id.epoch = epoch;
    id.generation++;
    this.engine?.newEpoch();
  }

  /** AddPartitionsToTxn for every pending partition, one request at a time (v1 only). */
  private async addPartitions(): Promise<void> {
    while (this.pending.size > 0 && (this.state === 'in-transaction' || this.state === 'committing')) {
      const batch = [...this.pending.values()];
      const byTopic = new Map<string, number[]>();
      for (const p of batch) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
      const id = this.identity!;
      try {
        await this.retry('AddPartitionsToTxn', this.o.coordinator, async (b) => {
          this.stats.addPartitions++;
          const res = await b.request(AddPartitionsToTxn, {
            v3AndBelowTransactionalId: this.o.transactionalId, v3AndBelowProducerId: BigInt(id.producerId), v3AndBelowProducerEpoch: id.epoch,
            v3AndBelowTopics: [...byTopic].map(([name, partitions]) => ({ name, partitions })), transactions: [],
          }, { timeoutMs: this.o.requestTimeoutMs, version: ADD_PARTITIONS_CLIENT_MAX });
          throwWorst(res.resultsByTopicV3AndBelow.flatMap((t) => t.resultsByPartition.map((p) => ({ topic: t.name, code: p.partitionErrorCode }))), 'AddPartitionsToTxn');
        });
      } catch (err) {
        this.classify(err instanceof KafkaError && err.retriable ? new TransactionError(`AddPartitionsToTxn: ${err.message}`, true, { cause: err }) : err, 'AddPartitionsToTxn');
        return;
      }
      for (const p of batch) {
        const k = key(p.topic, p.partition);
        this.pending.delete(k);
        this.added.add(k);
      }
      this.started = true;
      this.engine?.wake();
    }
  }

  /** EndTxn (commit or abort), then the state is ready for the next transaction. */
  private async end(commit: boolean): Promise<void> {
    const what = commit ? 'commitTransaction' : 'abortTransaction';
    const id = this.identity!;
    try {
      if (this.started) {
        const res = await this.retry('EndTxn', this.o.coordinator, async (b) => {
          this.stats.endTxn++;
          const r = await b.request(EndTxn, { transactionalId: this.o.transactionalId, producerId: BigInt(id.producerId), producerEpoch: id.epoch, committed: commit },
            { timeoutMs: this.o.requestTimeoutMs, version: this.v2 ? undefined : END_TXN_MAX_TV1 });
          if (r.errorCode !== 0) throw brokerError(r.errorCode, { api: 'EndTxn' });
          return r;
        });
        // v2: every end bumps the epoch, and the answer names the next one.
        if (this.v2 && res.producerId >= 0n && res.producerEpoch >= 0) this.setIdentity(Number(res.producerId), res.producerEpoch);
      }
      if (!commit && this.epochBumpRequired && !this.v2) await this.initProducerId(true);
    } catch (err) {
      throw this.classify(err, what);
    }
    this.added.clear();
    this.pending.clear();
    this.started = false;
    this.lastError = undefined;
    this.state = 'ready';
  }
}

/** The error records dropped by an abort fail with (the producer does not report them: the caller chose it). */
export function abortedError(): TransactionError {
  return new TransactionError('the transaction was aborted before the record was sent', true, { code: 'ERR_KAFKA_TXN_ABORTED' });
}

/** Throws the first non-zero code of a per-partition answer as a BrokerError (fencing first: it decides most). */
function throwWorst(results: readonly { topic: string; code: number }[], api: string): void {
  const bad = results.filter((r) => r.code !== 0 && r.code !== errorCodes.OPERATION_NOT_ATTEMPTED);
  const worst = bad.find((r) => FENCED.has(r.code)) ?? bad[0] ?? results.find((r) => r.code !== 0);
  if (worst !== undefined) throw brokerError(worst.code, { api, topic: worst.topic });
}

/** A retry loop that ran out of time: a retriable error the caller may try again after. */
function timedOut(err: unknown, what: string, deadline: number, force = false): unknown {
  if (!force && Date.now() < deadline) return err;
  if (err instanceof KafkaError && !err.retriable) return err;
  if (!(err instanceof Error)) return err;
  return new KafkaError(`${what}: no success within the transaction timeout (last: ${err.message})`, 'ERR_KAFKA_TXN_TIMEOUT', { retriable: true, cause: err });
}

/** Whether the cluster finalized `transaction.version` 2 or more (KIP-890): asked with ApiVersions v3+. */
async function transactionVersion2(b: Broker): Promise<boolean> {
  const version = await b.versionFor(ApiVersions);
  if (version < 3) return false;
  const res = await b.request(ApiVersions, { clientSoftwareName: CLIENT_SOFTWARE_NAME, clientSoftwareVersion: CLIENT_SOFTWARE_VERSION });
  return (res.finalizedFeatures ?? []).some((f) => f.name === 'transaction.version' && f.maxVersionLevel >= 2);
}
