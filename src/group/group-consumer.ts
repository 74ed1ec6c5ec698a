/**
 * A consumer-group member, assembled: coordinator lookup, membership (join/sync/heartbeat/leave), offsets
 * (fetch, reset, mark, commit, auto-commit every second as dp-kafka), sessions and claims for the handler, and
 * the fetcher that feeds them. This is what the channel layer's ConsumerGroup drives.
 */
import type { Cluster } from '../client/cluster.js';
import { Fetcher, type FetcherOptions } from '../client/fetcher.js';
import { GroupCoordinator } from './coordinator.js';
import { GroupMembership, type Generation, type MembershipOptions } from './membership.js';
import { ConsumerGroupMembership, type GroupProtocol, type RemoteAssignorName } from './kip848-membership.js';
import { OffsetManager, RebalanceNeededError, type InitialOffset } from './offsets.js';
import { SessionManager, type GroupHandler, type GroupSession } from './session.js';
import type { TopicPartitions } from './consumer-protocol.js';

export interface GroupConsumerOptions extends MembershipOptions {
  /** Where partitions without a committed offset start. Default `oldest` (dp-kafka's default). */
  initialOffset?: InitialOffset;
  /** Commit marked offsets this often; 0 turns auto-commit off. Default 1 s (dp-kafka). */
  autoCommitIntervalMs?: number;
  /** How long a revocation waits for handlers to return before committing. Default 10 s. */
  revokeTimeoutMs?: number;
  /** Settings of the fetcher (its reset policy follows `initialOffset`). */
  fetch?: Omit<FetcherOptions, 'autoOffsetReset' | 'onError'>;
  /** Errors the consumer recovers from, and handler failures. */
  onError?: (err: unknown) => void;
  /** `classic` (JoinGroup/SyncGroup, the default) or `consumer` (KIP-848's ConsumerGroupHeartbeat). */
  groupProtocol?: GroupProtocol;
  /** With `consumer`: the broker's assignor to ask for (null: the broker's default). */
  groupRemoteAssignor?: RemoteAssignorName | null;
}

/** One member of a consumer group running a {@link GroupHandler}. Constructing it does no I/O. */
export class GroupConsumer {
  readonly coordinator: GroupCoordinator;
  /** The group protocol's membership: classic or KIP-848; the sessions below see the same listener calls. */
  readonly membership: GroupMembership | ConsumerGroupMembership;
  readonly offsets: OffsetManager;
  readonly fetcher: Fetcher;
  private readonly sessions: SessionManager;
  private running: Promise<void> | undefined;

  constructor(cluster: Cluster, handler: GroupHandler, private readonly options: GroupConsumerOptions) {
    const onError = (err: unknown): void => this.onError(err);
    this.coordinator = new GroupCoordinator(cluster, options.groupId, {
      retryMinMs: options.retryMinMs, retryMaxMs: options.retryMaxMs, requestTimeoutMs: options.requestTimeoutMs, onStall: onError,
    });
    this.offsets = new OffsetManager(cluster, this.coordinator, {
      groupId: options.groupId, initialOffset: options.initialOffset, identitySource: () => this.membership.stableGeneration,
      requestTimeoutMs: options.requestTimeoutMs, retryMinMs: options.retryMinMs, retryMaxMs: options.retryMaxMs,
    });
    this.fetcher = new Fetcher(cluster, {
      ...options.fetch, autoOffsetReset: (options.initialOffset ?? 'oldest') === 'oldest' ? 'earliest' : 'latest', onError,
    });
    this.sessions = new SessionManager(handler, this.offsets, this.fetcher, { revokeTimeoutMs: options.revokeTimeoutMs, retryMinMs: options.retryMinMs, retryMaxMs: options.retryMaxMs, onError });
    this.membership = options.groupProtocol === 'consumer'
      ? new ConsumerGroupMembership(cluster, this.coordinator, this.sessions, { ...options, serverAssignor: options.groupRemoteAssignor ?? null })
      : new GroupMembership(cluster, this.coordinator, this.sessions, options);
  }

  private onError(err: unknown): void {
    // A commit refused because the group moved on: rejoin (with the generation voided when the broker says so).
    // A refusal of an older generation's commit is moot: the member already rejoined since (Java checks the same).
    if (err instanceof RebalanceNeededError && err.generationId === this.membership.stableGeneration?.generationId) {
      this.membership.requestRejoin('commit refused', { generation: err.resetGeneration, memberId: err.resetMemberId });
    }
    this.options.onError?.(err);
  }

  /** Joins and keeps the membership going; settles when closed (rejects on a fatal group error). */
  start(): Promise<void> {
    if (!this.running) {
      const interval = this.options.autoCommitIntervalMs ?? 1_000;
      if (interval > 0) this.offsets.startAutoCommit(interval, (err) => this.onError(err));
      this.running = this.membership.start();
    }
    return this.running;
  }

  get generation(): Generation | undefined { return this.membership.generation; }
  get assignment(): TopicPartitions[] { return this.membership.assignment; }
  get session(): GroupSession | undefined { return this.sessions.current; }
  nextGeneration(): Promise<Generation> { return this.membership.nextGeneration(); }

  /** Commits every marked offset now. */
  commit(): Promise<void> {
    return this.offsets.commit();
  }

  /** Graceful: handlers stop, marked offsets are committed, the member leaves (unless static), the fetcher stops. */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.offsets.stopAutoCommit();
    await this.membership.close(options);
    this.sessions.close();
    await this.fetcher.close();
  }

  /** Stops at once: no commit, no LeaveGroup (the group expels the member after its session timeout). */
  async destroy(): Promise<void> {
    this.offsets.stopAutoCommit();
    this.membership.destroy();
    this.sessions.close();
    await this.fetcher.close();
  }
}
