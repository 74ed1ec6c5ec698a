/**
 * Share groups (KIP-932) in the fake cluster: ShareGroupHeartbeat (membership: every member is assigned every
 * partition of its topics, which Kafka allows for share groups), ShareFetch and ShareAcknowledge with share
 * sessions per broker and member (epoch 0 opens, then +1 per request, -1 closes; SHARE_SESSION_NOT_FOUND and
 * INVALID_SHARE_SESSION_EPOCH as Kafka answers), and per-record state on each partition: Available → Acquired
 * (by one member, under a lock of `lockTimeoutMs`, delivery count +1) → Acknowledged (accept) | Available
 * (release, lock expiry) | Archived (reject, or released / expired at the delivery limit). An acknowledgement of a
 * record this member does not hold is INVALID_RECORD_STATE for its partition (nothing of that partition applied).
 *
 * Knobs and views for tests: `shareGroupsOf(cluster)` → `lockTimeoutMs`, `deliveryLimit`, `heartbeatIntervalMs`,
 * `fence(memberId)` (its next heartbeat is FENCED_MEMBER_EPOCH), `evictSessions()`, `record(topic, p, offset)`
 * (state, delivery count, owner), `members(groupId)`.
 */
import { errorCodes } from '../../src/protocol/error-codes.js';
import type { HandlerContext, Handler } from './handlers-data.js';
import type { ClusterState } from './state.js';

type Body = Record<string, any>;

export type RecordState = 'Available' | 'Acquired' | 'Acknowledged' | 'Archived';

export interface ShareRecordState {
  state: RecordState;
  deliveryCount: number;
  owner: string | null;
  lockedUntil: number;
}

interface ShareMember { id: string; epoch: number; topics: string[]; fenced: boolean; lastHeard: number }
interface ShareSessionState { epoch: number; partitions: Set<string> }

/** Share-group state of one fake cluster. */
export class ShareGroups {
  lockTimeoutMs = 30_000;
  deliveryLimit = 5;
  heartbeatIntervalMs = 100;
  private readonly groups = new Map<string, { epoch: number; members: Map<string, ShareMember> }>();
  /** `${broker}/${group}/${member}` → session. */
  readonly sessions = new Map<string, ShareSessionState>();
  private readonly records = new Map<string, Map<number, ShareRecordState>>();

  group(id: string): { epoch: number; members: Map<string, ShareMember> } {
    let g = this.groups.get(id);
    if (g === undefined) this.groups.set(id, g = { epoch: 0, members: new Map() });
    return g;
  }

  members(groupId: string): string[] {
    return [...this.group(groupId).members.keys()];
  }

  /** The member's next heartbeat gets FENCED_MEMBER_EPOCH. */
  fence(memberId: string): void {
    for (const g of this.groups.values()) { const m = g.members.get(memberId); if (m) m.fenced = true; }
  }

  /** Forgets every share session (a broker restart): the next request of each gets SHARE_SESSION_NOT_FOUND. */
  evictSessions(): number {
    const n = this.sessions.size;
    this.sessions.clear();
    return n;
  }

  private partitionRecords(topic: string, partition: number): Map<number, ShareRecordState> {
    const key = `${topic}/${partition}`;
    let m = this.records.get(key);
    if (m === undefined) this.records.set(key, m = new Map());
    return m;
  }

  /** A record's share state (Available with count 0 when never delivered). */
  record(topic: string, partition: number, offset: number): ShareRecordState {
    return this.partitionRecords(topic, partition).get(offset) ?? { state: 'Available', deliveryCount: 0, owner: null, lockedUntil: 0 };
  }

  /** Locks that ran out return their records (archived at the delivery limit). */
  expire(topic: string, partition: number, now = Date.now()): void {
    for (const r of this.partitionRecords(topic, partition).values()) {
      if (r.state === 'Acquired' && r.lockedUntil <= now) this.giveBack(r);
    }
  }

  private giveBack(r: ShareRecordState): void {
    r.state = r.deliveryCount >= this.deliveryLimit ? 'Archived' : 'Available';
    r.owner = null;
  }

  /** Acquires up to `max` available records of a partition for `member`; returns [offset, deliveryCount] pairs. */
  acquire(state: ClusterState, topic: string, partition: number, member: string, max: number): [number, number][] {
    const log = state.partition(topic, partition)!;
    this.expire(topic, partition);
    const recs = this.partitionRecords(topic, partition);
    const out: [number, number][] = [];
    for (let o = log.logStartOffset; o < log.endOffset && out.length < max; o++) {
      let r = recs.get(o);
      if (r === undefined) recs.set(o, r = { state: 'Available', deliveryCount: 0, owner: null, lockedUntil: 0 });
      if (r.state !== 'Available') continue;
      r.state = 'Acquired';
      r.owner = member;
      r.deliveryCount++;
      r.lockedUntil = Date.now() + this.lockTimeoutMs;
      out.push([o, r.deliveryCount]);
    }
    return out;
  }

