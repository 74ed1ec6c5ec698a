/**
 * Administration of groups of every type, as Kafka's `kafka-consumer-groups.sh` and Java's Admin do it: list the
 * groups of the cluster with their type and state (ListGroups; v5 filters by type, KIP-848, and v4 by state,
 * KIP-518), describe them in one shape whatever protocol they speak, and delete them (DeleteGroups).
 *
 * Describing follows the facts of Java's admin: ConsumerGroupDescribe first (a KIP-848 `consumer` group); when
 * the coordinator says GROUP_ID_NOT_FOUND (it says so of a classic group) or does not speak that API,
 * DescribeGroups (a classic group, whose members' assignments are decoded from the consumer protocol's bytes);
 * when that finds nothing either (state `Dead`, or GROUP_ID_NOT_FOUND), ShareGroupDescribe (a KIP-932 share group,
 * see {@link ShareGroupAdmin} for its offsets). Group requests go to the group's coordinator through
 * {@link GroupCoordinator}, which follows coordinator moves (NOT_COORDINATOR) and waits out loading
 * (COORDINATOR_LOAD_IN_PROGRESS) with the library's backoff; every operation is bounded by `requestTimeoutMs`.
 */
import type { Broker } from '../client/broker.js';
import type { Cluster } from '../client/cluster.js';
import { BrokerError, InvalidArgumentError, KafkaError, RequestTimeoutError, UnsupportedVersionError } from '../errors.js';
import { ConsumerGroupDescribe } from '../protocol/apis/consumer-group-describe.js';
import { DeleteGroups } from '../protocol/apis/delete-groups.js';
import { DescribeGroups } from '../protocol/apis/describe-groups.js';
import { ListGroups } from '../protocol/apis/list-groups.js';
import { brokerError, errorCodes } from '../protocol/error-codes.js';
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment } from './consumer-protocol.js';
import { GroupCoordinator } from './coordinator.js';
import { ShareGroupAdmin } from './share/share-admin.js';

/** Kafka's group types (ListGroups v5 `groupType`); a broker may name others (e.g. `streams`). */
export type GroupType = 'classic' | 'consumer' | 'share';
const GROUP_TYPES: readonly string[] = ['classic', 'consumer', 'share'];

/** One group as ListGroups names it. */
export interface ListedGroup {
  groupId: string;
  /** `classic`, `consumer` or `share` (a broker before ListGroups v5 knows only classic groups). */
  type: GroupType | string;
  /** The classic protocol type (`consumer` for consumers, `connect`…); `` for a group with none. */
  protocolType: string;
  /** Kafka's state name (Stable, Empty, …); `` from a broker before ListGroups v4. */
  state: string;
}

/** One member of a described group, whatever its protocol. */
export interface GroupMemberDescription {
  memberId: string;
  /** The static member id (group.instance.id), or null. */
  instanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Assigned partitions by topic name, ascending. Empty for a classic group whose protocol is not `consumer`. */
  assignment: Map<string, number[]>;
  /** KIP-848 and share members: the member epoch (-1 for classic members). */
  memberEpoch: number;
  /** KIP-848 members: the partitions the coordinator means them to own once revocations complete. */
  targetAssignment?: Map<string, number[]>;
  /** KIP-848 and share members: the topics they subscribe to. */
  subscribedTopicNames?: string[];
}

/** A described group, in one shape for classic, consumer (KIP-848) and share (KIP-932) groups. */
export interface GroupDescription {
  groupId: string;
  type: GroupType;
  /** Kafka's state name: Stable, Empty, PreparingRebalance, Assigning, Reconciling, Dead, … */
  state: string;
  /** Node id of the group's coordinator. */
  coordinator: number;
  /** The classic protocol type (`consumer` for KIP-848 and share groups' consumers too: `share` for share groups). */
  protocolType: string;
  /** The assignor: the classic group's chosen protocol (range, cooperative-sticky…) or the server-side assignor. */
  assignor: string;
  /** KIP-848 and share groups: the group epoch (-1 for classic groups). */
  groupEpoch: number;
  members: GroupMemberDescription[];
}

