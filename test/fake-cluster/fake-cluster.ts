/**
 * An in-process fake Kafka cluster for our own tests, in the spirit of franz-go's kfake: one loopback TCP server
 * per broker, speaking our protocol codecs (src/protocol/apis), with topics, partitions and movable leaders,
 * idempotent producers, fetch sessions, classic consumer groups and committed offsets, plus declarative faults
 * and a request log with per-API counters.
 *
 * ```ts
 * const c = await FakeCluster.start({ brokers: 3, topics: { t: 3 } });
 * const cluster = new Cluster({ bootstrap: c.bootstrap });
 * c.fault({ api: 'Produce', topic: 't', partition: 0, times: 2, action: 'error', code: 6 });
 * c.moveLeader('t', 0, 2);
 * await c.stopBroker(1);
 * c.log.count('Metadata');
 * await c.close();
 * ```
 * Speaks ApiVersions, Metadata, CreateTopics, Produce, InitProducerId, Fetch, ListOffsets, OffsetForLeaderEpoch,
 * FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, SaslHandshake and SaslAuthenticate
 * (PLAIN, handlers-sasl.ts); a request of any other API closes
 * the connection (its version is not advertised). No transactions, no compaction, no retention, no quotas.
 */
import { Broker } from '../../src/client/broker.js';
import { Produce } from '../../src/protocol/apis/index.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/protocol/record-batch.js';
import type { KafkaRecord, RecordBatch } from '../../src/protocol/record-batch.js';
import { apiKeyOf, Faults, RequestLog, type FaultHandle, type FaultRule, type LoggedRequest } from './faults.js';
import { BrokerServer } from './server.js';
import { ClusterState, type FakeClusterOptions, type FakeTopic } from './state.js';

export type { FakeClusterOptions, FakeTopic } from './state.js';
export type { FaultRule, FaultHandle, FaultAction, LoggedRequest } from './faults.js';
export { responseFrame } from './server.js';

/** See {@link FakeCluster.onAnswer}. */
export type AnswerListener = (req: LoggedRequest, response: Record<string, unknown> | undefined, ms: number) => void;

/** The fake cluster. */
export class FakeCluster {
  readonly state: ClusterState;
  /** Every request received (bodies of the latest `logLimit`), with counts and rates per API. */
  readonly log: RequestLog;
  private readonly faults = new Faults();
  private readonly servers = new Map<number, BrokerServer>();
  private connections = 0;
  private readonly answerListeners = new Set<AnswerListener>();
  private closed = false;

  private constructor(options: FakeClusterOptions) {
    this.state = new ClusterState(options);
    this.log = new RequestLog(options.logLimit);
  }

  /** Starts every broker and creates `options.topics`. */
  static async start(options: FakeClusterOptions = {}): Promise<FakeCluster> {
    const c = new FakeCluster(options);
    for (const id of c.state.brokerIds) {
      const server = new BrokerServer(id, c.state, c.faults, c.log, () => ++c.connections, (req, res) => {
        for (const f of c.answerListeners) f(req, res, Date.now() - req.at);
      });
      c.servers.set(id, server);
      await server.start(0);
      c.state.ports.set(id, server.port);
      c.state.live.add(id);
    }
    for (const [name, partitions] of Object.entries(options.topics ?? {})) c.state.createTopic(name, partitions);
    c.state.groups.start();
    return c;
  }

  /** `127.0.0.1:port` of every broker that is up: what a client's `bootstrap` takes. */
  get bootstrap(): string[] {
    return this.state.brokerIds.filter((id) => this.state.live.has(id)).map((id) => `127.0.0.1:${this.state.ports.get(id)}`);
  }

  /** Node ids of the brokers. */
  get brokerIds(): readonly number[] {
    return this.state.brokerIds;
  }

  /** Adds a fault rule (tried after those added before it). */
  fault(rule: FaultRule): FaultHandle {
    return this.faults.add(rule);
  }

