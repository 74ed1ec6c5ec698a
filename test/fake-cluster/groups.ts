/**
 * The classic group protocol's coordinator state (Kafka's GroupCoordinator, KIP-394 member ids; of static
 * membership, KIP-345, only this: a join with a group instance id gets its member id at once): Empty → PreparingRebalance → CompletingRebalance → Stable, one generation per completed join.
 * - JoinGroup with an empty member id (v4+, no group instance id) gets MEMBER_ID_REQUIRED and a member id,
 *   pending until it rejoins;
 * - a join parks until every member (and pending member) has joined, or the largest rebalance timeout passed
 *   (members that did not rejoin are removed); the leader gets the member list;
 * - SyncGroup parks until the leader's assignment arrives; Heartbeat answers REBALANCE_IN_PROGRESS while a
 *   rebalance is being prepared; a member not heard from within its session timeout is removed (a member whose
 *   join or sync is parked is kept alive) and the others rebalance;
 * - committed offsets live with the group.
 */
import { randomUUID } from 'node:crypto';
import { errorCodes } from '../../src/protocol/error-codes.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable';

/** What a JoinGroup answer carries. */
export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

/** What a SyncGroup answer carries. */
export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

interface Member {
  id: string;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
  lastHeard: number;
  assignment: Buffer;
  joinWaiter?: (r: JoinResult) => void;
  syncWaiter?: (r: SyncResult) => void;
}

/** A committed offset. */
export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

/** One group. */
export class Group {
  readonly id: string;
  state: GroupState = 'Empty';
  generation = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leader: string | null = null;
  readonly members = new Map<string, Member>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, with the time they expire. */
  readonly pending = new Map<string, number>();
  readonly offsets = new Map<string, CommittedOffset>();
  /** Completed rebalances (generations). */
  rebalances = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly initialDelayMs: number;

  constructor(id: string, initialDelayMs: number) {
    this.id = id;
    this.initialDelayMs = initialDelayMs;
  }

  join(req: { memberId: string; groupInstanceId?: string | null; clientId: string; sessionTimeoutMs: number; rebalanceTimeoutMs: number; protocolType: string; protocols: { name: string; metadata: Buffer }[] }, version: number): Promise<JoinResult> | JoinResult {
    const fail = (errorCode: number, memberId = req.memberId): JoinResult => ({ errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, members: [] });
    if (req.sessionTimeoutMs < 1 || req.sessionTimeoutMs > 1_800_000) return fail(errorCodes.INVALID_SESSION_TIMEOUT);
    if (this.members.size > 0 && this.protocolType !== null && req.protocolType !== this.protocolType) return fail(errorCodes.INCONSISTENT_GROUP_PROTOCOL);
    const now = Date.now();
    let member: Member | undefined;
    if (req.memberId === '') {
      const id = `${req.clientId}-${randomUUID()}`;
      if (version >= 4 && !req.groupInstanceId) {
        this.pending.set(id, now + req.sessionTimeoutMs);
        return fail(errorCodes.MEMBER_ID_REQUIRED, id);
      }
      member = this.addMember(id, req);
    } else if (this.pending.has(req.memberId)) {
      this.pending.delete(req.memberId);
      member = this.addMember(req.memberId, req);
    } else {
      member = this.members.get(req.memberId);
      if (!member) return fail(errorCodes.UNKNOWN_MEMBER_ID);
      const same = sameProtocols(member.protocols, req.protocols);
      Object.assign(member, { sessionTimeoutMs: req.sessionTimeoutMs, rebalanceTimeoutMs: req.rebalanceTimeoutMs, protocols: req.protocols, lastHeard: now });
      if (same && (this.state === 'CompletingRebalance' || (this.state === 'Stable' && member.id !== this.leader))) {
        return this.joinResult(member);
      }
    }
    member.lastHeard = now;
    const parked = new Promise<JoinResult>((resolve) => { member!.joinWaiter = resolve; });
    if (this.state !== 'PreparingRebalance') this.prepareRebalance();
    else this.maybeCompleteJoin();
    return parked;
  }

