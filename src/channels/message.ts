/**
 * The messages users see. A consumed {@link Message} is dp-kafka's `Message` with what Go's lacked (key,
 * topic, partition, timestamp): `value`, `key`, `headers`, `getHeader`, and the offset controls `mark`,
 * `commit`, `release`, `commitAndRelease`.
 *
 * Delivery contract, as dp-kafka's: per partition, the next message is handed out only after this one is
 * released, so order holds within a partition and parallelism is bounded by the partitions assigned. `mark()`
 * records the offset for the next periodic commit; `commit()` marks, commits now **and releases**, as the seed
 * README says of dp-kafka's `Commit()` ("so that Sarama releases the go-routine consuming a message"), so the
 * seed's loop `msg := <-upstream; doStuff(msg); msg.Commit()` ports line for line. dp-kafka v3/v4 split that
 * into `Commit` (no release), `Release` and `CommitAndRelease`; code written for v4 still works here, since
 * `release()` after `commit()` is a no-op. Until released, a message holds its partition back, so release (or
 * commit) every message, also when handling fails; the consumer group reports on `errors` a message that was
 * marked but still not released after `messageConsumeTimeout`.
 *
 * {@link ConsumerMessage} is the implementation, backed by a {@link MessageSession} the consumer group's session
 * supplies (one per partition claim, shared by its messages, so a message costs one object).
 */
import type { Buffer } from 'node:buffer';

/** A record header. Kafka allows repeated keys and null values (KIP-82). */
export interface MessageHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

/** A delivered record as users read it: what a consumer group's {@link Message} and a share group's message share. */
export interface DeliveredRecord {
  /** The record value; null for a tombstone. */
  readonly value: Buffer | null;
  readonly key: Buffer | null;
  readonly headers: readonly MessageHeader[];
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Milliseconds since the epoch (create time, or log-append time if the topic says so). */
  readonly timestamp: number;
  /** The first header with this key, as UTF-8 (`''` for a null value); undefined if absent. */
  getHeader(key: string): string | undefined;
}

/** The first header with `key` among `headers`, as UTF-8 (`''` for a null value); undefined if absent. */
export function headerValue(headers: readonly MessageHeader[], key: string): string | undefined {
  for (const h of headers) if (h.key === key) return h.value === null ? '' : h.value.toString('utf8');
  return undefined;
}

/** A consumed message, as handlers and `upstream` readers get it. */
export interface Message extends DeliveredRecord {
  /** True once `release()` ran. */
  readonly released: boolean;
  /** Marks the offset as processed; it is committed by the next periodic commit. */
  mark(): void;
  /**
   * Marks, commits now and releases (the seed's `Commit()`: the partition may deliver its next message at once,
   * while the commit is in flight). Never rejects: a failed commit is reported on the consumer's `errors` channel.
   */
  commit(): Promise<void>;
  /** Lets the partition deliver its next message. Idempotent (dp-kafka's mock panicked on a second call). */
  release(): void;
  /** dp-kafka v4's `CommitAndRelease`: the same as `commit()`, which releases too; kept for ported v4 code. */
  commitAndRelease(): Promise<void>;
  /** Resolves once released (dp-kafka's `UpstreamDone()` channel). */
  upstreamDone(): Promise<void>;
}

/** The decoded record a consumer message is built from. */
export interface MessageRecord extends MessageRecordFields {
  readonly topic: string;
  readonly partition: number;
}

/** The per-record part of a {@link MessageRecord} (what a decoded Kafka record has). */
export interface MessageRecordFields {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly MessageHeader[];
}

/** What a message needs from the session that delivered it. Implemented by the group session and by mocks. */
export interface MessageSession {
  /** Record `message.offset + 1` as the partition's next offset to commit. */
  mark(message: Message): void;
  /** Mark and commit now. May reject; the message routes the failure to `reportError`. */
  commit(message: Message): Promise<void>;
  /** The message was released: the partition may deliver its next one. Called once per message. */
  release(message: Message): void;
  /** Where commit failures go (the consumer's `errors` channel). */
  reportError(err: unknown, message: Message): void;
}

/** A message to produce. dp-kafka's producer could send only a value; we carry key, headers, partition, time. */
export interface ProducerMessage {
  /** The value; a string is sent as UTF-8; null produces a tombstone. */
  readonly value: Buffer | Uint8Array | string | null;
  /** Keyed records go to a partition by murmur2 of the key (Java-compatible); null keys are spread (KIP-480). */
  readonly key?: Buffer | Uint8Array | string | null;
  readonly headers?: readonly { readonly key: string; readonly value: Buffer | Uint8Array | string | null }[];
  /** An explicit partition overrides the partitioner. */
  readonly partition?: number;
  /** Create time in ms since the epoch; now by default. */
  readonly timestamp?: number;
}

/** The consumed-message implementation. Offsets and callbacks come from the session; no closure per message. */
/**
 * The never-rejecting form of each commit promise a session hands out, made once per promise: messages that ask
 * during one commit round trip share it (the group session gives them one commit), so a commit per message costs
 * one reaction and one error report per commit, and no message stays alive until its commit settles.
 */
const quietCommits = new WeakMap<Promise<void>, Promise<void>>();

export class ConsumerMessage implements Message {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  private releasedFlag = false;
  private doneWaiters: (() => void)[] | undefined = undefined;

  /** `record` is kept, not copied: a decoded record makes its key and value views only when they are read, so
   *  a message whose key nobody reads costs no key view. Topic and partition come apart from the record so the
   *  consume path builds a message straight from a decoded record, with no intermediate object. */
  constructor(private readonly session: MessageSession, topic: string, partition: number, private readonly record: MessageRecordFields) {
    this.topic = topic;
    this.partition = partition;
    this.offset = record.offset;
    this.timestamp = record.timestamp;
  }

  get key(): Buffer | null {
    return this.record.key;
  }

  get value(): Buffer | null {
    return this.record.value;
  }

  get headers(): readonly MessageHeader[] {
    return this.record.headers;
  }

  get released(): boolean {
    return this.releasedFlag;
  }

  getHeader(key: string): string | undefined {
    return headerValue(this.headers, key);
  }

  mark(): void {
    this.session.mark(this);
  }

  commit(): Promise<void> {
    let p: Promise<void>;
    try {
      p = this.session.commit(this);
    } catch (err) {
      p = Promise.reject(err);
    }
    // Go callers fire and forget `msg.Commit()`; a rejected promise nobody awaits would crash Node.
    let quiet = quietCommits.get(p);
    if (quiet === undefined) {
      const session = this.session;
      quiet = p.then(undefined, (err: unknown) => session.reportError(err, this));
      quietCommits.set(p, quiet);
    }
    // The seed's Commit released the message; marked above, so the release cannot lose the offset.
    this.release();
    return quiet;
  }

  release(): void {
    if (this.releasedFlag) return;
    this.releasedFlag = true;
    this.session.release(this);
    const waiters = this.doneWaiters;
    this.doneWaiters = undefined;
    if (waiters !== undefined) for (const w of waiters) w();
  }

  commitAndRelease(): Promise<void> {
    return this.commit();
  }

  upstreamDone(): Promise<void> {
    if (this.releasedFlag) return Promise.resolve();
    return new Promise<void>((resolve) => (this.doneWaiters ??= []).push(resolve));
  }
}
