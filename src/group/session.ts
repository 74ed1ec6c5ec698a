/**
 * Sessions: what the application sees of the group, shaped like Sarama's ConsumerGroupHandler. Each generation
 * is a {@link GroupSession} with its own AbortSignal; each partition it owns is a {@link Claim}, read by the
 * handler's `consumeClaim(session, claim)` until the claim's signal aborts. `setup` runs before the claims of a
 * generation start, `cleanup` after its revoked claims stopped.
 *
 * Revocation is where offsets are won or lost: the claims' signals abort, in-flight work finishes (or is given up
 * after `revokeTimeoutMs`), the marked offsets of those partitions are committed, and only then are the partitions
 * released to the group. Eager rebalances revoke everything at the start; cooperative ones (KIP-429) only the
 * partitions that move, and a claim that stays keeps running into the next generation (watch `claim.signal`, not
 * `session.signal`, to know when to stop reading).
 */
import type { Fetcher, FetchedBatch, StartPosition } from '../client/fetcher.js';
import { FetchedRecordCursor, fetchedRecords } from '../client/fetcher.js';
import { Backoff, sleep } from '../client/backoff.js';
import { KafkaError } from '../errors.js';
import type { KafkaRecord } from '../protocol/record-batch.js';
import type { TopicPartitions } from './consumer-protocol.js';
import type { Generation, MembershipListener } from './membership.js';
import { toTopicPartitions } from './membership.js';
import { advanceMark, tpKey, type Mark, type OffsetAndEpoch, type OffsetManager } from './offsets.js';

/**
 * A record as a claim hands it out, with what a commit needs (leader epoch, KIP-320). One class, so every record
 * has the same shape (V8 keeps the handler's property reads monomorphic); key and value are views, not copies.
 */
export class ClaimedRecord implements KafkaRecord {
  constructor(
    readonly topic: string, readonly partition: number, readonly offset: number, readonly leaderEpoch: number, readonly timestamp: number,
    readonly key: Buffer | null, readonly value: Buffer | null, readonly headers: KafkaRecord['headers'],
  ) {}
}

/** Sarama's ConsumerGroupHandler, with AbortSignals where Go has contexts. */
export interface GroupHandler {
  setup?(session: GroupSession): void | Promise<void>;
  cleanup?(session: GroupSession): void | Promise<void>;
  /** Reads `claim` until `claim.signal` aborts (then return promptly: the partition waits for you). */
  consumeClaim(session: GroupSession, claim: Claim): Promise<void>;
}

/** One partition owned by this member, from assignment to revocation. */
export class Claim {
  readonly key: string;
  private readonly ctl = new AbortController();
  /** Fetched runs waiting for the handler (bounded in bytes by the fetcher, which holds them until consumed). */
  private readonly queue: (FetchedBatch | undefined)[] = [];
  private head = 0;
  private waiter: (() => void) | undefined;
  /** The handler's promise, once started. */
  running: Promise<void> | undefined;
  /** This partition's pending mark as last returned by the offset manager (see {@link markNext}). */
  private lastMark: Mark | undefined = undefined;

  constructor(readonly topic: string, readonly partition: number, readonly initialOffset: number, private readonly fetcher: Fetcher | undefined,
    private readonly offsets: OffsetManager) {
    this.key = tpKey(topic, partition);
  }

  /** Aborts when the partition is revoked or lost (or the consumer closes). */
  get signal(): AbortSignal {
    return this.ctl.signal;
  }

  /** @internal the session layer's dispatcher hands fetched batches over here. */
  push(b: FetchedBatch): void {
    this.queue.push(b);
    this.wake();
  }

  /** @internal */
  stop(reason: string): void {
    this.ctl.abort(new KafkaError(`partition ${this.topic}-${this.partition} ${reason}`, 'ERR_KAFKA_CLAIM_ENDED'));
    this.wake();
  }

