/**
 * The sticky assignor's general case (Java's `AbstractStickyAssignor.GeneralAssignmentBuilder`), for groups whose
 * members subscribe to different topics: keep every valid owned partition, give each unowned one to the least
 * loaded member that can take it, then move partitions one at a time from heavier to lighter members until no move
 * improves balance, preferring to hand a partition back to the member that owned it in an older generation, and
 * undoing the moves if the result is not better balanced than what stickiness alone gave.
 *
 * Members are numbers (their rank by member id) and partitions are {@link PartitionIndex} ids.
 */
import { removeOne, type PartitionIndex } from './common.js';

/** A group's subscriptions as the sticky builders read them. */
export interface StickyInput {
  index: PartitionIndex;
  /** Per member: indexes of its subscribed topics that can be assigned. */
  topics: number[][];
  /** Per member: every partition it claims to own (valid ids only), in the order it listed them. */
  claimed: number[][];
  /** Per member: claims that survived conflict settlement (Java's consumerToOwnedPartitions). */
  owned: number[][];
  /** Per member: generation of its claims (-1 unknown). */
  memberGen: number[];
  maxGeneration: number;
  /** Partitions claimed by two members of the same generation. */
  multipleOwners: Set<number>;
  allSubscriptionsEqual: boolean;
}

/** Members ascending by (assigned count, rank): Java's TreeSet with its SubscriptionComparator. */
class MembersBySize {
  readonly list: number[] = [];
  constructor(private readonly size: (m: number) => number) {}

  private before(a: number, b: number): boolean {
    const d = this.size(a) - this.size(b);
    return d < 0 || (d === 0 && a < b);
  }

  add(m: number): void {
    if (this.list.includes(m)) return;
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.before(this.list[mid]!, m)) lo = mid + 1;
      else hi = mid;
    }
    this.list.splice(lo, 0, m);
  }

  remove(m: number): void {
    removeOne(this.list, m);
  }
}

/**
 * Java's PartitionMovements: where each partition moved during this rebalance (first source, current
 * destination), so that a later move in the opposite direction between the same two members moves back a
 * partition that already moved rather than a new one (no needless churn).
 */
class PartitionMovements {
  private readonly moves = new Map<number, { src: number; dst: number }>();
  private readonly byTopic = new Map<number, Map<string, Set<number>>>();

  constructor(private readonly topicOf: Int32Array) {}

  private record(p: number, src: number, dst: number): void {
    this.moves.set(p, { src, dst });
    const t = this.topicOf[p]!;
    let pairs = this.byTopic.get(t);
    if (!pairs) this.byTopic.set(t, (pairs = new Map()));
    const key = `${src}>${dst}`;
    let set = pairs.get(key);
    if (!set) pairs.set(key, (set = new Set()));
    set.add(p);
  }

  private forget(p: number): { src: number; dst: number } {
    const move = this.moves.get(p)!;
    this.moves.delete(p);
    const t = this.topicOf[p]!;
    const pairs = this.byTopic.get(t)!;
    const key = `${move.src}>${move.dst}`;
    const set = pairs.get(key)!;
    set.delete(p);
    if (set.size === 0) pairs.delete(key);
    if (pairs.size === 0) this.byTopic.delete(t);
    return move;
  }

  move(p: number, from: number, to: number): void {
    if (!this.moves.has(p)) return this.record(p, from, to);
    const earlier = this.forget(p);
    if (earlier.src !== to) this.record(p, earlier.src, to);
  }

  /** The partition to move from `from` to `to` in place of `p`: one that earlier moved from `to` to `from`, if any. */
  partitionToMove(p: number, from: number, to: number): number {
    const pairs = this.byTopic.get(this.topicOf[p]!);
    if (!pairs) return p;
    const earlier = this.moves.get(p);
    if (earlier) from = earlier.src;
    const set = pairs.get(`${to}>${from}`);
    if (!set) return p;
    // Java takes whichever its HashSet yields first; we take the lowest partition.
    let best = -1;
    for (const q of set) if (best < 0 || q < best) best = q;
    return best;
  }
}

/** Runs the general builder; returns each member's partitions. */
export function generalAssign(input: StickyInput): number[][] {
  return new GeneralBuilder(input).build();
}

