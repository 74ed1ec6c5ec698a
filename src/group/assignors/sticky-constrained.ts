/**
 * The sticky assignor's fast path (Java's `AbstractStickyAssignor.ConstrainedAssignmentBuilder`), for groups whose
 * members all subscribe to the same topics. With `total` partitions and `n` members, every member ends with
 * minQuota = floor(total/n) or maxQuota = ceil(total/n) partitions, exactly `total % n` of them with maxQuota:
 * 1. each member keeps its owned partitions up to its quota (lowest partition numbers first); maxQuota while
 *    fewer than `total % n` members have taken it, else minQuota; the rest are marked as maybe revoked;
 * 2. the unowned partitions, in topic/partition order, are dealt round-robin to members under minQuota, then one
 *    each to members at minQuota while maxQuota slots remain.
 * A partition dealt to someone other than the member that gave it up (or claimed by two members of the same
 * generation) is "transferring": KIP-429 withholds it for one rebalance.
 */
import type { StickyInput } from './sticky-general.js';

/** Each member's partitions, and the transferring partitions with the member they are meant for. */
export interface ConstrainedResult {
  assignment: number[][];
  transferring: Map<number, number>;
}

export function constrainedAssign(input: StickyInput): ConstrainedResult {
  return new ConstrainedBuilder(input).build();
}

class ConstrainedBuilder {
  private readonly minQuota: number;
  private readonly maxQuota: number;
  /** How many members end with maxQuota. */
  private readonly expectedOverMin: number;
  private overMin = 0;
  private readonly assignment: number[][];
  private readonly assigned: Uint8Array;
  /** Member that gave up each partition above its quota (-1 none). */
  private readonly maybeRevoked: Int32Array;
  /** Members below minQuota, and members at minQuota that may still take one more. Both in member-id order. */
  private readonly underMin: number[] = [];
  private atMin: number[] = [];
  private readonly transferring = new Map<number, number>();

  constructor(private readonly input: StickyInput) {
    const n = input.owned.length;
    const total = input.index.total;
    this.minQuota = Math.floor(total / n);
    this.maxQuota = Math.ceil(total / n);
    this.expectedOverMin = total % n;
    this.assignment = input.owned.map(() => []);
    this.assigned = new Uint8Array(total);
    this.maybeRevoked = new Int32Array(total).fill(-1);
  }

  build(): ConstrainedResult {
    for (let m = 0; m < this.assignment.length; m++) this.keepOwned(m);
    this.dealUnassigned();
    const { underMin, minQuota } = this;
    if (underMin.some((m) => this.assignment[m]!.length !== minQuota) || (underMin.length > 0 && this.overMin !== this.expectedOverMin)) {
      throw new Error('sticky assignor: a member was left under its quota');
    }
    return { assignment: this.assignment, transferring: this.transferring };
  }

  private keepOwned(m: number): void {
    const { index, multipleOwners } = this.input;
    // Java keeps the lowest partition numbers first, across topics.
    const mine = this.input.owned[m]!.filter((p) => !multipleOwners.has(p))
      .sort((a, b) => index.partitionOf(a) - index.partitionOf(b) || index.topicOf[a]! - index.topicOf[b]!);
    let keep: number;
    if (mine.length < this.minQuota) {
      keep = mine.length;
      this.underMin.push(m);
    } else if (mine.length >= this.maxQuota && this.overMin < this.expectedOverMin) {
      keep = this.maxQuota;
      if (++this.overMin === this.expectedOverMin) this.atMin = [];
    } else {
      keep = this.minQuota;
      if (this.overMin < this.expectedOverMin) this.atMin.push(m);
    }
    mine.forEach((p, k) => {
      if (k < keep) {
        this.assignment[m]!.push(p);
        this.assigned[p] = 1;
      } else this.maybeRevoked[p] = m;
    });
  }

  private dealUnassigned(): void {
    const { underMin } = this;
    let at = 0;
    for (let p = 0; p < this.assigned.length; p++) {
      if (this.assigned[p]) continue;
      let m: number;
      let fromUnderMin = true;
      if (at < underMin.length) m = underMin[at++]!;
      else if (underMin.length === 0 && this.atMin.length === 0) throw new Error('sticky assignor: no member left under quota');
      else if (underMin.length === 0) {
        m = this.atMin.shift()!;
        fromUnderMin = false;
      } else {
        at = 0;
        m = underMin[at++]!;
      }
      const count = this.give(p, m);
      if (count === this.minQuota && fromUnderMin) {
        underMin.splice(--at, 1);
        this.atMin.push(m);
      } else if (count === this.maxQuota) this.overMin++;
    }
  }

  private give(p: number, m: number): number {
    const mine = this.assignment[m]!;
    mine.push(p);
    const from = this.maybeRevoked[p]!;
    if ((from >= 0 && from !== m) || this.input.multipleOwners.has(p)) this.transferring.set(p, m);
    return mine.length;
  }
}
