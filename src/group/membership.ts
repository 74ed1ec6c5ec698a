/**
 * Classic consumer-group membership (the protocol before KIP-848): JoinGroup, SyncGroup, Heartbeat and LeaveGroup,
 * with the error routing of Kafka's Java consumer (AbstractCoordinator / ConsumerCoordinator).
 *
 * One loop drives the rebalances: prepare (eager: revoke everything; a void generation: everything is lost),
 * JoinGroup (KIP-394: a first join without a member id is answered MEMBER_ID_REQUIRED with the id to use), the
 * leader runs the assignor, SyncGroup hands out the assignments, then the listener is told what was revoked
 * (cooperative, KIP-429: only what moved, followed by another rebalance) and what was added. Heartbeats run on
 * their own timer, so slow application code never gets the member expelled; they stop only while a JoinGroup is
 * outstanding (the broker counts a pending join as alive). Static members (KIP-345, `groupInstanceId`) keep their
 * place across restarts: they never send LeaveGroup, and FENCED_INSTANCE_ID (another process took the id) is fatal.
 */
import { InvalidArgumentError, KafkaError } from '../errors.js';
import { Heartbeat } from '../protocol/apis/heartbeat.js';
import { JoinGroup } from '../protocol/apis/join-group.js';
import { LeaveGroup } from '../protocol/apis/leave-group.js';
import { SyncGroup } from '../protocol/apis/sync-group.js';
import { brokerError, errorByCode, errorCodes } from '../protocol/error-codes.js';
import type { ResponseOf } from '../protocol/schema-types.js';
import { Backoff, sleep } from '../client/backoff.js';
import type { Cluster } from '../client/cluster.js';
import { builtInAssignor, rebalanceProtocolOf, type Assignor, type GroupMember, type RebalanceProtocol } from './assignors/index.js';
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, subscriptionVersionFor, type ConsumerProtocolAssignment, type TopicPartitions } from './consumer-protocol.js';
import { isCoordinatorMoved, isFatalGroupError, type GroupCoordinator } from './coordinator.js';

export { isFatalGroupError };
import { keysOf, toTopicPartitions } from './offsets.js';

export { toTopicPartitions };

export interface MembershipOptions {
  groupId: string;
  /** Topics to subscribe to. */
  topics: readonly string[];
  /** Assignors in order of preference; default `range` (Sarama's and dp-kafka's default). */
  assignors?: readonly Assignor[];
  /** Expelled after this long without a heartbeat (dp-kafka's messageConsumeTimeout). Default 10 s. */
  sessionTimeoutMs?: number;
  /** How long the group waits for members to rejoin in a rebalance (Java's max.poll.interval.ms). Default 60 s. */
  rebalanceTimeoutMs?: number;
  /** Default 3 s. */
  heartbeatIntervalMs?: number;
  /** KIP-345 static membership. */
  groupInstanceId?: string | null;
  /** KIP-881: sent in the subscription (v3) for rack-aware assignors. */
  rackId?: string | null;
  retryMinMs?: number;
  retryMaxMs?: number;
  /**
   * How often the leader checks the partition counts of the subscribed topics, and rebalances when one grew (new
   * partitions get an owner without waiting for someone to join), as Java's leader does on metadata updates.
   * Default 30 s; 0 turns it off.
   */
  partitionCheckIntervalMs?: number;
  /**
   * The client's request timeout: what {@link GroupMembership.close} waits for the broker at most by default (a
   * silent coordinator must not hold a close for longer). Default 30 s.
   */
  requestTimeoutMs?: number;
}

/** One generation of the group as this member saw it at SyncGroup. */
export interface Generation {
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  leaderId: string;
  protocolName: string;
  /** KIP-429: what a rebalance does to this member's partitions. */
  rebalanceProtocol: RebalanceProtocol;
  isLeader: boolean;
}

/** What the membership tells its owner (the session layer). Every hook may take its time: heartbeats continue. */
export interface MembershipListener {
  /** Give these up cleanly: finish in-flight work and commit, the generation still accepts commits. */
  revoke(partitions: TopicPartitions[], generation: Generation): Promise<void>;
  /** These are already someone else's (the member was expelled): stop, do not commit. */
  lose(partitions: TopicPartitions[]): Promise<void>;
  /** A rebalance completed: `added` are new to this member, `all` is its whole assignment. */
  assign(added: TopicPartitions[], all: TopicPartitions[], generation: Generation): Promise<void>;
  /** About to send JoinGroup with a still-valid generation: commit what was marked (Java's onJoinPrepare does). */
  beforeJoin?(generation: Generation): Promise<void>;
  /** Problems the membership recovers from by itself (rejoin, retry), for logging. */
  error?(err: unknown): void;
}

