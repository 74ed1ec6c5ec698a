/**
 * Hooks on the fake cluster's group and topic state, for unit tests of one group mechanism at a time (offsets,
 * sessions) that need the coordinator to be in a state a whole membership would otherwise have to build:
 * a member seated in a stable generation (so its commits are accepted), a committed offset already there, a
 * topic that grew.
 *
 * ```ts
 * seatMember(c, 'g', { memberId: 'm-1', generation: 7 });  // OffsetCommit from m-1 at generation 7 is accepted
 * setCommitted(c, 'g', 't', 2, 33);                        // as if committed earlier
 * committedEpoch(c, 'g', 't', 0);                          // the leader epoch stored with the commit
 * growTopic(c, 't', 8);                                    // CreatePartitions, as far as Metadata tells
 * ```
 */
import type { FakeCluster } from './fake-cluster.js';
import type { Group } from './groups.js';
import { PartitionLog } from './partition-log.js';

type Member = Group['members'] extends Map<string, infer M> ? M : never;

/**
 * Puts `memberId` in group `groupId` as its only member and leader, in a Stable `generation` (as after a
 * completed rebalance), with a session timeout long enough that it is never expired during a test. Whatever
 * the group held before (members, pending joins) is dropped; committed offsets stay.
 */
export function seatMember(c: FakeCluster, groupId: string, options: { memberId: string; generation: number; protocolType?: string; protocolName?: string }): Group {
  const g = c.group(groupId);
  g.members.clear();
  g.pending.clear();
  const m: Member = {
    id: options.memberId, clientId: 'seated', sessionTimeoutMs: 1_800_000, rebalanceTimeoutMs: 1_800_000, protocolType: options.protocolType ?? 'consumer',
    protocols: [], lastHeard: Date.now(), assignment: Buffer.alloc(0),
  };
  g.members.set(m.id, m);
  g.generation = options.generation;
  g.state = 'Stable';
  g.leader = m.id;
  g.protocolType = m.protocolType;
  g.protocolName = options.protocolName ?? 'range';
  return g;
}

/** Stores a committed offset for a group, as an earlier OffsetCommit would have. */
export function setCommitted(c: FakeCluster, groupId: string, topic: string, partition: number, offset: number, leaderEpoch = -1): void {
  c.group(groupId).offsets.set(`${topic}:${partition}`, { offset, leaderEpoch, metadata: '' });
}

/** The leader epoch committed with a group's offset for a partition (undefined: nothing committed). */
export function committedEpoch(c: FakeCluster, groupId: string, topic: string, partition: number): number | undefined {
  return c.state.groups.byId.get(groupId)?.offsets.get(`${topic}:${partition}`)?.leaderEpoch;
}

/** Every committed offset of a group, as `topic-partition` → offset, in the order they were first committed. */
export function committedOffsets(c: FakeCluster, groupId: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of c.state.groups.byId.get(groupId)?.offsets ?? []) {
    const at = k.lastIndexOf(':');
    out.set(`${k.slice(0, at)}-${k.slice(at + 1)}`, v.offset);
  }
  return out;
}

/** Adds partitions to a topic up to `partitions` (Kafka's CreatePartitions), leaders spread as at creation. */
export function growTopic(c: FakeCluster, topic: string, partitions: number): void {
  const t = c.topic(topic);
  const up = c.brokerIds.filter((id) => c.state.live.has(id));
  const rf = t.partitions[0]?.replicas.length ?? 1;
  for (let p = t.partitions.length; p < partitions; p++) {
    const replicas = Array.from({ length: Math.min(rf, up.length) }, (_, i) => up[(p + i) % up.length]!);
    t.partitions.push(new PartitionLog(topic, p, replicas[0]!, replicas));
  }
}