  /**
   * The next fetched run, if one is queued (call {@link consumed} once it is processed). The synchronous way to
   * read a claim, for loops that must not pay a promise per step; {@link whenRun} says when to try again.
   */
  takeRun(): FetchedBatch | undefined {
    if (this.head >= this.queue.length) return undefined;
    const b = this.queue[this.head]!;
    // Drop the reference at once: a taken run pins its whole fetch response until it is gone from the queue.
    this.queue[this.head++] = undefined;
    if (this.head === this.queue.length) { this.queue.length = 0; this.head = 0; }
    else if (this.head > 1024 && this.head * 2 > this.queue.length) { this.queue.splice(0, this.head); this.head = 0; }
    return b;
  }

  /** Calls `fn` once, when a run is queued or the claim ends (one waiter at a time). */
  whenRun(fn: () => void): void {
    this.waiter = fn;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Fetched runs of batches in offset order; ends when the claim ends. Call {@link consumed} after each. */
  async *batches(): AsyncGenerator<FetchedBatch> {
    while (!this.ctl.signal.aborted) {
      const b = this.takeRun();
      if (b !== undefined) yield b;
      else await new Promise<void>((resolve) => this.whenRun(resolve));
    }
  }

  /** Releases a run's bytes from the prefetch bound. */
  consumed(b: FetchedBatch): void {
    this.fetcher?.consumed(b, b.nextOffset);
  }

  /** Records one by one, in order; stops at the record after the claim's signal aborts. */
  async *records(): AsyncGenerator<ClaimedRecord> {
    for await (const b of this.batches()) {
      try {
        const c = new FetchedRecordCursor(b);
        for (let r = c.next(); r !== undefined; r = c.next()) {
          yield new ClaimedRecord(this.topic, this.partition, r.offset, c.leaderEpoch, r.timestamp, r.key, r.value, r.headers);
          if (this.ctl.signal.aborted) return;
        }
      } finally {
        this.consumed(b);
      }
    }
  }

  /** Marks a record processed: its offset + 1 is committed next (auto-commit, `commit()`, or at revocation). */
  mark(record: { offset: number | bigint; leaderEpoch?: number }): void {
    this.markNext(Number(record.offset) + 1, record.leaderEpoch ?? -1);
  }

  /** Marks everything before `nextOffset` processed. */
  markNext(nextOffset: number | bigint, leaderEpoch = -1): void {
    // Per record on the channel API's path: advance the mark kept from last time while the manager still holds it.
    const m = this.lastMark;
    if (m !== undefined && m.live) advanceMark(m, Number(nextOffset), leaderEpoch, null);
    else this.lastMark = this.offsets.markKey(this.key, Number(nextOffset), leaderEpoch);
  }
}

/** One generation of the group, as the handler sees it. */
export class GroupSession {
  private readonly ctl = new AbortController();
  /** Claims of this generation, by tpKey (cooperative: carried-over ones included). */
  readonly claims = new Map<string, Claim>();

  constructor(readonly generation: Generation, private readonly offsets: OffsetManager) {}

  get generationId(): number { return this.generation.generationId; }
  get memberId(): string { return this.generation.memberId; }
  /** Aborts when this generation ends. */
  get signal(): AbortSignal { return this.ctl.signal; }

  /** The claimed partitions per topic. */
  get assignment(): TopicPartitions[] { return toTopicPartitions(this.claims.keys()); }

  /** Marks a record of any claimed partition as processed. */
  mark(record: { topic: string; partition: number; offset: number | bigint; leaderEpoch?: number }): void {
    this.offsets.mark(record.topic, record.partition, record.offset, record.leaderEpoch ?? -1);
  }

  /** Commits every pending mark now (Sarama's `Commit`). */
  commit(): Promise<void> {
    return this.offsets.commit();
  }

  /** @internal */
  end(): void {
    this.ctl.abort(new KafkaError(`generation ${this.generationId} ended`, 'ERR_KAFKA_SESSION_ENDED'));
  }
}

export interface SessionManagerOptions {
  /** How long revocation waits for a claim's handler to return before committing what was marked. Default 10 s. */
  revokeTimeoutMs?: number;
  /** Pauses between attempts at a topic's start offsets (the library's cyclic backoff). Default 100 ms .. 1 s. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Problems of the session layer (handler errors, failed commits, start offsets not available yet). */
  onError?: (err: unknown) => void;
}

/** The membership's listener: turns assignments into sessions and claims, and revocations into commits. */
export class SessionManager implements MembershipListener {
  private session: GroupSession | undefined;
  private readonly claims = new Map<string, Claim>();
  private dispatching = false;
  private readonly dispatchStop = new AbortController();