  /**
   * Calls `listener` with every request the fake answered (or handled without answering: acks=0), its decoded
   * answer and how long it took (long polls and parked joins included). Returns a function that removes it.
   */
  onAnswer(listener: AnswerListener): () => void {
    this.answerListeners.add(listener);
    return () => { this.answerListeners.delete(listener); };
  }

  /** Removes every fault rule. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Creates a topic (as CreateTopics would). */
  createTopic(name: string, partitions: number, replicationFactor?: number): FakeTopic {
    if (this.state.topics.has(name)) throw new Error(`fake cluster: topic ${name} exists`);
    return this.state.createTopic(name, partitions, replicationFactor);
  }

  /** The topic, or throws. */
  topic(name: string): FakeTopic {
    const t = this.state.topics.get(name);
    if (!t) throw new Error(`fake cluster: no topic ${name}`);
    return t;
  }

  /** Leader of a partition. */
  leaderOf(topic: string, partition: number): number {
    return this.partition(topic, partition).leader;
  }

  private partition(topic: string, partition: number) {
    const p = this.state.partition(topic, partition);
    if (!p) throw new Error(`fake cluster: no partition ${topic}-${partition}`);
    return p;
  }

  /**
   * Moves a partition's leadership (to `to`, or the next broker up) and bumps its leader epoch: the old leader
   * answers NOT_LEADER_OR_FOLLOWER from then on. Returns the new leader.
   */
  moveLeader(topic: string, partition: number, to?: number): number {
    const p = this.partition(topic, partition);
    const ids = this.state.brokerIds;
    let next = to;
    if (next === undefined) {
      const at = ids.indexOf(p.leader);
      next = [...ids.slice(at + 1), ...ids.slice(0, at + 1)].find((id) => this.state.live.has(id) && id !== p.leader) ?? p.leader;
    }
    if (!ids.includes(next)) throw new Error(`fake cluster: no broker ${next}`);
    if (!p.replicas.includes(next)) p.replicas = [...p.replicas, next];
    p.leader = next;
    p.bumpEpoch();
    return next;
  }

  /** Makes `broker` the coordinator of a group (or transactional id): the old one answers NOT_COORDINATOR. */
  moveCoordinator(key: string, broker: number): void {
    this.state.coordinators.set(key, broker);
  }

  /** The coordinator of a group now. */
  coordinatorOf(key: string): number {
    return this.state.coordinatorFor(key);
  }

  /**
   * Stops a broker: its listener closes and its connections drop, it leaves Metadata answers, its fetch
   * sessions are gone, and (unless `moveLeaders: false`) its partitions get a new leader, as Kafka's controller
   * would elect one; with `moveLeaders: false` they stay leaderless (LEADER_NOT_AVAILABLE) until it returns.
   */
  async stopBroker(id: number, options: { moveLeaders?: boolean } = {}): Promise<void> {
    const server = this.server(id);
    this.state.live.delete(id);
    this.state.sessions.evict(id);
    await server.stop();
    if (options.moveLeaders !== false) {
      for (const t of this.state.topics.values()) for (const p of t.partitions) if (p.leader === id && this.state.live.size > 0) this.moveLeader(t.name, p.partition);
    }
  }

  /** Starts a stopped broker again on the same port. */
  async startBroker(id: number): Promise<void> {
    const server = this.server(id);
    if (this.state.live.has(id)) return;
    await server.start(this.state.ports.get(id));
    this.state.live.add(id);
  }

  /** Closes every client connection of a broker (or of all) without stopping it. Returns how many. */
  dropConnections(id?: number): number {
    let n = 0;
    for (const [nodeId, s] of this.servers) if (id === undefined || id === nodeId) n += s.dropConnections();
    return n;
  }

  /**
   * Stops reading the client connections of a broker (or of all) until {@link resumeReading}: the kernel's
   * buffers fill and the client's socket reports backpressure.
   */
  pauseReading(id?: number): void {
    for (const [nodeId, s] of this.servers) if (id === undefined || id === nodeId) s.pauseReading(true);
  }

