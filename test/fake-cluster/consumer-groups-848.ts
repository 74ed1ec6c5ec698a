/**
 * The fake cluster's KIP-848 consumer groups: ConsumerGroupHeartbeat with a server-side assignor, member epochs
 * and incremental revocation, modelled on Kafka's GroupMetadataManager in a simplified form:
 * - a join (epoch 0), a leave (-1, or -2 for a static member), a subscription change or an expired session bumps
 *   the group epoch and recomputes the target assignment (uniform: partitions spread round-robin over the members
 *   in member-id order; `range`: contiguous runs);
 * - a member behind the group epoch first gets its owned partitions minus those it must revoke (same epoch);
 *   once its heartbeat reports it no longer owns them it moves to the group epoch and gets the partitions of its
 *   target that no other member still holds (held = reported owned ∪ last sent); the rest follow when freed;
 * - epoch checks: an unknown member id UNKNOWN_MEMBER_ID, an epoch ahead of the member's or behind it (other than
 *   the previous one with owned partitions within what it was given: a lost answer) FENCED_MEMBER_EPOCH; a static
 *   id held by a member that did not leave with -2 UNRELEASED_INSTANCE_ID; an assignor other than uniform/range
 *   UNSUPPORTED_ASSIGNOR; more than `maxSize` members GROUP_MAX_SIZE_REACHED;
 * - sessions expire (swept on any heartbeat of the group): the member is removed and the group rebalances;
 * - OffsetCommit from a member of such a group must carry its current epoch (else STALE_MEMBER_EPOCH).
 * Settings per cluster with {@link consumerGroups848}: `heartbeatIntervalMs`, `sessionTimeoutMs`, `maxSize`.
 */
import { errorCodes } from '../../src/protocol/error-codes.js';
import type { HandlerContext } from './handlers-data.js';
import type { ClusterState } from './state.js';

type Body = Record<string, any>;

export interface ConsumerGroup848Options {
  /** What every answer tells members (Kafka's group.consumer.heartbeat.interval.ms). Default 100 ms. */
  heartbeatIntervalMs: number;
  /** Members silent this long are removed (group.consumer.session.timeout.ms). Default 1 s. */
  sessionTimeoutMs: number;
  /** Most members a group takes (group.consumer.max.size). Default unlimited. */
  maxSize: number;
}

interface Member848 {
  id: string;
  instanceId: string | null;
  epoch: number;
  previousEpoch: number;
  topics: string[];
  assignor: string | null;
  /** tpKeys (`topic:partition`) the member last reported owning. */
  owned: Set<string>;
  /** tpKeys last sent to it. */
  given: Set<string>;
  lastHeard: number;
  /** Left with epoch -2: its static id may be taken over. */
  away: boolean;
}

/** One KIP-848 group. */
export class ConsumerGroup848 {
  epoch = 0;
  readonly members = new Map<string, Member848>();
  /** Target assignment by member id. */
  private target = new Map<string, Set<string>>();
  /** Heartbeats answered, by error name ('OK' for none): for tests. */
  readonly answers: string[] = [];

  constructor(readonly id: string, private readonly state: ClusterState, private readonly options: ConsumerGroup848Options) {}

  /** Removes a member as its session expiry would, and rebalances the rest. */
  expel(memberId: string): void {
    if (this.members.delete(memberId)) this.rebalance();
  }

  /** Bumps the group epoch and recomputes every member's target. */
  rebalance(): void {
    this.epoch++;
    const members = [...this.members.values()].filter((m) => !m.away).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const topics = [...new Set(members.flatMap((m) => m.topics))].filter((t) => this.state.topics.has(t)).sort();
    this.target = new Map(members.map((m) => [m.id, new Set<string>()]));
    const range = members[0]?.assignor === 'range';
    for (const topic of topics) {
      const subs = members.filter((m) => m.topics.includes(topic));
      const n = this.state.topics.get(topic)!.partitions.length;
      for (let p = 0; p < n && subs.length > 0; p++) {
        const who = range ? subs[Math.min(subs.length - 1, Math.floor((p * subs.length) / n))]! : subs[p % subs.length]!;
        this.target.get(who.id)!.add(`${topic}:${p}`);
      }
    }
  }