type JoinResponse = ResponseOf<typeof JoinGroup>;

/** A member of a classic consumer group. Constructing it does no I/O; {@link start} joins. */
export class GroupMembership {
  readonly groupId: string;
  readonly rebalanceProtocol: RebalanceProtocol;
  private readonly assignors: readonly Assignor[];
  private readonly o: Required<Omit<MembershipOptions, 'assignors' | 'groupInstanceId' | 'rackId'>> & { groupInstanceId: string | null; rackId: string | null };
  memberId = '';
  generationId = -1;
  private leaderId = '';
  private protocolName = '';
  /** The generation between a completed SyncGroup and the next JoinGroup's answer: the one commits may use. */
  private stable: Generation | undefined;
  /** Partitions this member owns now, by tpKey. */
  private owned = new Set<string>();
  private ownedGeneration = -1;
  private rejoinNeeded = true;
  private wake: (() => void) | undefined;
  private readonly stop = new AbortController();
  private closing = false;
  private loopDone: Promise<void> | undefined;
  private hbTimer: NodeJS.Timeout | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  /** Partition counts the leader assigned from (checked by {@link checkPartitionCounts}). */
  private assignedCounts = new Map<string, number>();
  private hbRun = 0;
  private lastHeartbeatOk = 0;
  private joinWaiters: Array<(g: Generation) => void> = [];
  /** Set when the membership ended on a fatal error. */
  fatalError: unknown;

  constructor(private readonly cluster: Cluster, private readonly coordinator: GroupCoordinator, private readonly listener: MembershipListener, options: MembershipOptions) {
    this.groupId = options.groupId;
    this.assignors = options.assignors?.length ? options.assignors : [builtInAssignor('range')];
    this.rebalanceProtocol = rebalanceProtocolOf(this.assignors);
    this.o = {
      groupId: options.groupId, topics: [...options.topics], sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 60_000, heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3_000,
      groupInstanceId: options.groupInstanceId ?? null, rackId: options.rackId ?? null,
      retryMinMs: options.retryMinMs ?? 100, retryMaxMs: options.retryMaxMs ?? 1_000,
      partitionCheckIntervalMs: options.partitionCheckIntervalMs ?? 30_000, requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    };
    const problems: string[] = [];
    if (!options.groupId) problems.push('groupId is empty');
    if (options.topics.length === 0) problems.push('no topics to subscribe to');
    if (this.o.heartbeatIntervalMs >= this.o.sessionTimeoutMs) problems.push('heartbeatIntervalMs must be below sessionTimeoutMs');
    if (problems.length) throw new InvalidArgumentError(problems);
  }

  /** The current generation, once joined. */
  get generation(): Generation | undefined {
    if (this.generationId < 0 || !this.memberId) return undefined;
    return {
      generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.o.groupInstanceId, leaderId: this.leaderId,
      protocolName: this.protocolName, rebalanceProtocol: this.rebalanceProtocol, isLeader: this.leaderId === this.memberId,
    };
  }

  /**
   * The generation commits must carry, or undefined while a rebalance is past its JoinGroup (Java's
   * `generationIfStable`): from SyncGroup's answer until the next JoinGroup's answer.
   */
  get stableGeneration(): Generation | undefined {
    return this.stable;
  }

  /** Partitions this member owns now. */
  get assignment(): TopicPartitions[] {
    return toTopicPartitions(this.owned);
  }

  /** Starts the rebalance loop; the promise settles when the membership ends (rejects on a fatal error). */
  start(): Promise<void> {
    this.loopDone ??= this.loop();
    return this.loopDone;
  }

  /** Resolves at the next completed rebalance. */
  nextGeneration(): Promise<Generation> {
    return new Promise((resolve) => this.joinWaiters.push(resolve));
  }