  /** Applies one partition's acknowledgement batches for `member`: all or nothing; the error code (0: applied). */
  acknowledge(topic: string, partition: number, member: string, batches: Body[]): number {
    this.expire(topic, partition);
    const recs = this.partitionRecords(topic, partition);
    const changes: [ShareRecordState, number][] = [];
    for (const b of batches) {
      const first = Number(b.firstOffset);
      const last = Number(b.lastOffset);
      const types: number[] = b.acknowledgeTypes;
      if (last < first || (types.length !== 1 && types.length !== last - first + 1)) return errorCodes.INVALID_REQUEST;
      for (let o = first; o <= last; o++) {
        const r = recs.get(o);
        if (r === undefined || r.state !== 'Acquired' || r.owner !== member) return errorCodes.INVALID_RECORD_STATE;
        changes.push([r, types.length === 1 ? types[0]! : types[o - first]!]);
      }
    }
    for (const [r, type] of changes) {
      if (type === 1) { r.state = 'Acknowledged'; r.owner = null; }
      else if (type === 2) this.giveBack(r);
      else { r.state = 'Archived'; r.owner = null; }
    }
    return 0;
  }

  /** Gives back every record `member` holds (its session closed or it left). */
  releaseAll(member: string): void {
    for (const recs of this.records.values()) for (const r of recs.values()) if (r.state === 'Acquired' && r.owner === member) this.giveBack(r);
  }
}

const registry = new WeakMap<ClusterState, ShareGroups>();

/** The share-group state of a fake cluster (`shareGroupsOf(cluster.state)`). */
export function shareGroupsOf(state: ClusterState): ShareGroups {
  let s = registry.get(state);
  if (s === undefined) registry.set(state, s = new ShareGroups());
  return s;
}

function shareGroupHeartbeat(ctx: HandlerContext): Body {
  const { state, body } = ctx;
  const answer = (errorCode: number, extra: Body = {}): Body => ({ throttleTimeMs: 0, errorCode, errorMessage: null, memberId: body.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null, ...extra });
  if (ctx.topError) return answer(ctx.topError);
  if (state.coordinatorFor(body.groupId) !== ctx.broker) return answer(errorCodes.NOT_COORDINATOR);
  const share = shareGroupsOf(state);
  const g = share.group(body.groupId);
  let m = g.members.get(body.memberId);
  if (body.memberEpoch === -1) {
    g.members.delete(body.memberId);
    share.releaseAll(body.memberId);
    return answer(0, { memberEpoch: -1 });
  }
  if (body.memberEpoch === 0) {
    g.epoch++;
    m = { id: body.memberId, epoch: g.epoch, topics: body.subscribedTopicNames ?? m?.topics ?? [], fenced: false, lastHeard: Date.now() };
    g.members.set(m.id, m);
  } else if (m === undefined) return answer(errorCodes.UNKNOWN_MEMBER_ID);
  else if (m.fenced || m.epoch !== body.memberEpoch) {
    m.fenced = false;
    m.epoch = -2;
    return answer(errorCodes.FENCED_MEMBER_EPOCH);
  }
  m.lastHeard = Date.now();
  const topicPartitions = m.topics.flatMap((name) => {
    const t = state.topics.get(name);
    return t ? [{ topicId: t.id, partitions: t.partitions.map((p) => p.partition) }] : [];
  });
  return answer(0, { memberEpoch: m.epoch, heartbeatIntervalMs: share.heartbeatIntervalMs, assignment: body.memberEpoch === 0 ? { topicPartitions } : null });
}

/** Checks and advances a share session; an error code, or 0 and the session (undefined once closed). */
function session(ctx: HandlerContext, hasAcks: boolean): [number, ShareSessionState | undefined] {
  const share = shareGroupsOf(ctx.state);
  const key = `${ctx.broker}/${ctx.body.groupId}/${ctx.body.memberId}`;
  const epoch: number = ctx.body.shareSessionEpoch;
  if (epoch === 0) {
    if (hasAcks) return [errorCodes.INVALID_REQUEST, undefined];
    const s = { epoch: 1, partitions: new Set<string>() };
    share.sessions.set(key, s);
    return [0, s];
  }
  const s = share.sessions.get(key);
  if (s === undefined) return [errorCodes.SHARE_SESSION_NOT_FOUND, undefined];
  if (epoch === -1) {
    share.sessions.delete(key);
    return [0, undefined];
  }
  if (epoch !== s.epoch) return [errorCodes.INVALID_SHARE_SESSION_EPOCH, undefined];
  s.epoch = s.epoch >= 0x7fffffff ? 1 : s.epoch + 1;
  return [0, s];
}

function ackAll(ctx: HandlerContext, topics: Body[]): Map<string, number> {
  const share = shareGroupsOf(ctx.state);
  const out = new Map<string, number>();
  for (const t of topics) {
    const name = ctx.state.topicsById.get(t.topicId)?.name;
    for (const p of t.partitions) {
      if (p.acknowledgementBatches.length === 0) continue;
      const code = name === undefined ? errorCodes.UNKNOWN_TOPIC_ID : share.acknowledge(name, p.partitionIndex, ctx.body.memberId, p.acknowledgementBatches);
      out.set(`${t.topicId}/${p.partitionIndex}`, code);
    }
  }
  return out;
}

