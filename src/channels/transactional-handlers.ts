/**
 * Consume-transform-produce, exactly once (KIP-98, KIP-447): `registerHandler(h, { transactionalProducer })` and
 * `registerBatchHandler(h, { transactionalProducer })` run each message (or batch) inside a transaction of that
 * producer, and put the consumed offsets into the same transaction (`sendOffsetsToTransaction` with the group's
 * generation and member id) instead of the group's own commit. The records the handler sends and the offsets
 * commit together or not at all: after a crash the group resumes from the last committed transaction, and a
 * `read_committed` reader of the output sees each input's output exactly once.
 *
 * One producer runs one transaction at a time, so handler runs are serialized (with numWorkers > 1 too): use
 * registerBatchHandler for throughput (one transaction per batch). A handler that throws aborts its transaction
 * (its records are never read by read_committed consumers); the message is then committed by the group or not
 * by dp-kafka's Commiter rule, as without transactions. When the transaction itself fails (fenced, an abortable
 * error at commit), nothing more is committed: see {@link TransactionalHandlingError}. A handler should send through the producer it gave
 * (`producer.send`, awaited): what it sends after returning is outside the transaction.
 */
import { InvalidArgumentError, TransactionalHandlingError } from '../errors.js';

export { TransactionalHandlingError };
import type { GroupMetadata, OffsetToCommit } from './producer-transactions.js';
import type { Message } from './message.js';

/** What the option needs of a Producer (a transactional one: configured with `transactionalId`). */
export interface TransactionalProducer {
  transaction<T>(fn: () => Promise<T> | T): Promise<T>;
  sendOffsetsToTransaction(offsets: readonly OffsetToCommit[], group: GroupMetadata): Promise<void>;
}

/** The worker loops' view: run the handling of `messages` in a transaction that also commits their offsets. */
export interface TransactionalCommit {
  run(messages: readonly Message[], work: () => Promise<void> | void): Promise<void>;
}

/** Throws an InvalidArgumentError unless `options.transactionalProducer` is absent or looks like a Producer. */
export function checkTransactionalOption(method: string, options: unknown): void {
  const p = (options as { transactionalProducer?: unknown }).transactionalProducer;
  if (p === undefined) return;
  const tp = p as Partial<TransactionalProducer> | null;
  if (typeof tp !== 'object' || tp === null || typeof tp.transaction !== 'function' || typeof tp.sendOffsetsToTransaction !== 'function') {
    throw new InvalidArgumentError(`${method}: options.transactionalProducer must be a Producer configured with a transactionalId`);
  }
}

/** The next offset to read per partition of `messages` (the highest handled + 1). */
export function offsetsOf(messages: readonly Message[]): OffsetToCommit[] {
  const next = new Map<string, OffsetToCommit>();
  for (const m of messages) {
    const k = `${m.partition}:${m.topic}`;
    const o = next.get(k);
    if (o === undefined || m.offset + 1 > o.offset) next.set(k, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
  }
  return [...next.values()];
}

/** Serializes the handler runs on `producer` and wraps each in a transaction with its messages' offsets. */
export function transactionalCommit(producer: TransactionalProducer, group: () => GroupMetadata): TransactionalCommit {
  let chain: Promise<unknown> = Promise.resolve();
  let broken: TransactionalHandlingError | undefined;
  return {
    run(messages, work) {
      const next = chain.then(async () => {
        if (broken !== undefined) throw broken;
        let handlerFailed: { err: unknown } | undefined;
        try {
          await producer.transaction(async () => {
            try {
              await work();
            } catch (err) {
              handlerFailed = { err };
              throw err;
            }
            await producer.sendOffsetsToTransaction(offsetsOf(messages), group());
          });
        } catch (err) {
          if (handlerFailed !== undefined && handlerFailed.err === err) throw err; // aborted; the Commiter rule applies
          throw (broken = new TransactionalHandlingError(err));
        }
      });
      chain = next.catch(() => undefined);
      return next;
    },
  };
}