  private heldByOthers(memberId: string): Set<string> {
    const held = new Set<string>();
    for (const m of this.members.values()) if (m.id !== memberId) for (const k of [...m.owned, ...m.given]) held.add(k);
    return held;
  }

  /** Members silent past the session timeout are removed. */
  sweep(now: number): void {
    let gone = false;
    for (const m of [...this.members.values()]) {
      if (m.lastHeard + this.options.sessionTimeoutMs < now) { this.members.delete(m.id); gone = true; }
    }
    if (gone) this.rebalance();
  }

  heartbeat(body: Body): Body {
    const now = Date.now();
    this.sweep(now);
    const answer = (errorCode: number, extra: Body = {}): Body => {
      this.answers.push(errorCode === 0 ? 'OK' : String(errorCode));
      return { throttleTimeMs: 0, errorCode, errorMessage: null, memberId: body.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null, ...extra };
    };
    const epoch: number = body.memberEpoch;
    if (!body.memberId) return answer(errorCodes.INVALID_REQUEST);
    if (body.serverAssignor !== null && !['uniform', 'range'].includes(body.serverAssignor)) return answer(errorCodes.UNSUPPORTED_ASSIGNOR);
    let m = this.members.get(body.memberId);
    if (epoch === -1 || epoch === -2) {
      if (!m) return answer(errorCodes.UNKNOWN_MEMBER_ID);
      if (epoch === -2 && m.instanceId !== null) { m.away = true; m.owned.clear(); m.given.clear(); } else this.members.delete(m.id);
      this.rebalance();
      return answer(0, { memberEpoch: epoch });
    }
    if (epoch === 0) {
      const instanceId: string | null = body.instanceId;
      if (instanceId !== null) {
        const holder = [...this.members.values()].find((x) => x.instanceId === instanceId && x.id !== body.memberId);
        if (holder && !holder.away) return answer(errorCodes.UNRELEASED_INSTANCE_ID);
        if (holder) this.members.delete(holder.id);
      }
      if (!m && this.members.size >= this.options.maxSize) return answer(errorCodes.GROUP_MAX_SIZE_REACHED);
      m = { id: body.memberId, instanceId, epoch: 0, previousEpoch: 0, topics: [], assignor: null, owned: new Set(), given: new Set(), lastHeard: now, away: false };
      this.members.set(m.id, m);
      m.topics = [...(body.subscribedTopicNames ?? [])];
      m.assignor = body.serverAssignor;
      this.rebalance();
    } else {
      if (!m || m.away) return answer(errorCodes.UNKNOWN_MEMBER_ID);
      const owned = this.keys(body.topicPartitions);
      const lostAnswer = epoch === m.previousEpoch && owned !== null && [...owned].every((k) => m!.given.has(k) || m!.owned.has(k));
      if (epoch !== m.epoch && !lostAnswer) return answer(errorCodes.FENCED_MEMBER_EPOCH);
      if (body.subscribedTopicNames !== null && String(body.subscribedTopicNames) !== String(m.topics)) {
        m.topics = [...body.subscribedTopicNames];
        this.rebalance();
      }
    }
    m.lastHeard = now;
    const owned = this.keys(body.topicPartitions);
    if (owned !== null) m.owned = owned;
    const target = this.target.get(m.id) ?? new Set<string>();
    let give: Set<string>;
    if (m.epoch !== this.epoch) {
      const toRevoke = [...m.owned].filter((k) => !target.has(k));
      if (toRevoke.length === 0) {
        m.previousEpoch = m.epoch;
        m.epoch = this.epoch;
        const held = this.heldByOthers(m.id);
        give = new Set([...target].filter((k) => m!.owned.has(k) || !held.has(k)));
      } else {
        give = new Set([...m.owned].filter((k) => target.has(k)));
      }
    } else {
      const held = this.heldByOthers(m.id);
      give = new Set([...target].filter((k) => m!.owned.has(k) || !held.has(k)));
    }
    const changed = give.size !== m.given.size || [...give].some((k) => !m!.given.has(k)) || epoch === 0;
    m.given = give;
    return answer(0, {
      memberId: m.id, memberEpoch: m.epoch, heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      assignment: changed ? { topicPartitions: this.byTopicId(give) } : null,
    });
  }

