/**
 * Membership of a share group (KIP-932) through ShareGroupHeartbeat: the member picks its own id, joins with
 * epoch 0, heartbeats at the interval the coordinator asks, and takes the assignment the coordinator computes
 * (a partition may be assigned to several members at once: records, not partitions, are what members share).
 * Leaving is a heartbeat with epoch -1.
 *
 * Errors, as Kafka's share consumer treats them: coordinator moves and loading are retried by
 * {@link GroupCoordinator.call}; UNKNOWN_MEMBER_ID and FENCED_MEMBER_EPOCH drop the assignment and rejoin at
 * epoch 0 with the same member id; anything else is reported and retried after the backoff, so the member never
 * gives up (dp-kafka's rule) but never sends more than the backoff allows either.
 */
import { randomBase64url } from '../../runtime/builtins.js';
import { Backoff, sleep } from '../../client/backoff.js';
import type { Cluster } from '../../client/cluster.js';
import { KafkaError } from '../../errors.js';
import { ShareGroupHeartbeat } from '../../protocol/apis/share-group-heartbeat.js';
import { brokerError, errorCodes } from '../../protocol/error-codes.js';
import { GroupCoordinator, STALL_ROUNDS } from '../coordinator.js';

export interface ShareMembershipOptions {
  groupId: string;
  topic: string;
  /** Pauses of the retry backoff after a failed heartbeat. */
  retryMinMs: number;
  retryMaxMs: number;
  requestTimeoutMs: number;
  /** The partitions of `topic` assigned to this member, each time they change (an empty list when none). */
  onAssignment(partitions: readonly number[]): void;
  /** Failures worth telling the application (reported at most once per {@link STALL_ROUNDS} failed rounds). */
  onError(err: unknown): void;
  /** Called after each successful heartbeat (the member is in the group). */
  onHeartbeat?(): void;
}

/** A member id as Kafka's clients make one: 16 random bytes, URL-safe base64 without padding (a Uuid's string). */
export function newMemberId(): string {
  return randomBase64url(16);
}

/** Heartbeats of one member until {@link ShareMembership.leave}. */
export class ShareMembership {
  readonly memberId = newMemberId();
  private epoch = 0;
  private intervalMs = 5_000;
  private assigned: readonly number[] = [];
  private readonly stop = new AbortController();
  private readonly coordinator: GroupCoordinator;
  private loop: Promise<void> | undefined;
  /** Wakes the heartbeat sleep early (a rejoin after fencing should not wait a whole interval). */
  private wake: AbortController = new AbortController();

  constructor(private readonly cluster: Cluster, private readonly options: ShareMembershipOptions) {
    this.coordinator = new GroupCoordinator(cluster, options.groupId, {
      retryMinMs: options.retryMinMs, retryMaxMs: options.retryMaxMs, requestTimeoutMs: options.requestTimeoutMs, onStall: (err) => options.onError(err),
    });
  }

  /** The member epoch (0 before joining or after being fenced). */
  get memberEpoch(): number {
    return this.epoch;
  }

  /** The partitions assigned now. */
  get assignment(): readonly number[] {
    return this.assigned;
  }

  /** Starts heartbeating. */
  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ minRetryPeriod: this.options.retryMinMs, maxRetryPeriod: this.options.retryMaxMs });
    while (!this.stop.signal.aborted) {
      let pause: number;
      try {
        // A new assignment (an empty one too: the first answer to a join often is) is acknowledged by the next
        // heartbeat at once, as Kafka's consumers do; the coordinator answers it with the reconciled assignment.
        const changed = await this.heartbeat();
        backoff.reset();
        pause = this.epoch === 0 || changed ? 0 : this.intervalMs;
      } catch (err) {
        if (this.stop.signal.aborted) return;
        pause = backoff.next();
        if (backoff.attempt >= STALL_ROUNDS || !(err instanceof KafkaError && err.retriable)) this.options.onError(err);
      }
      try {
        await sleep(pause, AbortSignal.any([this.stop.signal, this.wake.signal]));
      } catch {
        this.wake = new AbortController();
      }
    }
  }

  /** One ShareGroupHeartbeat round trip, applied; true when it carried an assignment. */
  private async heartbeat(): Promise<boolean> {
    const joining = this.epoch === 0;
    const res = await this.coordinator.call(async (broker) => {
      const r = await broker.request(ShareGroupHeartbeat, {
        groupId: this.options.groupId, memberId: this.memberId, memberEpoch: this.epoch, rackId: null,
        subscribedTopicNames: joining ? [this.options.topic] : null,
      }, { timeoutMs: this.options.requestTimeoutMs });
      if (r.errorCode !== 0) throw brokerError(r.errorCode, { api: 'ShareGroupHeartbeat', groupId: this.options.groupId, brokerMessage: r.errorMessage ?? undefined });
      return r;
    }, { signal: this.stop.signal, deadlineMs: this.options.requestTimeoutMs }).catch((err: unknown) => {
      if (err instanceof KafkaError && 'errorCode' in err && (err.errorCode === errorCodes.UNKNOWN_MEMBER_ID || err.errorCode === errorCodes.FENCED_MEMBER_EPOCH)) {
        this.fenced();
      }
      throw err;
    });
    if (this.stop.signal.aborted) return false;
    const epochBefore = this.epoch;
    this.epoch = res.memberEpoch;
    if (res.heartbeatIntervalMs > 0) this.intervalMs = res.heartbeatIntervalMs;
    if (res.assignment !== null) await this.applyAssignment(res.assignment.topicPartitions);
    this.options.onHeartbeat?.();
    return res.assignment !== null && res.memberEpoch !== epochBefore;
  }

  /** The coordinator no longer knows this member at this epoch: nothing is ours; rejoin at epoch 0 at once. */
  private fenced(): void {
    this.epoch = 0;
    this.setAssignment([]);
  }

  private async applyAssignment(topicPartitions: readonly { topicId: string; partitions: readonly number[] }[]): Promise<void> {
    if (topicPartitions.length === 0) return this.setAssignment([]);
    const topic = await this.cluster.topic(this.options.topic);
    const mine = topicPartitions.filter((tp) => tp.topicId === topic.topicId).flatMap((tp) => tp.partitions);
    this.setAssignment([...new Set(mine)].sort((a, b) => a - b));
  }

  private setAssignment(partitions: readonly number[]): void {
    const same = partitions.length === this.assigned.length && partitions.every((p, i) => p === this.assigned[i]);
    this.assigned = partitions;
    if (!same) this.options.onAssignment(partitions);
  }

  /** Stops heartbeating and leaves the group (epoch -1), waiting at most `timeoutMs` for the coordinator. */
  async leave(timeoutMs: number): Promise<void> {
    this.stop.abort();
    await this.loop?.catch(() => undefined);
    this.setAssignment([]);
    if (this.epoch === 0 && this.loop === undefined) return;
    const epoch = this.epoch;
    this.epoch = 0;
    if (epoch === 0) return;
    await this.coordinator.call((broker) => broker.request(ShareGroupHeartbeat, {
      groupId: this.options.groupId, memberId: this.memberId, memberEpoch: -1, rackId: null, subscribedTopicNames: null,
    }, { timeoutMs }), { deadlineMs: timeoutMs, signal: AbortSignal.timeout(timeoutMs) }).catch(() => undefined);
  }
}
