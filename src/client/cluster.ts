/**
 * The cluster as the client sees it: bootstrap seeds, every broker discovered from metadata, and a metadata
 * cache that routes each partition to its leader. Refreshes are single-flight (one Metadata request however many
 * callers ask at once), and a refresh asks the known brokers first, then the seeds, so losing every known broker
 * still finds the cluster again.
 */
import { ConnectionError, InvalidArgumentError, KafkaError } from '../errors.js';
import { Metadata } from '../protocol/apis/metadata.js';
import { brokerError, errorByCode, errorCodes } from '../protocol/error-codes.js';
import type { ResponseOf } from '../protocol/schema-types.js';
import { Backoff, sleep } from './backoff.js';
import { Broker, type BrokerOptions } from './broker.js';
import { checkTransport } from './transport.js';
import { requireBuffer } from '../runtime/builtins.js';

export interface PartitionMeta {
  topic: string;
  partition: number;
  leaderId: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  errorCode: number;
}

export interface TopicMeta {
  name: string;
  topicId: string;
  errorCode: number;
  isInternal: boolean;
  partitions: PartitionMeta[];
}

export interface BrokerMeta { nodeId: number; host: string; port: number; rack: string | null }

export interface ClusterOptions extends Omit<BrokerOptions, 'host' | 'port' | 'nodeId'> {
  /** Seeds, as `host:port` (IPv6 as `[::1]:9092`). */
  bootstrap: readonly string[];
  /** Refresh metadata older than this even without errors (Kafka's metadata.max.age.ms, 5 min). */
  metadataMaxAgeMs?: number;
  /** Let Metadata requests create missing topics when the broker allows it (Kafka's default: true). */
  allowAutoTopicCreation?: boolean;
  /** Pauses between metadata retries, and how long to keep trying before failing. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** How long `topic()` and `leader()` keep retrying retriable errors (no leader yet, broker down). Default 30 s. */
  retryDeadlineMs?: number;
}

/** Per-call options of {@link Cluster.topic} and {@link Cluster.leader}. */
export interface LookupOptions {
  /** Told of each retriable failure before its pause (`round` counts from 1), e.g. to report a lookup that makes no progress. */
  onRetry?: (err: KafkaError, round: number) => void;
  /** Overrides the cluster's `retryDeadlineMs` for this call (0: one attempt, the caller paces its retries). */
  deadlineMs?: number;
  /**
   * `topic()` only: answer even while some partitions have no leader (leaderId -1), for callers that route each
   * partition on its own (the fetcher) so one partition without a leader does not hold back the others.
   */
  allowLeaderless?: boolean;
}

/**
 * Metadata names a partition leader that its own broker list does not hold (or the list is empty): retriable,
 * since the next metadata may be whole, but worth reporting when it persists.
 */
export class LeaderNotInMetadataError extends KafkaError {
  constructor(readonly topic: string, readonly partition: number, readonly leaderId: number, readonly brokerIds: readonly number[]) {
    super(`metadata names broker ${leaderId} as leader of ${topic}-${partition} but lists ${brokerIds.length === 0 ? 'no brokers' : `only brokers ${brokerIds.join(', ')}`}`,
      'ERR_KAFKA_LEADER_NOT_IN_METADATA', { retriable: true });
  }
}

/** Parses `host:port` and `[v6]:port`, listing every malformed seed at once. */
export function parseBootstrap(seeds: readonly string[]): { host: string; port: number }[] {
  const problems: string[] = [];
  const out: { host: string; port: number }[] = [];
  for (const seed of seeds) {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(seed) ?? /^([^:]+):(\d+)$/.exec(seed);
    const port = m ? Number(m[2]) : NaN;
    if (!m || !(port > 0 && port < 65536)) problems.push(`broker address '${seed}' is not host:port`);
    else out.push({ host: m[1]!, port });
  }
  if (seeds.length === 0) problems.push('no broker addresses given');
  if (problems.length) throw new InvalidArgumentError(problems);
  return out;
}

type MetadataResponse = ResponseOf<typeof Metadata>;

export class Cluster {
  private readonly options: ClusterOptions;
  private readonly seeds: Broker[];
  private readonly brokers = new Map<number, Broker>();
  private brokerMeta = new Map<number, BrokerMeta>();
  private readonly topics = new Map<string, TopicMeta>();
  /** Topics whose metadata is known stale (an error said so): the next lookup refreshes. */
  private readonly stale = new Set<string>();
  private readonly interest = new Set<string>();
  private inflight: Promise<void> | undefined;
  private refreshedAt = 0;
  private closed = false;
  clusterId: string | null = null;
  controllerId = -1;