  /** 0 when `memberId` at `epoch` may commit, else the error to answer. */
  checkCommit(memberId: string, epoch: number): number {
    const m = this.members.get(memberId);
    if (!m || m.away) return errorCodes.UNKNOWN_MEMBER_ID;
    if (epoch > m.epoch) return errorCodes.FENCED_MEMBER_EPOCH;
    if (epoch < m.epoch) return errorCodes.STALE_MEMBER_EPOCH;
    return 0;
  }

  private keys(list: Body[] | null): Set<string> | null {
    if (list === null) return null;
    const out = new Set<string>();
    for (const t of list) {
      const name = this.state.topicsById.get(t.topicId)?.name;
      if (name !== undefined) for (const p of t.partitions) out.add(`${name}:${p}`);
    }
    return out;
  }

  private byTopicId(keys: Set<string>): { topicId: string; partitions: number[] }[] {
    const by = new Map<string, number[]>();
    for (const k of keys) {
      const at = k.lastIndexOf(':');
      const id = this.state.topics.get(k.slice(0, at))!.id;
      if (!by.has(id)) by.set(id, []);
      by.get(id)!.push(Number(k.slice(at + 1)));
    }
    return [...by].map(([topicId, partitions]) => ({ topicId, partitions: partitions.sort((a, b) => a - b) }));
  }
}

interface Registry { options: ConsumerGroup848Options; groups: Map<string, ConsumerGroup848> }
const registries = new WeakMap<ClusterState, Registry>();

function registry(state: ClusterState): Registry {
  let r = registries.get(state);
  if (!r) registries.set(state, (r = { options: { heartbeatIntervalMs: 100, sessionTimeoutMs: 1_000, maxSize: Infinity }, groups: new Map() }));
  return r;
}

/** The KIP-848 groups of a fake cluster (`cluster.state`), and their settings (changed in place). */
export function consumerGroups848(state: ClusterState): {
  options: ConsumerGroup848Options; group(id: string): ConsumerGroup848 | undefined; ids(): string[]; remove(id: string): boolean;
} {
  const r = registry(state);
  return { options: r.options, group: (id) => r.groups.get(id), ids: () => [...r.groups.keys()], remove: (id) => r.groups.delete(id) };
}

/** The KIP-848 group `groupId`, if one exists (OffsetCommit checks member epochs with it). */
export function consumerGroup848(state: ClusterState, groupId: string): ConsumerGroup848 | undefined {
  return registries.get(state)?.groups.get(groupId);
}

/** ConsumerGroupHeartbeat (API 68). */
export function consumerGroupHeartbeat(ctx: HandlerContext): Body {
  const { state, body } = ctx;
  const refused = ctx.topError || (body.groupId === '' ? errorCodes.INVALID_GROUP_ID : state.coordinatorFor(body.groupId) === ctx.broker ? 0 : errorCodes.NOT_COORDINATOR);
  if (refused) return { throttleTimeMs: 0, errorCode: refused, errorMessage: null, memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null };
  const r = registry(state);
  let g = r.groups.get(body.groupId);
  if (!g) r.groups.set(body.groupId, (g = new ConsumerGroup848(body.groupId, state, r.options)));
  return g.heartbeat(body);
}