  constructor(private readonly handler: GroupHandler, private readonly offsets: OffsetManager, private readonly fetcher: Fetcher | undefined,
    private readonly options: SessionManagerOptions = {}) {}

  /** The current session, if a generation is active. */
  get current(): GroupSession | undefined {
    return this.session;
  }

  /**
   * A new generation: the session starts (`setup`), then each topic's new partitions get their claims as soon as
   * that topic's start offsets are known. Topics are independent, and after a failed attempt so are a topic's
   * partitions: one whose offsets cannot be had (deleted, unauthorised, its leader down) is reported on `onError`
   * and retried with the backoff until it works or it goes away, while the others are consumed; nothing here
   * waits on it.
   */
  async assign(added: TopicPartitions[], _all: TopicPartitions[], generation: Generation): Promise<void> {
    this.offsets.identity = { generationId: generation.generationId, memberId: generation.memberId, groupInstanceId: generation.groupInstanceId };
    await this.endSession();
    const session = new GroupSession(generation, this.offsets);
    for (const [k, c] of this.claims) session.claims.set(k, c);
    this.session = session;
    await this.call(() => this.handler.setup?.(session));
    this.startDispatch();
    const starting: Promise<void>[] = [];
    for (const tp of added) {
      if (tp.partitions.length === 0) continue;
      for (const p of tp.partitions) this.pending.add(tpKey(tp.topic, p));
      starting.push(this.startClaims(tp));
    }
    this.started = Promise.all(starting).then(() => undefined);
  }

  /**
   * Settles once every claim of the last assignment started, or was given up (revoked, lost, closed). The
   * membership does not wait for it; tests and tools that want "consuming everything assigned" can.
   */
  started: Promise<void> = Promise.resolve();

  /** Partitions assigned whose start offsets are still being looked up. */
  private readonly pending = new Set<string>();

  /** Looks up `tp`'s start offsets (retrying with the backoff) and starts the claims of those still pending. */
  private async startClaims(tp: TopicPartitions): Promise<void> {
    const backoff = new Backoff({ minRetryPeriod: this.options.retryMinMs ?? 100, maxRetryPeriod: this.options.retryMaxMs ?? 1_000 });
    const wanted = (): number[] => tp.partitions.filter((p) => this.pending.has(tpKey(tp.topic, p)));
    for (let left = wanted(); left.length > 0; left = wanted()) {
      let starts: Map<string, OffsetAndEpoch>;
      try {
        starts = await this.offsets.startOffsets([{ topic: tp.topic, partitions: left }]);
      } catch (err) {
        if (this.dispatchStop.signal.aborted) return;
        // One bad partition (its leader gone, say) must not hold the others: each goes on by itself, and those
        // that still fail are reported by name below (the topic-wide failure would not say which one it was).
        if (left.length > 1) {
          await Promise.all(left.map((p) => this.startClaims({ topic: tp.topic, partitions: [p] })));
          return;
        }
        const pause = backoff.next();
        this.options.onError?.(new KafkaError(`start offsets of ${left.map((p) => `${tp.topic}-${p}`).join(', ')} could not be fetched; retrying in ${pause} ms: ${String(err)}`,
          'ERR_KAFKA_START_OFFSETS', { retriable: true, cause: err }));
        try { await sleep(pause, this.dispatchStop.signal); } catch { return; }
        continue;
      }
      const session = this.session;
      if (session === undefined) return; // no generation to run them in: the membership lost or revoked them meanwhile
      const positions: StartPosition[] = [];
      for (const p of wanted()) {
        const key = tpKey(tp.topic, p);
        this.pending.delete(key);
        const at = starts.get(key);
        const claim = new Claim(tp.topic, p, Number(at?.offset ?? 0n), this.fetcher, this.offsets);
        this.claims.set(claim.key, claim);
        session.claims.set(claim.key, claim);
        positions.push({ topic: tp.topic, partition: p, offset: claim.initialOffset, leaderEpoch: at && at.leaderEpoch >= 0 ? at.leaderEpoch : undefined });
        claim.running = this.call(() => this.handler.consumeClaim(session, claim));
      }
      if (positions.length > 0) this.fetcher?.assign(positions);
      return;
    }
  }

