/**
 * KIP-848 consumer-group membership (`groupProtocol: 'consumer'`): one API, ConsumerGroupHeartbeat, carries
 * joining, liveness, the subscription and the assignment; the broker runs the assignor (`uniform` or `range`).
 *
 * The member joins with epoch 0 and a member id of its own (v1, KIP-1082), then heartbeats at the interval the
 * broker gives. An answer may carry the member's whole new assignment (topic ids); the member reconciles it
 * incrementally: partitions no longer in it are revoked (their marks committed) first, then the new ones are
 * handed over, and the next heartbeat, sent at once, reports what it owns so the broker can give the revoked
 * partitions to their new owner and move this member to its new epoch. Only one reconciliation runs at a time;
 * an assignment that arrives meanwhile is taken up when it ends. Heartbeats never wait for a reconciliation, so
 * slow handlers do not get the member expelled.
 *
 * Errors (KIP-848): FENCED_MEMBER_EPOCH and UNKNOWN_MEMBER_ID mean the broker gave our partitions away: they are
 * lost (no commit), then the member rejoins with epoch 0 under the same id. UNRELEASED_INSTANCE_ID (a static id
 * still held by a member that has not left), GROUP_MAX_SIZE_REACHED, UNSUPPORTED_ASSIGNOR, INVALID_REQUEST and
 * the authorisation errors end the membership (the session layer above retries it with its backoff). Coordinator
 * errors look the coordinator up again; everything else is retried with the backoff and reported.
 *
 * Leaving: epoch -1, or -2 for a static member (KIP-345's "I will be back": its partitions wait for it for the
 * broker's session timeout). Commits carry the member epoch as their generation (OffsetCommit v9+).
 * The session layer sees what it sees under the classic protocol: revoke / lose / assign with a
 * {@link Generation} (generationId = member epoch, rebalance protocol `cooperative`).
 */
import { randomBase64url } from '../runtime/builtins.js';
import { BrokerError, InvalidArgumentError, KafkaError, UnsupportedVersionError } from '../errors.js';
import { ConsumerGroupHeartbeat } from '../protocol/apis/consumer-group-heartbeat.js';
import { brokerError, errorByCode, errorCodes } from '../protocol/error-codes.js';
import type { ResponseOf } from '../protocol/schema-types.js';
import { Backoff, sleep } from '../client/backoff.js';
import type { Cluster } from '../client/cluster.js';
import type { TopicPartitions } from './consumer-protocol.js';
import { isCoordinatorMoved, isFatalGroupError, type GroupCoordinator } from './coordinator.js';
import { raceDeadline, type Generation, type MembershipListener } from './membership.js';
import { keysOf, splitKey, toTopicPartitions, tpKey } from './offsets.js';

/** The group protocols a ConsumerGroup may speak: `classic` (JoinGroup/SyncGroup) or `consumer` (KIP-848). */
export const GROUP_PROTOCOLS = ['classic', 'consumer'] as const;
export type GroupProtocol = (typeof GROUP_PROTOCOLS)[number];
/** The broker's server-side assignors (Kafka's `group.consumer.assignors`): uniform (the default) and range. */
export const REMOTE_ASSIGNORS = ['uniform', 'range'] as const;
export type RemoteAssignorName = (typeof REMOTE_ASSIGNORS)[number];

/** Member epochs with a meaning of their own in a heartbeat (KIP-848). */
const JOIN_EPOCH = 0;
const LEAVE_EPOCH = -1;
const STATIC_LEAVE_EPOCH = -2;

/** Answers that end the membership besides the classic ones (the broker says the request can never succeed). */
const FATAL_848 = new Set<number>([errorCodes.UNSUPPORTED_ASSIGNOR, errorCodes.INVALID_REQUEST, errorCodes.INVALID_REGULAR_EXPRESSION]);

export interface ConsumerMembershipOptions {
  groupId: string;
  topics: readonly string[];
  /** KIP-345 static membership. */
  groupInstanceId?: string | null;
  rackId?: string | null;
  /** The server-side assignor to ask for; null: the broker's default (uniform). */
  serverAssignor?: RemoteAssignorName | null;
  /** How long the broker waits for this member to revoke partitions. Default 60 s. */
  rebalanceTimeoutMs?: number;
  /**
   * The member's own bound on silence: no heartbeat answered for this long and the coordinator is looked up
   * again (the broker's session timeout, `group.consumer.session.timeout.ms`, is the broker's). Default 10 s.
   */
  sessionTimeoutMs?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /** What {@link ConsumerGroupMembership.close} waits for at most by default, and one heartbeat's timeout. Default 30 s. */
  requestTimeoutMs?: number;
}

