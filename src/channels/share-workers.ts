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
import { BusyTracker, makeWorkers, next, report, type HandlerContext, type Workers } from './handlers.js';
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

/** A share group's running workers: the consumer group's {@link Workers}. */
export type ShareWorkers = Workers;

interface LoopOptions {
  signal: AbortSignal;
  onError(failure: ShareHandlerFailure): void;
}

/** What a handler's outcome does to the messages it left unacknowledged. */
export function acknowledgementFor(error: unknown, failed: boolean): ShareAcknowledgement {
  if (!failed) return 'accept';
  return error instanceof RejectRecordError ? 'reject' : 'redeliver';
}

/** Runs `handle` on `messages` and applies the acknowledgement rule; never throws. */
async function runAndAcknowledge(messages: readonly ShareMessage[], handle: () => void | Promise<void>, workerId: number, busy: BusyTracker, onError: LoopOptions['onError']): Promise<void> {
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
  if (failed) report(onError, { error, messages, acknowledgement: kind, workerId });
}

/** `numWorkers` loops: take a message, run the handler, acknowledge by the rule above. */
export function startShareWorkers(upstream: Chan<ShareMessage>, handler: ShareHandler, options: LoopOptions & { numWorkers: number }): ShareWorkers {
  const busy = new BusyTracker();
  const loops: Promise<void>[] = [];
  for (let id = 1; id <= options.numWorkers; id++) {
    const context: HandlerContext = { workerId: id, signal: options.signal };
    loops.push((async () => {
      for (let m = await next(upstream, options.signal); m !== undefined; m = await next(upstream, options.signal)) {
        const msg = m;
        await runAndAcknowledge([msg], () => handler(msg, context), id, busy, options.onError);
      }
    })());
  }
  return makeWorkers(busy, loops);
}

/** One loop handing `batchSize` messages at a time (or what came within `batchWaitTime` of the first). */
export function startShareBatchWorker(upstream: Chan<ShareMessage>, handler: ShareBatchHandler, options: LoopOptions & { batchSize: number; batchWaitTime: number }): ShareWorkers {
  const busy = new BusyTracker();
  const loop = (async () => {
    for (;;) {
      const first = await next(upstream, options.signal);
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
        const m = await next(upstream, wait);
        if (m === undefined) break;
        batch.push(m);
      }
      await runAndAcknowledge(batch, () => handler(batch, { signal: options.signal }), 1, busy, options.onError);
    }
  })();
  return makeWorkers(busy, [loop]);
}
