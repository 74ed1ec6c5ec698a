/**
 * `Chan<T>`: Go's channel for TypeScript, the primitive under every dp-kafka-style channel (`output`, `upstream`,
 * `errors`, and the `ready` / `closer` / `closed` signals, which, as in Go, signal by being closed).
 *
 * Semantics follow Go: a fixed-capacity FIFO buffer (capacity 0 is a rendezvous), waiting senders and receivers
 * served first come first served, values still buffered at close are drained before receivers see `done`.
 * Where Go panics (send on or close of a closed channel) we throw / reject with {@link ClosedError}.
 *
 * Speed: the channel is on every record's path. Operations that can complete at once allocate no promise for
 * `send` (a shared resolved promise) and no waiter; waiters are doubly-linked so that abort and `select` can
 * unlink them in O(1). A program whose operations all complete at once would run entirely in microtasks and
 * starve timers and sockets; the {@link starvationGuard} makes such a program yield to the event loop now and
 * then, at a cost amortised over thousands of operations.
 */
import { ClosedError } from '../errors.js';

/** What a receive yields: a value, or `done` once the channel is closed and drained (an `IteratorResult`). */
export type RecvResult<T> = { readonly value: T; readonly done: false } | { readonly value: undefined; readonly done: true };

/** The one result every receive from a closed and drained channel returns. */
export const DONE: RecvResult<never> = Object.freeze({ value: undefined, done: true });

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Microtask-starvation guard shared by every channel (several channels in a loop starve the event loop together).
 * Every `CHECK_EVERY` immediate operations it reads the clock and arms a marker `setImmediate`; if the marker has
 * not run `MAX_MS` later, the event loop has had no turn, so the next immediate operations are deferred until a
 * `setImmediate` fires: timers, I/O and other immediates get one loop turn, and the loops resume.
 */
const guard = {
  CHECK_EVERY: 1024,
  MAX_MS: 4,
  ops: 0,
  armedAt: -1,
  yielding: null as Promise<void> | null,
  /** How many times the guard made the program yield (for tests and diagnostics). */
  yields: 0,
};

