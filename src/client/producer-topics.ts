/**
 * The produce path's view of its topics (used by producer-engine.ts): each topic's leaders and available
 * partitions from the cluster's metadata, the partition a record goes to (Java-compatible, KIP-480 sticky), and
 * the records parked while a topic's first metadata is awaited (counted in the accumulator's memory bound, failed
 * at the delivery timeout or on a non-retriable metadata error).
 */
import { InvalidArgumentError, KafkaError } from '../errors.js';
import type { Accumulator, Delivery, ProducerRecord } from './accumulator.js';
import { choosePartition, type StickyPartitioner } from './partitioner.js';
import { DeliveryTimeoutError, type ProducerCluster } from './producer-options.js';

/** One topic as the producer knows it. */
export interface TopicState {
  name: string;
  topicId: string;
  /** Leader node id per partition (-1: none known); empty until metadata arrives. */
  leaders: number[];
  available: number[];
  loading: boolean;
  /** Records waiting for the topic's first metadata, as parallel arrays. */
  waiting: { records: ProducerRecord[]; owners: Delivery[]; indexes: number[]; sizes: number[]; since: number } | undefined;
  lastError: unknown;
}

/** What the topic table needs from the engine. */
export interface ProducerTopicsOptions {
  cluster: ProducerCluster;
  accumulator: Accumulator;
  sticky: StickyPartitioner;
  retryBackoffMs: number;
  /** Runs the sender after `delayMs` (metadata arrived: 0; a failed lookup: the retry backoff). */
  schedule(delayMs: number): void;
  /** Records left the buffer (released into batches or failed): idle waiters may be due. */
  checkIdle(): void;
}

/** The topics a producer has sent to, their metadata and the records waiting for it. */
export class ProducerTopics {
  private readonly topics = new Map<string, TopicState>();
  private readonly o: ProducerTopicsOptions;

  constructor(options: ProducerTopicsOptions) {
    this.o = options;
  }

  /** The topic's state, if a record was ever sent to it. */
  get(name: string): TopicState | undefined {
    return this.topics.get(name);
  }

  /** The topic's state, created on first use; a missing or empty name is an InvalidArgumentError. */
  state(name: string | undefined): TopicState {
    let t = this.topics.get(name as string);
    if (t === undefined) {
      if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('a record needs a topic');
      t = { name, topicId: '', leaders: [], available: [], loading: false, waiting: undefined, lastError: undefined };
      this.topics.set(name, t);
    }
    return t;
  }

  /** The name of the topic with id `id` ('' when none is known). */
  nameOfTopicId(id: string): string {
    for (const t of this.topics.values()) if (t.topicId === id) return t.name;
    return '';
  }

  /** The record's partition, or -1 after failing it (an explicit partition the topic does not have). */
  partitionFor(r: ProducerRecord, t: TopicState, size: number, owner: Delivery, index: number): number {
    const n = t.leaders.length;
    const sticky = this.o.sticky;
    try {
      if ((r.partition === undefined || r.partition === null) && (r.key === undefined || r.key === null)) {
        // KIP-480: stay on the sticky partition while its batch has room, move on when a new batch would start.
        let p = sticky.partition(t.name, n, t.available);
        if (!this.o.accumulator.fits(t.name, p, size)) {
          sticky.onNewBatch(t.name, p);
          p = sticky.partition(t.name, n, t.available);
        }
        return p;
      }
      return choosePartition(r, t.name, n, sticky, t.available);
    } catch (err) {
      owner.fail(index, err as Error);
      return -1;
    }
  }

  /** Parks a record until its topic's metadata is known. */
  park(t: TopicState, r: ProducerRecord, owner: Delivery, index: number, size: number, now: number): void {
    const w = (t.waiting ??= { records: [], owners: [], indexes: [], sizes: [], since: now });
    w.records.push(r);
    w.owners.push(owner);
    w.indexes.push(index);
    w.sizes.push(size);
    this.o.accumulator.adjust(size, 1);
    this.load(t);
  }

  /** Fetches the topic's metadata (the cluster retries and waits for leaders); retried until records expire. */
  load(t: TopicState): void {
    if (t.loading) return;
    t.loading = true;
    this.o.cluster.topic(t.name).then((meta) => {
      t.loading = false;
      t.lastError = undefined;
      t.topicId = meta.topicId;
      t.leaders = meta.partitions.map((p) => p.leaderId);
      t.available = meta.partitions.filter((p) => p.leaderId >= 0).map((p) => p.partition);
      this.releaseWaiting(t);
      this.o.schedule(0);
    }, (err: unknown) => {
      t.loading = false;
      t.lastError = err;
      if (err instanceof KafkaError && !err.retriable && t.waiting) this.failWaiting(t, err);
      // Retried on the sender's next wake while anything of this topic is still waiting or queued.
      this.o.schedule(this.o.retryBackoffMs);
    });
  }

  /** Forgets the cluster's metadata of `name` and loads it again (a leader moved, a connection was lost). */
  refresh(name: string): void {
    this.o.cluster.invalidate(name);
    const t = this.topics.get(name);
    if (t !== undefined) this.load(t);
  }

  /**
   * Fails the records that waited `limitMs` for metadata (DeliveryTimeoutError, with the last lookup error as
   * cause) and looks again for the others; returns the next expiry time (Infinity: none waiting).
   */
  expireWaiting(now: number, limitMs: number): number {
    let next = Infinity;
    for (const t of this.topics.values()) {
      if (t.waiting === undefined) continue;
      if (now - t.waiting.since >= limitMs) this.failWaiting(t, new DeliveryTimeoutError(`no metadata for topic ${t.name} within ${limitMs} ms`, t.lastError));
      else { next = Math.min(next, t.waiting.since + limitMs); if (!t.loading) this.load(t); }
    }
    return next;
  }

  /** Fails every waiting record with `err`. */
  failAllWaiting(err: Error): void {
    for (const t of this.topics.values()) if (t.waiting) this.failWaiting(t, err);
  }

  private releaseWaiting(t: TopicState): void {
    const w = t.waiting;
    if (w === undefined) return;
    t.waiting = undefined;
    const now = Date.now();
    const acc = this.o.accumulator;
    for (let i = 0; i < w.records.length; i++) {
      const r = w.records[i]!;
      acc.adjust(-w.sizes[i]!, -1);
      const p = this.partitionFor(r, t, w.sizes[i]!, w.owners[i]!, w.indexes[i]!);
      if (p >= 0) acc.append(r, w.sizes[i]!, p, w.owners[i]!, w.indexes[i]!, now);
    }
    this.o.checkIdle();
  }

  private failWaiting(t: TopicState, err: Error): void {
    const w = t.waiting!;
    t.waiting = undefined;
    let bytes = 0;
    for (let i = 0; i < w.records.length; i++) {
      bytes += w.sizes[i]!;
      w.owners[i]!.fail(w.indexes[i]!, err);
    }
    this.o.accumulator.adjust(-bytes, -w.records.length);
    this.o.checkIdle();
  }
}