type HeartbeatResponse = ResponseOf<typeof ConsumerGroupHeartbeat>;

/** A member of a KIP-848 consumer group. Constructing it does no I/O; {@link start} joins. */
export class ConsumerGroupMembership {
  readonly groupId: string;
  readonly rebalanceProtocol = 'cooperative' as const;
  private readonly o: Required<Omit<ConsumerMembershipOptions, 'groupInstanceId' | 'rackId' | 'serverAssignor'>> &
    { groupInstanceId: string | null; rackId: string | null; serverAssignor: string | null };
  /** Chosen by the member (v1); v0 brokers choose it and answer it. */
  memberId = '';
  memberEpoch = JOIN_EPOCH;
  /** The ConsumerGroupHeartbeat version last used. */
  private version = -1;
  /** The broker's heartbeat interval, from its last answer. */
  heartbeatIntervalMs = 5_000;
  /** Partitions this member owns now (handed to the listener and not revoked), by tpKey. */
  private owned = new Set<string>();
  /** The last assignment the broker sent (tpKeys), still to be reconciled when it differs from `owned`. */
  private target: Set<string> | undefined;
  /** The broker's latest assignment, by topic id, not yet named (topic ids to names). */
  private pendingIds: { topicId: string; partitions: number[] }[] | undefined;
  /** An assignment with topic ids our metadata could not name: its named part is taken up, the rest tried again at the next answer. */
  private unnamed: { topicId: string; partitions: number[] }[] | undefined;
  private reconciling: Promise<void> | undefined;
  /** A fenced member releasing its partitions (the next join waits for it). */
  private releasing: Promise<void> | undefined;
  /** Bumped when the member is fenced: a reconciliation of an older run stops at its next step. */
  private run = 0;
  private readonly stop = new AbortController();
  private closing = false;
  private loopDone: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private beatSoon = true;
  private lastHeartbeatOk = Date.now();
  private joinWaiters: Array<(g: Generation) => void> = [];
  private readonly ids = new Map<string, string>();
  private readonly names = new Map<string, string>();
  /** Set when the membership ended on a fatal error. */
  fatalError: unknown;

  constructor(private readonly cluster: Cluster, private readonly coordinator: GroupCoordinator, private readonly listener: MembershipListener,
    options: ConsumerMembershipOptions) {
    this.groupId = options.groupId;
    this.o = {
      groupId: options.groupId, topics: [...options.topics], groupInstanceId: options.groupInstanceId ?? null, rackId: options.rackId ?? null,
      serverAssignor: options.serverAssignor ?? null, rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 60_000,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000, retryMinMs: options.retryMinMs ?? 100, retryMaxMs: options.retryMaxMs ?? 1_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    };
    const problems: string[] = [];
    if (!options.groupId) problems.push('groupId is empty');
    if (options.topics.length === 0) problems.push('no topics to subscribe to');
    if (this.o.serverAssignor !== null && !(REMOTE_ASSIGNORS as readonly string[]).includes(this.o.serverAssignor)) {
      problems.push(`serverAssignor must be one of ${REMOTE_ASSIGNORS.join(', ')}`);
    }
    if (problems.length) throw new InvalidArgumentError(problems);
  }

  /** The member's identity as the session layer sees it; undefined until the broker gave it an epoch. */
  get generation(): Generation | undefined {
    if (this.memberEpoch <= 0 || !this.memberId) return undefined;
    return {
      generationId: this.memberEpoch, memberId: this.memberId, groupInstanceId: this.o.groupInstanceId, leaderId: '',
      protocolName: this.o.serverAssignor ?? 'uniform', rebalanceProtocol: 'cooperative', isLeader: false,
    };
  }

  /** What commits carry: the current member epoch (the broker refuses an older one as STALE_MEMBER_EPOCH). */
  get stableGeneration(): Generation | undefined {
    return this.generation;
  }

  /** Partitions this member owns now. */
  get assignment(): TopicPartitions[] {
    return toTopicPartitions(this.owned);
  }

  /** Starts heartbeating; the promise settles when the membership ends (rejects on a fatal error). */
  start(): Promise<void> {
    this.loopDone ??= this.loop();
    return this.loopDone;
  }

  /** Resolves at the next reconciled assignment. */
  nextGeneration(): Promise<Generation> {
    return new Promise((resolve) => this.joinWaiters.push(resolve));
  }