/** The next event-loop turn: setImmediate where the runtime has it (Node, Bun, Deno), else a 0 ms timer. */
const nextTurn: (fn: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

function markerRan(): void {
  guard.armedAt = -1;
}

function yielded(resolve: () => void): void {
  guard.yielding = null;
  resolve();
}

/**
 * Counts one operation that completed without waiting. Returns null, or a promise that settles after the event
 * loop has had a turn, which the operation must wait for before its caller resumes.
 * @internal shared with select.ts only.
 */
export function starvationGuard(): Promise<void> | null {
  if (guard.yielding !== null) return guard.yielding;
  if (++guard.ops < guard.CHECK_EVERY) return null;
  guard.ops = 0;
  const now = performance.now();
  if (guard.armedAt < 0) {
    guard.armedAt = now;
    nextTurn(markerRan);
    return null;
  }
  if (now - guard.armedAt < guard.MAX_MS) return null;
  guard.yields++;
  guard.yielding = new Promise<void>((resolve) => nextTurn(() => yielded(resolve)));
  return guard.yielding;
}

/** Read-only view of the guard's counters, so tests can tell a yield happened. */
export function starvationGuardStats(): { readonly yields: number; readonly checkEvery: number; readonly maxMs: number } {
  return { yields: guard.yields, checkEvery: guard.CHECK_EVERY, maxMs: guard.MAX_MS };
}

/**
 * One 'abort' listener per signal, however many waiters share it: a consumer's closer signal may guard dozens of
 * pending operations, and one listener each would trip Node's MaxListenersExceededWarning.
 */
const abortWatchers = new WeakMap<AbortSignal, Set<() => void>>();

function dispatchAbort(event: Event): void {
  const signal = event.target as AbortSignal;
  const fns = abortWatchers.get(signal);
  abortWatchers.delete(signal);
  if (fns !== undefined) for (const fn of fns) fn();
}

/** Calls `fn` once when `signal` aborts, unless {@link unwatchAbort} comes first. @internal for select.ts. */
export function watchAbort(signal: AbortSignal, fn: () => void): void {
  let fns = abortWatchers.get(signal);
  if (fns === undefined) {
    fns = new Set();
    abortWatchers.set(signal, fns);
    signal.addEventListener('abort', dispatchAbort, { once: true });
  }
  fns.add(fn);
}

/** Undoes {@link watchAbort}. @internal for select.ts. */
export function unwatchAbort(signal: AbortSignal, fn: () => void): void {
  const fns = abortWatchers.get(signal);
  if (fns === undefined || !fns.delete(fn) || fns.size > 0) return;
  abortWatchers.delete(signal);
  signal.removeEventListener('abort', dispatchAbort);
}

/**
 * A party blocked on a channel: a receiver, or a sender holding `value`. Kept in an intrusive doubly-linked
 * list so that abort and `select` remove it in O(1).
 * @internal shared with select.ts and claim-feeder.ts (a sender that waits without a promise).
 */
export abstract class Waiter<T> {
  prev: Waiter<T> | null = null;
  next: Waiter<T> | null = null;
  linked = false;
  constructor(readonly isSender: boolean, public value: T | undefined) {}
  /** A receiver got `value` (or `done`); a sender's value was taken (arguments unused). */
  abstract fire(value: T | undefined, done: boolean): void;
  /** A sender's channel was closed under it. */
  abstract fail(err: Error): void;
}

/** FIFO of waiters with O(1) removal from the middle. */
class WaitQueue<T> {
  head: Waiter<T> | null = null;
  tail: Waiter<T> | null = null;

  push(w: Waiter<T>): void {
    w.linked = true;
    w.prev = this.tail;
    w.next = null;
    if (this.tail === null) this.head = w;
    else this.tail.next = w;
    this.tail = w;
  }

  shift(): Waiter<T> | null {
    const w = this.head;
    if (w !== null) this.remove(w);
    return w;
  }

  remove(w: Waiter<T>): void {
    if (!w.linked) return;
    w.linked = false;
    if (w.prev === null) this.head = w.next;
    else w.prev.next = w.next;
    if (w.next === null) this.tail = w.prev;
    else w.next.prev = w.prev;
    w.prev = w.next = null;
  }
}

/** A plain `recv` or `send` waiting on one channel, settling one promise, with an optional AbortSignal. */
class PromiseWaiter<T> extends Waiter<T> {
  resolve!: (r: RecvResult<T> | undefined) => void;
  reject!: (err: unknown) => void;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;

  fire(value: T | undefined, done: boolean): void {
    this.unlisten();
    if (this.isSender) this.resolve(undefined);
    else this.resolve(done ? DONE : { value: value as T, done: false });
  }

  fail(err: Error): void {
    this.unlisten();
    this.reject(err);
  }

  private unlisten(): void {
    if (this.onAbort !== undefined) unwatchAbort(this.signal!, this.onAbort);
  }
}

function closedError(what: string): ClosedError {
  return new ClosedError(`${what} on a closed channel`);
}

/**
 * A Go channel. `new Chan<T>(capacity)`; capacity 0 (the default) makes every send wait for a receiver.
 *
 * `tryRecv` returns `undefined` when nothing is ready, so the hot drain loop allocates only the result object:
 * `for (let r; (r = ch.tryRecv()) !== undefined && !r.done;) use(r.value)`. {@link Chan.drainInto} moves many
 * values with no allocation at all.
 */
export class Chan<T> implements AsyncIterable<T> {
  /** Buffer slots; fixed at construction (the memory bound of the channel). */
  readonly capacity: number;
  private readonly buf: (T | undefined)[];
  private head = 0;
  private count = 0;
  private isClosed = false;
  private readonly recvq = new WaitQueue<T>();
  private readonly sendq = new WaitQueue<T>();
  private closedPromise: Promise<void> | undefined = undefined;
  private closeWaiters: Set<() => void> | undefined = undefined;
  private abortController: AbortController | undefined = undefined;

  constructor(capacity = 0) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`channel capacity must be a non-negative integer, got ${capacity}`);
    this.capacity = capacity;
    this.buf = new Array<T | undefined>(capacity).fill(undefined);
  }

  /** Values buffered now (Go's `len(ch)`). */
  get length(): number {
    return this.count;
  }

  /** True once `close()` was called (values may still be buffered). */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Sends `v`, resolving once it is buffered or handed to a receiver. Rejects with {@link ClosedError} if the
   * channel is or becomes closed before the value is taken, and with the signal's reason on abort (the value is
   * then not sent).
   */
  send(v: T, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.isClosed) return Promise.reject(closedError('send'));
    if (this.trySend(v)) return starvationGuard() ?? RESOLVED;
    const w = new PromiseWaiter<T>(true, v);
    return this.park(w, this.sendq, signal) as Promise<void>;
  }

  /**
   * Sends `v` if a receiver waits or a slot is free; returns false otherwise. Throws {@link ClosedError} on a
   * closed channel (Go panics).
   */
  trySend(v: T): boolean {
    if (this.isClosed) throw closedError('send');
    const r = this.recvq.shift();
    if (r !== null) {
      r.fire(v, false);
      return true;
    }
    if (this.count === this.capacity) return false;
    let tail = this.head + this.count;
    if (tail >= this.capacity) tail -= this.capacity;
    this.buf[tail] = v;
    this.count++;
    return true;
  }

  /**
   * Receives the next value, waiting for one if needed; `{ done: true }` once the channel is closed and drained.
   * Rejects with the signal's reason on abort (no value is then taken).
   */
  recv(signal?: AbortSignal): Promise<RecvResult<T>> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const r = this.tryRecv();
    if (r !== undefined) {
      const wait = starvationGuard();
      return wait === null ? Promise.resolve(r) : wait.then(() => r);
    }
    const w = new PromiseWaiter<T>(false, undefined);
    return this.park(w, this.recvq, signal) as Promise<RecvResult<T>>;
  }

  /** Receives a value if one is ready now: the result, `DONE` if closed and drained, or `undefined`. */
  tryRecv(): RecvResult<T> | undefined {
    if (this.count > 0) return { value: this.shiftBuffered(), done: false };
    const s = this.sendq.shift();
    if (s !== null) {
      const v = s.value as T;
      s.value = undefined;
      s.fire(undefined, false);
      return { value: v, done: false };
    }
    return this.isClosed ? DONE : undefined;
  }

  /**
   * Moves up to `max` ready values into `out` (appending) without allocating; returns how many. Meant for batch
   * consumers such as the producer loop, which drains `output` into a batch between awaits.
   */
  drainInto(out: T[], max = Infinity): number {
    let n = 0;
    while (n < max) {
      if (this.count > 0) out.push(this.shiftBuffered());
      else {
        const s = this.sendq.shift();
        if (s === null) break;
        out.push(s.value as T);
        s.value = undefined;
        s.fire(undefined, false);
      }
      n++;
    }
    return n;
  }

  /**
   * Closes the channel: later sends throw, waiting senders reject with {@link ClosedError}, waiting receivers get
   * `done`; buffered values stay receivable. Closing twice throws {@link ClosedError}, as Go panics.
   */
  close(): void {
    if (this.isClosed) throw closedError('close');
    this.isClosed = true;
    for (let w = this.recvq.shift(); w !== null; w = this.recvq.shift()) w.fire(undefined, true);
    for (let w = this.sendq.shift(); w !== null; w = this.sendq.shift()) w.fail(closedError('send'));
    if (this.closeWaiters !== undefined) for (const fn of this.closeWaiters) fn();
    this.closeWaiters = undefined;
    this.abortController?.abort(closedError('channel closed'));
  }

  /**
   * Resolves when the channel is closed: how the `ready`, `closer` and `closed` signals are awaited. With a signal,
   * rejects with its reason on abort instead.
   */
  wait(signal?: AbortSignal): Promise<void> {
    if (this.isClosed) return RESOLVED;
    if (signal === undefined) return (this.closedPromise ??= new Promise<void>((resolve) => this.onClose(resolve)));
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.closeWaiters?.delete(done);
        reject(signal.reason);
      };
      const done = (): void => {
        unwatchAbort(signal, onAbort);
        resolve();
      };
      this.onClose(done);
      watchAbort(signal, onAbort);
    });
  }

  private onClose(fn: () => void): void {
    (this.closeWaiters ??= new Set()).add(fn);
  }

  /** An AbortSignal aborted when the channel closes, to hand a `closer` to Node APIs that take a signal. */
  get signal(): AbortSignal {
    if (this.abortController === undefined) {
      this.abortController = new AbortController();
      if (this.isClosed) this.abortController.abort(closedError('channel closed'));
    }
    return this.abortController.signal;
  }

  /** `for await (const v of ch)`: receives until the channel is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return this.values();
  }

  /** Like iterating the channel, but a pending receive rejects with the signal's reason on abort. */
  values(signal?: AbortSignal): AsyncIterableIterator<T> & AsyncIterator<T, undefined> {
    const it = {
      next: (): Promise<RecvResult<T>> => this.recv(signal),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /** @internal for select: whether a receive would complete now (a value, a waiting sender, or closed). */
  canRecv(): boolean {
    return this.count > 0 || this.sendq.head !== null || this.isClosed;
  }

  /** @internal for select: whether a send would complete (or throw, if closed) now. */
  canSend(): boolean {
    return this.isClosed || this.recvq.head !== null || this.count < this.capacity;
  }

  /** @internal for select: queue a waiter; the caller checked that nothing is ready. */
  enqueue(w: Waiter<T>): void {
    (w.isSender ? this.sendq : this.recvq).push(w);
  }

  /** @internal for select: unlink a waiter that no longer waits (another case won, or abort). */
  dequeue(w: Waiter<T>): void {
    (w.isSender ? this.sendq : this.recvq).remove(w);
  }

  private shiftBuffered(): T {
    const v = this.buf[this.head] as T;
    this.buf[this.head] = undefined;
    if (++this.head === this.capacity) this.head = 0;
    this.count--;
    // A full buffer with senders waiting: the first sender's value takes the freed slot, as in Go.
    const s = this.sendq.shift();
    if (s !== null) {
      let tail = this.head + this.count;
      if (tail >= this.capacity) tail -= this.capacity;
      this.buf[tail] = s.value;
      s.value = undefined;
      this.count++;
      s.fire(undefined, false);
    }
    return v;
  }

  private park(w: PromiseWaiter<T>, q: WaitQueue<T>, signal: AbortSignal | undefined): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      w.resolve = resolve;
      w.reject = reject;
      q.push(w);
      if (signal !== undefined) {
        w.signal = signal;
        w.onAbort = (): void => {
          if (!w.linked) return;
          q.remove(w);
          reject(signal.reason);
        };
        watchAbort(signal, w.onAbort);
      }
    });
  }
}
