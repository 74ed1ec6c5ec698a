/**
 * Kafka's `cooperative-sticky` assignor (Java's CooperativeStickyAssignor over AbstractStickyAssignor, without
 * rack awareness), so that our members and Java's can share a group whichever one leads:
 * - sticky (KIP-54): members keep the partitions they own as far as balance allows (counts within one of each
 *   other when subscriptions are equal; as balanced as subscriptions permit otherwise);
 * - cooperative (KIP-429): a partition that changes owner is left out of this assignment while its previous owner
 *   still claims it; that owner revokes it, rejoins, and the next rebalance assigns it to the new owner. No
 *   partition is ever owned by two members at once, and members keep consuming what does not move;
 * - the member's generation travels in the subscription (v2+) and, for older members, in user data as one int32
 *   (Java's `COOPERATIVE_STICKY_ASSIGNOR_USER_DATA_V0`), so stale ownership claims of zombie members lose to newer
 *   ones.
 *
 * Where Java iterates a HashMap of member ids (whose order depends on Java's string hashes), we iterate members
 * sorted by id; results can then differ from Java's only in which of several equally good choices is made
 * (integration/assignors-java.test.ts finds the cases where Java's choice depends on hash order, and requires an
 * identical result everywhere else). Three deliberate departures, each fixing a Java bug that the same test
 * exhibits: a member subscribed to nothing never makes the group look "equally subscribed" (Java then gives it
 * partitions); a partition is never handed back to a former owner no longer subscribed to its topic (Java does so,
 * or fails with a NullPointerException); claims on partitions that do not exist are ignored.
 */
import { compareStrings, type ConsumerProtocolAssignment } from '../consumer-protocol.js';
import type { Assignor, GroupAssignment, GroupMember, MemberSubscription, RebalanceProtocol } from './index.js';
import { checkMembers, PartitionIndex, removeOne, subscribedPartitionCounts } from './common.js';
import { constrainedAssign } from './sticky-constrained.js';
import { generalAssign, type StickyInput } from './sticky-general.js';

/** Java's `AbstractStickyAssignor.DEFAULT_GENERATION`: no known generation. */
const NO_GENERATION = -1;

/**
 * The generation of a member's owned partitions as Java's CooperativeStickyAssignor reads it: the subscription's
 * generation id (v2+) when set, else the int32 at the start of its user data, else -1 (and -1 for user data too
 * short to hold one).
 */
export function stickyMemberGeneration(sub: MemberSubscription): number {
  if (sub.generationId !== undefined && sub.generationId >= 0) return sub.generationId;
  const data = sub.userData;
  if (data == null || data.length < 4) return NO_GENERATION;
  return data.readInt32BE(0);
}

/** `partition.assignment.strategy` = `cooperative-sticky`. Keeps the generation it last received; use one per consumer. */
export class CooperativeStickyAssignor implements Assignor {
  readonly name = 'cooperative-sticky';
  readonly supportedProtocols: readonly RebalanceProtocol[] = ['cooperative', 'eager'];
  private generation = NO_GENERATION;

  /** Java's user data: the generation of the last assignment as one int32, for leaders reading v0/v1 subscriptions. */
  subscriptionUserData(): Buffer {
    const b = Buffer.alloc(4);
    b.writeInt32BE(this.generation, 0);
    return b;
  }

  onAssignment(_assignment: ConsumerProtocolAssignment, generationId: number): void {
    this.generation = generationId;
  }

