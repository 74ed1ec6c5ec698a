/**
 * The fake cluster's shared state: brokers (which are up, their ports), topics and partitions, producer ids,
 * fetch sessions, groups, and the wake-up that long-polling Fetch requests wait on.
 */
import { randomBytes } from 'node:crypto';
import { FetchSessions } from './fetch-sessions.js';
import { Groups } from './groups.js';
import { PartitionLog } from './partition-log.js';

/** How to build a fake cluster. */
export interface FakeClusterOptions {
  /** Number of brokers, with node ids 1..N (default 1). */
  brokers?: number;
  /** Topics to create at start: name → partition count. */
  topics?: Record<string, number>;
  /** Metadata requests create unknown topics when the client allows it (Kafka's auto.create.topics.enable; default false). */
  autoCreateTopics?: boolean;
  /** Partitions of an auto-created topic or a CreateTopics with -1 (default 1). */
  defaultPartitions?: number;
  /** Replicas per partition (default min(3, brokers)). */
  replicationFactor?: number;
  /** Answer a duplicate idempotent batch with DUPLICATE_SEQUENCE_NUMBER instead of its first offset. */
  duplicateSequenceError?: boolean;
  /** Advertised version ranges by API name, narrowing ours (e.g. `{ Fetch: [4, 12] }`). */
  versions?: Record<string, [number, number]>;
  /** Kafka's group.initial.rebalance.delay.ms for a group's first rebalance (default 0). */
  initialRebalanceDelayMs?: number;
  /** How long Fetch may long-poll at most whatever maxWaitMs says (default: as asked). */
  maxFetchWaitMs?: number;
  /** Requests whose bodies the log keeps (default 20,000; counters keep every request). */
  logLimit?: number;
  clusterId?: string;
}

/** A topic and its partitions. */
export interface FakeTopic {
  name: string;
  /** Kafka's 22-character base64url topic id. */
  id: string;
  partitions: PartitionLog[];
}

/** Cluster-wide state shared by every broker server and handler. */
export class ClusterState {
  readonly options: FakeClusterOptions;
  readonly brokerIds: number[];
  readonly live = new Set<number>();
  readonly ports = new Map<number, number>();
  readonly topics = new Map<string, FakeTopic>();
  readonly topicsById = new Map<string, FakeTopic>();
  readonly sessions = new FetchSessions();
  readonly groups: Groups;
  /** Producer id → current epoch, as InitProducerId handed them out. */
  readonly producerEpochs = new Map<number, number>();
  private nextProducerId = 1000;
  private waiters = new Set<() => void>();
  /** Group coordinator overrides (group id → node id). */
  readonly coordinators = new Map<string, number>();

  constructor(options: FakeClusterOptions) {
    this.options = options;
    this.brokerIds = Array.from({ length: options.brokers ?? 1 }, (_, i) => i + 1);
    this.groups = new Groups({ initialRebalanceDelayMs: options.initialRebalanceDelayMs ?? 0 });
  }

  /** Creates a topic; leaders spread round-robin over the live brokers. */
  createTopic(name: string, partitions: number, replicationFactor?: number): FakeTopic {
    const up = this.brokerIds.filter((id) => this.live.has(id) || this.live.size === 0);
    const rf = Math.min(replicationFactor ?? this.options.replicationFactor ?? 3, up.length);
    const id = randomBytes(16).toString('base64url');
    const topic: FakeTopic = { name, id, partitions: [] };
    for (let p = 0; p < partitions; p++) {
      const replicas = Array.from({ length: rf }, (_, i) => up[(p + i) % up.length]!);
      topic.partitions.push(new PartitionLog(name, p, replicas[0]!, replicas));
    }
    this.topics.set(name, topic);
    this.topicsById.set(id, topic);
    return topic;
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.partitions[partition];
  }

  /** A topic's name from a request that may name it by id (versions with topic ids). */
  topicName(name: string | null | undefined, id: string | undefined, byId: boolean): string {
    if (byId) return id === undefined ? '' : (this.topicsById.get(id)?.name ?? '');
    return name ?? '';
  }

  newProducerId(): number {
    const pid = this.nextProducerId++;
    this.producerEpochs.set(pid, 0);
    return pid;
  }

  /** The coordinator of a group or transactional id: an override, else a hash over the live brokers; -1 if none is up. */
  coordinatorFor(key: string): number {
    const fixed = this.coordinators.get(key);
    if (fixed !== undefined) return this.live.has(fixed) ? fixed : -1;
    const up = this.brokerIds.filter((id) => this.live.has(id));
    if (up.length === 0) return -1;
    let h = 0;
    for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
    return up[Math.abs(h) % up.length]!;
  }

  /** Wakes every Fetch waiting for data. */
  notifyAppend(): void {
    const w = [...this.waiters];
    this.waiters.clear();
    for (const f of w) f();
  }

  /** Resolves on the next append, after `ms`, or when `signal` aborts. */
  waitForAppend(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || ms <= 0) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Ends every wait (cluster closing). */
  wakeAll(): void {
    this.notifyAppend();
  }
}
