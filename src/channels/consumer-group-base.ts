/**
 * What every consumer group shares, real or mock: the channels, dp-kafka's state machine and its transitions
 * (start / stop / stopAndWait / the consume channel / health updates), handler registration, error logging and
 * the close order. Subclasses say how to initialise, how a consume session begins and ends, and how healthy the
 * brokers are: `ConsumerGroup` with the group protocol over the real client, `MockConsumerGroup` with a queue.
 */
import { untilAborted } from './abort.js';
import { Chan } from './chan.js';
import { resolveConsumerGroupConfig, upstreamCapacity, type ConsumerGroupConfig, type ResolvedConsumerGroupConfig } from './config.js';
import { pushError } from './error-channel.js';
import { startBatchWorker, startHandlerWorkers, type BatchHandler, type Handler, type HandlerFailure, type Workers } from './handlers.js';
import { checkHealth, type HealthCheck, type HealthStatus, type HealthView } from './health.js';
import type { CloseOptions, ConsumerGroupChannels, IConsumerGroup, RegisterOptions } from './interfaces.js';
import type { Message } from './message.js';
import { ConsumerStateMachine, type ConsumerState } from './state.js';
import { ClosedError, InvalidArgumentError } from '../errors.js';
import { checkTransactionalOption, transactionalCommit, type TransactionalCommit } from './transactional-handlers.js';
import type { GroupMetadata } from './producer-transactions.js';

/** A running consume session: `end()` asks it to finish; `done` settles once in-flight messages were released. */
export interface ConsumeSession {
  end(): void;
  readonly done: Promise<void>;
}

export abstract class ConsumerGroupBase implements IConsumerGroup {
  readonly config: ResolvedConsumerGroupConfig;
  readonly channels: ConsumerGroupChannels;
  protected readonly machine = new ConsumerStateMachine();
  protected session: ConsumeSession | undefined;
  protected workers: Workers | undefined;
  private readonly workersStop = new AbortController();
  private target: 'Stopped' | 'Starting' = 'Stopped';
  private startWhenStopped = false;
  private closing: Promise<void> | undefined;

  constructor(config: ConsumerGroupConfig) {
    this.config = resolveConsumerGroupConfig(config);
    this.channels = {
      upstream: new Chan<Message>(upstreamCapacity(this.config)),
      errors: new Chan<Error>(this.config.errorsCapacity),
      ready: new Chan<never>(),
      consume: new Chan<boolean>(),
      closer: new Chan<never>(),
      closed: new Chan<never>(),
      state: this.machine.channels,
    };
    void this.readConsumeChannel();
  }

  /** Starts a consume session (state is Starting). The subclass moves the state to Consuming when it is. */
  protected abstract beginSession(): ConsumeSession;
  /** The broker view for `checker()`. */
  protected abstract healthView(): Promise<HealthView>;
  /** Releases what the subclass holds, after the session ended and the workers drained. */
  protected abstract shutdown(): Promise<void>;
  /** Called by a handler failure (the real group logs it; the mock records it). */
  protected abstract onHandlerFailure(failure: HandlerFailure): void;

  get topic(): string { return this.config.topic; }
  get groupName(): string { return this.config.groupName; }
  get state(): ConsumerState { return this.machine.state; }

  stateWait(state: ConsumerState, signal?: AbortSignal): Promise<void> {
    return this.machine.wait(state, signal);
  }

  isInitialised(): boolean {
    return this.channels.ready.closed;
  }

  abstract initialise(signal?: AbortSignal): Promise<void>;
  abstract pause(partitions: readonly number[]): void;
  abstract resume(partitions: readonly number[]): void;
  abstract paused(): number[];

  /** The subclass calls this once connected: Initialising → Stopped, or → Starting if start() came first. */
  protected markInitialised(): void {
    if (this.isInitialised() || this.machine.state !== 'Initialising') return;
    this.machine.transition(this.target);
    this.channels.ready.close();
    if (this.target === 'Starting') this.session = this.beginSession();
  }