class GeneralBuilder {
  private readonly index: PartitionIndex;
  private readonly n: number;
  /** Topic index → members subscribed to it. */
  private readonly consumersOf: number[][];
  private readonly subscribes: Array<Set<number>>;
  /** Most partitions each member could hold (all of its topics). */
  private readonly maxSize: number[];
  /** Current assignment; null for members set aside as unable to change. */
  private current: Array<number[] | null>;
  /** Current owner of each partition (-1 none); may be stale for a partition dropped and not yet reassigned. */
  private owner: Int32Array;
  private sortedAll: number[];
  private readonly bySize: MembersBySize;
  private readonly movements: PartitionMovements;
  private revocationRequired = false;

  constructor(private readonly input: StickyInput) {
    const { index, topics, owned } = input;
    this.index = index;
    this.n = owned.length;
    this.consumersOf = index.topics.map(() => []);
    topics.forEach((list, m) => list.forEach((t) => this.consumersOf[t]!.push(m)));
    this.subscribes = topics.map((list) => new Set(list));
    this.maxSize = topics.map((list) => list.reduce((sum, t) => sum + index.counts[t]!, 0));
    this.current = owned.map((list) => [...list]);
    this.owner = new Int32Array(index.total).fill(-1);
    this.current.forEach((list, m) => list!.forEach((p) => (this.owner[p] = m)));
    // Partitions of topics with fewer potential consumers first, then by topic and partition.
    const sortedTopics = index.topics.map((_, t) => t)
      .sort((a, b) => this.consumersOf[a]!.length - this.consumersOf[b]!.length || a - b);
    this.sortedAll = [];
    for (const t of sortedTopics) for (let p = 0; p < index.counts[t]!; p++) this.sortedAll.push(index.base[t]! + p);
    this.bySize = new MembersBySize((m) => this.current[m]!.length);
    this.movements = new PartitionMovements(index.topicOf);
  }

  build(): number[][] {
    const prev = this.previousOwners();
    const assigned = this.keepOwnedPartitions();
    const unassigned = this.sortedAll.filter((p) => !assigned[p]);
    for (let m = 0; m < this.n; m++) this.bySize.add(m);
    this.balance(prev, unassigned);
    return this.current as number[][];
  }

  /**
   * For partitions claimed by members of older generations than the newest one: the member of the newest such
   * generation (the first one seen on ties). The balancing step hands partitions back to them first.
   */
  private previousOwners(): Int32Array {
    const { claimed, memberGen, maxGeneration } = this.input;
    const prevOwner = new Int32Array(this.index.total).fill(-1);
    const prevGen = new Int32Array(this.index.total);
    for (let m = 0; m < this.n; m++) {
      const gen = memberGen[m]!;
      if (gen >= maxGeneration) continue;
      for (const p of claimed[m]!) {
        if (prevOwner[p]! < 0 || gen > prevGen[p]!) {
          prevOwner[p] = m;
          prevGen[p] = gen;
        }
      }
    }
    return prevOwner;
  }

  /** Drops owned partitions of topics the member no longer subscribes to; the rest stay where they are. */
  private keepOwnedPartitions(): Uint8Array {
    const assigned = new Uint8Array(this.index.total);
    this.current.forEach((list, m) => {
      for (let i = 0; i < list!.length; i++) {
        const p = list![i]!;
        if (this.subscribes[m]!.has(this.index.topicOf[p]!)) assigned[p] = 1;
        else {
          list!.splice(i--, 1);
          this.revocationRequired = true;
        }
      }
    });
    return assigned;
  }