  constructor(options: ClusterOptions) {
    requireBuffer('Cluster');
    checkTransport((problem) => { throw new InvalidArgumentError(problem); }, 'transport', options.transport);
    this.options = options;
    this.seeds = parseBootstrap(options.bootstrap).map((a) => new Broker({ ...this.brokerOptions(), host: a.host, port: a.port }));
  }

  private brokerOptions(): Omit<BrokerOptions, 'host' | 'port'> {
    const { bootstrap: _b, metadataMaxAgeMs: _m, allowAutoTopicCreation: _a, retryMinMs: _r1, retryMaxMs: _r2, retryDeadlineMs: _d, ...rest } = this.options;
    return rest;
  }

  /** Brokers from the latest metadata. */
  get knownBrokers(): readonly BrokerMeta[] {
    return [...this.brokerMeta.values()];
  }

  /** The Broker for `nodeId` (connections open lazily). Unknown ids refresh first via {@link leader}. */
  broker(nodeId: number): Broker {
    const existing = this.brokers.get(nodeId);
    if (existing) return existing;
    const meta = this.brokerMeta.get(nodeId);
    if (!meta) throw new KafkaError(`broker ${nodeId} is not in the cluster metadata`, 'ERR_KAFKA_UNKNOWN_BROKER', { retriable: true });
    const b = new Broker({ ...this.brokerOptions(), host: meta.host, port: meta.port, nodeId });
    this.brokers.set(nodeId, b);
    return b;
  }

  /** A broker that answers: known brokers in random order, then the seeds. */
  async anyBroker(): Promise<Broker> {
    const candidates = [...shuffle([...this.brokerMeta.keys()].map((id) => this.broker(id))), ...shuffle([...this.seeds])];
    let last: unknown;
    for (const b of candidates) {
      try {
        await b.connection('control');
        return b;
      } catch (err) {
        last = err;
        if (err instanceof KafkaError && !err.retriable) throw err; // e.g. wrong credentials: every broker says so
      }
    }
    throw new ConnectionError(`no broker reachable (tried ${candidates.map((b) => b.address).join(', ')})`, { cause: last });
  }

  /** Marks metadata stale so the next lookup refreshes (after NOT_LEADER_OR_FOLLOWER and friends). */
  invalidate(topic?: string): void {
    if (topic === undefined) this.refreshedAt = 0;
    else this.stale.add(topic);
  }

  /** One Metadata request for `topics` plus every topic asked about before; concurrent callers share it. */
  refresh(topics: readonly string[] = []): Promise<void> {
    for (const t of topics) this.interest.add(t);
    if (this.inflight) {
      // A refresh already running may not include new topics: chain one more after it.
      const missing = topics.some((t) => !this.topics.has(t));
      if (!missing) return this.inflight;
      return this.inflight.then(() => this.refresh(topics));
    }
    const run = this.fetchMetadata().finally(() => { if (this.inflight === run) this.inflight = undefined; });
    this.inflight = run;
    return run;
  }

  private async fetchMetadata(): Promise<void> {
    if (this.closed) throw new ConnectionError('the cluster client is closed', { retriable: false });
    const broker = await this.anyBroker();
    const names = [...this.interest];
    const res = await broker.request(Metadata, {
      topics: names.map((name) => ({ name })),
      allowAutoTopicCreation: this.options.allowAutoTopicCreation ?? true,
    });
    this.apply(res, names);
  }

  private apply(res: MetadataResponse, asked: string[]): void {
    this.clusterId = res.clusterId;
    this.controllerId = res.controllerId;
    const metas = new Map<number, BrokerMeta>();
    for (const b of res.brokers) metas.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    // A broker whose address changed gets a new Broker; one that left is closed.
    for (const [id, b] of this.brokers) {
      const m = metas.get(id);
      if (!m || m.host !== b.host || m.port !== b.port) {
        this.brokers.delete(id);
        void b.close();
      }
    }
    this.brokerMeta = metas;
    for (const t of res.topics) {
      if (t.name === null) continue;
      this.topics.set(t.name, {
        name: t.name, topicId: t.topicId, errorCode: t.errorCode, isInternal: t.isInternal,
        partitions: t.partitions.map((p) => ({
          topic: t.name!, partition: p.partitionIndex, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes, isr: p.isrNodes, errorCode: p.errorCode,
        })).sort((a, b) => a.partition - b.partition),
      });
      this.stale.delete(t.name);
    }
    for (const name of asked) if (!res.topics.some((t) => t.name === name)) this.topics.delete(name);
    this.refreshedAt = Date.now();
  }

  /**
   * True when the cached answer for `topic` is an error and the last refresh is younger than `retryMinMs` (a
   * retriable error, which {@link withRetry} paces anyway) or `retryMaxMs` (one retrying cannot fix, such as
   * TOPIC_AUTHORIZATION_FAILED): that answer is given again instead of a new Metadata request (Java's metadata
   * refresh backoff), so a caller that looks a failing topic up on every send costs a request a second or so.
   */
  private errorIsRecent(topic: string): boolean {
    const t = this.topics.get(topic);
    if (t === undefined || t.errorCode === 0) return false;
    const window = errorByCode(t.errorCode).retriable ? this.options.retryMinMs ?? 100 : this.options.retryMaxMs ?? 1_000;
    return Date.now() - this.refreshedAt < window;
  }