/** Options of {@link GroupAdmin.listGroups}. */
export interface ListGroupsOptions {
  /** Only groups of these types (ListGroups v5; an older broker has classic groups only). */
  types?: GroupType[];
  /** Only groups in these states (Kafka's names, compared case-insensitively; needs ListGroups v4). */
  states?: string[];
}

export class GroupAdmin {
  private readonly coordinators = new Map<string, GroupCoordinator>();
  private readonly shares: ShareGroupAdmin;

  /** `requestTimeoutMs` (default 30 s) bounds each operation, coordinator lookups and retries included. */
  constructor(private readonly cluster: Cluster, private readonly options: { requestTimeoutMs?: number } = {}) {
    const t = options.requestTimeoutMs;
    if (t !== undefined && (typeof t !== 'number' || !Number.isFinite(t) || t <= 0)) {
      throw new InvalidArgumentError(`GroupAdmin: requestTimeoutMs must be a positive number of milliseconds, got ${String(t)}`);
    }
    this.shares = new ShareGroupAdmin(cluster, { requestTimeoutMs: this.timeoutMs });
  }

  private get timeoutMs(): number {
    return this.options.requestTimeoutMs ?? 30_000;
  }

  private coordinator(groupId: string): GroupCoordinator {
    let c = this.coordinators.get(groupId);
    if (c === undefined) this.coordinators.set(groupId, c = new GroupCoordinator(this.cluster, groupId, { requestTimeoutMs: this.timeoutMs }));
    return c;
  }

