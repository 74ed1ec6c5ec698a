/**
 * A group's offsets: what it has committed (OffsetFetch), where a partition starts when nothing is committed
 * (`oldest` / `newest`, through ListOffsets), the offsets the application has marked as processed, and their
 * commit (OffsetCommit), synchronous or every `autoCommitIntervalMs` as dp-kafka does (1 s).
 *
 * A mark stores the NEXT offset to read (record offset + 1), with the record's leader epoch, as Kafka's consumers
 * commit it (KIP-320 uses the epoch to detect log truncation on restart). Commits carry the member's generation,
 * so a member that was kicked out cannot overwrite its successor's progress: REBALANCE_IN_PROGRESS,
 * ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID come back as a {@link RebalanceNeededError}, which the membership acts on.
 */
import { BrokerError, KafkaError, RebalanceNeededError } from '../errors.js';
import { OffsetCommit } from '../protocol/apis/offset-commit.js';
import { OffsetFetch } from '../protocol/apis/offset-fetch.js';
import { brokerError, errorCodes } from '../protocol/error-codes.js';
import { Admin, OffsetSpec } from '../client/admin.js';
import type { Cluster } from '../client/cluster.js';
import type { TopicPartitions } from './consumer-protocol.js';
import type { GroupCoordinator } from './coordinator.js';

/** Where a partition without a committed offset starts: dp-kafka's `OffsetOldest` / `OffsetNewest`. */
export type InitialOffset = 'oldest' | 'newest';

