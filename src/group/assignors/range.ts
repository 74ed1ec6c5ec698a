/**
 * Kafka's `range` assignor (Java's RangeAssignor without rack awareness): for each topic on its own, the
 * subscribed members in order (static members by `group.instance.id` first, then the rest by member id) each take
 * a consecutive range of partitions; when the count does not divide evenly, the first members take one more.
 * Topics with the same partition count and subscribers are thus co-partitioned: partition N of each lands on the
 * same member, which joins and stream processing rely on. The price is imbalance across many topics.
 */
import type { Assignor, GroupAssignment, GroupMember, RebalanceProtocol } from './index.js';
import { AssignmentCollector, checkMembers, compareMembers, subscribedPartitionCounts } from './common.js';

/** `partition.assignment.strategy` = `range`, Java's default. Stateless. */
export class RangeAssignor implements Assignor {
  readonly name = 'range';
  readonly supportedProtocols: readonly RebalanceProtocol[] = ['eager'];

  assign(members: readonly GroupMember[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment {
    checkMembers(members);
    const counts = subscribedPartitionCounts(members, partitionsPerTopic);
    const out = new AssignmentCollector(members);
    const sorted = [...members].sort(compareMembers);
    for (const [topic, numPartitions] of counts) {
      const consumers = sorted.filter((m) => m.subscription.topics.includes(topic));
      const perMember = Math.floor(numPartitions / consumers.length);
      const withExtra = numPartitions % consumers.length;
      let next = 0;
      consumers.forEach((m, i) => {
        const take = perMember + (i < withExtra ? 1 : 0);
        for (let k = 0; k < take; k++) out.add(m.memberId, topic, next++);
      });
    }
    return out.result();
  }
}