  /**
   * Runs `fn` on `groupId`'s coordinator, retrying coordinator moves and loading within `requestTimeoutMs` (the
   * lookup included); past it, the last error, or a RequestTimeoutError when the lookup never succeeded.
   */
  private async onCoordinator<T>(groupId: string, what: string, fn: (b: Broker) => Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      return await this.coordinator(groupId).call(fn, { signal, deadlineMs: this.timeoutMs });
    } catch (err) {
      if (signal.aborted && !(err instanceof KafkaError)) {
        throw new RequestTimeoutError(`${what} of group ${groupId}: no coordinator answered within ${this.timeoutMs} ms`, this.timeoutMs, { cause: err });
      }
      throw err;
    }
  }

  /** Every group of the cluster (each broker lists the groups it coordinates), with its type and state. */
  async listGroups(options: ListGroupsOptions = {}): Promise<ListedGroup[]> {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError(`listGroups: options must be an object, got ${options === null ? 'null' : typeof options}`);
    const types = checkList('types', options.types, (t) => GROUP_TYPES.includes(t), `one of ${GROUP_TYPES.join(', ')}`);
    const states = checkList('states', options.states, (s) => s !== '', 'a non-empty state name');
    await this.cluster.refresh();
    const lists = await Promise.all(this.cluster.knownBrokers.map(async ({ nodeId }) => {
      const broker = this.cluster.broker(nodeId);
      const version = await broker.versionFor(ListGroups);
      if (states.length > 0 && version < 4) throw new UnsupportedVersionError(`listGroups: broker ${nodeId} cannot filter by state (ListGroups v${version} < v4)`);
      const res = await broker.request(ListGroups, { statesFilter: states, typesFilter: version >= 5 ? types : [] }, { timeoutMs: this.timeoutMs });
      if (res.errorCode !== 0) throw brokerError(res.errorCode, { api: 'ListGroups' });
      return res.groups.map((g): ListedGroup => ({
        groupId: g.groupId, protocolType: g.protocolType, state: version >= 4 ? g.groupState : '', type: version >= 5 && g.groupType !== '' ? g.groupType : 'classic',
      }));
    }));
    const wanted = new Set(states.map((s) => s.toLowerCase()));
    return lists.flat().filter((g) => (types.length === 0 || types.includes(g.type as GroupType)) && (wanted.size === 0 || wanted.has(g.state.toLowerCase())));
  }

  /**
   * Describes each group of `groupIds` (in that order): its type, state, coordinator, assignor, members and their
   * assignments. Rejects with a {@link BrokerError} naming the first group that failed: GROUP_ID_NOT_FOUND for a
   * group that does not exist, GROUP_AUTHORIZATION_FAILED…
   */
  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    const ids = checkGroupIds('describeGroups', groupIds);
    return Promise.all(ids.map((id) => this.describeOne(id)));
  }

  private async describeOne(groupId: string): Promise<GroupDescription> {
    const asConsumer = await this.onCoordinator(groupId, 'ConsumerGroupDescribe', (b) => this.consumerGroupDescribe(b, groupId));
    if (asConsumer !== undefined) return asConsumer;
    const asClassic = await this.onCoordinator(groupId, 'DescribeGroups', (b) => this.classicDescribe(b, groupId));
    if (asClassic !== undefined) return asClassic;
    let share;
    try {
      share = await this.shares.describeShareGroup(groupId);
    } catch (err) {
      // A broker without share groups, or one that knows no share group of that name: the group does not exist.
      if (err instanceof UnsupportedVersionError || (err instanceof BrokerError && err.errorCode === errorCodes.GROUP_ID_NOT_FOUND)) throw notFound(groupId);
      throw err;
    }
    return {
      groupId, type: 'share', state: share.state, coordinator: this.coordinator(groupId).nodeId, protocolType: 'share', assignor: share.assignor,
      groupEpoch: share.groupEpoch,
      members: share.members.map((m) => ({
        memberId: m.memberId, instanceId: null, clientId: m.clientId, clientHost: m.clientHost, assignment: m.assignment,
        memberEpoch: m.memberEpoch, subscribedTopicNames: m.subscribedTopicNames,
      })),
    };
  }

  /** ConsumerGroupDescribe; undefined when the group is not a KIP-848 group (or the broker has none). */
  private async consumerGroupDescribe(b: Broker, groupId: string): Promise<GroupDescription | undefined> {
    try {
      await b.versionFor(ConsumerGroupDescribe);
    } catch (err) {
      if (err instanceof UnsupportedVersionError) return undefined;
      throw err;
    }
    const res = await b.request(ConsumerGroupDescribe, { groupIds: [groupId], includeAuthorizedOperations: false }, { timeoutMs: this.timeoutMs });
    const g = res.groups.find((x) => x.groupId === groupId) ?? res.groups[0];
    if (g === undefined) throw brokerError(errorCodes.UNKNOWN_SERVER_ERROR, { api: 'ConsumerGroupDescribe', groupId, brokerMessage: 'the answer describes no group' });
    if (g.errorCode === errorCodes.GROUP_ID_NOT_FOUND) return undefined;
    if (g.errorCode !== 0) throw brokerError(g.errorCode, { api: 'ConsumerGroupDescribe', groupId, brokerMessage: g.errorMessage ?? undefined });
    return {
      groupId, type: 'consumer', state: g.groupState, coordinator: b.nodeId, protocolType: CONSUMER_PROTOCOL_TYPE, assignor: g.assignorName,
      groupEpoch: g.groupEpoch,
      members: g.members.map((m) => ({
        memberId: m.memberId, instanceId: m.instanceId, clientId: m.clientId, clientHost: m.clientHost,
        assignment: byTopic(m.assignment.topicPartitions), targetAssignment: byTopic(m.targetAssignment.topicPartitions),
        memberEpoch: m.memberEpoch, subscribedTopicNames: m.subscribedTopicNames,
      })),
    };
  }

  /** DescribeGroups; undefined when no classic group has that id (Kafka answers state Dead, or GROUP_ID_NOT_FOUND). */
  private async classicDescribe(b: Broker, groupId: string): Promise<GroupDescription | undefined> {
    const res = await b.request(DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false }, { timeoutMs: this.timeoutMs });
    const g = res.groups.find((x) => x.groupId === groupId) ?? res.groups[0];
    if (g === undefined) throw brokerError(errorCodes.UNKNOWN_SERVER_ERROR, { api: 'DescribeGroups', groupId, brokerMessage: 'the answer describes no group' });
    if (g.errorCode === errorCodes.GROUP_ID_NOT_FOUND || (g.errorCode === 0 && g.groupState === 'Dead')) return undefined;
    if (g.errorCode !== 0) throw brokerError(g.errorCode, { api: 'DescribeGroups', groupId, brokerMessage: g.errorMessage ?? undefined });
    const consumers = g.protocolType === CONSUMER_PROTOCOL_TYPE;
    return {
      groupId, type: 'classic', state: g.groupState, coordinator: b.nodeId, protocolType: g.protocolType, assignor: g.protocolData, groupEpoch: -1,
      members: g.members.map((m) => ({
        memberId: m.memberId, instanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost, memberEpoch: -1,
        assignment: consumers ? classicAssignment(m.memberAssignment) : new Map<string, number[]>(),
      })),
    };
  }

  /**
   * Deletes each group of `groupIds` (any type; Kafka refuses a group that still has members). Resolves to each
   * group's outcome: undefined when deleted, else its {@link BrokerError} (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND…).
   * Coordinator moves and loading are retried within `requestTimeoutMs`; other failures reject.
   */
  async deleteGroups(groupIds: string[]): Promise<Map<string, BrokerError | undefined>> {
    const ids = checkGroupIds('deleteGroups', groupIds);
    const outcomes = await Promise.all(ids.map(async (groupId) => {
      try {
        await this.onCoordinator(groupId, 'DeleteGroups', async (b) => {
          const res = await b.request(DeleteGroups, { groupsNames: [groupId] }, { timeoutMs: this.timeoutMs });
          const r = res.results.find((x) => x.groupId === groupId);
          if (r === undefined) throw brokerError(errorCodes.UNKNOWN_SERVER_ERROR, { api: 'DeleteGroups', groupId, brokerMessage: 'the answer names no such group' });
          if (r.errorCode !== 0) throw brokerError(r.errorCode, { api: 'DeleteGroups', groupId });
        });
        return [groupId, undefined] as const;
      } catch (err) {
        if (err instanceof BrokerError && err.errorCode !== errorCodes.UNKNOWN_SERVER_ERROR && !err.retriable) return [groupId, err] as const;
        throw err;
      }
    }));
    return new Map(outcomes);
  }
}

