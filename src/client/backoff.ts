/**
 * The library's one retry/backoff helper (in the client layer, so every layer above can use it): dp-kafka's cyclic exponential backoff with jitter.
 *
 * Attempt 1 waits `minRetryPeriod`, each later attempt twice as long, until the next doubling would pass
 * `maxRetryPeriod`; then the cycle starts again from `minRetryPeriod`, so a client that cannot reach its cluster
 * keeps trying forever at a bounded rate without settling on the longest pause (dp-kafka's `GetRetryTime`).
 * Every pause gets a jitter of -25 %…+24 % **of `minRetryPeriod`** (not of the pause) so that many clients started
 * together do not retry in lockstep; the result is capped at `maxRetryPeriod`.
 * With the defaults (200 ms, 32 s): 200, 400, 800, …, 25 600 ms, then 200 ms again.
 */
import { unrefTimer } from '../runtime/builtins.js';

/** A source of uniform numbers in [0, 1), like `Math.random`; injectable so tests can seed the jitter. */
export type RandomSource = () => number;

/**
 * How many attempts one cycle has: the doublings of `minMs` that stay within `maxMs`, plus the first.
 * `floor(log2(floor(max / min))) + 1`, as dp-kafka computes it; at least 1.
 */
export function backoffCycleLength(minMs: number, maxMs: number): number {
  const ratio = Math.floor(maxMs / minMs);
  return ratio < 1 ? 1 : Math.floor(Math.log2(ratio)) + 1;
}

/**
 * The pause before retry number `attempt` (1-based; values below 1 count as 1), in whole milliseconds.
 * `random` picks the jitter: an integer percentage in [-25, 24] of `minMs`, truncated toward zero as Go does.
 */
export function retryDelay(attempt: number, minMs: number, maxMs: number, random: RandomSource = Math.random): number {
  const n = attempt < 1 || !Number.isFinite(attempt) ? 1 : Math.floor(attempt);
  const step = (n - 1) % backoffCycleLength(minMs, maxMs);
  const jitterPercent = Math.floor(random() * 50) - 25;
  const pause = 2 ** step * minMs + Math.trunc((jitterPercent * minMs) / 100);
  return pause > maxMs ? maxMs : pause;
}

/**
 * A small seeded PRNG (mulberry32) for reproducible jitter in tests and simulations. Not for anything secret.
 */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The settings of one backoff sequence; durations in milliseconds. */
export interface BackoffOptions {
  minRetryPeriod: number;
  maxRetryPeriod: number;
  /** Jitter source; `Math.random` by default. */
  random?: RandomSource;
}

/**
 * A backoff sequence with its attempt counter: `next()` gives the pause before the next retry, `reset()` starts
 * over (dp-kafka resets after a consume session that ended cleanly, so one bad spell does not leave a client at
 * long pauses).
 */
export class Backoff {
  /** Retries handed out since the last reset. */
  attempt = 0;
  private readonly random: RandomSource;

  constructor(readonly options: BackoffOptions) {
    this.random = options.random ?? Math.random;
  }

  next(): number {
    this.attempt++;
    return retryDelay(this.attempt, this.options.minRetryPeriod, this.options.maxRetryPeriod, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Why a sleep ended early: the signal's reason, or a plain AbortError when the signal gave none. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/**
 * Resolves after `ms` milliseconds; rejects with the signal's reason as soon as it aborts (the timer is cleared).
 * `unref` lets the process exit while only this sleep is pending (background retry loops of a client the user
 * forgot to close should not keep Node alive).
 */
export function sleep(ms: number, signal?: AbortSignal, options: { unref?: boolean } = {}): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (options.unref) unrefTimer(timer); // a number where timers are web timers (Deno, workers): left as is
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Options of {@link retryForever}. */
export interface RetryOptions extends BackoffOptions {
  /** Stops the loop: the pending pause or the next attempt is not started, and the promise rejects with its reason. */
  signal?: AbortSignal;
  /** Told of each failure and the pause that follows (to log it, or to push it to an `errors` channel). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Return false to give up on an error (the promise rejects with it); by default every error is retried. */
  isRetriable?: (err: unknown) => boolean;
  /** Sleep with an unref'd timer, see {@link sleep}. */
  unref?: boolean;
}

/**
 * Calls `fn(attempt)` (1-based) until it resolves, pausing between failures by the cyclic backoff; resolves with
 * its result. This is the initialisation loop of dp-kafka's producer and consumer group: it never gives up on
 * its own, only on abort or an error `isRetriable` refuses.
 */
export async function retryForever<T>(fn: (attempt: number) => T | Promise<T>, options: RetryOptions): Promise<T> {
  const backoff = new Backoff(options);
  const { signal } = options;
  for (;;) {
    if (signal?.aborted) throw abortReason(signal);
    const attempt = backoff.attempt + 1;
    try {
      return await fn(attempt);
    } catch (err) {
      if (options.isRetriable !== undefined && !options.isRetriable(err)) throw err;
      const delay = backoff.next();
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, signal, { unref: options.unref });
    }
  }
}
