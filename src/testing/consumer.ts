/**
 * A functional consumer group without a broker (dp-kafka `kafkatest.NewConsumer`): the test queues messages,
 * and the code under test consumes them through the same {@link IConsumerGroup} surface as the real client:
 * channels, the state machine, start/stop, registered handlers, offsets.
 *
 * As in dp-kafka's mock, `numPartitions` claim loops share one queue; each delivers a message to `upstream` and
 * waits for its release before taking the next, so concurrency and ordering behave as with a real group.
 * Queued messages get offsets 1, 2, 3… and the partition of the claim that delivers them. `queueMessage` waits
 * once `channelBufferSize` messages are queued and undelivered. `rebalance()` ends the session and starts a new
 * one (Consuming → Starting → Consuming). Brokers are healthy unless the test says otherwise
 * (`setBrokerHealth`).
 */
import { Buffer } from 'node:buffer';
import { Chan } from '../channels/chan.js';
import { sleep } from '../client/backoff.js';
import { resolveConsumerGroupConfig, upstreamCapacity, type ConsumerGroupConfig, type ResolvedConsumerGroupConfig } from '../channels/config.js';
import { pushError } from '../channels/error-channel.js';
import { startBatchWorker, startHandlerWorkers, type BatchHandler, type Handler, type HandlerFailure, type Workers } from '../channels/handlers.js';
import { evaluateHealth, type BrokerHealth, type HealthCheck, type HealthStatus } from '../channels/health.js';
import type { CloseOptions, ConsumerGroupChannels, IConsumerGroup, RegisterOptions } from '../channels/interfaces.js';
import { ConsumerMessage, type Message, type MessageHeader, type MessageSession } from '../channels/message.js';
import { ConsumerStateMachine, type ConsumerState } from '../channels/state.js';
import { ClosedError, InvalidArgumentError } from '../errors.js';
import { toHeaders, type MockMessageOptions } from './message.js';

/** dp-kafka `kafkatest.ConsumerConfig`. */
export interface MockConsumerOptions {
  /** Claim loops, one per simulated partition. Default 30. */
  numPartitions?: number;
  /** Messages that may wait in the queue before `queueMessage` waits. Default 30. */
  channelBufferSize?: number;
  /** Initialise in the constructor; otherwise it happens after `minRetryPeriod`, or on `initialise()`. Default true. */
  initAtCreation?: boolean;
}

/** A message to queue for consumption. */
export interface QueuedMessage {
  value: Buffer | string | null;
  key?: Buffer | string | null;
  headers?: MockMessageOptions['headers'];
  timestamp?: number;
}

interface QueuedRecord {
  readonly offset: number;
  readonly value: Buffer | null;
  readonly key: Buffer | null;
  readonly headers: MessageHeader[];
  readonly timestamp: number;
}

/** One consume session: its claim loops and the signal that ends them. */
interface Session {
  readonly ctl: AbortController;
  done: Promise<void>;
}

function toBuffer(v: Buffer | string | null | undefined): Buffer | null {
  return typeof v === 'string' ? Buffer.from(v) : v ?? null;
}

export class MockConsumerGroup implements IConsumerGroup {
  readonly config: ResolvedConsumerGroupConfig;
  readonly channels: ConsumerGroupChannels;
  /** Next offset to commit per partition, as marked (`mark()`, batch marks, `commit()`). */
  readonly markedOffsets = new Map<number, number>();
  /** Next offset to commit per partition, as committed by `commit()`. */
  readonly committedOffsets = new Map<number, number>();
  /** Handler failures, in order (the real group logs them). */
  readonly handlerFailures: HandlerFailure[] = [];
  /** Errors drained by `logErrors()`. */
  readonly loggedErrors: Error[] = [];
  /** How many sessions have started (each start and each rebalance is one). */
  sessions = 0;

  private readonly machine = new ConsumerStateMachine();
  private readonly options: Required<MockConsumerOptions>;
  private readonly queue: Chan<QueuedRecord>;
  private readonly redeliver: QueuedRecord[] = [];
  private readonly workersStop = new AbortController();
  private nextOffset = 1;
  private target: 'Stopped' | 'Starting' = 'Stopped';
  private startWhenStopped = false;
  private session: Session | undefined = undefined;
  private workers: Workers | undefined = undefined;
  private brokerHealth: BrokerHealth[];
  private readonly messageSession: MessageSession;

