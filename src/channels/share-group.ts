/**
 * A share group (KIP-932, Kafka 4.2+: queue semantics on a topic) in dp-kafka's channel style: records arrive on
 * `channels.upstream` (or in registered handlers, `numWorkers` of them), each acknowledged on its own with
 * `accept()`, `redeliver()` or `reject()` (see share-message.ts). Unlike a ConsumerGroup there is no partition
 * order and no partition ownership: the broker hands each record to one member at a time under an acquisition
 * lock, so any number of workers, in any number of processes, share a topic of any number of partitions.
 *
 * Life cycle, channels and health as the ConsumerGroup's (dp-kafka's state machine: Initialising, Stopped,
 * Starting, Consuming, Stopping, Closing; `start`, `stop`, `stopAndWait`, `consume` channel, `checker()`,
 * `onHealthUpdate`, `close({ signal })`). Starting becomes Consuming at the first successful heartbeat.
 * A session (start → stop) is one membership: stopping ends fetching, hands the messages still buffered in
 * `upstream` back (redeliver), waits for running handlers, sends the pending acknowledgements, closes the share
 * sessions and leaves the group.
 *
 * `offset` ('oldest' / 'newest') sets the group's `share.auto.offset.reset` at initialisation (a group-wide
 * setting; unset, Kafka's default `latest` means records written before the group's first fetch are skipped).
 * The delivery limit on messages comes from the group's `share.delivery.count.limit` (DescribeConfigs on the
 * group, else the broker's `group.share.delivery.count.limit`), read once at initialisation.
 */
import type { Cluster } from '../client/cluster.js';
import { ShareConsumer } from '../group/share/share-consumer.js';
import { readDeliveryLimit, setAutoOffsetReset } from '../group/share/group-config.js';
import { healthProbeFor, type BrokerHealthProbe } from './broker-health.js';
import { clusterOptionsFor, connectForTopic } from './cluster-options.js';
import { GroupLifecycle } from './group-lifecycle.js';
import type { BrokerHealth } from './health.js';
import type { GroupChannels, RegisterOptions } from './interfaces.js';
import { resolveShareGroupConfig, type ResolvedShareGroupConfig, type ShareGroupConfig } from './share-group-config.js';
import { AcquiredMessage, type ShareMessage } from './share-message.js';
import { startShareBatchWorker, startShareWorkers, type ShareBatchHandler, type ShareHandler, type ShareHandlerFailure, type ShareWorkers } from './share-workers.js';

/** How long acknowledgements wait for a request of their own while fetching is blocked on slow workers. */
const ACK_LINGER_MS = 20;

/** A share group's channels: the consumer group's, with share messages on `upstream`. */
export type ShareGroupChannels = GroupChannels<ShareMessage>;

interface Session {
  consumer: ShareConsumer<AcquiredMessage>;
  ended: Promise<void> | undefined;
}

export class ShareGroup extends GroupLifecycle<ShareMessage, ResolvedShareGroupConfig, ShareWorkers> {
  private readonly probe: BrokerHealthProbe;
  private cluster: Cluster | undefined;
  private session: Session | undefined;
  /** The group's delivery limit, once read (undefined: unknown). */
  deliveryLimit: number | undefined;

  /** Validates `config` (one InvalidArgumentError lists every problem) and initialises in the background. */
  constructor(config: ShareGroupConfig) {
    super(resolveShareGroupConfig(config), 'share group');
    this.probe = healthProbeFor(this.config.client);
    this.initialiseInBackground();
  }

  /** Connects, checks the topic and reads the delivery limit; shared by every caller. `signal` ends this caller's wait only. */
  initialise(signal?: AbortSignal): Promise<void> {
    return this.connectOnce(() => this.connect(), signal);
  }

