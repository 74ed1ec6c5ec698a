/**
 * Kafka's `roundrobin` assignor (Java's RoundRobinAssignor): every partition of every subscribed topic, topics in
 * name order and partitions ascending, is dealt to the members in turn (static members by `group.instance.id`
 * first, then the rest by member id), skipping members not subscribed to the partition's topic. Balanced when all
 * members share one subscription; no co-partitioning and no stickiness.
 */
import type { Assignor, GroupAssignment, GroupMember, RebalanceProtocol } from './index.js';
import { AssignmentCollector, checkMembers, compareMembers, subscribedPartitionCounts } from './common.js';
import { compareStrings } from '../consumer-protocol.js';

/** `partition.assignment.strategy` = `roundrobin`. Stateless. */
export class RoundRobinAssignor implements Assignor {
  readonly name = 'roundrobin';
  readonly supportedProtocols: readonly RebalanceProtocol[] = ['eager'];

  assign(members: readonly GroupMember[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment {
    checkMembers(members);
    const counts = subscribedPartitionCounts(members, partitionsPerTopic);
    const out = new AssignmentCollector(members);
    const ring = [...members].sort(compareMembers).map((m) => ({ id: m.memberId, topics: new Set(m.subscription.topics) }));
    let at = 0;
    for (const topic of [...counts.keys()].sort(compareStrings)) {
      for (let p = 0; p < counts.get(topic)!; p++) {
        // Some member subscribes to every counted topic, so this stops within one turn of the ring.
        while (!ring[at]!.topics.has(topic)) at = (at + 1) % ring.length;
        out.add(ring[at]!.id, topic, p);
        at = (at + 1) % ring.length;
      }
    }
    return out.result();
  }
}
