/**
 * What the built-in assignors share: the topics worth assigning, Java's member order, a dense numbering of
 * partitions (so the sticky assignor works on small integers instead of topic/partition objects), and the
 * canonical shape of a result.
 */
import { InvalidArgumentError } from '../../errors.js';
import { compareStrings, type TopicPartitions } from '../consumer-protocol.js';
import type { GroupAssignment, GroupMember } from './index.js';

/**
 * Partition counts of the topics some member subscribes to and that have partitions, as Java's
 * `AbstractPartitionAssignor` builds them: topics absent from metadata or with 0 partitions are skipped.
 */
export function subscribedPartitionCounts(members: readonly GroupMember[], partitionsPerTopic: ReadonlyMap<string, number>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of members) {
    for (const topic of m.subscription.topics) {
      const n = partitionsPerTopic.get(topic);
      if (n === undefined || counts.has(topic)) continue;
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`partition count ${n} of topic ${topic} is not a non-negative integer`);
      if (n > 0) counts.set(topic, n);
    }
  }
  return counts;
}

/** Rejects duplicate member ids, which would make the result ambiguous. */
export function checkMembers(members: readonly GroupMember[]): void {
  const seen = new Set<string>();
  for (const m of members) {
    if (seen.has(m.memberId)) throw new InvalidArgumentError(`member id ${m.memberId} appears twice`);
    seen.add(m.memberId);
  }
}

/**
 * Java's `MemberInfo` order: static members (KIP-345) first, by `group.instance.id`, so that their assignment
 * survives restarts that change member ids; then dynamic members by member id.
 */
export function compareMembers(a: GroupMember, b: GroupMember): number {
  const ai = a.groupInstanceId ?? null;
  const bi = b.groupInstanceId ?? null;
  if (ai !== null && bi !== null) return compareStrings(ai, bi);
  if (ai !== null) return -1;
  if (bi !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

/** Collects partitions per member and topic, then returns them in the canonical {@link GroupAssignment} shape. */
export class AssignmentCollector {
  private readonly byMember = new Map<string, Map<string, number[]>>();

  constructor(members: readonly GroupMember[]) {
    for (const m of members) this.byMember.set(m.memberId, new Map());
  }

  add(memberId: string, topic: string, partition: number): void {
    const topics = this.byMember.get(memberId)!;
    const list = topics.get(topic);
    if (list) list.push(partition);
    else topics.set(topic, [partition]);
  }

  /** Topics sorted, partitions ascending; every member present. */
  result(): GroupAssignment {
    const out: GroupAssignment = new Map();
    for (const [memberId, topics] of this.byMember) {
      const list: TopicPartitions[] = [];
      for (const topic of [...topics.keys()].sort(compareStrings)) {
        list.push({ topic, partitions: topics.get(topic)!.sort((a, b) => a - b) });
      }
      out.set(memberId, list);
    }
    return out;
  }
}

/**
 * Numbers every partition of the assignable topics densely: topics in Java's string order, partition `p` of the
 * topic at index `t` gets `base[t] + p`. Ascending ids are therefore (topic, partition) order.
 */
export class PartitionIndex {
  readonly topics: string[];
  readonly counts: number[];
  readonly base: number[];
  readonly total: number;
  /** Topic index of each partition id. */
  readonly topicOf: Int32Array;
  private readonly topicIndex = new Map<string, number>();

  constructor(counts: ReadonlyMap<string, number>) {
    this.topics = [...counts.keys()].sort(compareStrings);
    this.counts = this.topics.map((t) => counts.get(t)!);
    this.base = [];
    let total = 0;
    this.topics.forEach((t, i) => {
      this.topicIndex.set(t, i);
      this.base.push(total);
      total += this.counts[i]!;
    });
    this.total = total;
    this.topicOf = new Int32Array(total);
    for (let t = 0; t < this.topics.length; t++) this.topicOf.fill(t, this.base[t]!, this.base[t]! + this.counts[t]!);
  }

  /** Index of `topic`, or -1 when it is not assignable. */
  indexOfTopic(topic: string): number {
    return this.topicIndex.get(topic) ?? -1;
  }

  /** Id of a partition, or -1 when the topic is not assignable or the partition does not exist. */
  id(topic: string, partition: number): number {
    const t = this.topicIndex.get(topic);
    if (t === undefined || !Number.isInteger(partition) || partition < 0 || partition >= this.counts[t]!) return -1;
    return this.base[t]! + partition;
  }

  partitionOf(id: number): number {
    return id - this.base[this.topicOf[id]!]!;
  }

  /** Partition ids as the canonical topic-grouped list. */
  toTopicPartitions(ids: Iterable<number>): TopicPartitions[] {
    const sorted = Int32Array.from(ids).sort();
    const out: TopicPartitions[] = [];
    let current: TopicPartitions | undefined;
    for (const id of sorted) {
      const topic = this.topics[this.topicOf[id]!]!;
      if (current?.topic !== topic) out.push((current = { topic, partitions: [] }));
      current.partitions.push(this.partitionOf(id));
    }
    return out;
  }
}

/** Removes the first occurrence of `value`, as Java's `List.remove(Object)` does. */
export function removeOne(list: number[], value: number): void {
  const i = list.indexOf(value);
  if (i >= 0) list.splice(i, 1);
}
