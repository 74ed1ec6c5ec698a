/**
 * The life cycle every group of ours shares, whatever its messages: consumer groups (ConsumerGroupBase: the real
 * ConsumerGroup and the testing mock) and share groups (ShareGroup, KIP-932). One owner for dp-kafka's state
 * machine and its transitions (start / stop / stopAndWait / the consume channel / health updates), the channels,
 * handler registration rules, error reporting and logging, and the close order with its deadline. Subclasses say
 * how a session opens and ends, how the brokers are probed, how their workers start, and what they release last.
 */
import { retryForever } from '../client/backoff.js';
import { untilAborted } from './abort.js';
import { Chan } from './chan.js';
import { upstreamCapacity, type ResolvedConsumerGroupConfig } from './config.js';
import { pushError } from './error-channel.js';
import { checkHealth, type BrokerHealth, type HealthCheck, type HealthStatus } from './health.js';
import type { CloseOptions, GroupChannels, RegisterOptions } from './interfaces.js';
import { signalProblem } from './producer-input.js';
import { ConsumerStateMachine, type ConsumerState } from './state.js';
import { ClosedError, InvalidArgumentError } from '../errors.js';

/** The resolved config fields the life cycle reads (a share group's config has them too). */
export type LifecycleConfig = Omit<ResolvedConsumerGroupConfig, 'offset'>;

/** What the life cycle needs from registered workers. */
export interface LifecycleWorkers {
  /** Resolves when every loop has exited and no handler is running. */
  readonly done: Promise<void>;
  /** Resolves when no handler is running; rejects with the signal's reason on abort. */
  idle(signal?: AbortSignal): Promise<void>;
}

/**
 * The shared life cycle, generic over the message type `M` on `upstream`, the resolved config `C` and the
 * workers `W` that registered handlers run in.
 */
export abstract class GroupLifecycle<M, C extends LifecycleConfig = LifecycleConfig, W extends LifecycleWorkers = LifecycleWorkers> {
  readonly config: C;
  readonly channels: GroupChannels<M>;
  protected readonly machine = new ConsumerStateMachine();
  protected workers: W | undefined;
  /** Aborted (with a ClosedError) when closing reaches shutdown: ends a connect attempt and the background retries. */
  protected readonly abort = new AbortController();
  private connecting: Promise<void> | undefined;
  private readonly workersStop = new AbortController();
  private target: 'Stopped' | 'Starting' = 'Stopped';
  private startWhenStopped = false;
  private closing: Promise<void> | undefined;

  /** `kind` names the group in errors and logs ('consumer group', 'share group'). */
  constructor(config: C, private readonly kind: string) {
    this.config = config;
    this.channels = {
      upstream: new Chan<M>(upstreamCapacity(this.config)),
      errors: new Chan<Error>(this.config.errorsCapacity),
      ready: new Chan<never>(),
      consume: new Chan<boolean>(),
      closer: new Chan<never>(),
      closed: new Chan<never>(),
      state: this.machine.channels,
    };
    void this.readConsumeChannel();
  }

  /** Opens a consume session (state is Starting). The subclass moves the state to Consuming when it is. */
  protected abstract openSession(): void;
  /**
   * Ends the running session, if any, and returns when it has ended (always a promise: the stop waits for it).
   * `signal` (from close) bounds what the session may wait for.
   */
  protected abstract endSession(signal?: AbortSignal): Promise<void> | undefined;
  /** Each broker's answer, for `checker()`. */
  protected abstract probeBrokers(): Promise<readonly BrokerHealth[]>;
  /** Releases what the subclass holds, after the session ended and the workers drained. */
  protected abstract shutdown(): Promise<void>;

  abstract initialise(signal?: AbortSignal): Promise<void>;

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

  /**
   * `initialise` for a group that connects: `connect` (which calls markInitialised when done) runs once for every
   * concurrent caller; `signal` ends this caller's wait (rejecting with its reason), not the shared attempt.
   */
  protected connectOnce(connect: () => Promise<void>, signal?: AbortSignal): Promise<void> {
    const bad = signalProblem(signal);
    if (bad !== undefined) return Promise.reject(bad);
    if (this.isInitialised()) return Promise.resolve();
    if (this.abort.signal.aborted) return Promise.reject(this.closedError());
    this.connecting ??= connect().finally(() => { this.connecting = undefined; });
    return untilAborted(this.connecting, signal);
  }

  /** Retries `initialise()` in the background with the backoff (minRetryPeriod..maxRetryPeriod) until it succeeds or closing. */
  protected initialiseInBackground(): void {
    void retryForever(() => this.initialise(), {
      minRetryPeriod: this.config.minRetryPeriod, maxRetryPeriod: this.config.maxRetryPeriod, signal: this.abort.signal, unref: true,
      onRetry: (err, attempt, delay) => this.config.logger?.warn(`${this.kind} not initialised yet; retrying`, { err: String(err), attempt, delay }),
    }).catch(() => undefined);
  }

