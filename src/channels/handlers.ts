/**
 * The worker loops behind `registerHandler` and `registerBatchHandler` (dp-kafka consumer_handler.go), reading
 * from the consumer group's `upstream` channel.
 *
 * Commit rule, as dp-kafka's: after the handler, the message (or batch) is committed **unless** the handler
 * failed with an error that implements {@link Commiter} and says `shouldCommit() === false`. Any other failure
 * still commits (the message is not redelivered), so a handler that wants a retry must say so. Failures are
 * reported to `onError`; then the message is released.
 *
 * Batches, as dp-kafka's: one worker; each message is released as soon as it is added (a partition holds back
 * its next message until release, so a batch could not otherwise grow beyond the number of partitions); the
 * batch is handled when it holds `batchSize` messages or `batchWaitTime` after it started; a committed batch
 * marks all but its last message and commits the last.
 *
 * Where we differ from dp-kafka, on purpose:
 * - `batchWaitTime` counts from the batch's first message. dp-kafka restarts the wait on every message, so a
 *   steady trickle could hold a partial batch back for up to batchSize × the gap between messages.
 * - When `upstream` closes, a partial batch is still handled (dp-kafka dropped it); when `signal` aborts, loops
 *   stop taking messages but the handlers already running finish, and {@link Workers.done} waits for them, so
 *   `stopAndWait` and `close` can drain in-flight work.
 */
import type { Chan } from './chan.js';
import type { Message } from './message.js';
import type { TransactionalCommit } from './transactional-handlers.js';

/**
 * dp-kafka's `Commiter`: an error that decides whether the failed message or batch is committed anyway.
 * `class RetryLater extends Error { shouldCommit() { return false } }` makes the message come back after a
 * restart or rebalance.
 */
export interface Commiter {
  shouldCommit(): boolean;
}

/** dp-kafka's `shallCommit`: true unless `err` is a {@link Commiter} that says false. */
export function shouldCommit(err: unknown): boolean {
  if (typeof err === 'object' && err !== null && typeof (err as Partial<Commiter>).shouldCommit === 'function') {
    return (err as Commiter).shouldCommit() !== false;
  }
  return true;
}

/** What a handler gets besides its message. */
export interface HandlerContext {
  /** 1 … numWorkers, as dp-kafka numbers its workers. */
  readonly workerId: number;
  /** Aborted when the consumer stops its workers (close); long handlers should give up then. */
  readonly signal: AbortSignal;
}

export type Handler = (message: Message, context: HandlerContext) => void | Promise<void>;
export type BatchHandler = (batch: readonly Message[], context: { readonly signal: AbortSignal }) => void | Promise<void>;

/** A handler failure, as reported to `onError` (and by the consumer group to its logger). */
export interface HandlerFailure {
  readonly error: unknown;
  readonly messages: readonly Message[];
  /** Whether the message or batch was committed despite the failure (the Commiter rule). */
  readonly committed: boolean;
  /** The worker that ran the handler; 1 for the batch worker. */
  readonly workerId: number;
}

export interface WorkerOptions {
  /** Stops the loops: no new message is taken; running handlers see it aborted in their context. */
  signal?: AbortSignal;
  onError?: (failure: HandlerFailure) => void;
  /** Runs each handling in a producer's transaction with its offsets (transactional-handlers.ts), instead of the group's commit. */
  transactional?: TransactionalCommit;
}

/** Running worker loops. */
export interface Workers {
  /** Resolves when every loop has exited and no handler is running. */
  readonly done: Promise<void>;
  /** Handlers running now. */
  readonly busy: number;
  /** Resolves when no handler is running (at once if none is); rejects with the signal's reason on abort. */
  idle(signal?: AbortSignal): Promise<void>;
}

/** Counts running handlers and wakes `idle()` waiters when the count drops to zero (the share group's workers use it too). */
export class BusyTracker {
  count = 0;
  private waiters: (() => void)[] = [];

  begin(): void {
    this.count++;
  }

