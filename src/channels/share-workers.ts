/**
 * The worker loops behind a {@link ShareGroup}'s `registerHandler` and `registerBatchHandler`: like the consumer
 * group's (handlers.ts: `numWorkers` loops reading `upstream`; one batch loop filling `batchSize` messages or
 * waiting `batchWaitTime` from the batch's first message), with the share group's acknowledgement rule instead of
 * the commit rule:
 *
 * - the handler returns: every message it did not acknowledge itself is accepted;
 * - it throws {@link RejectRecordError}: they are rejected (archived, never delivered again);
 * - it throws anything else: they are redelivered (Kafka's RELEASE; archived at the delivery limit).
 *
 * A worker does not wait for the broker's verdict on an acknowledgement (it rides on the next request); failures
 * are reported on the group's `errors` channel. There is no per-partition ordering to keep, so concurrency is
 * `numWorkers`, not the number of partitions.
 */
import type { Chan } from './chan.js';
import type { HandlerContext } from './handlers.js';
import { RejectRecordError, type ShareAcknowledgement, type ShareMessage } from './share-message.js';

export type ShareHandler = (message: ShareMessage, context: HandlerContext) => void | Promise<void>;
export type ShareBatchHandler = (batch: readonly ShareMessage[], context: { readonly signal: AbortSignal }) => void | Promise<void>;

/** A handler failure, as reported to the group's logger. */
export interface ShareHandlerFailure {
  readonly error: unknown;
  readonly messages: readonly ShareMessage[];
  /** What the failure did to the messages the handler had not acknowledged. */
  readonly acknowledgement: ShareAcknowledgement;
  readonly workerId: number;
}

export interface ShareWorkers {
  /** Resolves when every loop has exited and no handler is running. */
  readonly done: Promise<void>;
  /** Handlers running now. */
  readonly busy: number;
  /** Resolves when no handler runs (at once if none does); rejects with the signal's reason on abort. */
  idle(signal?: AbortSignal): Promise<void>;
}

interface LoopOptions {
  signal: AbortSignal;
  onError(failure: ShareHandlerFailure): void;
}

/** What a handler's outcome does to the messages it left unacknowledged. */
export function acknowledgementFor(error: unknown, failed: boolean): ShareAcknowledgement {
  if (!failed) return 'accept';
  return error instanceof RejectRecordError ? 'reject' : 'redeliver';
}

/** Counts running handlers; wakes idle() waiters at zero. */
class Busy {
  count = 0;
  private waiters = new Set<() => void>();
  begin(): void { this.count++; }
  end(): void {
    if (--this.count > 0) return;
    const w = [...this.waiters];
    this.waiters.clear();
    for (const fn of w) fn();
  }
  idle(signal?: AbortSignal): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const done = (): void => { signal?.removeEventListener('abort', onAbort); resolve(); };
      const onAbort = (): void => { this.waiters.delete(done); reject(signal!.reason); };
      this.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Runs `handle` on `messages` and applies the acknowledgement rule; never throws. */
async function runAndAcknowledge(messages: readonly ShareMessage[], handle: () => void | Promise<void>, workerId: number, busy: Busy, onError: LoopOptions['onError']): Promise<void> {
  busy.begin();
  let failed = false;
  let error: unknown;
  try {
    await handle();
  } catch (err) {
    failed = true;
    error = err;
  }
  const kind = acknowledgementFor(error, failed);
  try {
    for (const m of messages) if (m.acknowledgement === undefined) void m[kind]();
  } finally {
    busy.end();
  }
  if (failed) {
    try {
      onError({ error, messages, acknowledgement: kind, workerId });
    } catch {
      // a failing logger must not end the worker
    }
  }
}

async function take(upstream: Chan<ShareMessage>, signal: AbortSignal): Promise<ShareMessage | undefined> {
  if (signal.aborted) return undefined;
  try {
    const r = await upstream.recv(signal);
    return r.done ? undefined : r.value;
  } catch {
    return undefined;
  }
}

/** `numWorkers` loops: take a message, run the handler, acknowledge by the rule above. */
export function startShareWorkers(upstream: Chan<ShareMessage>, handler: ShareHandler, options: LoopOptions & { numWorkers: number }): ShareWorkers {
  const busy = new Busy();
  const loops: Promise<void>[] = [];
  for (let id = 1; id <= options.numWorkers; id++) {
    const context: HandlerContext = { workerId: id, signal: options.signal };
    loops.push((async () => {
      for (let m = await take(upstream, options.signal); m !== undefined; m = await take(upstream, options.signal)) {
        const msg = m;
        await runAndAcknowledge([msg], () => handler(msg, context), id, busy, options.onError);
      }
    })());
  }
  return workersOf(busy, loops);
}

/** One loop handing `batchSize` messages at a time (or what came within `batchWaitTime` of the first). */
export function startShareBatchWorker(upstream: Chan<ShareMessage>, handler: ShareBatchHandler, options: LoopOptions & { batchSize: number; batchWaitTime: number }): ShareWorkers {
  const busy = new Busy();
  const loop = (async () => {
    for (;;) {
      const first = await take(upstream, options.signal);
      if (first === undefined) return;
      const batch = [first];
      const wait = AbortSignal.any([options.signal, AbortSignal.timeout(options.batchWaitTime)]);
      while (batch.length < options.batchSize) {
        const r = upstream.tryRecv();
        if (r !== undefined) {
          if (r.done) break;
          batch.push(r.value);
          continue;
        }
        const m = await take(upstream, wait);
        if (m === undefined) break;
        batch.push(m);
      }
      await runAndAcknowledge(batch, () => handler(batch, { signal: options.signal }), 1, busy, options.onError);
    }
  })();
  return workersOf(busy, [loop]);
}

function workersOf(busy: Busy, loops: Promise<void>[]): ShareWorkers {
  return {
    done: Promise.all(loops).then(() => busy.idle()),
    get busy() { return busy.count; },
    idle: (signal?: AbortSignal) => busy.idle(signal),
  };
}
