/**
 * Go's `select` over {@link Chan}s: wait on several receive and send cases and perform exactly one.
 *
 * As in Go, when several cases are ready one is chosen uniformly at random (so no channel starves another), a
 * `null`/`undefined` channel is never ready (Go's nil channel, to switch a case off), and a `default` case makes
 * the select non-blocking. A case that loses never takes a value: while waiting, each case is a waiter on its
 * channel, and the first one a channel completes unlinks the others synchronously, before any other code runs.
 */
import { Chan, Waiter, starvationGuard, unwatchAbort, watchAbort } from './chan.js';

/** Receive from `recv`; the result carries the value, or `done: true` if the channel is closed and drained. */
export interface RecvCase<T> {
  readonly recv: Chan<T> | null | undefined;
}

/** Send `value` on `send`; selecting a closed channel's send case rejects with `ClosedError`, as Go panics. */
export interface SendCase<T> {
  readonly send: Chan<T> | null | undefined;
  readonly value: T;
}

/** Taken when no other case is ready: makes the select non-blocking. At most one per select. */
export interface DefaultCase {
  readonly default: true;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a case list mixes channels of any element type
export type SelectCase = RecvCase<any> | SendCase<any> | DefaultCase;

type Received<C> = C extends RecvCase<infer T> ? T : never;

/**
 * Which case ran (`index` into the case list) and, for a receive case, what it got (`value`, `done` as in
 * `recv()`). For send and default cases `value` is undefined and `done` false.
 */
export interface Selected<C extends readonly SelectCase[]> {
  readonly index: number;
  readonly value: Received<C[number]> | undefined;
  readonly done: boolean;
}

/** Index of a ready case, chosen uniformly among the ready ones (reservoir sampling), or -1. */
function pickReady(cases: readonly SelectCase[]): number {
  let chosen = -1;
  let ready = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    let ok: boolean;
    if ('recv' in c) ok = c.recv != null && c.recv.canRecv();
    else if ('send' in c) ok = c.send != null && c.send.canSend();
    else continue;
    if (ok && Math.random() * ++ready < 1) chosen = i;
  }
  return chosen;
}

function defaultIndex(cases: readonly SelectCase[]): number {
  for (let i = 0; i < cases.length; i++) if ('default' in cases[i]!) return i;
  return -1;
}

/** Performs case `i`, which `pickReady` found ready (so it completes synchronously). */
function perform<C extends readonly SelectCase[]>(cases: C, i: number): Selected<C> {
  const c = cases[i]!;
  if ('recv' in c) {
    const r = c.recv!.tryRecv()!;
    return { index: i, value: r.value, done: r.done };
  }
  const s = c as SendCase<unknown>;
  if (!s.send!.trySend(s.value)) throw new Error('select: a ready send case did not complete'); // invariant
  return { index: i, value: undefined, done: false };
}

/**
 * Non-blocking select: performs one ready case (chosen at random), else the default case if there is one, else
 * returns `undefined`. Throws `ClosedError` if it picks a send case on a closed channel.
 */
export function trySelect<C extends readonly SelectCase[]>(cases: C): Selected<C> | undefined {
  const i = pickReady(cases);
  if (i >= 0) return perform(cases, i);
  const d = defaultIndex(cases);
  return d >= 0 ? { index: d, value: undefined, done: false } : undefined;
}

/**
 * Waits until one case can proceed and performs exactly that one. With a `default` case it never waits. Rejects
 * with the signal's reason on abort (no case performed), and with `ClosedError` if a send case's channel is or
 * gets closed while selected / waiting. A select with no usable case and no default waits until aborted, like
 * Go's empty `select {}`.
 */
export function select<C extends readonly SelectCase[]>(cases: C, signal?: AbortSignal): Promise<Selected<C>> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  let now: Selected<C> | undefined;
  try {
    now = trySelect(cases);
  } catch (err) {
    return Promise.reject(err);
  }
  if (now !== undefined) {
    const wait = starvationGuard();
    return wait === null ? Promise.resolve(now) : wait.then(() => now!);
  }
  return new Promise<Selected<C>>((resolve, reject) => {
    const group = new SelectGroup(resolve as (s: Selected<readonly SelectCase[]>) => void, reject, signal);
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      if ('recv' in c && c.recv != null) group.add(new SelectWaiter(false, undefined, group, i, c.recv));
      else if ('send' in c && c.send != null) group.add(new SelectWaiter(true, c.value, group, i, c.send));
    }
  });
}

/** One case of a waiting select, queued on its channel like a plain sender or receiver. */
class SelectWaiter<T> extends Waiter<T> {
  constructor(isSender: boolean, value: T | undefined, readonly group: SelectGroup, readonly index: number, readonly chan: Chan<T>) {
    super(isSender, value);
  }

  fire(value: T | undefined, done: boolean): void {
    this.group.win(this.index, this.isSender ? undefined : value, done);
  }

  fail(err: Error): void {
    this.group.fail(err);
  }
}

/** The waiting select: the first case to fire settles it and unlinks every other case at once. */
class SelectGroup {
  private readonly waiters: SelectWaiter<unknown>[] = [];
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly resolve: (s: Selected<readonly SelectCase[]>) => void,
    private readonly reject: (err: unknown) => void,
    private readonly signal: AbortSignal | undefined,
  ) {
    if (signal !== undefined) {
      this.onAbort = (): void => this.fail(signal.reason);
      watchAbort(signal, this.onAbort);
    }
  }

  add(w: SelectWaiter<unknown>): void {
    this.waiters.push(w);
    w.chan.enqueue(w);
  }

  win(index: number, value: unknown, done: boolean): void {
    this.release();
    this.resolve({ index, value: value as never, done });
  }

  fail(err: unknown): void {
    this.release();
    this.reject(err);
  }

  private release(): void {
    for (const w of this.waiters) w.chan.dequeue(w);
    if (this.onAbort !== undefined) unwatchAbort(this.signal!, this.onAbort);
  }
}
