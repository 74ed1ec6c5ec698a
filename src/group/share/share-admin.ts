/**
 * Administration of share groups (KIP-932), as Kafka's `kafka-share-groups.sh` does it: list them (ListGroups
 * with the `share` type filter, KIP-848's v5), describe their members and assignments (ShareGroupDescribe),
 * read their start offsets and lag (DescribeShareGroupOffsets), reset those offsets (AlterShareGroupOffsets:
 * Kafka refuses while the group has members) and delete them (DeleteGroups). Group requests go to the group's
 * coordinator through {@link GroupCoordinator}, which follows coordinator moves.
 */
import { Admin, OffsetSpec } from '../../client/admin.js';
import type { Cluster } from '../../client/cluster.js';
import { InvalidArgumentError } from '../../errors.js';
import { AlterShareGroupOffsets } from '../../protocol/apis/alter-share-group-offsets.js';
import { DeleteGroups } from '../../protocol/apis/delete-groups.js';
import { DescribeShareGroupOffsets } from '../../protocol/apis/describe-share-group-offsets.js';
import { ListGroups } from '../../protocol/apis/list-groups.js';
import { ShareGroupDescribe } from '../../protocol/apis/share-group-describe.js';
import { brokerError } from '../../protocol/error-codes.js';
import { GroupCoordinator } from '../coordinator.js';

/** One member of a described share group. */
export interface ShareGroupMember {
  memberId: string;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  rackId: string | null;
  subscribedTopicNames: string[];
  /** Assigned partitions by topic name. */
  assignment: Map<string, number[]>;
}

/** A described share group. */
export interface ShareGroupDescription {
  groupId: string;
  /** Kafka's state name: Empty, Stable, Dead. */
  state: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignor: string;
  members: ShareGroupMember[];
}

/** A share group's position on one partition. */
export interface SharePartitionOffset {
  /** The share-partition start offset: records before it are done for the group (-1: not initialised yet). */
  startOffset: bigint;
  /** Records from the start offset to the end of the partition (-1 when the broker does not say, before v1). */
  lag: bigint;
}

export class ShareGroupAdmin {
  private readonly coordinators = new Map<string, GroupCoordinator>();

  constructor(private readonly cluster: Cluster, private readonly options: { requestTimeoutMs?: number } = {}) {}

  private get timeoutMs(): number {
    return this.options.requestTimeoutMs ?? 30_000;
  }

  private coordinator(groupId: string): GroupCoordinator {
    checkGroupId(groupId);
    let c = this.coordinators.get(groupId);
    if (c === undefined) this.coordinators.set(groupId, c = new GroupCoordinator(this.cluster, groupId, { requestTimeoutMs: this.timeoutMs }));
    return c;
  }

  /** Every share group, with its state, from every broker (each coordinator lists its own). */
  async listShareGroups(): Promise<{ groupId: string; state: string }[]> {
    await this.cluster.refresh();
    const lists = await Promise.all(this.cluster.knownBrokers.map(async ({ nodeId }) => {
      const res = await this.cluster.broker(nodeId).request(ListGroups, { statesFilter: [], typesFilter: ['share'] }, { timeoutMs: this.timeoutMs });
      if (res.errorCode !== 0) throw brokerError(res.errorCode, { api: 'ListGroups' });
      return res.groups.filter((g) => g.groupType === 'share').map((g) => ({ groupId: g.groupId, state: g.groupState }));
    }));
    return lists.flat();
  }

  /** Members, epochs and assignments of one share group; a BrokerError for an unknown group (GROUP_ID_NOT_FOUND). */
  async describeShareGroup(groupId: string): Promise<ShareGroupDescription> {
    const res = await this.coordinator(groupId).call((b) => b.request(ShareGroupDescribe, { groupIds: [groupId], includeAuthorizedOperations: false }, { timeoutMs: this.timeoutMs })
      .then((r) => {
        const g = r.groups[0];
        if (g !== undefined && g.errorCode !== 0) throw brokerError(g.errorCode, { api: 'ShareGroupDescribe', groupId, brokerMessage: g.errorMessage ?? undefined });
        return r;
      }), { deadlineMs: this.timeoutMs });
    const g = res.groups.find((x) => x.groupId === groupId);
    if (g === undefined) throw new InvalidArgumentError(`ShareGroupDescribe did not describe ${groupId}`);
    return {
      groupId, state: g.groupState, groupEpoch: g.groupEpoch, assignmentEpoch: g.assignmentEpoch, assignor: g.assignorName,
      members: g.members.map((m) => ({
        memberId: m.memberId, memberEpoch: m.memberEpoch, clientId: m.clientId, clientHost: m.clientHost, rackId: m.rackId,
        subscribedTopicNames: m.subscribedTopicNames, assignment: new Map(m.assignment.topicPartitions.map((tp) => [tp.topicName, [...tp.partitions].sort((a, b) => a - b)])),
      })),
    };
  }

