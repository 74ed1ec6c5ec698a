/**
 * Acknowledgements of a share group (KIP-932): what a member says about each record it acquired. They are
 * collected per partition between requests and sent as AcknowledgementBatch lists (on the next ShareFetch, or
 * on a ShareAcknowledge when no fetch is due), one batch per run of consecutive offsets; a run whose offsets all
 * have the same type is sent with one type, otherwise with one type per offset, as Kafka's wire format allows.
 *
 * Every acknowledgement gets the outcome of the request that carried it: true when the broker accepted its
 * partition's acknowledgements, false when it did not (the error goes to `onError` once per partition and
 * request, not once per record). An acknowledgement that never leaves (the session ended first) gets false too.
 */

/** Kafka's acknowledge types (ShareFetch / ShareAcknowledge `AcknowledgeTypes`). */
export const AcknowledgeType = {
  /** An offset in an acquired range that holds no record (a transaction marker, a compacted gap). */
  gap: 0,
  /** Processed: the record is done for the whole group. */
  accept: 1,
  /** Hand it back: another delivery follows (up to the group's delivery limit). */
  release: 2,
  /** Unprocessable: archived, never delivered again. */
  reject: 3,
} as const;

export type AcknowledgeTypeCode = (typeof AcknowledgeType)[keyof typeof AcknowledgeType];

/** One AcknowledgementBatch as the schemas encode it. */
export interface AcknowledgementBatch {
  firstOffset: bigint;
  lastOffset: bigint;
  acknowledgeTypes: number[];
}

/** The outcome promise of one partition's acknowledgements in one request, and how to settle it. */
class Outcome {
  readonly promise: Promise<boolean>;
  settle!: (ok: boolean) => void;
  constructor() {
    this.promise = new Promise<boolean>((resolve) => { this.settle = resolve; });
  }
}

/** Acknowledgements of one partition taken for one request: the batches to send and how to report their outcome. */
export interface TakenAcknowledgements {
  readonly partition: number;
  readonly batches: AcknowledgementBatch[];
  /** How many records they acknowledge. */
  readonly count: number;
  settle(ok: boolean): void;
}

/** Acknowledgements waiting to be sent, for the partitions of one topic on one share session. */
interface PartitionAcks {
  /** Per-record acknowledgements. */
  types: Map<number, AcknowledgeTypeCode>;
  /** Whole ranges with one type (gaps, undecodable ranges), never overlapping the records above. */
  ranges: { first: number; last: number; type: AcknowledgeTypeCode }[];
  outcome: Outcome;
}

export class PendingAcknowledgements {
  private readonly byPartition = new Map<number, PartitionAcks>();
  private total = 0;

  /** Records acknowledged and not yet taken for a request. */
  get size(): number {
    return this.total;
  }

  /** Partitions with acknowledgements waiting. */
  partitions(): number[] {
    return [...this.byPartition.keys()];
  }

  /**
   * Adds one record's acknowledgement; resolves with the outcome of the request that carries it. A second
   * acknowledgement of the same offset before it was sent replaces the first (the message layer refuses that
   * for users; the session uses it for gaps only).
   */
  add(partition: number, offset: number, type: AcknowledgeTypeCode): Promise<boolean> {
    const entry = this.entry(partition);
    if (!entry.types.has(offset)) this.total++;
    entry.types.set(offset, type);
    return entry.outcome.promise;
  }

  /**
   * Acknowledges offsets `first` … `last` with one type (offsets of an acquired range that hold no record, or a
   * range that could not be decoded): one batch on the wire whatever its length, so a long gap costs nothing.
   */
  addRange(partition: number, first: number, last: number, type: AcknowledgeTypeCode): void {
    this.entry(partition).ranges.push({ first, last, type });
    this.total += last - first + 1;
  }

  private entry(partition: number): PartitionAcks {
    let entry = this.byPartition.get(partition);
    if (entry === undefined) {
      entry = { types: new Map(), ranges: [], outcome: new Outcome() };
      this.byPartition.set(partition, entry);
    }
    return entry;
  }

  /** Takes (removes) the acknowledgements of `partition` for a request; undefined when there are none. */
  take(partition: number): TakenAcknowledgements | undefined {
    const entry = this.byPartition.get(partition);
    if (entry === undefined) return undefined;
    this.byPartition.delete(partition);
    const count = entry.types.size + entry.ranges.reduce((n, r) => n + r.last - r.first + 1, 0);
    this.total -= count;
    const outcome = entry.outcome;
    const batches = [...toBatches(entry.types),
      ...entry.ranges.map((r) => ({ firstOffset: BigInt(r.first), lastOffset: BigInt(r.last), acknowledgeTypes: [r.type as number] }))];
    batches.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
    return { partition, batches, count, settle: (ok) => outcome.settle(ok) };
  }

  /** Every partition's acknowledgements, taken. */
  takeAll(): TakenAcknowledgements[] {
    return this.partitions().map((p) => this.take(p)!);
  }

  /** Settles everything still waiting with false (the session ended before they could be sent); returns how many. */
  abandon(): number {
    const n = this.total;
    for (const t of this.takeAll()) t.settle(false);
    return n;
  }
}

/** Offsets and their types → AcknowledgementBatches, one per run of consecutive offsets. */
export function toBatches(types: ReadonlyMap<number, AcknowledgeTypeCode>): AcknowledgementBatch[] {
  const offsets = [...types.keys()].sort((a, b) => a - b);
  const out: AcknowledgementBatch[] = [];
  let i = 0;
  while (i < offsets.length) {
    let j = i;
    while (j + 1 < offsets.length && offsets[j + 1] === offsets[j]! + 1) j++;
    const run = offsets.slice(i, j + 1).map((o) => types.get(o)!);
    const uniform = run.every((t) => t === run[0]);
    out.push({ firstOffset: BigInt(offsets[i]!), lastOffset: BigInt(offsets[j]!), acknowledgeTypes: uniform ? [run[0]!] : run });
    i = j + 1;
  }
  return out;
}