/** The member identity a commit is checked against (KIP-345 adds the instance id). */
export interface CommitIdentity {
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

/** A committed (or marked) position: the next offset to consume and the leader epoch of the record before it. */
export interface OffsetAndEpoch {
  offset: bigint;
  leaderEpoch: number;
  metadata?: string | null;
}

/** Defined with every other error class in src/errors.ts; re-exported where it is raised. */
export { RebalanceNeededError };

/** A pending mark, updated in place; offsets are numbers here (exact below 2^53) and bigints on the wire. */
/**
 * A pending mark. `live` turns false once the manager drops it (committed, or forgotten): a claim keeps the mark
 * it last made and updates it in place while it is live, so marking a record costs no map lookup.
 */
export interface Mark { next: number; leaderEpoch: number; metadata: string | null; live: boolean }

/** Moves `m` forward to `next` (marks never move back, as Sarama's). */
export function advanceMark(m: Mark, next: number, leaderEpoch: number, metadata: string | null): void {
  if (next > m.next) { m.next = next; m.leaderEpoch = leaderEpoch; m.metadata = metadata; }
}

/** `topic\0partition`: the key of every per-partition map in the group layer. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}

/** The inverse of {@link tpKey}. */
export function splitKey(key: string): [topic: string, partition: number] {
  const i = key.lastIndexOf('\0');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}

/** Flattens an assignment to tpKeys. */
export function keysOf(list: readonly TopicPartitions[]): Set<string> {
  const out = new Set<string>();
  for (const tp of list) for (const p of tp.partitions) out.add(tpKey(tp.topic, p));
  return out;
}

/** Groups tpKeys back into one entry per topic, partitions ascending. */
export function toTopicPartitions(keys: Iterable<string>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const k of keys) {
    const [topic, p] = splitKey(k);
    const list = byTopic.get(topic);
    if (list) list.push(p);
    else byTopic.set(topic, [p]);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

/** Newest OffsetCommit/OffsetFetch we send: v10 names topics by id only, and the name is what we have at hand. */
const MAX_OFFSET_API_VERSION = 9;

export interface OffsetManagerOptions {
  groupId: string;
  /** Default `oldest`, as dp-kafka. */
  initialOffset?: InitialOffset;
  /** How long commit retries (coordinator moves) may take. Default 30 s. */
  commitTimeoutMs?: number;
  /**
   * The generation to commit with, read at each commit: the membership's stable generation, or undefined while a
   * rebalance is under way (Java's `generationIfStable`: a commit then would only be refused). Without it,
   * {@link OffsetManager.identity} is used.
   */
  identitySource?: () => CommitIdentity | undefined;
  /**
   * Bounds one start-offset lookup (each ListOffsets request and the lookup's own retries; default 30 s). The
   * caller retries with its backoff and reports each failure, so a partition whose leader is gone is reported
   * within about this long instead of being retried silently for 30 s.
   */
  requestTimeoutMs?: number;
  /** Pauses between the lookup's retries (default 100 ms to 1 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

function buildCommitTopics(entries: Iterable<[string, OffsetAndEpoch]>): { name: string; partitions: { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string | null }[] }[] {
  const byTopic = new Map<string, { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string | null }[]>();
  for (const [key, o] of entries) {
    const [topic, partitionIndex] = splitKey(key);
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    list.push({ partitionIndex, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, committedMetadata: o.metadata ?? null });
  }
  return [...byTopic].map(([name, partitions]) => ({ name, partitions }));
}

/** Committed offsets, marks and commits of one group member. */
export class OffsetManager {
  /** Marked but not yet committed, by {@link tpKey}. */
  private readonly marked = new Map<string, Mark>();
  /** Last offsets the coordinator accepted (or fetched), by {@link tpKey}. */
  private readonly committed = new Map<string, OffsetAndEpoch>();
  private readonly admin: Admin;
  private autoTimer: NodeJS.Timeout | undefined;
  /** Bumped by start/stop, so a tick of an older loop does not reschedule itself. */
  private autoRun = 0;
  private inflight: Promise<void> | undefined;
  /** The commit of all marks that starts when `inflight` ends, shared by everyone who asked meanwhile. */
  private queued: Promise<void> | undefined;
  /** Who the commits are from; set by the membership after every SyncGroup. */
  identity: CommitIdentity = { generationId: -1, memberId: '', groupInstanceId: null };

  constructor(cluster: Cluster, private readonly coordinator: GroupCoordinator, private readonly options: OffsetManagerOptions) {
    const timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.admin = new Admin(cluster, timeoutMs, { retryMinMs: options.retryMinMs, retryMaxMs: options.retryMaxMs, retryDeadlineMs: timeoutMs });
  }

  /** Records that everything before `next` in the partition is processed (the offset to resume from). */
  markNext(topic: string, partition: number, next: bigint | number, leaderEpoch = -1, metadata: string | null = null): void {
    this.markKey(tpKey(topic, partition), Number(next), leaderEpoch, metadata);
  }

  /** Marks a record as processed: its offset + 1 is committed. */
  mark(topic: string, partition: number, offset: bigint | number, leaderEpoch = -1): void {
    this.markKey(tpKey(topic, partition), Number(offset) + 1, leaderEpoch);
  }

  /**
   * Marks by precomputed key: updates the pending mark in place, so marking allocates nothing once a partition
   * has one. Returns the partition's pending mark (undefined when `next` is not past the committed offset), which
   * a claim may keep and advance itself while it is {@link Mark.live}.
   */
  markKey(key: string, next: number, leaderEpoch = -1, metadata: string | null = null): Mark | undefined {
    const m = this.marked.get(key);
    if (m) {
      advanceMark(m, next, leaderEpoch, metadata);
      return m;
    }
    const c = this.committed.get(key);
    if (c && c.offset >= BigInt(next)) return undefined;
    const fresh: Mark = { next, leaderEpoch, metadata, live: true };
    this.marked.set(key, fresh);
    return fresh;
  }

  private dropMark(key: string, m: Mark): void {
    m.live = false;
    this.marked.delete(key);
  }

  /** Whether any mark waits for a commit (optionally only among `keys`). */
  hasPending(keys?: Iterable<string>): boolean {
    if (!keys) return this.marked.size > 0;
    for (const k of keys) if (this.marked.has(k)) return true;
    return false;
  }

  /** The last committed position of a partition known to this member. */
  committedOffset(topic: string, partition: number): OffsetAndEpoch | undefined {
    return this.committed.get(tpKey(topic, partition));
  }

  /** Forgets marks of partitions the member no longer owns (after they were lost, so they cannot be committed). */
  forget(keys: Iterable<string>): void {
    for (const k of keys) {
      const m = this.marked.get(k);
      if (m) this.dropMark(k, m);
    }
  }

  /**
   * Commits every pending mark (or only those of `keys`) now and waits for the coordinator's answer. Commits run
   * one at a time, so a later commit never lands before an earlier one. Throws {@link RebalanceNeededError} when
   * the group moved on; other partition errors throw the first {@link BrokerError}.
   */
  commit(keys?: Iterable<string>): Promise<void> {
    if (keys !== undefined || this.inflight === undefined) return this.commitInTurn(keys);
    // A commit is on the wire: every caller until it ends shares the one commit that follows it, which takes all
    // their marks. (One waiter per caller, each woken by every commit, made a commit per message quadratic.)
    return (this.queued ??= this.inflight.catch(() => undefined).then(() => {
      this.queued = undefined;
      return this.commit();
    }));
  }

  private async commitInTurn(keys: Iterable<string> | undefined): Promise<void> {
    while (this.inflight) await this.inflight.catch(() => undefined);
    const batch = new Map<string, OffsetAndEpoch>();
    for (const k of keys ?? [...this.marked.keys()]) {
      const m = this.marked.get(k);
      if (m) batch.set(k, { offset: BigInt(m.next), leaderEpoch: m.leaderEpoch, metadata: m.metadata });
    }
    if (batch.size === 0) return;
    const run = this.send(batch).finally(() => { this.inflight = undefined; });
    this.inflight = run;
    return run;
  }

  private currentIdentity(): CommitIdentity | undefined {
    return this.options.identitySource ? this.options.identitySource() : this.identity;
  }

  private async send(batch: Map<string, OffsetAndEpoch>): Promise<void> {
    const id = this.currentIdentity();
    if (!id) throw new KafkaError('the group is rebalancing: marked offsets stay pending until it is stable', 'ERR_KAFKA_NO_STABLE_GENERATION', { retriable: true });
    try {
      await this.sendAs(batch, id);
    } catch (err) {
      // KIP-848: the member epoch moved on while the commit was on its way: once more with the new one (Java's too).
      const now = this.currentIdentity();
      if (!(err instanceof BrokerError && err.errorCode === errorCodes.STALE_MEMBER_EPOCH) || !now || now.generationId === id.generationId) throw err;
      await this.sendAs(batch, now);
    }
  }

  private async sendAs(batch: Map<string, OffsetAndEpoch>, id: CommitIdentity): Promise<void> {
    const topics = buildCommitTopics(batch);
    await this.coordinator.call(async (broker) => {
      const r = await broker.request(OffsetCommit, {
        groupId: this.options.groupId, generationIdOrMemberEpoch: id.generationId, memberId: id.memberId,
        groupInstanceId: id.groupInstanceId, topics,
      }, { version: MAX_OFFSET_API_VERSION });
      const first = r.topics.flatMap((t) => t.partitions.map((p) => ({ t: t.name, p }))).find((x) => x.p.errorCode !== 0);
      // Coordinator errors arrive per partition; raise them so `call` rediscovers and retries the whole commit.
      if (first) throw brokerError(first.p.errorCode, { api: 'OffsetCommit', topic: first.t, partition: first.p.partitionIndex, groupId: this.options.groupId });
    }, { deadlineMs: this.options.commitTimeoutMs ?? 30_000 }).catch((err: unknown) => { throw asRebalanceNeeded(err, id.generationId); });
    for (const [k, o] of batch) {
      this.committed.set(k, o);
      const m = this.marked.get(k);
      if (m?.next === Number(o.offset)) this.dropMark(k, m); // a newer mark made meanwhile stays pending
    }
  }

  /** Commits pending marks every `intervalMs` until {@link stopAutoCommit}; failures go to `onError`. */
  startAutoCommit(intervalMs: number, onError: (err: unknown) => void): void {
    this.stopAutoCommit();
    const generation = ++this.autoRun;
    const tick = (): void => {
      const done = this.marked.size === 0 ? Promise.resolve() : this.commit().catch(onError);
      void done.then(() => {
        if (this.autoRun !== generation) return;
        this.autoTimer = setTimeout(tick, intervalMs);
        this.autoTimer.unref?.();
      });
    };
    this.autoTimer = setTimeout(tick, intervalMs);
    this.autoTimer.unref?.();
  }

  /** Stops the auto-commit loop (a commit already running finishes). */
  stopAutoCommit(): void {
    this.autoRun++;
    clearTimeout(this.autoTimer);
    this.autoTimer = undefined;
  }

  /** Committed offsets of `partitions` (`offset` -1 where the group has none). */
  async fetchCommitted(partitions: readonly TopicPartitions[]): Promise<Map<string, OffsetAndEpoch>> {
    const out = new Map<string, OffsetAndEpoch>();
    if (partitions.every((tp) => tp.partitions.length === 0)) return out;
    const groupId = this.options.groupId;
    const topics = partitions.filter((tp) => tp.partitions.length > 0).map((tp) => ({ name: tp.topic, partitionIndexes: [...tp.partitions] }));
    await this.coordinator.call(async (broker) => {
      const version = await broker.versionFor(OffsetFetch, MAX_OFFSET_API_VERSION);
      const res = await broker.request(OffsetFetch, { groupId, topics, groups: [{ groupId, topics }], requireStable: true }, { version });
      const group = version >= 8 ? res.groups.find((g) => g.groupId === groupId) : { errorCode: res.errorCode, topics: res.topics };
      if (!group) throw brokerError(errorCodes.COORDINATOR_NOT_AVAILABLE, { api: 'OffsetFetch', groupId });
      if (group.errorCode !== 0) throw brokerError(group.errorCode, { api: 'OffsetFetch', groupId });
      for (const t of group.topics) for (const p of t.partitions) {
        if (p.errorCode !== 0) throw brokerError(p.errorCode, { api: 'OffsetFetch', groupId, topic: t.name, partition: p.partitionIndex });
        out.set(tpKey(t.name, p.partitionIndex), { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.metadata });
      }
    }, { deadlineMs: this.options.commitTimeoutMs ?? 30_000 });
    for (const [k, o] of out) if (o.offset >= 0n) this.committed.set(k, o);
    return out;
  }

  /**
   * Where each partition starts: its committed offset, or (none committed) the log start or end by
   * `initialOffset`, as the Java consumer's `auto.offset.reset` = earliest / latest.
   */
  async startOffsets(partitions: readonly TopicPartitions[]): Promise<Map<string, OffsetAndEpoch>> {
    const committed = await this.fetchCommitted(partitions);
    const spec = (this.options.initialOffset ?? 'oldest') === 'oldest' ? OffsetSpec.earliest : OffsetSpec.latest;
    const out = new Map<string, OffsetAndEpoch>();
    for (const tp of partitions) {
      const none: number[] = []; // partitions without a committed offset: asked where the log starts (or ends)
      for (const p of tp.partitions) {
        const c = committed.get(tpKey(tp.topic, p));
        if (c && c.offset >= 0n) out.set(tpKey(tp.topic, p), c);
        else none.push(p);
      }
      if (none.length === 0) continue;
      const resets = await this.admin.listOffsets(tp.topic, spec, 'read_uncommitted', none);
      for (const p of none) out.set(tpKey(tp.topic, p), { offset: resets.get(p) ?? 0n, leaderEpoch: -1 });
    }
    return out;
  }

  /** Stops the auto-commit timer. Pending marks are the caller's to commit first. */
  close(): void {
    this.stopAutoCommit();
  }
}

/** Maps the errors that say "this generation is over" to {@link RebalanceNeededError}; others pass through. */
export function asRebalanceNeeded(err: unknown, generationId = -1): unknown {
  if (!(err instanceof BrokerError)) return err;
  switch (err.errorCode) {
    case errorCodes.REBALANCE_IN_PROGRESS: return new RebalanceNeededError(err, false, false, generationId);
    case errorCodes.ILLEGAL_GENERATION: return new RebalanceNeededError(err, true, false, generationId);
    case errorCodes.UNKNOWN_MEMBER_ID: return new RebalanceNeededError(err, true, true, generationId);
    default: return err;
  }
}