  start(): void {
    switch (this.machine.state) {
      case 'Initialising':
        this.target = 'Starting';
        return;
      case 'Stopped':
        this.machine.transition('Starting');
        this.session = this.beginSession();
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

  /**
   * Unlike dp-kafka's, waits until Stopped (the session ended: it waited up to messageConsumeTimeout for
   * in-flight messages, committed what was marked and left the group) and then until no registered handler is
   * running and their commits settled, however long a handler takes. `signal` ends the wait, not the stop.
   */
  async stopAndWait(signal?: AbortSignal): Promise<void> {
    this.stop();
    if (this.machine.state === 'Stopping') await this.machine.wait('Stopped', signal);
    await this.workers?.idle(signal);
  }

  registerHandler(handler: Handler, options: RegisterOptions = {}): void {
    checkRegistration('registerHandler', handler, options);
    checkTransactionalOption('registerHandler', options);
    this.assertNoHandler();
    this.workers = startHandlerWorkers(this.channels.upstream, handler, {
      numWorkers: this.config.numWorkers, signal: this.workerSignal(options.signal), onError: (f) => this.onHandlerFailure(f),
      transactional: this.transactional(options),
    });
  }

  registerBatchHandler(handler: BatchHandler, options: RegisterOptions = {}): void {
    checkRegistration('registerBatchHandler', handler, options);
    checkTransactionalOption('registerBatchHandler', options);
    this.assertNoHandler();
    this.workers = startBatchWorker(this.channels.upstream, handler, {
      batchSize: this.config.batchSize, batchWaitTime: this.config.batchWaitTime, signal: this.workerSignal(options.signal),
      onError: (f) => this.onHandlerFailure(f), transactional: this.transactional(options),
    });
  }

  /**
   * The group's identity for offsets committed in a producer's transaction (KIP-447): the real group gives its
   * current generation and member id; without one, -1 and '' (the broker then cannot fence a zombie member).
   */
  groupMetadata(): GroupMetadata {
    return { groupId: this.groupName, generationId: -1, memberId: '', groupInstanceId: null };
  }

  private transactional(options: RegisterOptions): TransactionalCommit | undefined {
    const p = options.transactionalProducer;
    return p === undefined ? undefined : transactionalCommit(p, () => this.groupMetadata());
  }

  /** dp-kafka's health rules, with the seed's "initialise when every broker is healthy" (see {@link checkHealth}). */
  checker(): Promise<HealthCheck> {
    return checkHealth('consumer-group', {
      isInitialised: () => this.isInitialised(), initialise: (signal) => this.initialise(signal),
      probe: async () => (await this.healthView()).brokers, minBrokersHealthy: this.config.minBrokersHealthy, timeoutMs: this.config.requestTimeoutMs,
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

  logErrors(): void {
    void (async () => {
      for await (const err of this.channels.errors) this.logError(err);
    })();
  }

  /** Hook for `logErrors`; the mock also records what it logged. */
  protected logError(err: Error): void {
    this.config.logger?.error('kafka consumer group error', { err: err.message, topic: this.topic, group: this.groupName });
  }

  /** Puts an error on `errors` without ever blocking (the oldest unread one is dropped when full). */
  protected reportError(err: unknown): void {
    pushError(this.channels.errors, err instanceof Error ? err : new Error(String(err)));
  }

  /**
   * Closing: no new messages, the session ends (in-flight messages finish and their offsets are committed by the
   * session), the workers drain `upstream`, then the subclass shuts down. With a signal, whatever is still running
   * when it aborts is abandoned (redelivered later) and close rejects with its reason. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.closeInOrder(options.signal);
    return this.closing;
  }

  private async closeInOrder(signal: AbortSignal | undefined): Promise<void> {
    this.machine.transition('Closing');
    this.channels.closer.close();
    this.channels.consume.close();
    const session = this.session;
    this.session = undefined;
    session?.end();
    const drained = (async () => {
      await session?.done;
      this.channels.upstream.close(); // workers handle what was delivered; a partial batch too
      await this.workers?.done;
    })();
    try {
      await untilAborted(drained, signal);
    } finally {
      this.workersStop.abort();
      if (!this.channels.upstream.closed) this.channels.upstream.close();
      await this.shutdown().catch((err: unknown) => this.config.logger?.warn('consumer group shutdown', { err: String(err) }));
      this.channels.errors.close();
      this.channels.closed.close();
    }
  }

  private assertNoHandler(): void {
    if (this.workers !== undefined) throw new InvalidArgumentError('a handler or batch handler is already registered; only one is allowed');
  }

  /** Workers stop on the group's own stop signal (end of close) or the caller's. */
  private workerSignal(user: AbortSignal | undefined): AbortSignal {
    if (user === undefined) return this.workersStop.signal;
    return AbortSignal.any([user, this.workersStop.signal]);
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

  private async finishStop(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s !== undefined) {
      s.end();
      await s.done.catch((err: unknown) => this.reportError(err));
    }
    if (this.machine.state !== 'Stopping') return;
    this.machine.transition('Stopped');
    if (this.startWhenStopped) {
      this.startWhenStopped = false;
      this.start();
    }
  }
}

/**
 * A promise rejected with `signal.reason` when it aborts. Its listener stays on the signal: prefer
 * {@link untilAborted} (./abort.ts), which removes it (under Deno a listened AbortSignal.timeout keeps the process alive).
 */
export function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** A handler must be a function and the options `{ signal? }`: refused at the call (issue 17), never found out later. */
export function checkRegistration(method: string, handler: unknown, options: unknown): void {
  if (typeof handler !== 'function') throw new InvalidArgumentError(`${method}: the handler must be a function, got ${handler === null ? 'null' : typeof handler}`);
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${method}: options must be an object such as { signal }`);
  const signal = (options as RegisterOptions).signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgumentError(`${method}: options.signal must be an AbortSignal`);
}