  /** Reads the connections {@link pauseReading} stopped again. */
  resumeReading(id?: number): void {
    for (const [nodeId, s] of this.servers) if (id === undefined || id === nodeId) s.pauseReading(false);
  }

  /** Open client connections to a broker (or to all). */
  connectionCount(id?: number): number {
    let n = 0;
    for (const [nodeId, s] of this.servers) if (id === undefined || id === nodeId) n += s.connections;
    return n;
  }

  /**
   * Requests received and not yet answered (being handled, held by a `delay` fault, or queued behind one: Kafka
   * answers a connection in order), of one API or all, on one broker or all: what clients have in flight.
   */
  pending(api?: string | number, broker?: number): number {
    const key = api === undefined ? undefined : apiKeyOf(api);
    let n = 0;
    for (const [nodeId, s] of this.servers) if (broker === undefined || broker === nodeId) n += s.pending(key);
    return n;
  }

  /** Forgets fetch sessions (of one broker or all), as a broker's session cache evicting them would. */
  evictFetchSessions(broker?: number): number {
    return this.state.sessions.evict(broker);
  }

  /** Forgets idempotent-producer state on every partition (as after the state expired on the broker). */
  forgetProducers(): void {
    for (const t of this.state.topics.values()) for (const p of t.partitions) p.producers.clear();
  }

  /** Log end offset (= high watermark) of a partition. */
  endOffset(topic: string, partition: number): number {
    return this.partition(topic, partition).endOffset;
  }

  /**
   * Appends `values` to a partition as one batch, through its leader over the wire with our own Broker (acks=all),
   * as a test's producer would; throws unless the broker answered without error. Faults apply to it like to any
   * request, so set them after the data a test needs is in.
   */
  async append(topic: string, partition: number, values: string[]): Promise<void> {
    const leader = this.leaderOf(topic, partition);
    const b = new Broker({ host: '127.0.0.1', port: this.state.ports.get(leader)!, nodeId: leader });
    try {
      const res = await b.request(Produce, { transactionalId: null, acks: -1, timeoutMs: 5_000,
        topicData: [{ name: topic, topicId: this.topic(topic).id, partitionData: [{ index: partition, records: encodeRecordBatch(values.map((value) => ({ value }))) }] }] });
      const code = res.responses[0]?.partitionResponses[0]?.errorCode;
      if (code !== 0) throw new Error(`fake cluster: append to ${topic}-${partition} answered error ${code}`);
    } finally {
      b.destroy();
    }
  }

  /**
   * The batches stored in a partition, decoded (producer id, epoch, base sequence, base offset as written; their
   * `records()` for the records), oldest first.
   */
  batches(topic: string, partition: number): RecordBatch[] {
    return this.partition(topic, partition).batches.flatMap((b) => decodeRecordBatches(b.bytes));
  }

  /** The records stored in a partition, decoded (for assertions). */
  records(topic: string, partition: number): KafkaRecord[] {
    const out: KafkaRecord[] = [];
    for (const b of this.partition(topic, partition).batches) for (const batch of decodeRecordBatches(b.bytes)) out.push(...batch.records());
    return out;
  }

  /** The committed offset of a group for a partition (undefined: none). */
  committed(group: string, topic: string, partition: number): number | undefined {
    return this.state.groups.byId.get(group)?.offsets.get(`${topic}:${partition}`)?.offset;
  }

  /** A group's coordinator-side state (members, generation, state name). */
  group(id: string) {
    return this.state.groups.get(id);
  }

  private server(id: number): BrokerServer {
    const s = this.servers.get(id);
    if (!s) throw new Error(`fake cluster: no broker ${id}`);
    return s;
  }

  /** Stops every broker and timer. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.state.groups.stop();
    this.state.live.clear();
    this.state.wakeAll();
    await Promise.all([...this.servers.values()].map((s) => s.stop()));
  }
}