async function shareFetch(ctx: HandlerContext): Promise<Body> {
  const { state, body } = ctx;
  const share = shareGroupsOf(state);
  const hasAcks = (body.topics as Body[]).some((t) => t.partitions.some((p: Body) => p.acknowledgementBatches.length > 0));
  const top = (errorCode: number): Body => ({ throttleTimeMs: 0, errorCode, errorMessage: null, acquisitionLockTimeoutMs: share.lockTimeoutMs, responses: [], nodeEndpoints: [] });
  if (ctx.topError) return top(ctx.topError);
  const [code, s] = session(ctx, hasAcks);
  if (code) return top(code);
  const acked = ackAll(ctx, body.topics);
  if (s === undefined) return top(0);
  for (const t of body.topics) for (const p of t.partitions) s.partitions.add(`${t.topicId}/${p.partitionIndex}`);
  for (const f of body.forgottenTopicsData) for (const p of f.partitions) s.partitions.delete(`${f.topicId}/${p}`);
  const until = Date.now() + body.maxWaitMs;
  for (;;) {
    const answers: Body[] = [];
    let budget: number = body.maxRecords;
    for (const key of s.partitions) {
      const [topicId, ps] = key.split('/') as [string, string];
      const partition = Number(ps);
      const topic = state.topicsById.get(topicId);
      const log = topic?.partitions[partition];
      const ackCode = acked.get(key);
      const a: Body = { topicId, partitionIndex: partition, errorCode: 0, errorMessage: null, acknowledgeErrorCode: ackCode ?? 0, acknowledgeErrorMessage: null,
        currentLeader: { leaderId: log?.leader ?? -1, leaderEpoch: log?.leaderEpoch ?? -1 }, records: Buffer.alloc(0), acquiredRecords: [] };
      if (log === undefined) a.errorCode = errorCodes.UNKNOWN_TOPIC_OR_PARTITION;
      else if (log.leader !== ctx.broker) a.errorCode = errorCodes.NOT_LEADER_OR_FOLLOWER;
      else if (budget > 0) {
        const got = share.acquire(state, topic!.name, partition, body.memberId, budget);
        budget -= got.length;
        if (got.length > 0) {
          a.records = Buffer.concat(log.batches.filter((b) => b.lastOffset >= got[0]![0] && b.baseOffset <= got[got.length - 1]![0]).map((b) => b.bytes));
          for (const [offset, count] of got) {
            const last = a.acquiredRecords[a.acquiredRecords.length - 1];
            if (last && Number(last.lastOffset) === offset - 1 && last.deliveryCount === count) last.lastOffset = BigInt(offset);
            else a.acquiredRecords.push({ firstOffset: BigInt(offset), lastOffset: BigInt(offset), deliveryCount: count });
          }
        }
      }
      if (a.errorCode || ackCode !== undefined || a.acquiredRecords.length > 0) answers.push(a);
    }
    const remaining = until - Date.now();
    if (answers.some((a) => a.acquiredRecords.length > 0 || a.errorCode) || remaining <= 0 || ctx.signal.aborted) {
      const byTopic = new Map<string, Body[]>();
      for (const a of answers) byTopic.set(a.topicId, [...(byTopic.get(a.topicId) ?? []), a]);
      return { ...top(0), responses: [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions })) };
    }
    // Long poll: an append or a lock expiry (checked every 20 ms) may make records available.
    await state.waitForAppend(Math.min(remaining, 20), ctx.signal);
  }
}

function shareAcknowledge(ctx: HandlerContext): Body {
  const share = shareGroupsOf(ctx.state);
  const top = (errorCode: number): Body => ({ throttleTimeMs: 0, errorCode, errorMessage: null, acquisitionLockTimeoutMs: share.lockTimeoutMs, responses: [], nodeEndpoints: [] });
  if (ctx.topError) return top(ctx.topError);
  const closing = ctx.body.shareSessionEpoch === -1;
  const [code] = session(ctx, false);
  if (code) return top(code);
  const acked = ackAll(ctx, ctx.body.topics);
  if (closing) share.releaseAll(ctx.body.memberId);
  const byTopic = new Map<string, Body[]>();
  for (const [key, errorCode] of acked) {
    const [topicId, p] = key.split('/') as [string, string];
    byTopic.set(topicId, [...(byTopic.get(topicId) ?? []), { partitionIndex: Number(p), errorCode, errorMessage: null, currentLeader: { leaderId: -1, leaderEpoch: -1 } }]);
  }
  return { ...top(0), responses: [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions })) };
}

/** The share-group handlers, by API key, for the fake's handler table. */
export const SHARE_HANDLERS: Record<number, Handler> = { 76: shareGroupHeartbeat, 78: shareFetch, 79: shareAcknowledge };