  private addMember(id: string, req: { clientId: string; sessionTimeoutMs: number; rebalanceTimeoutMs: number; protocolType: string; protocols: { name: string; metadata: Buffer }[] }): Member {
    const m: Member = {
      id, clientId: req.clientId, sessionTimeoutMs: req.sessionTimeoutMs, rebalanceTimeoutMs: req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
      protocolType: req.protocolType, protocols: req.protocols, lastHeard: Date.now(), assignment: Buffer.alloc(0),
    };
    this.members.set(id, m);
    if (this.members.size === 1) this.protocolType = req.protocolType;
    return m;
  }

  /** Starts a rebalance: parked syncs learn it, joins park until everyone rejoined or the rebalance timeout. */
  prepareRebalance(): void {
    const first = this.state === 'Empty';
    this.state = 'PreparingRebalance';
    for (const m of this.members.values()) {
      if (m.syncWaiter) {
        m.syncWaiter({ errorCode: errorCodes.REBALANCE_IN_PROGRESS, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
        m.syncWaiter = undefined;
      }
    }
    clearTimeout(this.timer);
    const timeout = Math.max(0, ...[...this.members.values()].map((m) => m.rebalanceTimeoutMs));
    const delay = first && this.initialDelayMs > 0 ? Math.min(this.initialDelayMs, timeout) : timeout;
    this.timer = setTimeout(() => this.completeJoin(), delay);
    this.timer.unref();
    if (!(first && this.initialDelayMs > 0)) this.maybeCompleteJoin();
  }

  private maybeCompleteJoin(): void {
    if (this.state !== 'PreparingRebalance' || this.pending.size > 0) return;
    for (const m of this.members.values()) if (!m.joinWaiter) return;
    this.completeJoin();
  }

  private completeJoin(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state !== 'PreparingRebalance') return;
    for (const m of [...this.members.values()]) if (!m.joinWaiter) this.members.delete(m.id);
    this.pending.clear();
    this.generation++;
    this.rebalances++;
    if (this.members.size === 0) {
      this.state = 'Empty';
      this.leader = null;
      this.protocolName = null;
      return;
    }
    const all = [...this.members.values()];
    if (!this.leader || !this.members.has(this.leader)) this.leader = all[0]!.id;
    const leader = this.members.get(this.leader)!;
    this.protocolName = leader.protocols.map((p) => p.name).find((name) => all.every((m) => m.protocols.some((p) => p.name === name))) ?? null;
    if (this.protocolName === null) {
      for (const m of all) m.joinWaiter!({ errorCode: errorCodes.INCONSISTENT_GROUP_PROTOCOL, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId: m.id, members: [] });
      this.members.clear();
      this.state = 'Empty';
      return;
    }
    this.state = 'CompletingRebalance';
    const now = Date.now();
    for (const m of all) {
      const waiter = m.joinWaiter!;
      m.joinWaiter = undefined;
      m.lastHeard = now;
      m.assignment = Buffer.alloc(0);
      waiter(this.joinResult(m));
    }
  }

  private joinResult(m: Member): JoinResult {
    const members = m.id === this.leader
      ? [...this.members.values()].map((x) => ({ memberId: x.id, groupInstanceId: null, metadata: x.protocols.find((p) => p.name === this.protocolName)?.metadata ?? Buffer.alloc(0) }))
      : [];
    return { errorCode: 0, generationId: this.generation, protocolType: this.protocolType, protocolName: this.protocolName, leader: this.leader ?? '', memberId: m.id, members };
  }

  sync(req: { memberId: string; generationId: number; assignments: { memberId: string; assignment: Buffer }[] }): Promise<SyncResult> | SyncResult {
    const answer = (errorCode: number, assignment: Buffer = Buffer.alloc(0)): SyncResult => ({ errorCode, protocolType: this.protocolType, protocolName: this.protocolName, assignment });
    const m = this.members.get(req.memberId);
    if (!m) return answer(errorCodes.UNKNOWN_MEMBER_ID);
    if (req.generationId !== this.generation) return answer(errorCodes.ILLEGAL_GENERATION);
    m.lastHeard = Date.now();
    if (this.state === 'PreparingRebalance') return answer(errorCodes.REBALANCE_IN_PROGRESS);
    if (this.state === 'Stable') return answer(0, m.assignment);
    const parked = new Promise<SyncResult>((resolve) => { m.syncWaiter = resolve; });
    if (m.id === this.leader) {
      for (const a of req.assignments) {
        const target = this.members.get(a.memberId);
        if (target) target.assignment = Buffer.from(a.assignment);
      }
      this.state = 'Stable';
      for (const x of this.members.values()) {
        if (!x.syncWaiter) continue;
        x.syncWaiter(answer(0, x.assignment));
        x.syncWaiter = undefined;
      }
    }
    return parked;
  }

  heartbeat(req: { memberId: string; generationId: number }): number {
    const m = this.members.get(req.memberId);
    if (!m) return errorCodes.UNKNOWN_MEMBER_ID;
    if (req.generationId !== this.generation) return errorCodes.ILLEGAL_GENERATION;
    m.lastHeard = Date.now();
    return this.state === 'PreparingRebalance' ? errorCodes.REBALANCE_IN_PROGRESS : 0;
  }

  /** Removes a member (LeaveGroup, session expiry); the others rebalance. */
  remove(memberId: string): number {
    const m = this.members.get(memberId);
    if (!m) return this.pending.delete(memberId) ? 0 : errorCodes.UNKNOWN_MEMBER_ID;
    this.members.delete(memberId);
    m.joinWaiter?.({ errorCode: errorCodes.UNKNOWN_MEMBER_ID, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, members: [] });
    m.syncWaiter?.({ errorCode: errorCodes.UNKNOWN_MEMBER_ID, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
    if (this.leader === memberId) this.leader = null;
    if (this.members.size === 0) {
      clearTimeout(this.timer);
      this.state = 'Empty';
      this.generation++;
      this.protocolName = null;
    } else if (this.state === 'PreparingRebalance') this.maybeCompleteJoin();
    else this.prepareRebalance();
    return 0;
  }

  /** Whether an offset commit from this member and generation may be stored (0) or the error to answer. */
  checkCommit(memberId: string, generation: number): number {
    if (generation < 0 && memberId === '') return this.members.size === 0 ? 0 : errorCodes.ILLEGAL_GENERATION;
    const m = this.members.get(memberId);
    if (!m) return errorCodes.UNKNOWN_MEMBER_ID;
    if (generation !== this.generation) return errorCodes.ILLEGAL_GENERATION;
    if (this.state === 'CompletingRebalance') return errorCodes.REBALANCE_IN_PROGRESS;
    m.lastHeard = Date.now();
    return 0;
  }

  /** Removes members whose session expired (parked joins and syncs keep a member alive). */
  expire(now: number): string[] {
    const gone: string[] = [];
    for (const [id, deadline] of this.pending) if (deadline < now) this.pending.delete(id);
    for (const m of [...this.members.values()]) {
      if (m.joinWaiter || m.syncWaiter) continue;
      if (m.lastHeard + m.sessionTimeoutMs < now) {
        gone.push(m.id);
        this.remove(m.id);
      }
    }
    if (this.state === 'PreparingRebalance') this.maybeCompleteJoin();
    return gone;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

function sameProtocols(a: { name: string; metadata: Buffer }[], b: { name: string; metadata: Buffer }[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && Buffer.compare(p.metadata, b[i]!.metadata) === 0);
}

/** Every group of the cluster, with the session-expiry sweep. */
export class Groups {
  readonly byId = new Map<string, Group>();
  /** Members removed because their session expired: group id and member id. */
  readonly expired: { group: string; member: string; at: number }[] = [];
  private sweep: NodeJS.Timeout | undefined;
  private readonly initialDelayMs: number;

  constructor(options: { initialRebalanceDelayMs: number }) {
    this.initialDelayMs = options.initialRebalanceDelayMs;
  }

  get(id: string): Group {
    let g = this.byId.get(id);
    if (!g) this.byId.set(id, (g = new Group(id, this.initialDelayMs)));
    return g;
  }

  start(everyMs = 25): void {
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const g of this.byId.values()) for (const member of g.expire(now)) this.expired.push({ group: g.id, member, at: now });
    }, everyMs);
    this.sweep.unref();
  }

  stop(): void {
    clearInterval(this.sweep);
    for (const g of this.byId.values()) g.stop();
  }
}