  /** Asks for a rebalance (Java's `enforceRebalance`, and what errors that void the generation lead to). */
  requestRejoin(reason: string, reset: { generation?: boolean; memberId?: boolean } = {}): void {
    if (reset.generation || reset.memberId) { this.generationId = -1; this.stable = undefined; }
    if (reset.memberId) this.memberId = '';
    if (reset.generation || reset.memberId) this.stopHeartbeat();
    this.rejoinNeeded = true;
    this.rejoinReason = reason;
    this.wake?.();
  }

  private rejoinReason = 'joining';
  /** Set by MEMBER_ID_REQUIRED: the second JoinGroup goes out without a pause (KIP-394). */
  private retryAtOnce = false;

  private async loop(): Promise<void> {
    const backoff = new Backoff({ minRetryPeriod: this.o.retryMinMs, maxRetryPeriod: this.o.retryMaxMs });
    while (!this.closing) {
      if (!this.rejoinNeeded) {
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = undefined;
        continue;
      }
      try {
        if (await this.rebalance()) { backoff.reset(); continue; }
      } catch (err) {
        if (this.closing) break;
        if (isFatalGroupError(err)) {
          this.fatalError = err;
          break;
        }
        this.listener.error?.(err);
      }
      // The round failed (a retriable answer, bytes we could not read, a void generation): whatever the cause, the
      // member must join again, or it would wait for a wake-up that never comes. A pause first, so a broker that
      // keeps answering the same useless thing is not hammered (KIP-394's second join alone goes out at once).
      this.rejoinNeeded = true;
      if (this.retryAtOnce) this.retryAtOnce = false;
      else await sleep(backoff.next(), this.stop.signal).catch(() => undefined);
    }
    if (this.fatalError !== undefined) await this.endFatally(this.fatalError);
  }

  /** A fatal error (from a rebalance or a heartbeat): stop, give up the partitions without committing, and throw. */
  private async endFatally(err: unknown): Promise<never> {
    this.closing = true;
    this.stopHeartbeat();
    const lost = this.assignment;
    this.owned.clear();
    if (lost.length > 0) await this.listener.lose(lost).catch(() => undefined);
    throw err;
  }

  /** One attempt at a whole rebalance; false when it must start over (a retriable answer along the way). */
  private async rebalance(): Promise<boolean> {
    await this.prepareJoin();
    if (this.closing) return false;
    const joined = await this.joinGroup();
    if (!joined || this.closing) return false;
    const assignment = await this.syncGroup(joined);
    if (!assignment || this.closing) return false;
    await this.completeRebalance(assignment);
    return true;
  }

  /** Java's onJoinPrepare: eager members give everything up; a void generation loses what it had. */
  private async prepareJoin(): Promise<void> {
    const gen = this.generation;
    if (gen && this.stable) await this.listener.beforeJoin?.(gen).catch((err: unknown) => this.listener.error?.(err));
    if (this.owned.size === 0) return;
    if (!gen) {
      const lost = this.assignment;
      this.owned.clear();
      await this.listener.lose(lost);
    } else if (this.rebalanceProtocol === 'eager') {
      await this.listener.revoke(this.assignment, gen);
      this.owned.clear();
    }
  }

  private subscriptionFor(assignor: Assignor): Buffer {
    return encodeSubscription({
      topics: this.o.topics, userData: assignor.subscriptionUserData?.(this.o.topics) ?? null,
      ownedPartitions: this.assignment, generationId: this.ownedGeneration, rackId: this.o.rackId,
    }, subscriptionVersionFor(assignor.name));
  }

