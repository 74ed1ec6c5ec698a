/**
 * Partition assignors for the classic consumer group protocol. The group leader runs one over every member's
 * subscription and hands each member its partitions through SyncGroup. The built-in ones behave as Kafka's Java
 * client's (and use the protocol names that Java and Sarama advertise in JoinGroup), so that a group may mix our
 * consumers with Java ones whichever member is elected leader:
 * - `range` ({@link RangeAssignor}): per topic, consecutive ranges of partitions to members sorted by id;
 * - `roundrobin` ({@link RoundRobinAssignor}): all partitions dealt out one by one;
 * - `cooperative-sticky` ({@link CooperativeStickyAssignor}): balanced, keeps partitions where they are, and
 *   follows KIP-429's incremental cooperative rebalancing (a moving partition is first revoked, then assigned).
 *
 * Custom assignors implement {@link Assignor}; their `name` goes into JoinGroup as the protocol name.
 */
import type { Buffer } from 'node:buffer';
import { InvalidArgumentError } from '../../errors.js';
import type { ConsumerProtocolAssignment, TopicPartitions } from '../consumer-protocol.js';
import { CooperativeStickyAssignor } from './cooperative-sticky.js';
import { RangeAssignor } from './range.js';
import { RoundRobinAssignor } from './round-robin.js';

export type { TopicPartitions } from '../consumer-protocol.js';
export { RangeAssignor } from './range.js';
export { RoundRobinAssignor } from './round-robin.js';
export { CooperativeStickyAssignor, stickyMemberGeneration } from './cooperative-sticky.js';

/** A member's subscription as the leader sees it (decoded from its JoinGroup metadata). */
export interface MemberSubscription {
  /** Topics the member subscribes to. */
  topics: readonly string[];
  /** The member's assignor-specific user data (the sticky assignors keep the generation there). */
  userData?: Buffer | null;
  /** Partitions the member owns now (subscription v1+; KIP-429). */
  ownedPartitions?: readonly TopicPartitions[];
  /** Generation of `ownedPartitions` (subscription v2+); -1 or absent when unknown. */
  generationId?: number;
  /** The member's rack (subscription v3+). Carried for custom assignors; the built-in ones do not use it. */
  rackId?: string | null;
}

/** One member of the group, as listed in the JoinGroup response that the leader receives. */
export interface GroupMember {
  memberId: string;
  /** `group.instance.id` of a static member (KIP-345), if any. */
  groupInstanceId?: string | null;
  subscription: MemberSubscription;
}

/**
 * The result of an assignment: every member id given to `assign`, mapped to its partitions (possibly none),
 * one entry per topic, topics sorted and partitions ascending.
 */
export type GroupAssignment = Map<string, TopicPartitions[]>;

/**
 * KIP-429's rebalance protocols: `eager` members give up every partition before each rebalance; `cooperative`
 * members keep theirs and give up only those the new assignment takes away.
 */
export type RebalanceProtocol = 'eager' | 'cooperative';

/**
 * The hook for custom assignors. Only `assign` runs on the leader; the other members call
 * `subscriptionUserData` when they join and `onAssignment` when they receive their partitions.
 */
export interface Assignor {
  /** The protocol name advertised in JoinGroup; all members must share at least one assignor name. */
  readonly name: string;
  /** Rebalance protocols this assignor can work with, preferred first. A group uses cooperative only if all agree. */
  readonly supportedProtocols: readonly RebalanceProtocol[];
  /** User data for this member's subscription (null for none). */
  subscriptionUserData?(topics: readonly string[]): Buffer | null;
  /** Called on every member with its own assignment and the generation it belongs to. */
  onAssignment?(assignment: ConsumerProtocolAssignment, generationId: number): void;
  /**
   * Assigns partitions to members. `partitionsPerTopic` gives partition counts from metadata; topics missing from
   * it (or with 0 partitions) are not assigned. Must return an entry for every member.
   */
  assign(members: readonly GroupMember[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment;
}

/**
 * The rebalance protocol a member uses with these assignors, as Java's ConsumerCoordinator picks it: the highest
 * one (cooperative above eager) that every configured assignor supports, so that a consumer listing both `range`
 * and `cooperative-sticky` stays eager (KIP-429's upgrade path). Throws when they share none.
 */
export function rebalanceProtocolOf(assignors: readonly Assignor[]): RebalanceProtocol {
  if (assignors.length === 0) throw new InvalidArgumentError('at least one assignor is needed');
  const common = (['cooperative', 'eager'] as const).filter((p) => assignors.every((a) => a.supportedProtocols.includes(p)));
  if (common.length === 0) {
    throw new InvalidArgumentError(`assignors ${assignors.map((a) => a.name).join(', ')} share no rebalance protocol`);
  }
  return common[0]!;
}

/** The names the Java client and Sarama use for the built-in assignors. */
export type BuiltInAssignorName = 'range' | 'roundrobin' | 'cooperative-sticky';

/** A new instance of a built-in assignor by its protocol name (each consumer needs its own sticky instance). */
export function builtInAssignor(name: BuiltInAssignorName): Assignor {
  switch (name) {
    case 'range': return new RangeAssignor();
    case 'roundrobin': return new RoundRobinAssignor();
    case 'cooperative-sticky': return new CooperativeStickyAssignor();
  }
}
