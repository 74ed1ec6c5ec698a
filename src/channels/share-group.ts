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
import { retryForever } from '../client/backoff.js';
import { ClosedError, InvalidArgumentError } from '../errors.js';
import { ShareConsumer } from '../group/share/share-consumer.js';
import { readDeliveryLimit, setAutoOffsetReset } from '../group/share/group-config.js';
import { untilAborted } from './abort.js';
import { healthProbeFor, type BrokerHealthProbe } from './broker-health.js';
import { Chan } from './chan.js';
import { clusterOptionsFor, connectForTopic } from './cluster-options.js';
import { upstreamCapacity } from './config.js';
import { checkRegistration, rejectOnAbort } from './consumer-group-base.js';
import { pushError } from './error-channel.js';
import { checkHealth, type HealthCheck, type HealthStatus } from './health.js';
import type { CloseOptions, RegisterOptions } from './interfaces.js';
import { signalProblem } from './producer-input.js';
import { resolveShareGroupConfig, type ResolvedShareGroupConfig, type ShareGroupConfig } from './share-group-config.js';
import { AcquiredMessage, type ShareMessage } from './share-message.js';
import { startShareBatchWorker, startShareWorkers, type ShareBatchHandler, type ShareHandler, type ShareHandlerFailure, type ShareWorkers } from './share-workers.js';
import { ConsumerStateMachine, type ConsumerState, type ConsumerStateChannels } from './state.js';

/** How long acknowledgements wait for a request of their own while fetching is blocked on slow workers. */
const ACK_LINGER_MS = 20;

/** A share group's channels: the consumer group's, with share messages on `upstream`. */
export interface ShareGroupChannels {
  /** Delivered messages; capacity max(numWorkers, batchSize). Closed when the group closes. */
  readonly upstream: Chan<ShareMessage>;
  /** Asynchronous errors (acknowledgements not applied, heartbeat and fetch failures). Bounded; the oldest unread is dropped when full. */
  readonly errors: Chan<Error>;
  /** Closed once initialised. */
  readonly ready: Chan<never>;
  /** true starts, false stops. */
  readonly consume: Chan<boolean>;
  /** Closed when closing starts. */
  readonly closer: Chan<never>;
  /** Closed when closing has finished. */
  readonly closed: Chan<never>;
  /** Per-state signals, each closed while the group is in its state. */
  readonly state: ConsumerStateChannels;
}

interface Session {
  consumer: ShareConsumer<AcquiredMessage>;
  ended: Promise<void> | undefined;
}

export class ShareGroup {
  readonly config: ResolvedShareGroupConfig;
  readonly channels: ShareGroupChannels;
  private readonly machine = new ConsumerStateMachine();
  private readonly abort = new AbortController();
  private readonly workersStop = new AbortController();
  private readonly probe: BrokerHealthProbe;
  private cluster: Cluster | undefined;
  private connecting: Promise<void> | undefined;
  private session: Session | undefined;
  private workers: ShareWorkers | undefined;
  private target: 'Stopped' | 'Starting' = 'Stopped';
  private startWhenStopped = false;
  private closing: Promise<void> | undefined;
  /** The group's delivery limit, once read (undefined: unknown). */
  deliveryLimit: number | undefined;

  /** Validates `config` (one InvalidArgumentError lists every problem) and initialises in the background. */
  constructor(config: ShareGroupConfig) {
    this.config = resolveShareGroupConfig(config);
    this.channels = {
      upstream: new Chan<ShareMessage>(upstreamCapacity(this.config)),
      errors: new Chan<Error>(this.config.errorsCapacity),
      ready: new Chan<never>(), consume: new Chan<boolean>(), closer: new Chan<never>(), closed: new Chan<never>(),
      state: this.machine.channels,
    };
    this.probe = healthProbeFor(this.config.client);
    void this.readConsumeChannel();
    void retryForever(() => this.initialise(), {
      minRetryPeriod: this.config.minRetryPeriod, maxRetryPeriod: this.config.maxRetryPeriod, signal: this.abort.signal, unref: true,
      onRetry: (err, attempt, delay) => this.config.logger?.warn('share group not initialised yet; retrying', { err: String(err), attempt, delay }),
    }).catch(() => undefined);
  }

  get topic(): string { return this.config.topic; }
  get groupName(): string { return this.config.groupName; }
  get state(): ConsumerState { return this.machine.state; }

  /** Resolves once the group is in `state` (at once if it is). */
  stateWait(state: ConsumerState, signal?: AbortSignal): Promise<void> {
    return this.machine.wait(state, signal);
  }

  isInitialised(): boolean {
    return this.channels.ready.closed;
  }

  /** Connects, checks the topic and reads the delivery limit; shared by every caller. `signal` ends this caller's wait only. */
  initialise(signal?: AbortSignal): Promise<void> {
    const bad = signalProblem(signal);
    if (bad !== undefined) return Promise.reject(bad);
    if (this.isInitialised()) return Promise.resolve();
    if (this.abort.signal.aborted) return Promise.reject(new ClosedError('the share group is closed'));
    this.connecting ??= this.connect().finally(() => { this.connecting = undefined; });
    return untilAborted(this.connecting, signal);
  }

  private async connect(): Promise<void> {
    const cluster = await connectForTopic({ ...(await clusterOptionsFor(this.config.client)), allowAutoTopicCreation: false }, this.topic,
      this.abort.signal, () => new ClosedError('the share group is closed'));
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
    if (this.isInitialised() || this.machine.state !== 'Initialising') return;
    this.machine.transition(this.target);
    this.channels.ready.close();
    if (this.target === 'Starting') this.beginSession();
  }

