/**
 * dp-kafka's ConsumerGroup over our own client: messages arrive on `channels.upstream` (or in a registered
 * handler), one partition at a time in order: the next message of a partition is delivered only after the
 * previous one was released. The state machine, channels and close order come from ConsumerGroupBase; this file
 * connects them to the group protocol (src/group's GroupConsumer: membership, sessions, offsets, fetcher).
 *
 * A session here is one membership of the group, from `start()` to `stop()`: rebalances inside it move the state
 * Consuming → Starting → Consuming (dp-kafka's Setup/Cleanup), and `stop()` commits, leaves the group and ends it.
 *
 * `pause(partitions)` / `resume(partitions)` hold back partitions of the topic without leaving the group (no
 * rebalance): their feeders hand out nothing new and the fetcher stops fetching them (Fetcher.pause). The paused
 * set belongs to the group, not to an assignment: a paused partition assigned later (after a rebalance, or a
 * restart with `start()`) starts paused, until `resume`.
 */
import type { GroupMetadata } from './producer-transactions.js';
import { requireBuffer } from '../runtime/builtins.js';
import type { Cluster } from '../client/cluster.js';
import { builtInAssignor } from '../group/assignors/index.js';
import { GroupConsumer } from '../group/group-consumer.js';
import { RetryingGroupSession } from '../group/session-retry.js';
import type { Claim, GroupHandler, GroupSession } from '../group/session.js';
import { InvalidArgumentError } from '../errors.js';
import { healthProbeFor, type BrokerHealthProbe } from './broker-health.js';
import { ClaimFeeder } from './claim-feeder.js';
import { clusterOptionsFor, connectForTopic } from './cluster-options.js';
import type { ConsumerGroupConfig } from './config.js';
import { ConsumerGroupBase, type ConsumeSession } from './consumer-group-base.js';
import type { HandlerFailure } from './handlers.js';
import type { HealthView } from './health.js';

export class ConsumerGroup extends ConsumerGroupBase {
  private cluster: Cluster | undefined;
  private readonly probe: BrokerHealthProbe;
  /** Partitions held back by `pause()`. */
  private readonly pausedSet = new Set<number>();
  /** The running claims' feeders, by partition. */
  private readonly feeders = new Map<number, ClaimFeeder>();
  /** The group protocol of the current session (for the fetcher's pause / resume). */
  private consumer: GroupConsumer | undefined;

  /** Validates `config` (one InvalidArgumentError lists every problem) and initialises in the background. */
  constructor(config: ConsumerGroupConfig) {
    requireBuffer('ConsumerGroup');
    super(config);
    this.probe = healthProbeFor(this.config);
    this.initialiseInBackground();
  }

  /**
   * Connects and checks the topic; then Stopped, or Starting if `start()` was called before. Callers share one
   * attempt; `signal` ends this caller's wait (rejecting with its reason), not the attempt, which the background
   * loop also relies on.
   */
  initialise(signal?: AbortSignal): Promise<void> {
    return this.connectOnce(() => this.connect(), signal);
  }

  /**
   * Stops delivering (and fetching) `partitions` of the topic, staying in the group: no rebalance, the partitions
   * stay ours. A message of theirs already handed to `upstream` (at most one each) is still delivered. Partitions
   * not assigned now are paused whenever they are. Throws InvalidArgumentError for anything but partition numbers.
   */
  pause(partitions: readonly number[]): void {
    for (const p of checkPartitions(partitions, 'ConsumerGroup.pause')) {
      this.pausedSet.add(p);
      this.feeders.get(p)?.pause();
      this.fetcherCall('pause', p);
    }
  }

  /** Delivers and fetches `partitions` again (from where they were); unknown or unpaused ones are ignored. */
  resume(partitions: readonly number[]): void {
    for (const p of checkPartitions(partitions, 'ConsumerGroup.resume')) {
      if (!this.pausedSet.delete(p)) continue;
      const feeder = this.feeders.get(p);
      if (feeder?.active === true) this.fetcherCall('resume', p); // not a partition being revoked: that stays paused
      feeder?.resume();
    }
  }

  /** The paused partitions, ascending. */
  paused(): number[] {
    return [...this.pausedSet].sort((a, b) => a - b);
  }

  /** Pauses or resumes `partition` in the fetcher if it is assigned there now. */
  private fetcherCall(op: 'pause' | 'resume', partition: number): void {
    const f = this.consumer?.fetcher;
    if (f === undefined || !f.assignment().some((tp) => tp.topic === this.topic && tp.partition === partition)) return;
    f[op]([{ topic: this.topic, partition }]);
  }

