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
import { Chan } from '../channels/chan.js';
import { sleep } from '../client/backoff.js';
import type { ConsumerGroupConfig } from '../channels/config.js';
import { ConsumerGroupBase, type ConsumeSession } from '../channels/consumer-group-base.js';
import { checkPartitions } from '../channels/consumer-group.js';
import type { HandlerFailure } from '../channels/handlers.js';
import type { BrokerHealth, HealthView } from '../channels/health.js';
import { ConsumerMessage, type Message, type MessageHeader, type MessageSession } from '../channels/message.js';
import type { ConsumerState } from '../channels/state.js';
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

function toBuffer(v: Buffer | string | null | undefined): Buffer | null {
  return typeof v === 'string' ? Buffer.from(v) : v ?? null;
}

export class MockConsumerGroup extends ConsumerGroupBase {
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

  private readonly options: Required<MockConsumerOptions>;
  private readonly queue: Chan<QueuedRecord>;
  private readonly redeliver: QueuedRecord[] = [];
  private nextOffset = 1;
  private brokerHealth: BrokerHealth[];
  private readonly messageSession: MessageSession;

  constructor(config: ConsumerGroupConfig, options: MockConsumerOptions = {}) {
    super(config);
    this.options = { numPartitions: options.numPartitions ?? 30, channelBufferSize: options.channelBufferSize ?? 30, initAtCreation: options.initAtCreation ?? true };
    this.queue = new Chan(this.options.channelBufferSize);
    this.brokerHealth = this.config.brokerAddrs.map((address) => ({ address, reachable: true, hasTopic: true }));
    this.messageSession = {
      mark: (m) => this.mark(m),
      commit: async (m) => {
        this.mark(m);
        this.committedOffsets.set(m.partition, Math.max(this.committedOffsets.get(m.partition) ?? 0, m.offset + 1));
      },
      release: () => undefined, // claims wait on upstreamDone()
      reportError: (err) => this.reportError(err),
    };
    if (this.options.initAtCreation) void this.initialise();
    else void sleep(this.config.minRetryPeriod, this.channels.closer.signal, { unref: true }).then(() => this.initialise(), () => undefined);
  }

  async initialise(): Promise<void> {
    this.markInitialised();
  }

  /** Simulates broker health for `checker()` (all healthy by default). */
  setBrokerHealth(brokers: readonly BrokerHealth[]): void {
    this.brokerHealth = [...brokers];
  }

  protected async healthView(): Promise<HealthView> {
    return { initialised: this.isInitialised(), brokers: this.brokerHealth, minBrokersHealthy: this.config.minBrokersHealthy };
  }

  protected onHandlerFailure(failure: HandlerFailure): void {
    this.handlerFailures.push(failure);
  }

  protected override logError(err: Error): void {
    this.loggedErrors.push(err);
    super.logError(err);
  }

  protected async shutdown(): Promise<void> {
    if (!this.queue.closed) this.queue.close();
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
    s.end();
    await s.done;
    if ((this.machine.state as ConsumerState) === 'Starting') this.session = this.beginSession();
  }

  private mark(m: Message): void {
    this.markedOffsets.set(m.partition, Math.max(this.markedOffsets.get(m.partition) ?? 0, m.offset + 1));
  }

  protected beginSession(): ConsumeSession {
    const ctl = new AbortController();
    const claims: Promise<void>[] = [];
    for (let p = 0; p < this.options.numPartitions; p++) claims.push(this.claim(p, ctl.signal));
    this.sessions++;
    this.machine.transition('Consuming', ['Starting']);
    return { end: () => ctl.abort(), done: Promise.all(claims).then(() => undefined) };
  }

  /** Paused partitions, each with the channel closed by its `resume` (what its loop waits on). */
  private readonly pausedParts = new Map<number, Chan<never>>();

  /** As the real group's: a paused partition's loop takes nothing from the queue until resumed. */
  pause(partitions: readonly number[]): void {
    for (const p of checkPartitions(partitions, 'MockConsumerGroup.pause')) if (!this.pausedParts.has(p)) this.pausedParts.set(p, new Chan<never>());
  }

  resume(partitions: readonly number[]): void {
    for (const p of checkPartitions(partitions, 'MockConsumerGroup.resume')) {
      this.pausedParts.get(p)?.close();
      this.pausedParts.delete(p);
    }
  }

  paused(): number[] {
    return [...this.pausedParts.keys()].sort((a, b) => a - b);
  }

  /** One partition's loop (Sarama's ConsumeClaim): deliver, wait for release, repeat until the session ends. */
  private async claim(partition: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const held = this.pausedParts.get(partition);
      if (held !== undefined) {
        try { await held.wait(signal); } catch { return; } // session ended while paused
        continue;
      }
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
      const msg = new ConsumerMessage(this.messageSession, this.config.topic, partition, rec);
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

/** dp-kafka `kafkatest.NewConsumer`. */
export function createMockConsumer(config: ConsumerGroupConfig, options?: MockConsumerOptions): MockConsumerGroup {
  return new MockConsumerGroup(config, options);
}