  /** The commit promise handlers ended on last, and how many of them wait for it. */
  private sharedCommit: Promise<void> | undefined = undefined;
  private sharedWaiting: { n: number } = { n: 0 };

  /**
   * Ends a handler once `commit` settles. Messages handled during one commit round trip share one commit
   * promise, so this waits on each promise once with a count: one reaction per commit rather than per message.
   */
  endAfter(commit: Promise<void>): void {
    if (commit !== this.sharedCommit) {
      const waiting = { n: 0 };
      const settled = (): void => {
        if (this.sharedCommit === commit) this.sharedCommit = undefined; // a session may hand out a settled promise again
        this.end(waiting.n);
      };
      this.sharedCommit = commit;
      this.sharedWaiting = waiting;
      commit.then(settled, settled);
    }
    this.sharedWaiting.n++;
  }

  end(n = 1): void {
    if ((this.count -= n) > 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  idle(signal?: AbortSignal): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(signal!.reason);
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** The {@link Workers} view of `loops` counted by `tracker` (the share group's workers use it too). */
export function makeWorkers(tracker: BusyTracker, loops: Promise<void>[]): Workers {
  return {
    // Done once the loops ended and the commits they started have settled.
    done: Promise.all(loops).then(() => tracker.idle()),
    get busy() {
      return tracker.count;
    },
    idle: (signal?: AbortSignal) => tracker.idle(signal),
  };
}

/** Hands `failure` to the worker's error callback, if any; a failing callback must not kill the worker loop. */
export function report<F>(onError: ((failure: F) => void) | undefined, failure: F): void {
  if (onError === undefined) return;
  try {
    onError(failure);
  } catch {
    // A failing error callback must not kill the worker loop.
  }
}

/** Receives the next message; undefined when the channel is closed and drained or the signal aborted. */
export async function next<M>(upstream: Chan<M>, signal: AbortSignal): Promise<M | undefined> {
  if (signal.aborted) return undefined;
  try {
    const r = await upstream.recv(signal);
    return r.done ? undefined : r.value;
  } catch {
    return undefined; // aborted: no message was taken
  }
}

/**
 * Starts `numWorkers` loops that each take a message from `upstream`, run `handler`, apply the commit rule and
 * release the message (dp-kafka `RegisterHandler`). Concurrency is at most min(numWorkers, partitions assigned),
 * since a partition delivers its next message only after release.
 */
export function startHandlerWorkers(
  upstream: Chan<Message>, handler: Handler, options: WorkerOptions & { numWorkers: number },
): Workers {
  const signal = options.signal ?? new AbortController().signal;
  const tracker = new BusyTracker();
  const loops: Promise<void>[] = [];
  for (let id = 1; id <= options.numWorkers; id++) {
    const context: HandlerContext = { workerId: id, signal };
    loops.push((async () => {
      for (let msg = await next(upstream, signal); msg !== undefined; msg = await next(upstream, signal)) {
        await handleMessage(msg, handler, context, tracker, options.onError, options.transactional);
      }
    })());
  }
  return makeWorkers(tracker, loops);
}

async function handleMessage(msg: Message, handler: Handler, context: HandlerContext, tracker: BusyTracker, onError: WorkerOptions['onError'],
  transactional: TransactionalCommit | undefined): Promise<void> {
  tracker.begin();
  let failed = false;
  let error: unknown;
  let commit = true;
  try {
    try {
      if (transactional === undefined) await handler(msg, context);
      else commit = await committedIn(transactional, [msg], () => handler(msg, context));
    } catch (err) {
      failed = true;
      error = err;
      commit = shouldCommit(err);
    }
    // Marked before the release, so a rebalance that revokes the partition next commits it; the commit itself
    // runs after the release, so the partition's next message need not wait a broker round trip (commits of
    // several messages then share one OffsetCommit). At-least-once holds: nothing is committed before it was handled.
    if (commit) msg.mark();
  } finally {
    msg.release();
  }
  // The worker takes its next message while the commit is in flight; the tracker (idle, done) still waits for it.
  if (commit) tracker.endAfter(msg.commit()); // never rejects: failures went to the errors channel already
  else tracker.end();
  if (failed) report(onError, { error, messages: [msg], committed: commit, workerId: context.workerId });
}

/** Runs `work` in the transaction with the offsets of `messages`: false (the group commits nothing) once it committed. */
async function committedIn(transactional: TransactionalCommit, messages: readonly Message[], work: () => Promise<void> | void): Promise<boolean> {
  await transactional.run(messages, work);
  return false;
}

/** dp-kafka `Batch.Commit`: mark all but the last message, commit the last (one commit per batch). */
async function commitBatch(batch: readonly Message[]): Promise<void> {
  const last = batch.length - 1;
  for (let i = 0; i < last; i++) batch[i]!.mark();
  if (last >= 0) await batch[last]!.commit();
}

/**
 * Starts the single batch loop (dp-kafka `RegisterBatchHandler`): see the module comment for when a batch is
 * handled and how it is committed. `batchWaitTime` in milliseconds.
 */
export function startBatchWorker(
  upstream: Chan<Message>, handler: BatchHandler, options: WorkerOptions & { batchSize: number; batchWaitTime: number },
): Workers {
  const signal = options.signal ?? new AbortController().signal;
  const tracker = new BusyTracker();
  const loop = new BatchLoop(upstream, handler, options, signal, tracker);
  return makeWorkers(tracker, [loop.run()]);
}

/** The batch worker's state: the batch being filled and its deadline. */
class BatchLoop {
  private batch: Message[] = [];
  /** Aborted when the current batch's wait time is up (or the worker's signal aborts). */
  private deadline: AbortController | undefined = undefined;
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private readonly onStop = (): void => this.deadline?.abort();

  constructor(
    private readonly upstream: Chan<Message>,
    private readonly handler: BatchHandler,
    private readonly options: WorkerOptions & { batchSize: number; batchWaitTime: number },
    private readonly signal: AbortSignal,
    private readonly tracker: BusyTracker,
  ) {}

  async run(): Promise<void> {
    for (;;) {
      if (this.signal.aborted) return this.disarm(); // a partial batch is dropped: its offsets were never marked
      let msg: Message | undefined;
      if (this.deadline === undefined) {
        msg = await next(this.upstream, this.signal);
        if (msg === undefined) return this.flushIfAny();
        this.arm();
      } else {
        try {
          const r = await this.upstream.recv(this.deadline.signal);
          if (r.done) return this.flushIfAny();
          msg = r.value;
        } catch {
          if (this.signal.aborted) continue;
          await this.flush(); // wait time is up
          continue;
        }
      }
      this.batch.push(msg);
      if (this.batch.length >= this.options.batchSize) await this.flush();
      msg.release();
    }
  }

  /** Starts the wait time of a new batch. */
  private arm(): void {
    this.deadline = new AbortController();
    const d = this.deadline;
    this.timer = setTimeout(() => d.abort(), this.options.batchWaitTime);
    this.signal.addEventListener('abort', this.onStop, { once: true });
  }

  private disarm(): void {
    if (this.deadline === undefined) return;
    clearTimeout(this.timer);
    this.signal.removeEventListener('abort', this.onStop);
    this.deadline = undefined;
  }

  private async flushIfAny(): Promise<void> {
    if (this.batch.length > 0) await this.flush();
    this.disarm();
  }

  private async flush(): Promise<void> {
    this.disarm();
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    this.tracker.begin();
    let failed = false;
    let error: unknown;
    let commit = true;
    try {
      try {
        const t = this.options.transactional;
        if (t === undefined) await this.handler(batch, { signal: this.signal });
        else commit = await committedIn(t, batch, () => this.handler(batch, { signal: this.signal }));
      } catch (err) {
        failed = true;
        error = err;
        commit = shouldCommit(err);
      }
      if (commit) await commitBatch(batch);
    } finally {
      this.tracker.end();
    }
    if (failed) report(this.options.onError, { error, messages: batch, committed: commit, workerId: 1 });
  }
}