  async revoke(partitions: TopicPartitions[], generation: Generation): Promise<void> {
    this.offsets.identity = { generationId: generation.generationId, memberId: generation.memberId, groupInstanceId: generation.groupInstanceId };
    const stopped = await this.stopClaims(partitions, 'revoked');
    try {
      await this.offsets.commit(stopped.map((c) => c.key));
    } catch (err) {
      this.options.onError?.(err);
    }
    this.release(stopped);
    if (generation.rebalanceProtocol === 'eager' || this.claims.size === 0) await this.endSession();
  }

  /** Before a JoinGroup: commit the marks while the generation still accepts them. */
  async beforeJoin(): Promise<void> {
    if (this.offsets.hasPending()) await this.offsets.commit();
  }

  async lose(partitions: TopicPartitions[]): Promise<void> {
    const stopped = await this.stopClaims(partitions, 'lost', 0);
    this.offsets.forget(stopped.map((c) => c.key));
    this.release(stopped);
    if (this.claims.size === 0) await this.endSession();
  }

  error(err: unknown): void {
    this.options.onError?.(err);
  }

  /** Stops the claims of `partitions` and waits (up to the revoke timeout) for their handlers to return. */
  private async stopClaims(partitions: TopicPartitions[], why: string, waitMs = this.options.revokeTimeoutMs ?? 10_000): Promise<Claim[]> {
    const stopped: Claim[] = [];
    for (const tp of partitions) for (const p of tp.partitions) {
      this.pending.delete(tpKey(tp.topic, p)); // not started yet: it never will be
      const c = this.claims.get(tpKey(tp.topic, p));
      if (c) stopped.push(c);
    }
    // Stop fetching first: the runs the stopping claims give back would otherwise be refilled just to be dropped.
    this.fetcher?.pause(stopped.map((c) => ({ topic: c.topic, partition: c.partition })));
    for (const c of stopped) c.stop(why);
    if (waitMs > 0 && stopped.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, waitMs); });
      await Promise.race([Promise.all(stopped.map((c) => c.running)), deadline]);
      clearTimeout(timer);
    }
    return stopped;
  }

  private release(stopped: Claim[]): void {
    for (const c of stopped) {
      this.claims.delete(c.key);
      this.session?.claims.delete(c.key);
    }
    this.fetcher?.unassign(stopped.map((c) => ({ topic: c.topic, partition: c.partition })));
  }

  private async endSession(): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.session = undefined;
    s.end();
    await this.call(() => this.handler.cleanup?.(s));
  }

  /** Runs a handler hook; its failure is reported, never thrown into the membership. */
  private async call(fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  /** Routes fetched runs to their claims (one loop for all partitions: the fetcher round-robins them). */
  private startDispatch(): void {
    const f = this.fetcher;
    if (!f || this.dispatching) return;
    this.dispatching = true;
    void (async () => {
      for (;;) {
        let b: FetchedBatch;
        try {
          b = await f.next(this.dispatchStop.signal);
        } catch (err) {
          if (this.dispatchStop.signal.aborted || (err instanceof KafkaError && err.code === 'ERR_KAFKA_CLOSED')) return;
          this.options.onError?.(err);
          continue;
        }
        const claim = this.claims.get(tpKey(b.topic, b.partition));
        if (claim && !claim.signal.aborted) claim.push(b);
        else f.consumed(b, b.nextOffset);
      }
    })();
  }

  /** Stops dispatching; the membership's close revokes the claims first. */
  close(): void {
    this.dispatchStop.abort();
    this.pending.clear();
    for (const c of this.claims.values()) c.stop('closed');
  }
}

export { fetchedRecords };
