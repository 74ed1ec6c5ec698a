/**
 * Administrative operations over a {@link Cluster}: topics, partitions, offsets, configs, groups and records.
 * Every call returns plain results and throws a typed {@link BrokerError} (the first failing item's, with the
 * topic or group named) rather than handing back raw error codes.
 */
import { InvalidArgumentError, KafkaError } from '../errors.js';
import { CreatePartitions } from '../protocol/apis/create-partitions.js';
import { CreateTopics } from '../protocol/apis/create-topics.js';
import { DeleteRecords } from '../protocol/apis/delete-records.js';
import { DeleteTopics } from '../protocol/apis/delete-topics.js';
import { DescribeCluster } from '../protocol/apis/describe-cluster.js';
import { DescribeConfigs } from '../protocol/apis/describe-configs.js';
import { DescribeGroups } from '../protocol/apis/describe-groups.js';
import { ListGroups } from '../protocol/apis/list-groups.js';
import { ListOffsets } from '../protocol/apis/list-offsets.js';
import { brokerError, errorCodes } from '../protocol/error-codes.js';
import type { ResponseOf } from '../protocol/schema-types.js';
import { Backoff, sleep } from './backoff.js';
import type { Broker } from './broker.js';
import type { Cluster } from './cluster.js';

export interface NewTopic {
  name: string;
  numPartitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

/** Kafka's special timestamps for ListOffsets. */
export const OffsetSpec = { latest: -1n, earliest: -2n, maxTimestamp: -3n } as const;

/** Resource types of DescribeConfigs. */
export const ConfigResource = { topic: 2, broker: 4 } as const;

/** Retry settings of {@link Admin} calls that route by partition leader (as {@link listOffsets}). */
export interface AdminOptions {
  /** Pauses between retries, for the library's cyclic backoff (default 100 ms to 1 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** How long to keep retrying retriable failures (a leader moved, a broker down) before throwing the last one. Default 30 s. */
  retryDeadlineMs?: number;
}

export class Admin {
  constructor(private readonly cluster: Cluster, private readonly timeoutMs = 30_000, private readonly options: AdminOptions = {}) {}