  /** JoinGroup until accepted; null when the loop should start over (after resetting what the error voids). */
  private async joinGroup(): Promise<JoinResponse | null> {
    this.stopHeartbeat(); // the broker counts a pending JoinGroup as liveness
    this.stable = undefined; // commits sent now would queue behind JoinGroup and reach the next generation
    this.rejoinNeeded = false;
    const body = {
      groupId: this.groupId, sessionTimeoutMs: this.o.sessionTimeoutMs, rebalanceTimeoutMs: this.o.rebalanceTimeoutMs,
      memberId: this.memberId, groupInstanceId: this.o.groupInstanceId, protocolType: CONSUMER_PROTOCOL_TYPE,
      protocols: this.assignors.map((a) => ({ name: a.name, metadata: this.subscriptionFor(a) })), reason: this.rejoinReason,
    };
    const res = await this.coordinator.call(async (broker) => {
      const r = await broker.request(JoinGroup, body, { timeoutMs: this.o.rebalanceTimeoutMs + 5_000 });
      if (r.errorCode !== 0 && (errorByCode(r.errorCode).findCoordinator || r.errorCode === errorCodes.COORDINATOR_LOAD_IN_PROGRESS)) {
        throw brokerError(r.errorCode, { api: 'JoinGroup', groupId: this.groupId });
      }
      return r;
    }, { signal: this.stop.signal });
    switch (res.errorCode) {
      case 0:
        if (res.generationId < 0 || !res.memberId) {
          // A broker (or something posing as one) that accepted the join without a generation: nothing to sync.
          throw new KafkaError(`JoinGroup answered generation ${res.generationId} and member id '${res.memberId}' without an error; rejoining`,
            'ERR_KAFKA_GROUP_PROTOCOL', { retriable: true });
        }
        this.memberId = res.memberId;
        this.generationId = res.generationId;
        this.leaderId = res.leader;
        this.protocolName = res.protocolName ?? '';
        return res;
      case errorCodes.MEMBER_ID_REQUIRED: // KIP-394: join again at once, with the id the broker chose
        this.memberId = res.memberId;
        this.rejoinNeeded = true;
        this.retryAtOnce = true;
        return null;
      case errorCodes.UNKNOWN_MEMBER_ID:
        this.requestRejoin('unknown member id', { memberId: true });
        return null;
      case errorCodes.ILLEGAL_GENERATION:
        this.requestRejoin('illegal generation', { generation: true });
        return null;
      case errorCodes.REBALANCE_IN_PROGRESS:
        this.requestRejoin('rebalance in progress');
        return null;
      default:
        this.rejoinNeeded = true;
        throw brokerError(res.errorCode, { api: 'JoinGroup', groupId: this.groupId });
    }
  }

  /** The leader's part: decode every member's subscription, run the chosen assignor, encode the result. */
  private async computeAssignments(joined: JoinResponse): Promise<{ memberId: string; assignment: Buffer }[]> {
    if (joined.leader !== joined.memberId || joined.skipAssignment) return [];
    const assignor = this.assignors.find((a) => a.name === joined.protocolName);
    if (!assignor) throw new InvalidArgumentError(`the group chose assignor ${joined.protocolName}, which this member does not have`);
    const members: GroupMember[] = joined.members.map((m) => {
      const s = decodeSubscription(m.metadata);
      return { memberId: m.memberId, groupInstanceId: m.groupInstanceId, subscription: s };
    });
    const counts = new Map<string, number>();
    const topics = new Set(members.flatMap((m) => m.subscription.topics));
    await Promise.all([...topics].map(async (t) => {
      try {
        counts.set(t, (await this.cluster.topic(t)).partitions.length);
      } catch (err) {
        this.listener.error?.(err); // an unknown topic is left out, as Java does
      }
    }));
    this.assignedCounts = counts;
    const result = assignor.assign(members, counts);
    return [...result].map(([memberId, partitions]) => ({ memberId, assignment: encodeAssignment({ assignedPartitions: partitions }) }));
  }

  /** SyncGroup; null when the loop should rejoin. Coordinator errors void this round: rejoin on the new one. */
  private async syncGroup(joined: JoinResponse): Promise<ConsumerProtocolAssignment | null> {
    const assignments = await this.computeAssignments(joined);
    const broker = await this.coordinator.broker(this.stop.signal);
    let res: ResponseOf<typeof SyncGroup>;
    try {
      res = await broker.request(SyncGroup, {
        groupId: this.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.o.groupInstanceId,
        protocolType: CONSUMER_PROTOCOL_TYPE, protocolName: this.protocolName, assignments,
      }, { timeoutMs: this.o.rebalanceTimeoutMs + 5_000 });
    } catch (err) {
      if (!isCoordinatorMoved(err)) throw err;
      this.coordinator.markUnknown();
      this.requestRejoin('coordinator lost during SyncGroup');
      return null;
    }
    if (res.errorCode === 0) return this.generation ? decodeAssignment(res.assignment) : null; // reset meanwhile: void
    if (errorByCode(res.errorCode).findCoordinator) this.coordinator.markUnknown();
    switch (res.errorCode) {
      case errorCodes.UNKNOWN_MEMBER_ID: this.requestRejoin('unknown member id', { memberId: true }); return null;
      case errorCodes.ILLEGAL_GENERATION: this.requestRejoin('illegal generation', { generation: true }); return null;
      case errorCodes.REBALANCE_IN_PROGRESS: this.requestRejoin('rebalance in progress'); return null;
      default:
        if (isFatalGroupError(brokerError(res.errorCode))) throw brokerError(res.errorCode, { api: 'SyncGroup', groupId: this.groupId });
        this.requestRejoin(`SyncGroup: ${errorByCode(res.errorCode).name}`);
        if (errorByCode(res.errorCode).findCoordinator || res.errorCode === errorCodes.COORDINATOR_LOAD_IN_PROGRESS) return null;
        throw brokerError(res.errorCode, { api: 'SyncGroup', groupId: this.groupId });
    }
  }

