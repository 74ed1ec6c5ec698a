/**
 * Which fetched batches an application may see (KIP-98 transactions).
 *
 * read_uncommitted: every data batch. read_committed: the broker stops at the last stable offset, and lists the
 * aborted transactions that overlap the fetched range as (producerId, firstOffset); the client drops the batches
 * of a producer from its aborted transaction's first offset until that producer's ABORT marker, as Kafka's Java
 * consumer does. Control batches (the markers themselves) are never shown.
 */
import { readControlRecord, type RecordBatch } from '../protocol/record-batch.js';

export type IsolationLevel = 'read_uncommitted' | 'read_committed';

export interface AbortedTransaction {
  producerId: bigint | number;
  firstOffset: bigint | number;
}

/**
 * The data batches of one partition's fetch that `isolation` lets through, in order. `aborted` is the
 * response's abortedTransactions list (null when none).
 */
export function visibleBatches(batches: readonly RecordBatch[], isolation: IsolationLevel, aborted: readonly AbortedTransaction[] | null): RecordBatch[] {
  const out: RecordBatch[] = [];
  if (isolation === 'read_uncommitted' || aborted === null || aborted.length === 0) {
    for (const b of batches) if (!b.isControl) out.push(b);
    return out;
  }
  // Aborted transactions by first offset; each joins the active set once the scan reaches it.
  const pending = aborted.map((a) => ({ producerId: Number(a.producerId), firstOffset: Number(a.firstOffset) }))
    .sort((a, b) => a.firstOffset - b.firstOffset);
  let next = 0;
  const abortedProducers = new Set<number>();
  for (const b of batches) {
    if (b.isTransactional) {
      while (next < pending.length && pending[next]!.firstOffset <= b.lastOffset) abortedProducers.add(pending[next++]!.producerId);
    }
    if (b.isControl) {
      // The ABORT marker ends that producer's aborted transaction: its later batches are a new transaction.
      if (b.isTransactional && abortedProducers.has(b.producerId)) {
        const first = b.records()[0];
        if (first !== undefined && readControlRecord(first)?.type === 'abort') abortedProducers.delete(b.producerId);
      }
      continue;
    }
    if (b.isTransactional && abortedProducers.has(b.producerId)) continue;
    out.push(b);
  }
  return out;
}