  constructor(config: ConsumerGroupConfig, options: MockConsumerOptions = {}) {
    this.config = resolveConsumerGroupConfig(config);
    this.options = { numPartitions: options.numPartitions ?? 30, channelBufferSize: options.channelBufferSize ?? 30, initAtCreation: options.initAtCreation ?? true };
    this.queue = new Chan(this.options.channelBufferSize);
    this.channels = {
      upstream: new Chan<Message>(upstreamCapacity(this.config)),
      errors: new Chan<Error>(this.config.errorsCapacity),
      ready: new Chan<never>(),
      consume: new Chan<boolean>(),
      closer: new Chan<never>(),
      closed: new Chan<never>(),
      state: this.machine.channels,
    };
    this.brokerHealth = this.config.brokerAddrs.map((address) => ({ address, reachable: true, hasTopic: true }));
    this.messageSession = {
      mark: (m) => this.mark(m),
      commit: async (m) => {
        this.mark(m);
        this.committedOffsets.set(m.partition, Math.max(this.committedOffsets.get(m.partition) ?? 0, m.offset + 1));
      },
      release: () => undefined, // claims wait on upstreamDone()
      reportError: (err) => pushError(this.channels.errors, err instanceof Error ? err : new Error(String(err))),
    };
    void this.readConsumeChannel();
    if (this.options.initAtCreation) void this.initialise();
    else void sleep(this.config.minRetryPeriod, this.channels.closer.signal, { unref: true }).then(() => this.initialise(), () => undefined);
  }

  get topic(): string {
    return this.config.topic;
  }

  get groupName(): string {
    return this.config.groupName;
  }

  get state(): ConsumerState {
    return this.machine.state;
  }

  stateWait(state: ConsumerState, signal?: AbortSignal): Promise<void> {
    return this.machine.wait(state, signal);
  }

  isInitialised(): boolean {
    return this.channels.ready.closed;
  }

  async initialise(): Promise<void> {
    if (this.isInitialised() || this.machine.state !== 'Initialising') return;
    this.machine.transition(this.target);
    this.channels.ready.close();
    if (this.target === 'Starting') this.beginSession();
  }

  start(): void {
    switch (this.machine.state) {
      case 'Initialising':
        this.target = 'Starting';
        return;
      case 'Stopped':
        this.machine.transition('Starting');
        this.beginSession();
        return;
      case 'Stopping':
        this.startWhenStopped = true;
        return;
      case 'Closing':
        throw new ClosedError('consumer group cannot be started because it is closing');
      default:
        return; // Starting or Consuming: already started
    }
  }

  stop(): void {
    switch (this.machine.state) {
      case 'Initialising':
        this.target = 'Stopped';
        return;
      case 'Starting':
      case 'Consuming':
        this.startWhenStopped = false;
        this.machine.transition('Stopping');
        void this.finishStop();
        return;
      case 'Stopping':
        this.startWhenStopped = false;
        return;
      default:
        return; // Stopped or Closing
    }
  }

  async stopAndWait(signal?: AbortSignal): Promise<void> {
    this.stop();
    if (this.machine.state === 'Stopping') await this.machine.wait('Stopped', signal);
  }

  registerHandler(handler: Handler, options: RegisterOptions = {}): void {
    this.assertNoHandler();
    this.workers = startHandlerWorkers(this.channels.upstream, handler, {
      numWorkers: this.config.numWorkers, signal: this.workerSignal(options.signal), onError: (f) => this.handlerFailures.push(f),
    });
  }

  registerBatchHandler(handler: BatchHandler, options: RegisterOptions = {}): void {
    this.assertNoHandler();
    this.workers = startBatchWorker(this.channels.upstream, handler, {
      batchSize: this.config.batchSize, batchWaitTime: this.config.batchWaitTime, signal: this.workerSignal(options.signal),
      onError: (f) => this.handlerFailures.push(f),
    });
  }

  /** Simulates broker health for `checker()` (all healthy by default). */
  setBrokerHealth(brokers: readonly BrokerHealth[]): void {
    this.brokerHealth = [...brokers];
  }

  async checker(): Promise<HealthCheck> {
    return evaluateHealth({ initialised: this.isInitialised(), brokers: this.brokerHealth, minBrokersHealthy: this.config.minBrokersHealthy }, 'consumer-group');
  }

  onHealthUpdate(status: HealthStatus): void {
    try {
      if (status === 'OK') this.start();
      else this.stop();
    } catch (err) {
      this.config.logger?.error('error applying a health update', { status, err });
    }
  }

  logErrors(): void {
    void (async () => {
      for await (const err of this.channels.errors) {
        this.loggedErrors.push(err);
        this.config.logger?.error('kafka consumer group error', { err, topic: this.topic, group: this.groupName });
      }
    })();
  }