  private async connect(): Promise<void> {
    // close() while connecting ends the attempt at once (see connectForTopic), not at the cluster's lookup deadline.
    const cluster = await connectForTopic({ ...(await clusterOptionsFor(this.config)), allowAutoTopicCreation: false }, this.topic,
      this.abort.signal, () => this.closedError());
    this.cluster = cluster;
    this.markInitialised();
  }

  protected beginSession(): ConsumeSession {
    const c = this.config;
    const make = (): GroupConsumer => new GroupConsumer(this.cluster!, this.handler(), {
      groupId: c.groupName, topics: [c.topic], assignors: c.assignors.map((n) => builtInAssignor(n)),
      sessionTimeoutMs: c.messageConsumeTimeout, heartbeatIntervalMs: c.heartbeatIntervalMs, rebalanceTimeoutMs: c.rebalanceTimeoutMs,
      groupInstanceId: c.groupInstanceId ?? null, retryMinMs: c.retryBackoffMs, initialOffset: c.offset,
      groupProtocol: c.groupProtocol, groupRemoteAssignor: c.groupRemoteAssignor ?? null,
      autoCommitIntervalMs: c.autoCommitIntervalMs, revokeTimeoutMs: c.messageConsumeTimeout,
      fetch: { isolation: c.isolationLevel, maxWaitMs: c.fetchMaxWaitMs, fetchMaxBytes: c.fetchMaxBytes, partitionMaxBytes: c.maxPartitionFetchBytes,
        maxBufferedBytes: c.maxBufferedBytes, maxPartitionBufferedBytes: c.maxPartitionBufferedBytes, requestTimeoutMs: c.requestTimeoutMs },
      onError: (err) => this.reportError(err), requestTimeoutMs: c.requestTimeoutMs,
    });
    // dp-kafka's session loop: a failed session (a fatal group error included) starts again after the backoff.
    return new RetryingGroupSession(make, {
      minRetryPeriod: c.minRetryPeriod, maxRetryPeriod: c.maxRetryPeriod, closeTimeoutMs: c.requestTimeoutMs,
      onError: (err) => this.reportError(err), onConsumer: (consumer) => { this.consumer = consumer; },
      onRetrying: () => { this.machine.tryTransition('Starting', ['Consuming']); },
    });
  }

  /** The group handler: each claim feeds `upstream` one message at a time (per-partition order, as dp-kafka). */
  private handler(): GroupHandler {
    return {
      setup: () => { this.machine.tryTransition('Consuming', ['Starting']); },
      cleanup: () => { this.machine.tryTransition('Starting', ['Consuming']); },
      consumeClaim: (session, claim) => this.consumeClaim(session, claim),
    };
  }

  private consumeClaim(session: GroupSession, claim: Claim): Promise<void> {
    const feeder = new ClaimFeeder(this.channels.upstream, claim, session, (err) => this.reportError(err), this.config.messageConsumeTimeout);
    if (claim.topic === this.topic) {
      const p = claim.partition;
      if (this.pausedSet.has(p)) {
        feeder.pause();
        this.fetcherCall('pause', p);
      }
      this.feeders.set(p, feeder);
      const forget = (): void => { if (this.feeders.get(p) === feeder) this.feeders.delete(p); };
      void feeder.done.then(forget, forget);
    }
    return feeder.start();
  }

  /** The current generation's group id, generation and member id, for `sendOffsetsToTransaction` (KIP-447). */
  override groupMetadata(): GroupMetadata {
    const g = this.consumer?.generation;
    if (g === undefined) return super.groupMetadata();
    return { groupId: this.groupName, generationId: g.generationId, memberId: g.memberId, groupInstanceId: g.groupInstanceId };
  }

  protected async healthView(): Promise<HealthView> {
    return { initialised: this.isInitialised(), brokers: await this.probe.check(), minBrokersHealthy: this.config.minBrokersHealthy };
  }

  protected onHandlerFailure(failure: HandlerFailure): void {
    this.config.logger?.error('handler failed', { err: String(failure.error), topic: this.topic });
  }

  protected async shutdown(): Promise<void> {
    await Promise.allSettled([this.cluster?.close(), this.probe.close()]);
  }
}

/** The partition numbers of a pause / resume call, checked (non-negative int32s, in an array). */
export function checkPartitions(partitions: readonly number[], op: string): readonly number[] {
  if (!Array.isArray(partitions)) throw new InvalidArgumentError(`${op}: partitions must be an array of partition numbers`);
  for (const p of partitions) {
    if (!Number.isInteger(p) || p < 0 || p > 0x7fffffff) throw new InvalidArgumentError(`${op}: ${String(p)} is not a partition number`);
  }
  return partitions;
}
