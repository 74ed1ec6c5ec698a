/**
 * A share group member (KIP-932) reading one topic: {@link ShareMembership} says which partitions are ours,
 * metadata says which broker leads each, and one {@link ShareSession} per leader fetches them and sends the
 * acknowledgements. Routing runs again whenever the assignment changes or a session says a leader moved (after
 * a metadata refresh, with the backoff, reporting when it keeps failing).
 *
 * Closing: the sessions first (pending acknowledgements sent, undelivered records released, sessions closed),
 * then the member leaves the group, all within the caller's deadline.
 */
import { Backoff, sleep } from '../../client/backoff.js';
import type { Cluster } from '../../client/cluster.js';
import { KafkaError } from '../../errors.js';
import { STALL_ROUNDS } from '../coordinator.js';
import { ShareMembership } from './share-membership.js';
import { ShareSession, type DeliveredRecord, type ShareSessionOptions } from './share-session.js';

/** What the consumer needs: a share session's options (it fills in the member, topic id and re-routing) and more. */
export interface ShareConsumerOptions<M extends DeliveredRecord> extends Omit<ShareSessionOptions<M>, 'memberId' | 'topicId' | 'onReroute'> {
  /** After each successful heartbeat (the channel layer moves to Consuming). */
  onHeartbeat?(): void;
}

export class ShareConsumer<M extends DeliveredRecord> {
  readonly membership: ShareMembership;
  private readonly sessions = new Map<number, ShareSession<M>>();
  private readonly stop = new AbortController();
  private routing: Promise<void> | undefined;
  private routeAgain = false;

  constructor(private readonly cluster: Cluster, private readonly options: ShareConsumerOptions<M>) {
    this.membership = new ShareMembership(cluster, {
      groupId: options.groupId, topic: options.topic, retryMinMs: options.retryMinMs, retryMaxMs: options.retryMaxMs,
      requestTimeoutMs: options.requestTimeoutMs, onError: options.onError, onHeartbeat: options.onHeartbeat,
      onAssignment: () => this.route(),
    });
  }

  /** The member id this consumer chose. */
  get memberId(): string {
    return this.membership.memberId;
  }

  /** The broker's acquisition lock timeout as last seen on a ShareFetch (-1 before the first). */
  get lockTimeoutMs(): number {
    let t = -1;
    for (const s of this.sessions.values()) t = Math.max(t, s.lockTimeoutMs);
    return t;
  }

  start(): void {
    this.membership.start();
  }

  /** Routes the assignment to sessions; one pass at a time, another after it if asked meanwhile. */
  private route(): void {
    if (this.stop.signal.aborted) return;
    if (this.routing !== undefined) {
      this.routeAgain = true;
      return;
    }
    this.routing = this.routeUntilDone().finally(() => { this.routing = undefined; });
  }

  private async routeUntilDone(): Promise<void> {
    const backoff = new Backoff({ minRetryPeriod: this.options.retryMinMs, maxRetryPeriod: this.options.retryMaxMs });
    do {
      this.routeAgain = false;
      try {
        await this.routeOnce();
        backoff.reset();
      } catch (err) {
        if (this.stop.signal.aborted) return;
        this.routeAgain = true;
        if (backoff.attempt + 1 >= STALL_ROUNDS || !(err instanceof KafkaError && err.retriable)) this.options.onError(err);
        await sleep(backoff.next(), this.stop.signal).catch(() => undefined);
      }
    } while (this.routeAgain && !this.stop.signal.aborted);
  }

  private async routeOnce(): Promise<void> {
    const partitions = this.membership.assignment;
    const topic = await this.cluster.topic(this.options.topic, { deadlineMs: 0 });
    const byLeader = new Map<number, number[]>();
    for (const p of partitions) {
      const leader = await this.cluster.leader(this.options.topic, p, { deadlineMs: 0 });
      const list = byLeader.get(leader.nodeId) ?? [];
      list.push(p);
      byLeader.set(leader.nodeId, list);
    }
    if (this.stop.signal.aborted) return;
    for (const [nodeId, session] of this.sessions) if (!byLeader.has(nodeId)) session.setPartitions([]);
    for (const [nodeId, list] of byLeader) {
      let session = this.sessions.get(nodeId);
      if (session === undefined) {
        session = new ShareSession(this.cluster.broker(nodeId), { ...this.options, memberId: this.memberId, topicId: topic.topicId, onReroute: (p, err) => this.reroute(p, err) });
        this.sessions.set(nodeId, session);
      }
      session.setPartitions(list);
    }
  }

  /** A session's partition moved: refresh metadata and route again (acknowledgements already queued stay where they are). */
  private reroute(partition: number, err: KafkaError): void {
    this.options.onError(err);
    this.cluster.invalidate(this.options.topic);
    void partition;
    this.route();
  }

  /** Stops every session's fetching (acknowledgements are still taken until {@link close}). */
  async stopFetching(): Promise<void> {
    this.stop.abort();
    await Promise.allSettled([...this.sessions.values()].map((s) => s.stopFetching()));
  }

  /** Closes the sessions, then leaves the group; bounded by `timeoutMs` overall. */
  async close(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    this.stop.abort();
    await Promise.allSettled([...this.sessions.values()].map((s) => s.close(timeoutMs)));
    await this.membership.leave(Math.max(1, until - Date.now()));
  }
}