  /** The error of anything refused because the group is closed. */
  protected closedError(): ClosedError {
    return new ClosedError(`the ${this.kind} is closed`);
  }

  /** The subclass calls this once connected: Initialising → Stopped, or → Starting if start() came first. */
  protected markInitialised(): void {
    if (this.isInitialised() || this.machine.state !== 'Initialising') return;
    this.machine.transition(this.target);
    this.channels.ready.close();
    if (this.target === 'Starting') this.openSession();
  }

  /** Starts consuming (before initialisation: once initialised). Throws ClosedError once closing. */
  start(): void {
    switch (this.machine.state) {
      case 'Initialising':
        this.target = 'Starting';
        return;
      case 'Stopped':
        this.machine.transition('Starting');
        this.openSession();
        return;
      case 'Stopping':
        this.startWhenStopped = true;
        return;
      case 'Closing':
        throw new ClosedError(`${this.kind} cannot be started because it is closing`);
      default:
        return; // Starting or Consuming: already started
    }
  }

  /** Stops consuming: the session ends. Does not wait. */
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
   * Unlike dp-kafka's, waits until Stopped (the session ended) and then until no registered handler is running,
   * however long a handler takes. `signal` ends the wait, not the stop.
   */
  async stopAndWait(signal?: AbortSignal): Promise<void> {
    this.stop();
    if (this.machine.state === 'Stopping') await this.machine.wait('Stopped', signal);
    await this.workers?.idle(signal);
  }

  /**
   * The registration rules of `registerHandler` / `registerBatchHandler`: the arguments checked (then `check`,
   * the subclass's own), one handler only; `start` gets the workers' stop signal (the group's or the caller's).
   */
  protected registerWorkers(method: string, handler: unknown, options: RegisterOptions, start: (signal: AbortSignal) => W, check?: () => void): void {
    checkRegistration(method, handler, options);
    check?.();
    if (this.workers !== undefined) throw new InvalidArgumentError('a handler or batch handler is already registered; only one is allowed');
    this.workers = start(this.workerSignal(options.signal));
  }

  /** dp-kafka's health rules, with the seed's "initialise when every broker is healthy" (see {@link checkHealth}). */
  checker(): Promise<HealthCheck> {
    return checkHealth('consumer-group', {
      isInitialised: () => this.isInitialised(), initialise: (signal) => this.initialise(signal),
      probe: () => this.probeBrokers(), minBrokersHealthy: this.config.minBrokersHealthy, timeoutMs: this.config.requestTimeoutMs,
    });
  }

  /** OK starts, anything else stops (dp-kafka's `OnHealthUpdate`). */
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
      for await (const err of this.channels.errors) this.logError(err);
    })();
  }

  /** Hook for `logErrors`; the mock also records what it logged. */
  protected logError(err: Error): void {
    this.config.logger?.error(`kafka ${this.kind} error`, { err: err.message, topic: this.topic, group: this.groupName });
  }

  /** Puts an error on `errors` without ever blocking (the oldest unread one is dropped when full). */
  protected reportError(err: unknown): void {
    pushError(this.channels.errors, err instanceof Error ? err : new Error(String(err)));
  }

  /**
   * Closing: no new messages, the session ends, the workers drain `upstream`, then the subclass shuts down. With
   * a signal, whatever is still running when it aborts is abandoned (redelivered later) and close rejects with its
   * reason. Idempotent.
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
      this.channels.upstream.close(); // workers handle what was delivered; a partial batch too
      await this.workers?.done;
    })();
    try {
      await untilAborted(drained, signal);
    } finally {
      this.workersStop.abort();
      if (!this.channels.upstream.closed) this.channels.upstream.close();
      this.abort.abort(this.closedError());
      await this.shutdown().catch((err: unknown) => this.config.logger?.warn(`${this.kind} shutdown`, { err: String(err) }));
      this.channels.errors.close();
      this.channels.closed.close();
    }
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
    const ending = this.endSession();
    if (ending !== undefined) await ending.catch((err: unknown) => this.reportError(err));
    if (this.machine.state !== 'Stopping') return;
    this.machine.transition('Stopped');
    if (this.startWhenStopped) {
      this.startWhenStopped = false;
      this.start();
    }
  }
}

/** A handler must be a function and the options `{ signal? }`: refused at the call (issue 17), never found out later. */
export function checkRegistration(method: string, handler: unknown, options: unknown): void {
  if (typeof handler !== 'function') throw new InvalidArgumentError(`${method}: the handler must be a function, got ${handler === null ? 'null' : typeof handler}`);
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${method}: options must be an object such as { signal }`);
  const signal = (options as RegisterOptions).signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgumentError(`${method}: options.signal must be an AbortSignal`);
}