  assign(members: readonly GroupMember[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment {
    checkMembers(members);
    if (members.length === 0) return new Map();
    const sorted = [...members].sort((a, b) => compareStrings(a.memberId, b.memberId));
    const index = new PartitionIndex(subscribedPartitionCounts(sorted, partitionsPerTopic));
    const input = stickyInput(sorted, index);
    let assignment: number[][];
    if (input.allSubscriptionsEqual) {
      const built = constrainedAssign(input);
      assignment = built.assignment;
      for (const [p, member] of built.transferring) removeOne(assignment[member]!, p);
    } else {
      assignment = generalAssign(input);
      withholdTransfers(assignment, input.claimed);
    }
    const out: GroupAssignment = new Map();
    sorted.forEach((m, i) => out.set(m.memberId, index.toTopicPartitions(assignment[i]!)));
    return out;
  }
}

/**
 * Reads every member's subscription into partition ids and settles conflicting ownership claims as Java's
 * `allSubscriptionsEqual` does: a claim from a newer generation beats an older one; two claims from the same
 * generation both lose, and the partition is then treated as transferring wherever it goes.
 */
function stickyInput(members: readonly GroupMember[], index: PartitionIndex): StickyInput {
  const n = members.length;
  const memberGen: number[] = [];
  const subGen: number[] = [];
  const claimed: number[][] = [];
  const owned: number[][] = [];
  const topics: number[][] = [];
  const multipleOwners = new Set<number>();
  const claimant = new Map<number, number>();
  let maxGeneration = NO_GENERATION;
  let allSubscriptionsEqual = true;
  let first: Set<string> | undefined;
  for (let i = 0; i < n; i++) {
    const sub = members[i]!.subscription;
    const topicSet = new Set(sub.topics);
    if (!first) first = topicSet;
    else if (topicSet.size !== first.size || [...topicSet].some((t) => !first!.has(t))) allSubscriptionsEqual = false;
    topics.push([...topicSet].map((t) => index.indexOfTopic(t)).filter((t) => t >= 0));
    memberGen.push(stickyMemberGeneration(sub));
    subGen.push(sub.generationId !== undefined && sub.generationId >= 0 ? sub.generationId : NO_GENERATION);
    maxGeneration = Math.max(maxGeneration, memberGen[i]!);
    const mine: number[] = [];
    for (const tp of sub.ownedPartitions ?? []) {
      for (const p of tp.partitions) {
        const id = index.id(tp.topic, p);
        if (id >= 0) mine.push(id);
      }
    }
    claimed.push(mine);
    owned.push(settleClaims(i, mine, memberGen[i]!, subGen, owned, claimant, multipleOwners));
  }
  return { index, topics, claimed, owned, memberGen, maxGeneration, multipleOwners, allSubscriptionsEqual };
}

function settleClaims(member: number, claims: readonly number[], generation: number, subGen: readonly number[],
  owned: number[][], claimant: Map<number, number>, multipleOwners: Set<number>): number[] {
  const kept: number[] = [];
  const ownedBy = (m: number): number[] => (m === member ? kept : owned[m]!);
  for (const p of claims) {
    const other = claimant.get(p);
    if (other === undefined) {
      kept.push(p);
      claimant.set(p, member);
      continue;
    }
    // Java compares with the other member's subscription generation (not its user data): kept as Java does it.
    const otherGen = subGen[other]!;
    if (generation === otherGen) {
      multipleOwners.add(p);
      removeOne(ownedBy(other), p);
      claimant.set(p, member);
    } else if (generation > otherGen) {
      kept.push(p);
      removeOne(ownedBy(other), p);
      claimant.set(p, member);
    }
  }
  return kept;
}

/**
 * KIP-429 for the general case: a partition given to a member that did not own it, while another member still
 * claims it, is withheld; its owner revokes it and the next rebalance assigns it.
 */
function withholdTransfers(assignment: number[][], claimed: readonly number[][]): void {
  const added = new Map<number, number>();
  const revoked = new Set<number>();
  assignment.forEach((mine, c) => {
    const had = new Set(claimed[c]);
    const has = new Set(mine);
    for (const p of mine) if (!had.has(p)) added.set(p, c);
    for (const p of claimed[c]!) if (!has.has(p)) revoked.add(p);
  });
  for (const [p, c] of added) if (revoked.has(p)) removeOne(assignment[c]!, p);
}
