/**
 * Feeds one partition claim into the `upstream` channel, dp-kafka's ConsumeClaim: one message of the partition
 * is out at a time, and the next goes out when it is released. This is every consumed record's path, so it runs
 * on callbacks instead of awaits: `release()` hands the next record straight to the channel (to a waiting
 * reader, a free buffer slot, or, if the buffer is full, into the channel's queue of senders, with the feeder
 * itself as the waiting sender). Per message that is one object (the message) and no promise; the claim's
 * AbortSignal is watched once per claim, not once per send.
 *
 * The feeder ends (its `done` settles) once the claim ended and no message of it is still out, or when
 * `upstream` closes. A message still queued as a sender when the claim ends is withdrawn: it was never
 * delivered, and the partition's next owner reads it from the committed offset.
 *
 * No silent stall: a message that was marked (`mark()`: the reader is done with it) but is still not released
 * after `notReleasedMs` holds its partition back for good, so it is reported once through `onError`, with the fix.
 * (`commit()` releases, as the seed's `Commit()` did; only `mark()` alone, or no call at all, can stall.)
 *
 * Paused (`pause()`), the feeder hands out nothing new until `resume()`; a message already handed to `upstream`
 * (at most one) is still delivered. The consumer group also pauses the partition in the fetcher.
 */
import { FetchedRecordCursor } from '../client/fetcher.js';
import type { Claim, GroupSession } from '../group/session.js';
import { KafkaError } from '../errors.js';
import type { KafkaRecord } from '../protocol/record-batch.js';
import { starvationGuard, Waiter, type Chan } from './chan.js';
import { ConsumerMessage, type Message, type MessageSession } from './message.js';

export class ClaimFeeder extends Waiter<Message> implements MessageSession {
  /** Settles when the claim is over for this feeder; rejects if a fetched batch cannot be decoded. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;
  private ended = false;
  /** The claim's signal aborted (kept as a field: reading `signal.aborted` per message costs more than it should). */
  private claimOver = false;
  /** The delivered message not yet released (at most one: the per-partition order contract). */
  private out: Message | undefined = undefined;
  /** Read position in the fetched run being delivered. */
  private cursor: FetchedRecordCursor | undefined = undefined;
  private readonly wake = (): void => this.feed();
  private readonly onAbort = (): void => this.claimEnded();
  /** Delivery paused by the consumer group (`ConsumerGroup.pause`). */
  private paused = false;
  /** The out message once marked (reset when another message goes out). */
  private markedOut: Message | undefined = undefined;
  /** The not-released check: armed at a mark when none is pending; at most one timer per feeder. */
  private stallTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private stallCandidate: Message | undefined = undefined;

  constructor(
    private readonly upstream: Chan<Message>,
    private readonly claim: Claim,
    private readonly session: GroupSession,
    private readonly onError: (err: unknown) => void,
    /** How long a marked message may stay unreleased before it is reported (the group's messageConsumeTimeout). */
    private readonly notReleasedMs = 10_000,
  ) {
    super(true, undefined);
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
  }

  /** Starts feeding; returns {@link done}. */
  start(): Promise<void> {
    if (this.claim.signal.aborted) {
      this.claimOver = true;
      this.finish();
    } else {
      this.claim.signal.addEventListener('abort', this.onAbort, { once: true });
      this.feed();
    }
    return this.done;
  }

  // MessageSession: what each delivered message calls back.

  mark(m: Message): void {
    const out = m === this.out;
    this.claim.markNext(m.offset + 1, out && this.cursor !== undefined ? this.cursor.leaderEpoch : -1);
    if (out) {
      this.markedOut = m;
      if (this.stallTimer === undefined && !this.ended) this.armStallCheck(m);
    }
  }

  /** The claim is still ours (not revoked, lost or closed). */
  get active(): boolean {
    return !this.claimOver && !this.ended;
  }