  private balance(prev: Int32Array, unassignedAll: number[]): void {
    const { topicOf } = this.index;
    const initializing = this.current[this.bySize.list[this.bySize.list.length - 1]!]!.length === 0;
    for (const p of unassignedAll) this.assignToLeastLoaded(p);

    // Only topics with two or more potential consumers, and members that could change, take part in balancing.
    const movable = (p: number): boolean => this.consumersOf[topicOf[p]!]!.length >= 2;
    this.sortedAll = this.sortedAll.filter(movable);
    const unassigned = unassignedAll.filter(movable);
    const fixed = new Map<number, number[]>();
    for (let m = 0; m < this.n; m++) {
      if (this.canParticipate(m)) continue;
      this.bySize.remove(m);
      fixed.set(m, this.current[m]!);
      this.current[m] = null;
    }
    const before = this.current.map((list) => (list ? [...list] : null));
    const ownerBefore = this.owner.slice();

    // Without forced revocations, first try to balance by moving only the newly assigned partitions.
    if (!this.revocationRequired) this.performReassignments(unassigned, prev);
    const reassigned = this.performReassignments(this.sortedAll, prev);
    if (!initializing && reassigned && balanceScore(this.current) >= balanceScore(before)) {
      this.current = before;
      this.owner = ownerBefore;
    }
    for (const [m, list] of fixed) {
      this.current[m] = list;
      this.bySize.add(m);
    }
  }

  private assignToLeastLoaded(p: number): void {
    const t = this.index.topicOf[p]!;
    if (this.consumersOf[t]!.length === 0) return;
    const m = this.bySize.list.find((c) => this.subscribes[c]!.has(t));
    if (m === undefined) return;
    this.bySize.remove(m);
    this.current[m]!.push(p);
    this.owner[p] = m;
    this.bySize.add(m);
  }

  private canParticipate(m: number): boolean {
    const mine = this.current[m]!;
    if (mine.length < this.maxSize[m]!) return true;
    return mine.some((p) => this.consumersOf[this.index.topicOf[p]!]!.length >= 2);
  }

  private size(m: number): number {
    return this.current[m]!.length;
  }

  private performReassignments(partitions: readonly number[], prev: Int32Array): boolean {
    const { topicOf } = this.index;
    let performed = false;
    let modified: boolean;
    do {
      modified = false;
      for (let i = 0; i < partitions.length && !this.isBalanced(); i++) {
        const p = partitions[i]!;
        const t = topicOf[p]!;
        const m = this.owner[p]!;
        const back = prev[p]!;
        // Java would also hand a partition back to a former owner no longer subscribed to its topic; we do not.
        if (back >= 0 && this.current[back] && this.subscribes[back]!.has(t) && this.size(m) > this.size(back) + 1) {
          this.reassign(p, back);
          performed = modified = true;
          continue;
        }
        if (this.consumersOf[t]!.some((other) => this.size(m) > this.size(other) + 1)) {
          const to = this.bySize.list.find((c) => this.subscribes[c]!.has(t))!;
          this.reassign(p, to);
          performed = modified = true;
        }
      }
    } while (modified);
    return performed;
  }

  private reassign(p: number, to: number): void {
    const q = this.movements.partitionToMove(p, this.owner[p]!, to);
    const from = this.owner[q]!;
    this.bySize.remove(from);
    this.bySize.remove(to);
    this.movements.move(q, from, to);
    removeOne(this.current[from]!, q);
    this.current[to]!.push(q);
    this.owner[q] = to;
    this.bySize.add(to);
    this.bySize.add(from);
  }

  /** Balanced when sizes differ by at most one, or when no member could take a partition from a heavier one. */
  private isBalanced(): boolean {
    const list = this.bySize.list;
    if (list.length === 0 || this.size(list[0]!) >= this.size(list[list.length - 1]!) - 1) return true;
    const { index } = this;
    for (const m of list) {
      const count = this.size(m);
      if (count === this.maxSize[m]) continue;
      for (const t of this.input.topics[m]!) {
        for (let p = index.base[t]!, end = p + index.counts[t]!; p < end; p++) {
          const other = this.owner[p]!;
          if (other !== m && other >= 0 && this.current[other] && count + 1 < this.size(other)) return false;
        }
      }
    }
    return true;
  }
}

/** Sum of the size differences over all pairs of members still in play: 0 when perfectly balanced. */
function balanceScore(assignment: ReadonlyArray<readonly number[] | null>): number {
  const sizes = assignment.filter((l): l is number[] => l !== null).map((l) => l.length).sort((a, b) => a - b);
  let score = 0;
  sizes.forEach((s, i) => (score += s * (2 * i - sizes.length + 1)));
  return score;
}