  /** Java's onJoinComplete: heartbeats resume, then revoked partitions are released and new ones handed over. */
  private async completeRebalance(assignment: ConsumerProtocolAssignment): Promise<void> {
    const gen = this.generation!;
    this.stable = gen;
    this.startHeartbeat();
    const assignor = this.assignors.find((a) => a.name === this.protocolName);
    assignor?.onAssignment?.(assignment, this.generationId);
    const assigned = keysOf(assignment.assignedPartitions);
    const revoked = [...this.owned].filter((k) => !assigned.has(k));
    const added = [...assigned].filter((k) => !this.owned.has(k));
    if (revoked.length > 0) {
      // KIP-429: give them up now, then rebalance again so the group can hand them to their new owner.
      await this.listener.revoke(toTopicPartitions(revoked), gen);
      for (const k of revoked) this.owned.delete(k);
      this.requestRejoin('partitions revoked');
    }
    for (const k of added) this.owned.add(k);
    this.ownedGeneration = this.generationId;
    const waiters = this.joinWaiters.splice(0);
    try {
      await this.listener.assign(toTopicPartitions(added), toTopicPartitions(assigned), gen);
    } catch (err) {
      // Nobody reads the new partitions (their start offsets could not be fetched, say): hand them back.
      for (const k of added) this.owned.delete(k);
      this.requestRejoin('the assignment could not be taken up');
      throw err;
    }
    for (const w of waiters) w(gen);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const run = this.hbRun;
    this.lastHeartbeatOk = Date.now();
    const schedule = (ms: number): void => {
      if (run !== this.hbRun) return;
      this.hbTimer = setTimeout(() => void this.heartbeat(run).then(schedule), ms);
    };
    schedule(this.o.heartbeatIntervalMs);
    if (this.leaderId === this.memberId && this.o.partitionCheckIntervalMs > 0 && this.assignedCounts.size > 0) {
      const check = (): void => {
        this.checkTimer = setTimeout(() => void this.checkPartitionCounts(run).then(() => { if (run === this.hbRun) check(); }), this.o.partitionCheckIntervalMs);
        this.checkTimer.unref?.();
      };
      check();
    }
  }

  /** The leader's watch over the topics it assigned: a partition count that changed calls for a rebalance. */
  private async checkPartitionCounts(run: number): Promise<void> {
    for (const [topic, n] of this.assignedCounts) {
      this.cluster.invalidate(topic);
      const now = await this.cluster.topic(topic).then((t) => t.partitions.length, () => n);
      if (run !== this.hbRun) return;
      if (now !== n) {
        this.requestRejoin(`topic ${topic} now has ${now} partitions (was ${n})`);
        return;
      }
    }
  }

  private stopHeartbeat(): void {
    this.hbRun++;
    clearTimeout(this.hbTimer);
    clearTimeout(this.checkTimer);
    this.hbTimer = undefined;
    this.checkTimer = undefined;
  }

  /** One heartbeat; returns the pause before the next. */
  private async heartbeat(run: number): Promise<number> {
    const next = this.o.heartbeatIntervalMs;
    try {
      const broker = await this.coordinator.broker(this.stop.signal);
      const res = await broker.request(Heartbeat, {
        groupId: this.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.o.groupInstanceId,
      }, { timeoutMs: this.o.sessionTimeoutMs });
      if (run !== this.hbRun) return next;
      return this.onHeartbeat(res.errorCode);
    } catch (err) {
      if (run !== this.hbRun || this.closing) return next;
      this.listener.error?.(err);
      if (isCoordinatorMoved(err)) this.coordinator.markUnknown();
      this.checkSessionExpiry();
      return this.o.retryMinMs;
    }
  }