  /** Stops handing out messages until {@link resume}. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.feed();
  }

  /** Not async: callers during one commit round trip then share the offset manager's one promise. */
  commit(m: Message): Promise<void> {
    this.mark(m);
    return this.session.commit();
  }

  release(m: Message): void {
    if (m !== this.out) return;
    this.out = undefined;
    if (this.claimOver) this.finish();
    else this.feed();
  }

  reportError(err: unknown): void {
    this.onError(err);
  }

  // Waiter: called by the channel while the feeder waits as a sender.

  /** A reader took the queued message; its release() drives what comes next. */
  fire(): void {
    this.value = undefined;
  }

  /** `upstream` closed with our message queued: nothing more can be delivered. */
  fail(): void {
    this.value = undefined;
    this.out = undefined;
    this.finish();
  }

  /** Delivers the next record if there is one, else waits for the next fetched run. */
  private feed(): void {
    if (this.ended || this.out !== undefined) return;
    if (this.claimOver) return this.finish();
    if (this.paused) return; // resume() feeds again
    // A reader that takes messages with tryRecv never awaits while release() keeps handing it the next one
    // synchronously; the channels' shared guard makes this chain wait for an event-loop turn now and then.
    const wait = starvationGuard();
    if (wait !== null) {
      void wait.then(this.wake);
      return;
    }
    let rec: KafkaRecord | undefined;
    try {
      rec = this.nextRecord();
    } catch (err) {
      return this.finish(err); // a batch that cannot be decoded: reported by the session, the claim stops here
    }
    if (rec === undefined) return this.claim.whenRun(this.wake);
    const msg = new ConsumerMessage(this, this.claim.topic, this.claim.partition, rec);
    this.out = msg;
    let taken: boolean;
    try {
      taken = this.upstream.trySend(msg);
    } catch {
      this.out = undefined;
      return this.finish(); // upstream closed: the consumer is closing
    }
    if (!taken) {
      this.value = msg;
      this.upstream.enqueue(this);
    }
  }

  /** The claim's next record; undefined when nothing is fetched yet. A run goes back to the fetcher once walked. */
  private nextRecord(): KafkaRecord | undefined {
    for (;;) {
      const r = this.cursor?.next();
      if (r !== undefined) return r;
      if (this.cursor !== undefined) this.claim.consumed(this.cursor.run);
      const run = this.claim.takeRun();
      this.cursor = run === undefined ? undefined : new FetchedRecordCursor(run);
      if (run === undefined) return undefined;
    }
  }

  private claimEnded(): void {
    this.claimOver = true;
    if (this.linked) {
      // Queued but never taken: withdraw it, so the message is not delivered after its partition moved on.
      this.upstream.dequeue(this);
      this.value = undefined;
      this.out = undefined;
    }
    if (this.out === undefined) this.finish();
  }

  /** Reports `m` if it is still out, marked and unreleased when the timer fires; else re-arms for a newer one. */
  private armStallCheck(m: Message): void {
    this.stallCandidate = m;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      const out = this.out;
      if (this.ended || out === undefined || out !== this.markedOut) return;
      if (out !== this.stallCandidate) return this.armStallCheck(out);
      this.onError(new KafkaError(
        `message ${out.topic}-${out.partition} offset ${out.offset} was marked but not released after ${this.notReleasedMs} ms: ` +
          `partition ${out.partition} delivers nothing more until it is. Call message.release() after mark(), or use ` +
          `message.commit() / commitAndRelease(), which release (dp-kafka's Commit)`,
        'ERR_KAFKA_MESSAGE_NOT_RELEASED'));
    }, this.notReleasedMs);
    this.stallTimer.unref?.();
  }

  private finish(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.claim.signal.removeEventListener('abort', this.onAbort);
    if (this.cursor !== undefined) this.claim.consumed(this.cursor.run);
    this.cursor = undefined;
    if (err === undefined) this.resolveDone();
    else this.rejectDone(err);
  }
}