  /** Queues a message for consumption (dp-kafka `QueueMessage`); waits while the queue is full. */
  async queueMessage(message: QueuedMessage, signal?: AbortSignal): Promise<void> {
    const record: QueuedRecord = {
      offset: this.nextOffset++,
      value: toBuffer(message.value),
      key: toBuffer(message.key),
      headers: toHeaders(message.headers),
      timestamp: message.timestamp ?? Date.now(),
    };
    await this.queue.send(record, signal);
  }

  /** Queues `JSON.stringify(value)` (dp-kafka v4.3 `QueueJSON`). */
  queueJSON(value: unknown, signal?: AbortSignal): Promise<void> {
    return this.queueMessage({ value: JSON.stringify(value) }, signal);
  }

  /** Queues raw bytes (dp-kafka v4.3 `QueueBytes`). */
  queueBytes(value: Buffer | Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.queueMessage({ value: Buffer.from(value.buffer, value.byteOffset, value.byteLength) }, signal);
  }

  /**
   * Ends the current session and starts a new one, as a group rebalance does (dp-kafka `RebalanceCluster`).
   * In-flight messages finish first; undelivered ones are delivered by the new session. Resolves once consuming
   * again, or at once if the group is not consuming.
   */
  async rebalance(): Promise<void> {
    const s = this.session;
    if (s === undefined || this.machine.state !== 'Consuming') return;
    this.machine.transition('Starting');
    this.session = undefined;
    s.ctl.abort();
    await s.done;
    if ((this.machine.state as ConsumerState) === 'Starting') this.beginSession();
  }

  async close(options: CloseOptions = {}): Promise<void> {
    if (this.machine.state === 'Closing') return this.channels.closed.wait();
    this.machine.transition('Closing');
    this.channels.closer.close();
    this.channels.consume.close();
    this.queue.close();
    this.session?.ctl.abort();
    this.channels.upstream.close(); // workers drain what was delivered; a partial batch is handled
    const drained = Promise.all([this.session?.done, this.workers?.done]);
    try {
      await (options.signal === undefined ? drained : Promise.race([drained, rejectOnAbort(options.signal)]));
    } finally {
      this.workersStop.abort();
      this.channels.errors.close();
      this.channels.closed.close();
    }
  }

  private mark(m: Message): void {
    this.markedOffsets.set(m.partition, Math.max(this.markedOffsets.get(m.partition) ?? 0, m.offset + 1));
  }

  private assertNoHandler(): void {
    if (this.workers !== undefined) throw new InvalidArgumentError('a handler or batch handler is already registered; only one is allowed');
  }

  /** Workers stop on the group's own stop signal (end of close) or the caller's. */
  private workerSignal(user: AbortSignal | undefined): AbortSignal {
    if (user === undefined) return this.workersStop.signal;
    const ctl = new AbortController();
    const abort = (): void => ctl.abort();
    if (user.aborted) abort();
    user.addEventListener('abort', abort, { once: true });
    this.workersStop.signal.addEventListener('abort', abort, { once: true });
    return ctl.signal;
  }

  private async readConsumeChannel(): Promise<void> {
    for await (const consume of this.channels.consume) {
      try {
        if (consume) this.start();
        else this.stop();
      } catch {
        // start while closing: nothing to do
      }
    }
  }

  private beginSession(): void {
    const ctl = new AbortController();
    const claims: Promise<void>[] = [];
    for (let p = 0; p < this.options.numPartitions; p++) claims.push(this.claim(p, ctl.signal));
    this.session = { ctl, done: Promise.all(claims).then(() => undefined) };
    this.sessions++;
    this.machine.transition('Consuming', ['Starting']);
  }

  private async finishStop(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s !== undefined) {
      s.ctl.abort();
      await s.done;
    }
    if (this.machine.state !== 'Stopping') return;
    this.machine.transition('Stopped');
    if (this.startWhenStopped) {
      this.startWhenStopped = false;
      this.start();
    }
  }

  /** One partition's loop (Sarama's ConsumeClaim): deliver, wait for release, repeat until the session ends. */
  private async claim(partition: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let rec = this.redeliver.shift();
      if (rec === undefined) {
        try {
          const r = await this.queue.recv(signal);
          if (r.done) return;
          rec = r.value;
        } catch {
          return; // session ended
        }
      }
      const msg = new ConsumerMessage({ topic: this.config.topic, partition, ...rec }, this.messageSession);
      try {
        await this.channels.upstream.send(msg, signal);
      } catch {
        this.redeliver.unshift(rec); // not delivered: the next session delivers it
        return;
      }
      await msg.upstreamDone();
    }
  }
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** dp-kafka `kafkatest.NewConsumer`. */
export function createMockConsumer(config: ConsumerGroupConfig, options?: MockConsumerOptions): MockConsumerGroup {
  return new MockConsumerGroup(config, options);
}