  /**
   * What a refused commit asks for: with `memberId` or `generation` reset (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION)
   * the member is fenced and rejoins; otherwise a heartbeat goes out at once to learn the current epoch.
   */
  requestRejoin(reason: string, reset: { generation?: boolean; memberId?: boolean } = {}): void {
    if ((reset.generation || reset.memberId) && this.memberEpoch > 0) void this.fence(reason);
    else this.beatNow();
  }

  private beatNow(): void {
    this.beatSoon = true;
    this.wake?.();
  }

  /** The heartbeat loop: one request at a time, at the broker's interval or at once when something changed. */
  private async loop(): Promise<void> {
    const backoff = new Backoff({ minRetryPeriod: this.o.retryMinMs, maxRetryPeriod: this.o.retryMaxMs });
    while (!this.closing) {
      if (!this.beatSoon) await this.pause(this.heartbeatIntervalMs, true);
      if (this.closing) break;
      this.beatSoon = false;
      if (this.releasing) await this.releasing; // a fenced member rejoins only once its partitions are released
      if (this.closing) break;
      let ok = false;
      try {
        ok = await this.heartbeat();
      } catch (err) {
        if (this.closing) break;
        if (isFatalConsumerProtocolError(err)) { this.fatalError = err; break; }
        this.listener.error?.(err);
        if (isCoordinatorMoved(err)) this.coordinator.markUnknown();
      }
      if (ok) { backoff.reset(); continue; }
      this.checkSessionExpiry();
      // A failed round (an error answer, no answer, a fence): the next heartbeat waits for the backoff, which a
      // wake-up does not cut short, so a broker that keeps answering the same thing is not hammered.
      await this.pause(backoff.next(), false);
      this.beatSoon = true;
    }
    if (this.fatalError !== undefined) await this.endFatally(this.fatalError);
  }