  private async connect(): Promise<void> {
    const cluster = await connectForTopic({ ...(await clusterOptionsFor(this.config.client)), allowAutoTopicCreation: false }, this.topic,
      this.abort.signal, () => this.closedError());
    this.cluster = cluster;
    if (this.config.offset !== undefined) {
      try {
        await setAutoOffsetReset(cluster, this.groupName, this.config.offset === 'oldest' ? 'earliest' : 'latest', this.config.requestTimeoutMs);
      } catch (err) {
        await cluster.close();
        throw err;
      }
    }
    this.deliveryLimit = await readDeliveryLimit(cluster, this.groupName, this.config.requestTimeoutMs).catch((err: unknown) => {
      this.config.logger?.warn('share group: delivery limit unknown', { err: String(err) });
      return undefined;
    });
    this.markInitialised();
  }

  /** `numWorkers` workers: a handler that returns accepts its message, one that throws redelivers it (RejectRecordError: rejects). */
  registerHandler(handler: ShareHandler, options: RegisterOptions = {}): void {
    this.registerWorkers('registerHandler', handler, options, (signal) => startShareWorkers(this.channels.upstream, handler, {
      numWorkers: this.config.numWorkers, signal, onError: (f) => this.onHandlerFailure(f),
    }));
  }

  /** One batch worker (batchSize / batchWaitTime); the same acknowledgement rule for the whole batch. */
  registerBatchHandler(handler: ShareBatchHandler, options: RegisterOptions = {}): void {
    this.registerWorkers('registerBatchHandler', handler, options, (signal) => startShareBatchWorker(this.channels.upstream, handler, {
      batchSize: this.config.batchSize, batchWaitTime: this.config.batchWaitTime, signal, onError: (f) => this.onHandlerFailure(f),
    }));
  }


  /** The session has ended and the workers drained: connections close. */
  protected async shutdown(): Promise<void> {
    await Promise.allSettled([this.cluster?.close(), this.probe.close()]);
  }

  protected probeBrokers(): Promise<readonly BrokerHealth[]> {
    return this.probe.check();
  }

  protected openSession(): void {
    const c = this.config;
    const upstream = this.channels.upstream;
    const consumer = new ShareConsumer<AcquiredMessage>(this.cluster!, {
      groupId: c.groupName, topic: c.topic, maxWaitMs: c.fetchMaxWaitMs, maxBytes: c.fetchMaxBytes, maxRecords: c.maxRecords,
      requestTimeoutMs: c.requestTimeoutMs, retryMinMs: c.retryBackoffMs, retryMaxMs: Math.max(c.retryBackoffMs, 1_000),
      ackLingerMs: ACK_LINGER_MS, maxDecompressedBytes: c.maxBufferedBytes,
      make: (target, partition, record, count) => new AcquiredMessage(target, c.topic, partition, record, count, this.deliveryLimit),
      tryDeliver: (m) => !upstream.closed && upstream.trySend(m),
      deliver: (m, signal) => upstream.send(m, signal),
      onError: (err) => this.reportError(err),
      onHeartbeat: () => { this.machine.tryTransition('Consuming', ['Starting']); },
    });
    this.session = { consumer, ended: undefined };
    consumer.start();
  }

  /** Ends the running session once (see the module comment); bounded by the request timeout, or `signal`. */
  protected endSession(signal?: AbortSignal): Promise<void> {
    const s = this.session;
    if (s === undefined) return Promise.resolve();
    s.ended ??= (async () => {
      await s.consumer.stopFetching();
      for (let r; (r = this.channels.upstream.tryRecv()) !== undefined && !r.done;) void r.value.redeliver();
      const deadline = AbortSignal.any([AbortSignal.timeout(this.config.requestTimeoutMs), ...(signal ? [signal] : [])]);
      await this.workers?.idle(deadline).catch(() => undefined);
      await s.consumer.close(this.config.requestTimeoutMs);
      if (this.session === s) this.session = undefined;
    })();
    return s.ended;
  }

  private onHandlerFailure(failure: ShareHandlerFailure): void {
    this.config.logger?.error('handler failed', { err: String(failure.error), topic: this.topic, acknowledgement: failure.acknowledgement });
  }
}
