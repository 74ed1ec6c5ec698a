/**
 * The consumer group's life-cycle, as dp-kafka's `StateMachine` and `StateChan` (v3.1): six states, the
 * transitions dp-kafka makes, and one signal channel per state that is **closed while the group is in that
 * state** (replaced by a fresh open one when it leaves), so that code can wait for "Consuming" or "Stopped" the
 * way Go code selects on `<-channels.State.Consuming`.
 *
 * ```
 * Initialising → Stopped | Starting | Closing
 * Stopped      → Starting | Closing
 * Starting     → Consuming | Stopping | Closing
 * Consuming    → Starting | Stopping | Closing
 * Stopping     → Stopped | Closing
 * Closing      (terminal)
 * ```
 * Initialising goes to Stopped, or to Starting when `start()` came before initialisation; a consume session's
 * set-up moves Starting to Consuming and its clean-up (a rebalance) back to Starting; `stop()` moves Starting or
 * Consuming to Stopping, and Stopping becomes Stopped once the session has ended (a `start()` while Stopping
 * takes effect from Stopped, as in dp-kafka). Closing is terminal.
 *
 * Unlike dp-kafka's `Set`, every change here is checked against that table: an impossible transition is a bug in
 * the caller and throws, instead of leaving the group in a state no loop handles.
 */
import { Chan } from './chan.js';
import { KafkaError, StateTransitionError } from '../errors.js';

/** The consumer group states, named as dp-kafka's (their `String()` values). */
export const ConsumerState = {
  Initialising: 'Initialising',
  Stopped: 'Stopped',
  Starting: 'Starting',
  Consuming: 'Consuming',
  Stopping: 'Stopping',
  Closing: 'Closing',
} as const;

export type ConsumerState = (typeof ConsumerState)[keyof typeof ConsumerState];

/** Every state, in dp-kafka's enum order. */
export const CONSUMER_STATES: readonly ConsumerState[] = Object.freeze(Object.values(ConsumerState));

/** Where each state may go next (dp-kafka consumer_group.go and the Sarama handler's Setup/Cleanup). */
export const CONSUMER_STATE_TRANSITIONS: Readonly<Record<ConsumerState, readonly ConsumerState[]>> = Object.freeze({
  Initialising: ['Stopped', 'Starting', 'Closing'],
  Stopped: ['Starting', 'Closing'],
  Starting: ['Consuming', 'Stopping', 'Closing'],
  Consuming: ['Starting', 'Stopping', 'Closing'],
  Stopping: ['Stopped', 'Closing'],
  Closing: [],
});

/** True if the table allows `from` → `to`. Staying in the same state is not a transition (see `transition`). */
export function isTransitionAllowed(from: ConsumerState, to: ConsumerState): boolean {
  return CONSUMER_STATE_TRANSITIONS[from].includes(to);
}

/** Defined with every other error class in src/errors.ts; re-exported where it is raised. */
export { StateTransitionError };

/**
 * A live view of the per-state signal channels (dp-kafka's `Channels().State`): each getter returns the channel
 * for that state *now*, closed if the group is in it. Read it when you wait: a channel taken earlier may already
 * have been replaced.
 */
export type ConsumerStateChannels = { readonly [S in ConsumerState]: Chan<never> };

/** Called after every state change, for logs and diagnostics. */
export type StateListener = (to: ConsumerState, from: ConsumerState) => void;

/**
 * The state machine a ConsumerGroup owns. Synchronous: JavaScript runs one thing at a time, so Go's mutex has
 * no counterpart, and the signal channel of a new state is closed before `transition` returns.
 */
export class ConsumerStateMachine {
  private current: ConsumerState = ConsumerState.Initialising;
  private readonly signals = new Map<ConsumerState, Chan<never>>();
  private readonly listeners = new Set<StateListener>();
  /** See {@link ConsumerStateChannels}. */
  readonly channels: ConsumerStateChannels;

  constructor() {
    for (const st of CONSUMER_STATES) this.signals.set(st, new Chan<never>());
    this.signals.get(this.current)!.close();
    const channels = {} as Record<ConsumerState, Chan<never>>;
    for (const st of CONSUMER_STATES) Object.defineProperty(channels, st, { get: () => this.signals.get(st)!, enumerable: true });
    this.channels = Object.freeze(channels);
  }

  /** The current state. */
  get state(): ConsumerState {
    return this.current;
  }

  /** Moves to `to`, checked against the transition table and, when given, a list of states it may come from
   * (dp-kafka's `SetIf`). Staying in the current state is a no-op, except that Closing → Closing is refused so a
   * second close can tell it came late. Throws {@link StateTransitionError} when refused. */
  transition(to: ConsumerState, from?: readonly ConsumerState[]): void {
    const err = this.check(to, from);
    if (err !== undefined) throw err;
    this.enter(to);
  }

  /** Like {@link transition}, but returns false instead of throwing when the change is refused. */
  tryTransition(to: ConsumerState, from?: readonly ConsumerState[]): boolean {
    if (this.check(to, from) !== undefined) return false;
    this.enter(to);
    return true;
  }

  /** The signal channel of `state`: closed while the machine is in it. */
  channel(state: ConsumerState): Chan<never> {
    return this.signals.get(state)!;
  }

  /**
   * Resolves once the machine is in `state`, at once if it is already (dp-kafka's `StateWait`). Entering it
   * counts even if the machine has left again by the time the promise settles. Rejects with the signal's reason
   * on abort.
   */
  wait(state: ConsumerState, signal?: AbortSignal): Promise<void> {
    return this.signals.get(state)!.wait(signal);
  }

  /** Registers a listener for state changes; returns a function that removes it. */
  onChange(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  toString(): string {
    return this.current;
  }

  private check(to: ConsumerState, from: readonly ConsumerState[] | undefined): StateTransitionError | undefined {
    const now = this.current;
    if (from !== undefined && !from.includes(now)) return new StateTransitionError(now, to, `is not allowed: expected to be in ${from.join(' or ')}`);
    if (now === to) return now === ConsumerState.Closing ? new StateTransitionError(now, to, 'is not allowed: already closing') : undefined;
    if (!isTransitionAllowed(now, to)) return new StateTransitionError(now, to);
    return undefined;
  }

  private enter(to: ConsumerState): void {
    const from = this.current;
    if (from === to) return;
    // The state being left gets a fresh, open channel; the new one's is closed, waking everyone waiting for it.
    this.signals.set(from, new Chan<never>());
    this.current = to;
    this.signals.get(to)!.close();
    for (const l of this.listeners) l(to, from);
  }
}
