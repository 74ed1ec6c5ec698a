/**
 * Fetch sessions (KIP-227), per broker. Request (sessionId, sessionEpoch):
 * - (any, -1): no session (a given session id is closed first): a full, sessionless fetch;
 * - (0 or id, 0): a new session (the old one, if named, is closed) holding the request's partitions: full answer;
 * - (id, n > 0): incremental: the session must exist (FETCH_SESSION_ID_NOT_FOUND) and expect epoch n
 *   (INVALID_FETCH_SESSION_EPOCH); the request's partitions are added or updated, `forgottenTopicsData` removed,
 *   and the answer holds only partitions with something to say (records, an error, a changed high watermark or
 *   log start offset).
 */
import { errorCodes } from '../../src/protocol/error-codes.js';

/** A partition as a fetch session caches it. */
export interface SessionPartition {
  topic: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  currentLeaderEpoch: number;
  /** What the client was last told: -1 before the first answer, so a new partition is always answered. */
  sentHighWatermark: number;
  sentLogStart: number;
}

/** One fetch session. */
export interface FetchSession {
  id: number;
  broker: number;
  /** The epoch the next incremental request must carry. */
  nextEpoch: number;
  partitions: Map<string, SessionPartition>;
}

/** A Fetch request's partition, names resolved. */
export interface FetchRequestPartition {
  topic: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  currentLeaderEpoch: number;
}

/** What a Fetch request resolves to before any data is read. */
export type SessionOutcome =
  | { errorCode: number; sessionId: 0 }
  | { errorCode: 0; sessionId: number; full: boolean; partitions: SessionPartition[]; session?: FetchSession };

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Every broker's fetch sessions. */
export class FetchSessions {
  private readonly byId = new Map<number, FetchSession>();
  private nextId = 1;
  /** Sessions created over the cluster's life. */
  created = 0;

  /** Applies a Fetch request's session fields; returns the partitions to answer, or a top-level error. */
  resolve(broker: number, sessionId: number, epoch: number, request: FetchRequestPartition[], forgotten: { topic: string; partition: number }[]): SessionOutcome {
    const fresh = (p: FetchRequestPartition): SessionPartition => ({ ...p, sentHighWatermark: -1, sentLogStart: -1 });
    if (epoch === -1) {
      if (sessionId !== 0) this.close(broker, sessionId);
      return { errorCode: 0, sessionId: 0, full: true, partitions: request.map(fresh) };
    }
    if (epoch === 0) {
      if (sessionId !== 0) this.close(broker, sessionId);
      const session: FetchSession = { id: this.nextId++, broker, nextEpoch: 1, partitions: new Map() };
      this.created++;
      for (const p of request) session.partitions.set(key(p.topic, p.partition), fresh(p));
      this.byId.set(session.id, session);
      return { errorCode: 0, sessionId: session.id, full: true, partitions: [...session.partitions.values()], session };
    }
    const session = this.byId.get(sessionId);
    if (!session || session.broker !== broker) return { errorCode: errorCodes.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0 };
    if (session.nextEpoch !== epoch) return { errorCode: errorCodes.INVALID_FETCH_SESSION_EPOCH, sessionId: 0 };
    session.nextEpoch = epoch === 0x7fffffff ? 1 : epoch + 1;
    for (const p of request) {
      const k = key(p.topic, p.partition);
      const old = session.partitions.get(k);
      session.partitions.set(k, old ? { ...old, fetchOffset: p.fetchOffset, maxBytes: p.maxBytes, currentLeaderEpoch: p.currentLeaderEpoch } : fresh(p));
    }
    for (const f of forgotten) session.partitions.delete(key(f.topic, f.partition));
    return { errorCode: 0, sessionId: session.id, full: false, partitions: [...session.partitions.values()], session };
  }

  /** Whether an incremental answer must include this partition, given what it holds now. */
  static mustAnswer(p: SessionPartition, hasRecords: boolean, errorCode: number, highWatermark: number, logStart: number): boolean {
    return hasRecords || errorCode !== 0 || p.sentHighWatermark !== highWatermark || p.sentLogStart !== logStart;
  }

  /** The partitions a session holds now (without changing it): a Fetch request's partitions include them. */
  peek(broker: number, id: number): { topic: string; partition: number }[] {
    const s = this.byId.get(id);
    return s && s.broker === broker ? [...s.partitions.values()].map((p) => ({ topic: p.topic, partition: p.partition })) : [];
  }

  close(broker: number, id: number): void {
    const s = this.byId.get(id);
    if (s && s.broker === broker) this.byId.delete(id);
  }

  /** Forgets the sessions of one broker (or all): their next incremental request gets FETCH_SESSION_ID_NOT_FOUND. */
  evict(broker?: number): number {
    let n = 0;
    for (const [id, s] of this.byId) {
      if (broker === undefined || s.broker === broker) {
        this.byId.delete(id);
        n++;
      }
    }
    return n;
  }

  /** Open sessions (of one broker, or all). */
  count(broker?: number): number {
    let n = 0;
    for (const s of this.byId.values()) if (broker === undefined || s.broker === broker) n++;
    return n;
  }
}