  /** The group's start offset and lag on each partition of `topic` it has state for. */
  async shareGroupOffsets(groupId: string, topic: string): Promise<Map<number, SharePartitionOffset>> {
    const meta = await this.cluster.topic(topic);
    const res = await this.coordinator(groupId).call((b) => b.request(DescribeShareGroupOffsets, {
      groups: [{ groupId, topics: [{ topicName: topic, partitions: meta.partitions.map((p) => p.partition) }] }],
    }, { timeoutMs: this.timeoutMs }).then((r) => {
      const g = r.groups[0];
      if (g !== undefined && g.errorCode !== 0) throw brokerError(g.errorCode, { api: 'DescribeShareGroupOffsets', groupId, brokerMessage: g.errorMessage ?? undefined });
      return r;
    }), { deadlineMs: this.timeoutMs });
    const out = new Map<number, SharePartitionOffset>();
    for (const g of res.groups) for (const t of g.topics) {
      if (t.topicName !== topic) continue;
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw brokerError(p.errorCode, { api: 'DescribeShareGroupOffsets', groupId, topic, partition: p.partitionIndex, brokerMessage: p.errorMessage ?? undefined });
        out.set(p.partitionIndex, { startOffset: p.startOffset, lag: p.lag });
      }
    }
    return out;
  }

  /**
   * Resets the group's start offsets on `topic` (kafka-share-groups.sh --reset-offsets): to the earliest or
   * latest offset of every partition, or to given offsets per partition. Kafka refuses (a BrokerError, e.g.
   * NON_EMPTY_GROUP) while the group has members: stop them first.
   */
  async resetShareGroupOffsets(groupId: string, topic: string, to: 'earliest' | 'latest' | ReadonlyMap<number, bigint>): Promise<void> {
    if (to !== 'earliest' && to !== 'latest' && !(to instanceof Map)) throw new InvalidArgumentError(`resetShareGroupOffsets: to must be 'earliest', 'latest' or a Map of partition → offset`);
    const offsets = to instanceof Map ? to : await new Admin(this.cluster).listOffsets(topic, to === 'earliest' ? OffsetSpec.earliest : OffsetSpec.latest);
    for (const [p, o] of offsets) {
      if (!Number.isInteger(p) || p < 0 || typeof o !== 'bigint' || o < 0n) throw new InvalidArgumentError(`resetShareGroupOffsets: ${String(p)} → ${String(o)} is not a partition and offset`);
    }
    const partitions = [...offsets].map(([partitionIndex, startOffset]) => ({ partitionIndex, startOffset }));
    const res = await this.coordinator(groupId).call((b) => b.request(AlterShareGroupOffsets, { groupId, topics: [{ topicName: topic, partitions }] }, { timeoutMs: this.timeoutMs })
      .then((r) => {
        if (r.errorCode !== 0) throw brokerError(r.errorCode, { api: 'AlterShareGroupOffsets', groupId, brokerMessage: r.errorMessage ?? undefined });
        return r;
      }), { deadlineMs: this.timeoutMs });
    for (const t of res.responses) for (const p of t.partitions) {
      if (p.errorCode !== 0) throw brokerError(p.errorCode, { api: 'AlterShareGroupOffsets', groupId, topic: t.topicName, partition: p.partitionIndex, brokerMessage: p.errorMessage ?? undefined });
    }
  }

  /** Deletes a share group (Kafka refuses while it has members: NON_EMPTY_GROUP). */
  async deleteShareGroup(groupId: string): Promise<void> {
    await this.coordinator(groupId).call((b) => b.request(DeleteGroups, { groupsNames: [groupId] }, { timeoutMs: this.timeoutMs }).then((r) => {
      const g = r.results.find((x) => x.groupId === groupId);
      if (g !== undefined && g.errorCode !== 0) throw brokerError(g.errorCode, { api: 'DeleteGroups', groupId });
    }), { deadlineMs: this.timeoutMs });
  }
}

function checkGroupId(groupId: unknown): asserts groupId is string {
  if (typeof groupId !== 'string' || groupId === '') throw new InvalidArgumentError(`a share group id must be a non-empty string, got ${typeof groupId === 'string' ? '""' : typeof groupId}`);
}
