/**
 * Client side of a fetch session (KIP-227, incremental fetch requests). A broker keeps, per session, the set of
 * partitions a consumer fetches with their fetch offsets; after one full request the client sends only the
 * partitions that changed (a new fetch offset, epoch or size) and names the ones it dropped, so a consumer of
 * thousands of partitions does not resend them all every few milliseconds. Pure bookkeeping, no I/O: the
 * fetcher asks {@link FetchSession.build} what to send and reports back how it went.
 *
 * Session ids and epochs (KIP-227):
 * - id 0, epoch 0: full request, and please create a session;  id 0, epoch -1: full request, no session.
 * - id X, epoch 0: full request that closes session X and creates a new one.
 * - id X, epoch N > 0: incremental request on session X; N counts up by one per request (wrapping to 1).
 */
import { errorCodes } from '../protocol/error-codes.js';

/** What the session tracks of one partition: the fields of a fetch request partition, plus its topic. */
export interface SessionPartition {
  topic: string;
  /** Kafka's topic id (KIP-516), used from Fetch v13. */
  topicId: string;
  partition: number;
  fetchOffset: number;
  /** The leader epoch we believe current (KIP-320): the broker fences us if it moved on. -1 for unknown. */
  currentLeaderEpoch: number;
  /** Epoch of the last batch we fetched (KIP-595/KIP-320): lets the broker report a diverging log. -1 for none. */
  lastFetchedEpoch: number;
  partitionMaxBytes: number;
}

/** The partitions one request must carry, and those it must tell the broker to forget. */
export interface SessionRequest {
  sessionId: number;
  sessionEpoch: number;
  /** True when every wanted partition is in `partitions` (a full request). */
  full: boolean;
  partitions: SessionPartition[];
  forgotten: SessionPartition[];
}

/** The session epoch meaning "no session: a full, stand-alone request". */
export const FINAL_EPOCH = -1;
/** The session epoch of a request that creates a session. */
export const INITIAL_EPOCH = 0;

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function differs(a: SessionPartition, b: SessionPartition): boolean {
  return a.fetchOffset !== b.fetchOffset || a.currentLeaderEpoch !== b.currentLeaderEpoch ||
    a.lastFetchedEpoch !== b.lastFetchedEpoch || a.partitionMaxBytes !== b.partitionMaxBytes || a.topicId !== b.topicId;
}

/** One broker's fetch session, as the client remembers it. */
export class FetchSession {
  id = 0;
  epoch = INITIAL_EPOCH;
  /** The partitions the broker's session holds, as last sent (only meaningful while `id !== 0`). */
  private readonly held = new Map<string, SessionPartition>();
  /** What the request in flight asked for: becomes `held` when it succeeds. */
  private pending: Map<string, SessionPartition> | undefined;
  private pendingFull = false;

  /** @param sessions false for brokers below Fetch v7, which know no sessions: every request is full. */
  constructor(private readonly sessions = true) {
    if (!sessions) this.epoch = FINAL_EPOCH;
  }

  /** Partitions the broker's session holds, for tests and diagnostics. */
  get size(): number {
    return this.held.size;
  }

  /** The request for `wanted`: everything when full, else only what changed since the broker last heard it. */
  build(wanted: readonly SessionPartition[]): SessionRequest {
    const next = new Map<string, SessionPartition>();
    for (const p of wanted) next.set(partitionKey(p.topic, p.partition), { ...p });
    this.pending = next;
    this.pendingFull = this.id === 0 || this.epoch <= INITIAL_EPOCH;
    if (this.pendingFull) return { sessionId: this.id, sessionEpoch: this.epoch, full: true, partitions: [...next.values()], forgotten: [] };
    const partitions: SessionPartition[] = [];
    const forgotten: SessionPartition[] = [];
    for (const [key, p] of next) {
      const old = this.held.get(key);
      if (old === undefined || differs(old, p)) partitions.push(p);
    }
    for (const [key, p] of this.held) if (!next.has(key)) forgotten.push(p);
    return { sessionId: this.id, sessionEpoch: this.epoch, full: false, partitions, forgotten };
  }

  /**
   * The response's top-level error code and session id. Returns false when the session was lost or out of
   * step (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH, FETCH_SESSION_TOPIC_ID_ERROR): the next request is full and the caller
   * should send it at once rather than treat the partitions as failed.
   */
  handleResponse(errorCode: number, sessionId: number): boolean {
    const pending = this.pending;
    this.pending = undefined;
    if (errorCode === errorCodes.FETCH_SESSION_ID_NOT_FOUND) { this.restart(0); return false; }
    if (errorCode === errorCodes.INVALID_FETCH_SESSION_EPOCH || errorCode === errorCodes.FETCH_SESSION_TOPIC_ID_ERROR) {
      this.restart(this.id);
      return false;
    }
    if (errorCode !== 0) { this.restart(this.id); return true; }
    if (!this.sessions) return true;
    if (this.pendingFull) {
      // The broker made a session (id != 0) or declined to (id 0: it is full, or sessions are off).
      this.held.clear();
      this.id = sessionId;
      this.epoch = sessionId === 0 ? INITIAL_EPOCH : 1;
    } else {
      this.held.clear();
      this.epoch = this.epoch >= 0x7fffffff ? 1 : this.epoch + 1;
    }
    if (this.id !== 0 && pending) for (const [k, p] of pending) this.held.set(k, p);
    return true;
  }

  /**
   * The request failed on the way (connection lost, timeout): whether the broker saw it is unknown, so the
   * next request is full and closes the old session (id X, epoch 0) instead of leaving it to expire.
   */
  handleRequestError(): void {
    this.pending = undefined;
    this.restart(this.id);
  }

  private restart(closeId: number): void {
    this.held.clear();
    this.id = closeId;
    this.epoch = this.sessions ? INITIAL_EPOCH : FINAL_EPOCH;
  }
}