  /** Starts consuming (before initialisation: once initialised). Throws ClosedError once closing. */
  start(): void {
    switch (this.machine.state) {
      case 'Initialising': this.target = 'Starting'; return;
      case 'Stopped': this.machine.transition('Starting'); this.beginSession(); return;
      case 'Stopping': this.startWhenStopped = true; return;
      case 'Closing': throw new ClosedError('share group cannot be started because it is closing');
      default: return;
    }
  }

  /** Stops consuming (see the module comment for what stopping does). Does not wait. */
  stop(): void {
    switch (this.machine.state) {
      case 'Initialising': this.target = 'Stopped'; return;
      case 'Starting':
      case 'Consuming':
        this.startWhenStopped = false;
        this.machine.transition('Stopping');
        void this.finishStop();
        return;
      case 'Stopping': this.startWhenStopped = false; return;
      default: return;
    }
  }

  /** Stops and waits until Stopped and no handler runs. `signal` ends the wait, not the stop. */
  async stopAndWait(signal?: AbortSignal): Promise<void> {
    this.stop();
    if (this.machine.state === 'Stopping') await this.machine.wait('Stopped', signal);
    await this.workers?.idle(signal);
  }

  /** `numWorkers` workers: a handler that returns accepts its message, one that throws redelivers it (RejectRecordError: rejects). */
  registerHandler(handler: ShareHandler, options: RegisterOptions = {}): void {
    this.checkRegistration('registerHandler', handler, options);
    this.workers = startShareWorkers(this.channels.upstream, handler, {
      numWorkers: this.config.numWorkers, signal: this.workerSignal(options.signal), onError: (f) => this.onHandlerFailure(f),
    });
  }

  /** One batch worker (batchSize / batchWaitTime); the same acknowledgement rule for the whole batch. */
  registerBatchHandler(handler: ShareBatchHandler, options: RegisterOptions = {}): void {
    this.checkRegistration('registerBatchHandler', handler, options);
    this.workers = startShareBatchWorker(this.channels.upstream, handler, {
      batchSize: this.config.batchSize, batchWaitTime: this.config.batchWaitTime, signal: this.workerSignal(options.signal),
      onError: (f) => this.onHandlerFailure(f),
    });
  }

  /** dp-kafka's health rules (as the ConsumerGroup's). */
  checker(): Promise<HealthCheck> {
    return checkHealth('consumer-group', {
      isInitialised: () => this.isInitialised(), initialise: (signal) => this.initialise(signal),
      probe: () => this.probe.check(), minBrokersHealthy: this.config.minBrokersHealthy, timeoutMs: this.config.requestTimeoutMs,
    });
  }

  onHealthUpdate(status: HealthStatus): void {
    try {
      if (status === 'OK') this.start();
      else this.stop();
    } catch (err) {
      this.config.logger?.error('error applying a health update', { status, err: String(err) });
    }
  }

  /** Logs everything that arrives on `errors` (with the configured logger). */
  logErrors(): void {
    void (async () => {
      for await (const err of this.channels.errors) this.config.logger?.error('kafka share group error', { err: err.message, topic: this.topic, group: this.groupName });
    })();
  }

  /**
   * Closing: the session stops (buffered messages redelivered, pending acknowledgements sent, share sessions
   * closed, membership left), workers drain, connections close. With a signal, what still runs when it aborts is
   * abandoned (its records return after the lock timeout) and close rejects with its reason. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) return Promise.reject(new InvalidArgumentError('close: options must be an object such as { signal }'));
    const bad = signalProblem(options.signal);
    if (bad !== undefined) return Promise.reject(bad);
    this.closing ??= this.closeInOrder(options.signal);
    return this.closing;
  }

  private async closeInOrder(signal: AbortSignal | undefined): Promise<void> {
    this.machine.transition('Closing');
    this.channels.closer.close();
    this.channels.consume.close();
    const ended = this.endSession(signal);
    const drained = (async () => {
      await ended;
      this.channels.upstream.close();
      await this.workers?.done;
    })();
    try {
      await (signal === undefined ? drained : Promise.race([drained, rejectOnAbort(signal)]));
    } finally {
      this.workersStop.abort();
      this.abort.abort(new ClosedError('the share group is closed'));
      if (!this.channels.upstream.closed) this.channels.upstream.close();
      await Promise.allSettled([this.cluster?.close(), this.probe.close()]);
      this.channels.errors.close();
      this.channels.closed.close();
    }
  }

  private beginSession(): void {
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
  private endSession(signal?: AbortSignal): Promise<void> {
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

  private async finishStop(): Promise<void> {
    await this.endSession().catch((err: unknown) => this.reportError(err));
    if (this.machine.state !== 'Stopping') return;
    this.machine.transition('Stopped');
    if (this.startWhenStopped) {
      this.startWhenStopped = false;
      this.start();
    }
  }

  private reportError(err: unknown): void {
    if (!this.channels.errors.closed) pushError(this.channels.errors, err instanceof Error ? err : new Error(String(err)));
  }

  private onHandlerFailure(failure: ShareHandlerFailure): void {
    this.config.logger?.error('handler failed', { err: String(failure.error), topic: this.topic, acknowledgement: failure.acknowledgement });
  }

  private checkRegistration(method: string, handler: unknown, options: unknown): void {
    checkRegistration(method, handler, options);
    if (this.workers !== undefined) throw new InvalidArgumentError('a handler or batch handler is already registered; only one is allowed');
  }

  private workerSignal(user: AbortSignal | undefined): AbortSignal {
    return user === undefined ? this.workersStop.signal : AbortSignal.any([user, this.workersStop.signal]);
  }

  private async readConsumeChannel(): Promise<void> {
    for await (const consume of this.channels.consume) {
      try {
        if (consume) this.start();
        else this.stop();
      } catch {
        // start while closing
      }
    }
  }
}