function notFound(groupId: string): BrokerError {
  return brokerError(errorCodes.GROUP_ID_NOT_FOUND, { api: 'DescribeGroups', groupId, brokerMessage: `group ${groupId} does not exist` });
}

/** Topic partitions by name, sorted (KIP-848 / share assignments). */
function byTopic(tps: readonly { topicName: string; partitions: number[] }[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const tp of tps) out.set(tp.topicName, [...(out.get(tp.topicName) ?? []), ...tp.partitions].sort((a, b) => a - b));
  return out;
}

/** A classic consumer's assignment bytes, decoded; empty for an empty or undecodable assignment (hostile input never throws). */
function classicAssignment(bytes: Buffer): Map<string, number[]> {
  if (bytes.length === 0) return new Map();
  try {
    return byTopic(decodeAssignment(bytes).assignedPartitions.map((tp) => ({ topicName: tp.topic, partitions: tp.partitions })));
  } catch {
    return new Map();
  }
}

function checkGroupIds(what: string, groupIds: unknown): string[] {
  if (!Array.isArray(groupIds) || groupIds.length === 0) throw new InvalidArgumentError(`${what}: group ids must be a non-empty array of strings`);
  const bad = groupIds.filter((g) => typeof g !== 'string' || g === '');
  if (bad.length > 0) throw new InvalidArgumentError(`${what}: every group id must be a non-empty string, got ${bad.map((g) => JSON.stringify(g) ?? String(g)).join(', ')}`);
  return [...new Set(groupIds as string[])];
}

function checkList(name: string, list: unknown, ok: (v: string) => boolean, expected: string): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new InvalidArgumentError(`listGroups: ${name} must be an array, got ${list === null ? 'null' : typeof list}`);
  const bad = list.filter((v) => typeof v !== 'string' || !ok(v));
  if (bad.length > 0) throw new InvalidArgumentError(`listGroups: each of ${name} must be ${expected}, got ${bad.map((v) => JSON.stringify(v) ?? String(v)).join(', ')}`);
  return list as string[];
}