  /** Waits `ms`; a wake-up (an assignment to acknowledge, a rejoin) ends it early when `wakeable`, close always. */
  private async pause(ms: number, wakeable: boolean): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wake = () => { if (wakeable || this.closing) resolve(); };
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.wake = undefined;
  }

  /** No heartbeat got through for a whole session: the coordinator may have moved; look it up again. */
  private checkSessionExpiry(): void {
    if (Date.now() - this.lastHeartbeatOk > this.o.sessionTimeoutMs) this.coordinator.markUnknown();
  }

  /** One heartbeat and what its answer says; false when the next one should wait for the backoff. */
  private async heartbeat(epoch = this.memberEpoch, timeoutMs = this.o.requestTimeoutMs): Promise<boolean> {
    const broker = await this.coordinator.broker(this.stop.signal);
    let version: number;
    try {
      version = await broker.versionFor(ConsumerGroupHeartbeat);
    } catch (err) {
      if (!(err instanceof UnsupportedVersionError)) throw err;
      throw new UnsupportedVersionError(`the broker does not speak ConsumerGroupHeartbeat (KIP-848): use groupProtocol 'classic' with it (${err.message})`);
    }
    this.version = version;
    if (version >= 1 && !this.memberId) this.memberId = randomBase64url(16); // KIP-1082
    const leaving = epoch < 0;
    const owned = leaving ? null : await this.ownedForRequest();
    const sentEpoch = this.memberEpoch;
    const res = await broker.request(ConsumerGroupHeartbeat, {
      groupId: this.groupId, memberId: this.memberId, memberEpoch: epoch, instanceId: this.o.groupInstanceId, rackId: this.o.rackId,
      rebalanceTimeoutMs: leaving ? -1 : this.o.rebalanceTimeoutMs, subscribedTopicNames: leaving ? null : this.o.topics,
      subscribedTopicRegex: null, serverAssignor: leaving ? null : this.o.serverAssignor, topicPartitions: owned,
    }, { version, timeoutMs });
    if (leaving) return this.onLeaveAnswer(res);
    if (sentEpoch !== this.memberEpoch) return true; // fenced (or closed) while it was on its way: its answer is void
    return this.onAnswer(res);
  }

  private onAnswer(res: HeartbeatResponse): boolean {
    const code = res.errorCode;
    if (code === 0) {
      this.lastHeartbeatOk = Date.now();
      if (res.memberId) this.memberId = res.memberId;
      if (res.heartbeatIntervalMs > 0) this.heartbeatIntervalMs = res.heartbeatIntervalMs;
      this.memberEpoch = res.memberEpoch;
      if (res.assignment !== null) this.setTarget(res.assignment.topicPartitions);
      else if (this.unnamed) { this.pendingIds = this.unnamed; this.beginReconcile(); }
      return true;
    }
    const err = brokerError(code, { api: 'ConsumerGroupHeartbeat', groupId: this.groupId, brokerMessage: res.errorMessage ?? undefined });
    switch (code) {
      case errorCodes.FENCED_MEMBER_EPOCH:
      case errorCodes.UNKNOWN_MEMBER_ID:
        if (this.version === 0 && code === errorCodes.UNKNOWN_MEMBER_ID) this.memberId = ''; // v0: the broker names members
        this.listener.error?.(err);
        void this.fence(errorByCode(code).name);
        return false;
      case errorCodes.COORDINATOR_LOAD_IN_PROGRESS:
        return false;
      default:
        if (isFatalGroupError(err) || FATAL_848.has(code)) throw err;
        if (errorByCode(code).findCoordinator) this.coordinator.markUnknown();
        this.listener.error?.(err);
        return false;
    }
  }

  private onLeaveAnswer(res: HeartbeatResponse): boolean {
    if (res.errorCode !== 0 && res.errorCode !== errorCodes.UNKNOWN_MEMBER_ID && res.errorCode !== errorCodes.FENCED_MEMBER_EPOCH) {
      throw brokerError(res.errorCode, { api: 'ConsumerGroupHeartbeat', groupId: this.groupId, brokerMessage: res.errorMessage ?? undefined });
    }
    return true;
  }

  /**
   * The partitions this member owns, by topic id, as every heartbeat reports them (the broker moves the member
   * to its next epoch once they no longer include what it must revoke, and recognises an answer that was lost).
   */
  private async ownedForRequest(): Promise<{ topicId: string; partitions: number[] }[]> {
    const out: { topicId: string; partitions: number[] }[] = [];
    for (const tp of toTopicPartitions(this.owned)) {
      const id = this.ids.get(tp.topic) ?? (await this.learnTopic(tp.topic));
      if (id) out.push({ topicId: id, partitions: tp.partitions });
    }
    return out;
  }

  /** The id of a topic from metadata (empty when unknown). */
  private async learnTopic(topic: string): Promise<string> {
    try {
      const meta = await this.cluster.topic(topic, { allowLeaderless: true });
      this.ids.set(topic, meta.topicId);
      this.names.set(meta.topicId, topic);
      return meta.topicId;
    } catch (err) {
      this.listener.error?.(err);
      return '';
    }
  }

  /** The names of assigned topic ids: ours are looked up once; an unknown id refreshes the metadata of our topics. */
  private async nameTopics(ids: readonly string[]): Promise<boolean> {
    if (ids.every((id) => this.names.has(id))) return true;
    for (const t of this.o.topics) this.cluster.invalidate(t);
    await Promise.all(this.o.topics.map((t) => this.learnTopic(t)));
    return ids.every((id) => this.names.has(id));
  }

  /** The broker's new assignment (its whole target, by topic id): reconciled in the background. */
  private setTarget(topicPartitions: readonly { topicId: string; partitions: number[] }[]): void {
    this.pendingIds = topicPartitions.map((tp) => ({ topicId: tp.topicId, partitions: [...tp.partitions] }));
    this.unnamed = undefined;
    this.beginReconcile();
  }

  private beginReconcile(): void {
    if (this.reconciling) return; // the running one takes up the newest target before it ends
    const run = this.run;
    this.reconciling = this.reconcile(run).catch((err: unknown) => this.listener.error?.(err)).finally(() => { this.reconciling = undefined; });
  }

  /** Revokes, then assigns, until what the member owns is the broker's latest target (or the member was fenced). */
  private async reconcile(run: number): Promise<void> {
    for (;;) {
      if (run !== this.run || this.closing) return;
      const ids = this.pendingIds;
      if (ids) {
        this.pendingIds = undefined;
        const allNamed = await this.nameTopics(ids.map((t) => t.topicId));
        if (run !== this.run) return;
        if (!allNamed) {
          this.listener.error?.(new KafkaError(`group ${this.groupId}: assigned topic ids unknown to our metadata; the rest is taken up, those are tried again`,
            'ERR_KAFKA_UNKNOWN_TOPIC_ID', { retriable: true }));
        }
        this.unnamed = allNamed ? undefined : ids;
        const named: TopicPartitions[] = [];
        for (const t of ids) {
          const topic = this.names.get(t.topicId);
          if (topic !== undefined) named.push({ topic, partitions: t.partitions });
        }
        this.target = keysOf(named);
        if (this.pendingIds) continue; // a newer assignment came while naming this one
      }
      const target = this.target;
      const gen = this.generation;
      if (!target || !gen) return;
      const revoked = [...this.owned].filter((k) => !target.has(k));
      const added = [...target].filter((k) => !this.owned.has(k));
      if (revoked.length === 0 && added.length === 0) return;
      if (revoked.length > 0) {
        await this.listener.revoke(toTopicPartitions(revoked), gen);
        if (run !== this.run) return;
        for (const k of revoked) this.owned.delete(k);
      }
      for (const k of added) this.owned.add(k);
      const now = this.generation ?? gen;
      const waiters = this.joinWaiters.splice(0);
      try {
        await this.listener.assign(toTopicPartitions(added), this.assignment, now);
      } catch (err) {
        for (const k of added) this.owned.delete(k); // nobody reads them: the next heartbeat says they are not ours
        this.listener.error?.(err);
      }
      for (const w of waiters) w(now);
      this.beatNow(); // acknowledge: the broker learns what we own now
    }
  }

  /**
   * FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID: the broker has given our partitions away. They are lost (no commit:
   * their new owner may already read them), then the member joins again with epoch 0 and the same member id.
   */
  private fence(reason: string): Promise<void> {
    if (this.memberEpoch === JOIN_EPOCH && this.owned.size === 0) return Promise.resolve(); // nothing to release: the loop's backoff rejoins
    this.run++;
    this.memberEpoch = JOIN_EPOCH;
    this.target = undefined;
    this.pendingIds = undefined;
    this.unnamed = undefined;
    const releasing = (async () => {
      await this.reconciling;
      const lost = this.assignment;
      this.owned.clear();
      if (lost.length > 0) await this.listener.lose(lost).catch((err: unknown) => this.listener.error?.(err));
      if (this.closing) return;
      this.listener.error?.(new KafkaError(`group ${this.groupId}: member fenced (${reason}); its partitions were released and it joins again`,
        'ERR_KAFKA_MEMBER_FENCED', { retriable: true }));
      this.beatNow();
    })().finally(() => { if (this.releasing === releasing) this.releasing = undefined; });
    this.releasing = releasing;
    return releasing;
  }

  /** A fatal error: stop, give up the partitions without committing, and throw. */
  private async endFatally(err: unknown): Promise<never> {
    this.closing = true;
    this.run++;
    await this.reconciling;
    const lost = this.assignment;
    this.owned.clear();
    if (lost.length > 0) await this.listener.lose(lost).catch(() => undefined);
    throw err;
  }

  /**
   * Leaves gracefully: owned partitions are revoked (the listener commits them), then a heartbeat with epoch -1
   * (-2 for a static member, whose partitions then wait for it) tells the broker at once. Bounded by
   * `timeoutMs` (default the request timeout). Idempotent.
   */
  async close(options: { timeoutMs?: number; reason?: string } = {}): Promise<void> {
    if (this.stop.signal.aborted) return;
    const deadline = Date.now() + (options.timeoutMs ?? this.o.requestTimeoutMs);
    this.closing = true;
    this.wake?.();
    await raceDeadline(this.loopDone?.catch(() => undefined), deadline);
    await raceDeadline(this.reconciling, deadline);
    const gen = this.generation;
    const owned = this.assignment;
    this.owned.clear();
    if (owned.length > 0) await raceDeadline((gen ? this.listener.revoke(owned, gen) : this.listener.lose(owned)).catch((err: unknown) => this.listener.error?.(err)), deadline);
    if (this.memberId && this.memberEpoch > 0 && this.fatalError === undefined && Date.now() < deadline) {
      const epoch = this.o.groupInstanceId === null ? LEAVE_EPOCH : STATIC_LEAVE_EPOCH;
      await raceDeadline(this.heartbeat(epoch, Math.max(1, deadline - Date.now())).catch((err: unknown) => this.listener.error?.(err)), deadline);
    }
    this.memberEpoch = JOIN_EPOCH;
    this.stop.abort(new KafkaError('the group membership is closed', 'ERR_KAFKA_CLOSED'));
  }

  /** Stops at once without revoking or leaving (the broker expels the member after its session timeout). */
  destroy(): void {
    this.closing = true;
    this.run++;
    this.wake?.();
    if (!this.stop.signal.aborted) this.stop.abort(new KafkaError('the group membership was destroyed', 'ERR_KAFKA_CLOSED'));
  }
}

/** Whether `err` is a KIP-848 answer that ends the membership (for tests and the session layer). */
export function isFatalConsumerProtocolError(err: unknown): boolean {
  return isFatalGroupError(err) || (err instanceof BrokerError && FATAL_848.has(err.errorCode));
}

export { splitKey, tpKey };
