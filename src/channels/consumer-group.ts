/**
 * dp-kafka's ConsumerGroup over our own client: messages arrive on `channels.upstream` (or in a registered
 * handler), one partition at a time in order: the next message of a partition is delivered only after the
 * previous one was released. The state machine, channels and close order come from ConsumerGroupBase; this file
 * connects them to the group protocol (src/group's GroupConsumer: membership, sessions, offsets, fetcher).
 *
 * A session here is one membership of the group, from `start()` to `stop()`: rebalances inside it move the state
 * Consuming → Starting → Consuming (dp-kafka's Setup/Cleanup), and `stop()` commits, leaves the group and ends it.
 */
import { Cluster } from '../client/cluster.js';
import { retryForever } from '../client/backoff.js';
import { builtInAssignor } from '../group/assignors/index.js';
import { GroupConsumer } from '../group/group-consumer.js';
import type { Claim, GroupHandler, GroupSession } from '../group/session.js';
import { ClosedError } from '../errors.js';
import { BrokerHealthProbe } from './broker-health.js';
import { ClaimFeeder } from './claim-feeder.js';
import { clusterOptionsFor } from './cluster-options.js';
import type { ConsumerGroupConfig } from './config.js';
import { ConsumerGroupBase, type ConsumeSession } from './consumer-group-base.js';
import type { HandlerFailure } from './handlers.js';
import type { HealthView } from './health.js';

export class ConsumerGroup extends ConsumerGroupBase {
  private cluster: Cluster | undefined;
  private connecting: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private readonly probe: BrokerHealthProbe;

  /** Validates `config` (one InvalidArgumentError lists every problem) and initialises in the background. */
  constructor(config: ConsumerGroupConfig) {
    super(config);
    this.probe = new BrokerHealthProbe(this.config.brokerAddrs, this.topic, { clientId: this.config.clientId });
    void retryForever(() => this.initialise(), {
      minRetryPeriod: this.config.minRetryPeriod, maxRetryPeriod: this.config.maxRetryPeriod, signal: this.abort.signal, unref: true,
      onRetry: (err, attempt, delay) => this.config.logger?.warn('consumer group not initialised yet; retrying', { err: String(err), attempt, delay }),
    }).catch(() => undefined);
  }

  /** Connects and checks the topic; then Stopped, or Starting if `start()` was called before. Shared by callers. */
  initialise(): Promise<void> {
    if (this.isInitialised()) return Promise.resolve();
    if (this.abort.signal.aborted) return Promise.reject(new ClosedError('the consumer group is closed'));
    this.connecting ??= this.connect().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const cluster = new Cluster({ ...(await clusterOptionsFor(this.config)), allowAutoTopicCreation: false });
    try {
      await cluster.topic(this.topic);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    if (this.abort.signal.aborted) { await cluster.close(); throw new ClosedError('the consumer group is closed'); }
    this.cluster = cluster;
    this.markInitialised();
  }

  protected beginSession(): ConsumeSession {
    const c = this.config;
    const consumer = new GroupConsumer(this.cluster!, this.handler(), {
      groupId: c.groupName, topics: [c.topic], assignors: c.assignors.map((n) => builtInAssignor(n)),
      sessionTimeoutMs: c.messageConsumeTimeout, heartbeatIntervalMs: c.heartbeatIntervalMs, rebalanceTimeoutMs: c.rebalanceTimeoutMs,
      groupInstanceId: c.groupInstanceId ?? null, retryMinMs: c.retryBackoffMs, initialOffset: c.offset,
      autoCommitIntervalMs: c.autoCommitIntervalMs, revokeTimeoutMs: c.messageConsumeTimeout,
      fetch: { isolation: c.isolationLevel, maxWaitMs: c.fetchMaxWaitMs, fetchMaxBytes: c.fetchMaxBytes, partitionMaxBytes: c.maxPartitionFetchBytes,
        maxBufferedBytes: c.maxBufferedBytes, maxPartitionBufferedBytes: c.maxPartitionBufferedBytes, requestTimeoutMs: c.requestTimeoutMs },
      onError: (err) => this.reportError(err),
    });
    const running = consumer.start().catch((err: unknown) => this.reportError(err));
    let ending: Promise<void> | undefined;
    return {
      end: () => { ending ??= consumer.close(); },
      get done() {
        return (async () => {
          await ending;
          await running;
        })();
      },
    };
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
    return new ClaimFeeder(this.channels.upstream, claim, session, (err) => this.reportError(err)).start();
  }

  protected async healthView(): Promise<HealthView> {
    return { initialised: this.isInitialised(), brokers: await this.probe.check(), minBrokersHealthy: this.config.minBrokersHealthy };
  }

  protected onHandlerFailure(failure: HandlerFailure): void {
    this.config.logger?.error('handler failed', { err: String(failure.error), topic: this.topic });
  }

  protected async shutdown(): Promise<void> {
    this.abort.abort(new ClosedError('the consumer group is closed'));
    await Promise.allSettled([this.cluster?.close(), this.probe.close()]);
  }
}