  private onHeartbeat(code: number): number {
    switch (code) {
      case 0:
        this.lastHeartbeatOk = Date.now();
        return this.o.heartbeatIntervalMs;
      case errorCodes.REBALANCE_IN_PROGRESS: // keep beating (cooperative members keep consuming) until we rejoin
        this.lastHeartbeatOk = Date.now();
        this.requestRejoin('rebalance in progress');
        return this.o.heartbeatIntervalMs;
      case errorCodes.ILLEGAL_GENERATION: this.requestRejoin('illegal generation', { generation: true }); return this.o.heartbeatIntervalMs;
      case errorCodes.UNKNOWN_MEMBER_ID: this.requestRejoin('unknown member id', { memberId: true }); return this.o.heartbeatIntervalMs;
      case errorCodes.COORDINATOR_LOAD_IN_PROGRESS: return this.o.retryMinMs;
      default: {
        const err = brokerError(code, { api: 'Heartbeat', groupId: this.groupId });
        if (isFatalGroupError(err)) {
          this.fatalError = err;
          this.listener.error?.(err);
          this.requestRejoin('fatal heartbeat error', { generation: true });
          this.closing = true;
          return this.o.heartbeatIntervalMs;
        }
        if (errorByCode(code).findCoordinator) this.coordinator.markUnknown();
        this.listener.error?.(err);
        this.checkSessionExpiry();
        return this.o.retryMinMs;
      }
    }
  }

  /** No heartbeat got through for a whole session: the broker has most likely expelled us; find the coordinator anew. */
  private checkSessionExpiry(): void {
    if (Date.now() - this.lastHeartbeatOk > this.o.sessionTimeoutMs) this.coordinator.markUnknown();
  }

  /**
   * Leaves the group gracefully: owned partitions are revoked (the listener commits), then a dynamic member sends
   * LeaveGroup so the group rebalances at once instead of after the session timeout. Static members do not leave
   * (KIP-345): their partitions wait for them for a session timeout. Idempotent.
   */
  async close(options: { timeoutMs?: number; reason?: string } = {}): Promise<void> {
    if (this.stop.signal.aborted) return;
    const deadline = Date.now() + (options.timeoutMs ?? this.o.requestTimeoutMs);
    this.closing = true;
    this.wake?.();
    this.stop.abort(new KafkaError('the group membership is closing', 'ERR_KAFKA_CLOSED'));
    await raceDeadline(this.loopDone?.catch(() => undefined), deadline);
    const gen = this.generation;
    const owned = this.assignment;
    this.owned.clear();
    if (owned.length > 0) await raceDeadline((gen ? this.listener.revoke(owned, gen) : this.listener.lose(owned)).catch((err: unknown) => this.listener.error?.(err)), deadline);
    this.stopHeartbeat();
    if (this.memberId && this.o.groupInstanceId === null && this.fatalError === undefined) {
      await raceDeadline(this.leave(options.reason ?? 'the consumer is closing', deadline).catch((err: unknown) => this.listener.error?.(err)), deadline);
    }
    this.generationId = -1;
    this.stable = undefined;
  }

  private async leave(reason: string, deadline: number): Promise<void> {
    const broker = await this.coordinator.broker();
    const res = await broker.request(LeaveGroup, {
      groupId: this.groupId, memberId: this.memberId,
      members: [{ memberId: this.memberId, groupInstanceId: this.o.groupInstanceId, reason }],
    }, { timeoutMs: Math.max(1, deadline - Date.now()) });
    const code = res.errorCode || res.members.find((m) => m.errorCode !== 0)?.errorCode || 0;
    if (code !== 0 && code !== errorCodes.UNKNOWN_MEMBER_ID) throw brokerError(code, { api: 'LeaveGroup', groupId: this.groupId });
    this.memberId = '';
  }

  /** Stops at once without revoking or leaving (the group notices after the session timeout). For crashes and tests. */
  destroy(): void {
    this.closing = true;
    this.stopHeartbeat();
    this.wake?.();
    if (!this.stop.signal.aborted) this.stop.abort(new KafkaError('the group membership was destroyed', 'ERR_KAFKA_CLOSED'));
  }
}

/** Waits for `p` until `deadline` (epoch ms) at most. */
export async function raceDeadline(p: Promise<unknown> | undefined, deadline: number): Promise<void> {
  if (!p) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.max(0, deadline - Date.now())); })]);
  clearTimeout(timer);
}