  private isFresh(topic: string): boolean {
    const age = Date.now() - this.refreshedAt;
    return this.topics.has(topic) && !this.stale.has(topic) && age < (this.options.metadataMaxAgeMs ?? 300_000);
  }

  /**
   * Metadata of `topic`, refreshed when stale, retried with backoff while the topic has retriable errors or a
   * partition has no leader yet (a topic just created, a leader election). Non-retriable errors throw at once.
   */
  async topic(name: string, options: LookupOptions = {}): Promise<TopicMeta> {
    return this.withRetry(() => this.lookupTopic(name, options.allowLeaderless ?? false), options);
  }

  /** One look at `name`'s metadata (refreshed first when stale); throws the retriable error it sees. */
  private async lookupTopic(name: string, allowLeaderless = false): Promise<TopicMeta> {
    if (!this.isFresh(name) && !this.errorIsRecent(name)) await this.refresh([name]);
    const t = this.topics.get(name);
    if (!t) { this.stale.add(name); throw brokerError(errorCodes.UNKNOWN_TOPIC_OR_PARTITION, { api: 'Metadata', topic: name }); }
    if (t.errorCode !== 0) { this.stale.add(name); throw brokerError(t.errorCode, { api: 'Metadata', topic: name }); }
    const leaderless = t.partitions.find((p) => p.leaderId < 0 || p.errorCode === errorCodes.LEADER_NOT_AVAILABLE);
    if (leaderless && allowLeaderless && t.partitions.length > 0) {
      this.stale.add(name); // answered as is, but the next lookup asks again: the election may be over
      return t;
    }
    if (leaderless || t.partitions.length === 0) {
      this.stale.add(name);
      throw brokerError(errorCodes.LEADER_NOT_AVAILABLE, { api: 'Metadata', topic: name, partition: leaderless?.partition });
    }
    return t;
  }

  /**
   * The leader of a partition, as a Broker. Metadata that names a leader missing from its own broker list (or
   * lists no brokers) is refreshed with the same backoff and deadline as {@link topic}: never a tight loop.
   * After the deadline the last {@link LeaderNotInMetadataError} is thrown; `options.onRetry` hears each round.
   */
  async leader(topic: string, partition: number, options: LookupOptions = {}): Promise<Broker> {
    return this.withRetry(async () => {
      const t = await this.lookupTopic(topic, true); // other partitions without a leader are not this one's concern
      const p = t.partitions[partition];
      if (!p || p.partition !== partition) {
        throw new InvalidArgumentError(`topic ${topic} has ${t.partitions.length} partitions; there is no partition ${partition}`);
      }
      if (p.leaderId < 0) throw brokerError(errorCodes.LEADER_NOT_AVAILABLE, { api: 'Metadata', topic, partition });
      if (!this.brokerMeta.has(p.leaderId)) {
        this.invalidate();
        throw new LeaderNotInMetadataError(topic, partition, p.leaderId, [...this.brokerMeta.keys()]);
      }
      return this.broker(p.leaderId);
    }, options);
  }

  /**
   * Retries retriable failures with the one backoff (backoff.ts) until `retryDeadlineMs`; the last error is
   * thrown after that. `onRetry` is told of every failure that will be retried, with its 1-based round.
   */
  private async withRetry<T>(fn: () => Promise<T>, options: LookupOptions = {}): Promise<T> {
    const deadline = Date.now() + (options.deadlineMs ?? this.options.retryDeadlineMs ?? 30_000);
    const backoff = new Backoff({ minRetryPeriod: this.options.retryMinMs ?? 100, maxRetryPeriod: this.options.retryMaxMs ?? 1_000 });
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        const retriable = err instanceof KafkaError && err.retriable;
        const pause = backoff.next();
        if (!retriable || this.closed || Date.now() + pause > deadline) throw err;
        options.onRetry?.(err, backoff.attempt);
        await sleep(pause);
      }
    }
  }

  /**
   * Closes every broker connection. Idempotent. With `timeoutMs`, requests still unanswered then fail instead of
   * being waited for (0: at once), as in {@link Broker.close}.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closed = true;
    const all = [...this.brokers.values(), ...this.seeds];
    this.brokers.clear();
    await Promise.allSettled(all.map((b) => b.close(options)));
  }
}

/** Whether an error code means "look the leader up again". */
export function needsMetadataRefresh(code: number): boolean {
  return errorByCode(code).refreshMetadata;
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
