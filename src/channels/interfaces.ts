/**
 * The public shapes of a producer and a consumer group (dp-kafka's `IProducer` and `IConsumerGroup`), so user
 * code can be written against an interface and handed either the real client or a `kafka-channels/testing` mock.
 */
import type { Buffer } from 'node:buffer';
import type { Chan } from './chan.js';
import type { BatchHandler, Handler } from './handlers.js';
import type { HealthCheck, HealthStatus } from './health.js';
import type { Message, ProducerMessage } from './message.js';
import type { OutputItem } from './producer-input.js';
import type { ConsumerState, ConsumerStateChannels } from './state.js';
import type { TransactionalProducer } from './transactional-handlers.js';

/**
 * A group's channels (consumer or share group), `M` being its messages. `ready`, `closer` and `closed` signal by
 * being closed (await `.wait()`); `consume` takes `true` (start) and `false` (stop) as dp-kafka's `Consume`
 * channel does.
 */
export interface GroupChannels<M> {
  /** Delivered messages; capacity max(numWorkers, batchSize). Closed when the group closes. */
  readonly upstream: Chan<M>;
  /** Asynchronous errors (commit or acknowledgement failures, session errors). Bounded; when full, the oldest
   * unread errors are dropped instead of blocking consumption (dp-kafka blocked). */
  readonly errors: Chan<Error>;
  /** Closed once initialised (dp-kafka `Initialised`). */
  readonly ready: Chan<never>;
  /** true starts, false stops. */
  readonly consume: Chan<boolean>;
  /** Closed when closing starts: loops exit. */
  readonly closer: Chan<never>;
  /** Closed when closing has finished. */
  readonly closed: Chan<never>;
  /** Per-state signals, each closed while the group is in its state. */
  readonly state: ConsumerStateChannels;
}

/** A consumer group's channels: consumed messages on `upstream`. */
export type ConsumerGroupChannels = GroupChannels<Message>;

/** Options of `registerHandler` / `registerBatchHandler`. */
export interface RegisterOptions {
  /** Stops the workers (like cancelling dp-kafka's registration context). */
  readonly signal?: AbortSignal;
  /**
   * Exactly-once consume-transform-produce (KIP-447): each message (batch) is handled inside a transaction of this
   * Producer (configured with `transactionalId`), whose records and the consumed offsets commit together instead
   * of the group's own commit. Runs are serialized. See transactional-handlers.ts.
   */
  readonly transactionalProducer?: TransactionalProducer;
}

/** Options of `close`. */
export interface CloseOptions {
  /** Deadline for draining in-flight work; on abort the rest is dropped (and redelivered later) and close ends. */
  readonly signal?: AbortSignal;
}

/** dp-kafka's `IConsumerGroup`. */
export interface IConsumerGroup {
  readonly channels: ConsumerGroupChannels;
  readonly topic: string;
  readonly groupName: string;
  /** The current life-cycle state. */
  readonly state: ConsumerState;
  /** Resolves once the group is in `state` (at once if it is). */
  stateWait(state: ConsumerState, signal?: AbortSignal): Promise<void>;
  isInitialised(): boolean;
  /** Initialises now if not yet (the background retry loop keeps trying otherwise); `signal` ends the wait. */
  initialise(signal?: AbortSignal): Promise<void>;
  /** Starts consuming (before initialisation: once initialised). Throws `ClosedError` once closing. */
  start(): void;
  /** Stops consuming; in-flight messages finish. Does not wait. */
  stop(): void;
  /**
   * Stops, waits until Stopped (the session waited up to messageConsumeTimeout for in-flight messages, committed
   * what was marked and left the group), then until no registered handler is running, however long it takes; a
   * handler that outlived the session commits too late (refused, on `errors`) and its message is redelivered.
   * `signal` ends the wait (rejecting with its reason), not the stop.
   */
  stopAndWait(signal?: AbortSignal): Promise<void>;
  /**
   * Holds `partitions` back without leaving the group (no rebalance): nothing new of them is delivered, and the
   * real group stops fetching them. Also applies to partitions assigned later. InvalidArgumentError for anything
   * but an array of partition numbers.
   */
  pause(partitions: readonly number[]): void;
  /** Delivers `partitions` again, from where they were. */
  resume(partitions: readonly number[]): void;
  /** The paused partitions, ascending. */
  paused(): number[];
  /** Runs `handler` in numWorkers workers (once: a second registration of either kind throws). */
  registerHandler(handler: Handler, options?: RegisterOptions): void;
  /** Runs `handler` on batches (once: a second registration of either kind throws). */
  registerBatchHandler(handler: BatchHandler, options?: RegisterOptions): void;
  checker(): Promise<HealthCheck>;
  /** dp-healthcheck subscriber: OK starts, WARNING and CRITICAL stop. */
  onHealthUpdate(status: HealthStatus): void;
  /** Drains `errors` into the configured logger until closed. */
  logErrors(): void;
  close(options?: CloseOptions): Promise<void>;
}

/** A producer's channels; `ready`, `closer` and `closed` signal by being closed. */
export interface ProducerChannels {
  /**
   * Messages to send; bounded (the producer's memory bound). Closed when the producer closes. Bytes or a string
   * written here is the record's value (dp-kafka's `pChannels.Output <- []byte(msg)`); an item that is not a
   * message goes to `errors` with its cause.
   */
  readonly output: Chan<OutputItem>;
  /** Delivery failures. Bounded; when full, the oldest unread errors are dropped instead of blocking sends. */
  readonly errors: Chan<Error>;
  readonly ready: Chan<never>;
  readonly closer: Chan<never>;
  readonly closed: Chan<never>;
}

/** dp-kafka's `IProducer`. */
export interface IProducer {
  readonly channels: ProducerChannels;
  readonly topic: string;
  isInitialised(): boolean;
  initialise(signal?: AbortSignal): Promise<void>;
  /** Queues a message; resolves once `output` took it (delivery is reported later, failures on `errors`). */
  send(message: ProducerMessage, signal?: AbortSignal): Promise<void>;
  /** `JSON.stringify(value)` as the value (dp-kafka v4.3 `SendJSON`). */
  sendJSON(value: unknown, options?: Omit<ProducerMessage, 'value'>, signal?: AbortSignal): Promise<void>;
  /** Raw bytes as the value (dp-kafka v4.3 `SendBytes`). */
  sendBytes(value: Buffer | Uint8Array, options?: Omit<ProducerMessage, 'value'>, signal?: AbortSignal): Promise<void>;
  checker(): Promise<HealthCheck>;
  logErrors(): void;
  close(options?: CloseOptions): Promise<void>;
}
