/**
 * The channel Producer's transactions (KIP-98, KIP-447, KIP-890): `beginTransaction`, `commitTransaction`,
 * `abortTransaction`, `transaction(fn)` and `sendOffsetsToTransaction` delegate here; the state machine itself is
 * src/client/transaction-manager.ts, beside the produce engine.
 *
 * What this layer adds: messages travel through the bounded `output` channel before the engine sees them, so a
 * commit first waits until every message sent before it has left `output` (they belong to the transaction); a send
 * outside a transaction is refused at the call with a {@link TransactionStateError}; a fatal error (fencing) is
 * reported on `errors` once; closing inside a transaction aborts it.
 */
import type { Cluster } from '../client/cluster.js';
import { TransactionManager, type GroupMetadata, type OffsetToCommit } from '../client/transaction-manager.js';
import { checkOffsets } from '../client/transaction-offsets.js';
import { TransactionError, TransactionStateError } from '../errors.js';
import { GroupCoordinator } from '../group/coordinator.js';
import type { ResolvedProducerConfig } from './config.js';

export type { GroupMetadata, OffsetToCommit } from '../client/transaction-manager.js';

/** What the transactions need of their Producer. */
export interface TransactionHost {
  readonly config: ResolvedProducerConfig;
  /** Connects (and creates the engine, which takes {@link ProducerTransactions.manager}). */
  initialise(): Promise<void>;
  /** Resolves once every message written to `output` so far is in the engine. */
  forwarded(): Promise<void>;
  /** Puts an error on `errors` (never blocking). */
  reportError(err: Error): void;
}

/** The transactional half of a Producer; present only with `transactionalId`. */
export class ProducerTransactions {
  /** Between a successful begin and the start of its commit or abort: sends are accepted. */
  open = false;
  private managerOf: TransactionManager | undefined;

  constructor(private readonly host: TransactionHost) {}

  /** The manager for the engine of `cluster` (one per connection; the producer connects once). */
  manager(cluster: Cluster): TransactionManager {
    const c = this.host.config;
    const coordinatorOptions = { requestTimeoutMs: c.requestTimeoutMs, retryMinMs: c.retryBackoffMs, retryMaxMs: Math.max(c.retryBackoffMs, 1_000), onStall: (e: Error) => this.host.reportError(e) };
    this.managerOf = new TransactionManager({
      transactionalId: c.transactionalId!, transactionTimeoutMs: c.transactionTimeoutMs, requestTimeoutMs: c.requestTimeoutMs,
      retryBackoffMs: c.retryBackoffMs, retryBackoffMaxMs: Math.max(c.retryBackoffMs, 1_000),
      coordinator: new GroupCoordinator(cluster, c.transactionalId!, { ...coordinatorOptions, keyType: 1 }),
      groupCoordinator: (groupId) => new GroupCoordinator(cluster, groupId, coordinatorOptions),
      onFatal: (err) => { this.open = false; this.host.reportError(err); },
    });
    return this.managerOf;
  }

  /** Why a send is refused now (outside a transaction, or the producer is finished), or undefined. */
  sendProblem(): Error | undefined {
    if (this.managerOf?.state === 'fatal-error') return this.managerOf.lastError;
    if (this.open) return undefined;
    return new TransactionStateError(`transactional producer ${JSON.stringify(this.host.config.transactionalId)}: send inside a transaction (call beginTransaction() first)`);
  }

  async begin(): Promise<void> {
    if (this.open) throw new TransactionStateError('beginTransaction: a transaction is already open; commit or abort it first');
    await this.host.initialise();
    await this.managerOf!.begin();
    this.open = true;
  }

  async commit(): Promise<void> {
    const m = this.started('commitTransaction');
    this.open = false;
    await this.host.forwarded();
    await m.commit();
  }

  async abort(): Promise<void> {
    const m = this.started('abortTransaction');
    this.open = false;
    await this.host.forwarded();
    await m.abort();
  }

  /** Begins, runs `fn`, commits; aborts when `fn` throws or the commit fails abortably, and rethrows. */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.begin();
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      await this.abortQuietly();
      throw err;
    }
    try {
      await this.commit();
    } catch (err) {
      if (err instanceof TransactionError && err.abortable) await this.abortQuietly();
      throw err;
    }
    return result;
  }

  async sendOffsets(offsets: readonly OffsetToCommit[], group: GroupMetadata): Promise<void> {
    checkOffsets(offsets, group);
    if (!this.open) throw new TransactionStateError('sendOffsetsToTransaction: no transaction is open; call beginTransaction() first');
    await this.managerOf!.sendOffsets(offsets, group);
  }

  /** On close: an open transaction is aborted (its records are not written), and the retry loops stop. */
  async closing(): Promise<void> {
    const m = this.managerOf;
    if (m !== undefined && (m.state === 'in-transaction' || m.state === 'abortable-error')) {
      this.open = false;
      this.host.reportError(new TransactionStateError('the producer closed inside a transaction: it was aborted'));
      await m.abort().catch(() => undefined); // a fatal failure is on `errors` already
    }
  }

  /** Stops the manager's retry loops. */
  stop(): void {
    this.managerOf?.close();
  }

  private started(what: string): TransactionManager {
    const m = this.managerOf;
    if (m?.state === 'fatal-error') throw m.lastError!;
    if (m === undefined || (!this.open && m.state !== 'abortable-error' && m.state !== 'committing')) {
      throw new TransactionStateError(`${what}: no transaction is open; call beginTransaction() first`);
    }
    return m;
  }

  private async abortQuietly(): Promise<void> {
    try {
      await this.abort();
    } catch {
      // The caller's error is the one to see; a failed abort is on `errors` when fatal, and the coordinator aborts a
      // transaction left open at its timeout anyway.
    }
  }
}