  /** Creates topics (broker defaults for unset counts); `ignoreExisting` makes TOPIC_ALREADY_EXISTS a success. */
  async createTopics(topics: NewTopic[], options: { ignoreExisting?: boolean; validateOnly?: boolean } = {}): Promise<void> {
    const broker = await this.cluster.anyBroker();
    const res = await broker.request(CreateTopics, {
      topics: topics.map((t) => ({
        name: t.name, numPartitions: t.numPartitions ?? -1, replicationFactor: t.replicationFactor ?? -1, assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: this.timeoutMs, validateOnly: options.validateOnly ?? false,
    });
    for (const t of res.topics) {
      if (t.errorCode === 0 || (options.ignoreExisting && t.errorCode === errorCodes.TOPIC_ALREADY_EXISTS)) continue;
      throw brokerError(t.errorCode, { api: 'CreateTopics', topic: t.name, brokerMessage: t.errorMessage });
    }
    // The controller has the topics; wait until metadata shows leaders, so callers can produce right away.
    if (!options.validateOnly) await Promise.all(topics.map((t) => { this.cluster.invalidate(t.name); return this.cluster.topic(t.name); }));
  }

  async deleteTopics(names: string[]): Promise<void> {
    const broker = await this.cluster.anyBroker();
    const res = await broker.request(DeleteTopics, { topics: names.map((name) => ({ name })), topicNames: names, timeoutMs: this.timeoutMs });
    for (const r of res.responses) {
      if (r.errorCode !== 0) throw brokerError(r.errorCode, { api: 'DeleteTopics', topic: r.name ?? undefined, brokerMessage: r.errorMessage });
    }
    names.forEach((n) => this.cluster.invalidate(n));
  }

  /** Raises a topic's partition count to `count`. */
  async createPartitions(topic: string, count: number): Promise<void> {
    const broker = await this.cluster.anyBroker();
    const res = await broker.request(CreatePartitions, { topics: [{ name: topic, count, assignments: null }], timeoutMs: this.timeoutMs, validateOnly: false });
    for (const r of res.results) {
      if (r.errorCode !== 0) throw brokerError(r.errorCode, { api: 'CreatePartitions', topic: r.name, brokerMessage: r.errorMessage });
    }
    this.cluster.invalidate(topic);
  }

  /**
   * Offsets of every partition of `topic` at `spec` (latest, earliest, or a timestamp in ms as a bigint).
   * Partitions whose leader moved or went away (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, a dropped
   * connection: any retriable failure) are asked again after a metadata refresh and a backoff pause, until
   * {@link AdminOptions.retryDeadlineMs}; partitions already answered are not asked again. Non-retriable errors
   * throw at once. `partitions` limits the question to those (default: every partition of the topic).
   */
  async listOffsets(topic: string, spec: bigint = OffsetSpec.latest, isolation: 'read_uncommitted' | 'read_committed' = 'read_uncommitted',
    partitions?: readonly number[]): Promise<Map<number, bigint>> {
    const deadline = Date.now() + (this.options.retryDeadlineMs ?? 30_000);
    const backoff = new Backoff({ minRetryPeriod: this.options.retryMinMs ?? 100, maxRetryPeriod: this.options.retryMaxMs ?? 1_000 });
    const out = new Map<number, bigint>();
    let pending: ReadonlySet<number> | undefined = partitions && new Set(partitions); // undefined: every partition the metadata lists
    for (;;) {
      const failed = await this.listOffsetsOnce(topic, spec, isolation, pending, out);
      if (failed.partitions.size === 0) return out;
      // Only reached on errors, so Cluster look-alikes in unit tests need invalidate() only when they fail.
      this.cluster.invalidate(topic);
      const pause = backoff.next();
      if (Date.now() + pause > deadline) throw failed.error;
      await sleep(pause);
      pending = failed.partitions;
    }
  }

  /** One round of {@link listOffsets}: answers go to `out`; returns the partitions to ask again and why. */
  private async listOffsetsOnce(topic: string, spec: bigint, isolation: 'read_uncommitted' | 'read_committed',
    only: ReadonlySet<number> | undefined, out: Map<number, bigint>): Promise<{ partitions: Set<number>; error: unknown }> {
    const meta = await this.cluster.topic(topic);
    const byLeader = new Map<number, number[]>();
    for (const p of meta.partitions) {
      if (only === undefined || only.has(p.partition)) byLeader.set(p.leaderId, [...(byLeader.get(p.leaderId) ?? []), p.partition]);
    }
    const failed = { partitions: new Set<number>(), error: undefined as unknown };
    const retry = (partitions: readonly number[], err: unknown): void => {
      if (!(err instanceof KafkaError && err.retriable)) throw err;
      for (const p of partitions) failed.partitions.add(p);
      failed.error = err;
    };
    await Promise.all([...byLeader].map(async ([leaderId, partitions]) => {
      let res: ResponseOf<typeof ListOffsets>;
      try {
        res = await this.cluster.broker(leaderId).request(ListOffsets, {
          replicaId: -1, isolationLevel: isolation === 'read_committed' ? 1 : 0,
          topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp: spec, currentLeaderEpoch: -1 })) }],
          timeoutMs: this.timeoutMs,
        });
      } catch (err) {
        return retry(partitions, err); // the leader is down or unknown: its partitions go to whoever leads them now
      }
      for (const t of res.topics) for (const p of t.partitions) {
        if (p.errorCode === 0) out.set(p.partitionIndex, p.offset);
        else retry([p.partitionIndex], brokerError(p.errorCode, { api: 'ListOffsets', topic, partition: p.partitionIndex }));
      }
    }));
    return failed;
  }

  async describeCluster(): Promise<ResponseOf<typeof DescribeCluster>> {
    const res = await (await this.cluster.anyBroker()).request(DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    if (res.errorCode !== 0) throw brokerError(res.errorCode, { api: 'DescribeCluster', brokerMessage: res.errorMessage });
    return res;
  }

  /** Config entries of a topic or broker (`name` is the broker id as text for brokers). */
  async describeConfigs(resourceType: number, name: string, keys: string[] | null = null): Promise<Map<string, string | null>> {
    let broker: Broker = await this.cluster.anyBroker();
    if (resourceType === ConfigResource.broker) broker = this.cluster.broker(Number(name));
    const res = await broker.request(DescribeConfigs, {
      resources: [{ resourceType, resourceName: name, configurationKeys: keys }], includeSynonyms: false, includeDocumentation: false,
    });
    const r = res.results[0];
    if (!r) throw new InvalidArgumentError(`no DescribeConfigs result for ${name}`);
    if (r.errorCode !== 0) throw brokerError(r.errorCode, { api: 'DescribeConfigs', topic: name, brokerMessage: r.errorMessage });
    return new Map(r.configs.map((c) => [c.name, c.value]));
  }

  /** Groups known to every broker (each coordinator lists its own). */
  async listGroups(): Promise<{ groupId: string; protocolType: string; state: string }[]> {
    await this.cluster.refresh();
    const ids = this.cluster.knownBrokers.map((b) => b.nodeId);
    const lists = await Promise.all(ids.map(async (id) => {
      const res = await this.cluster.broker(id).request(ListGroups, { statesFilter: [], typesFilter: [] });
      if (res.errorCode !== 0) throw brokerError(res.errorCode, { api: 'ListGroups' });
      return res.groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState }));
    }));
    return lists.flat();
  }

  /** DescribeGroups on `coordinator` (find it with FindCoordinator in src/group). */
  async describeGroups(coordinator: Broker, groups: string[]): Promise<ResponseOf<typeof DescribeGroups>['groups']> {
    const res = await coordinator.request(DescribeGroups, { groups, includeAuthorizedOperations: false });
    for (const g of res.groups) if (g.errorCode !== 0) throw brokerError(g.errorCode, { api: 'DescribeGroups', groupId: g.groupId });
    return res.groups;
  }

  /** Deletes records before `offset` in each given partition; returns the new low watermarks. */
  async deleteRecords(topic: string, beforeOffsets: Map<number, bigint>): Promise<Map<number, bigint>> {
    const meta = await this.cluster.topic(topic);
    const byLeader = new Map<number, number[]>();
    for (const partition of beforeOffsets.keys()) {
      const p = meta.partitions[partition];
      if (!p) throw new InvalidArgumentError(`topic ${topic} has no partition ${partition}`);
      byLeader.set(p.leaderId, [...(byLeader.get(p.leaderId) ?? []), partition]);
    }
    const out = new Map<number, bigint>();
    await Promise.all([...byLeader].map(async ([leaderId, partitions]) => {
      const res = await this.cluster.broker(leaderId).request(DeleteRecords, {
        topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, offset: beforeOffsets.get(partitionIndex)! })) }],
        timeoutMs: this.timeoutMs,
      });
      for (const t of res.topics) for (const p of t.partitions) {
        if (p.errorCode !== 0) throw brokerError(p.errorCode, { api: 'DeleteRecords', topic, partition: p.partitionIndex });
        out.set(p.partitionIndex, p.lowWatermark);
      }
    }));
    return out;
  }
}
