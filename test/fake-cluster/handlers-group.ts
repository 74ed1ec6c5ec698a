/**
 * Handlers of the fake cluster's group APIs: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * OffsetCommit and OffsetFetch (state machine in groups.ts). A group request sent to a broker that is not the
 * group's coordinator gets NOT_COORDINATOR, as Kafka answers after a coordinator moved.
 */
import { errorCodes } from '../../src/protocol/error-codes.js';
import type { HandlerContext } from './handlers-data.js';
import { consumerGroup848 } from './consumer-groups-848.js';

type Body = Record<string, any>;

export function findCoordinator(ctx: HandlerContext): Body {
  const { state, body, version } = ctx;
  const keys: string[] = version >= 4 ? body.coordinatorKeys : [body.key];
  const coordinators = keys.map((key) => {
    const node = state.coordinatorFor(key);
    const errorCode = ctx.topError || (node < 0 ? errorCodes.COORDINATOR_NOT_AVAILABLE : 0);
    return errorCode
      ? { key, nodeId: -1, host: '', port: -1, errorCode, errorMessage: null }
      : { key, nodeId: node, host: '127.0.0.1', port: state.ports.get(node)!, errorCode: 0, errorMessage: null };
  });
  if (version >= 4) return { throttleTimeMs: 0, coordinators };
  const c = coordinators[0]!;
  return { throttleTimeMs: 0, errorCode: c.errorCode, errorMessage: c.errorMessage, nodeId: c.nodeId, host: c.host, port: c.port };
}

/** 0 when this broker coordinates `groupId`, else the error to answer. */
function notHere(ctx: HandlerContext, groupId: string): number {
  if (ctx.topError) return ctx.topError;
  if (groupId === '') return errorCodes.INVALID_GROUP_ID;
  return ctx.state.coordinatorFor(groupId) === ctx.broker ? 0 : errorCodes.NOT_COORDINATOR;
}

export async function joinGroup(ctx: HandlerContext): Promise<Body> {
  const { body } = ctx;
  const refused = notHere(ctx, body.groupId);
  if (refused) return { throttleTimeMs: 0, errorCode: refused, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId: body.memberId, members: [] };
  const group = ctx.state.groups.get(body.groupId);
  const r = await group.join({
    memberId: body.memberId, groupInstanceId: body.groupInstanceId ?? null, clientId: ctx.clientId, sessionTimeoutMs: body.sessionTimeoutMs, rebalanceTimeoutMs: body.rebalanceTimeoutMs,
    protocolType: body.protocolType, protocols: (body.protocols as Body[]).map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
  }, ctx.version);
  return { throttleTimeMs: 0, skipAssignment: false, ...r, protocolName: r.protocolName ?? (ctx.version >= 7 ? null : '') };
}

export async function syncGroup(ctx: HandlerContext): Promise<Body> {
  const { body } = ctx;
  const refused = notHere(ctx, body.groupId);
  if (refused) return { throttleTimeMs: 0, errorCode: refused, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
  const r = await ctx.state.groups.get(body.groupId).sync({ memberId: body.memberId, generationId: body.generationId, assignments: body.assignments });
  return { throttleTimeMs: 0, ...r };
}

export function heartbeat(ctx: HandlerContext): Body {
  const { body } = ctx;
  const refused = notHere(ctx, body.groupId);
  if (refused) return { throttleTimeMs: 0, errorCode: refused };
  return { throttleTimeMs: 0, errorCode: ctx.state.groups.get(body.groupId).heartbeat({ memberId: body.memberId, generationId: body.generationId }) };
}

export function leaveGroup(ctx: HandlerContext): Body {
  const { body, version } = ctx;
  const refused = notHere(ctx, body.groupId);
  const ids: string[] = version >= 3 ? (body.members as Body[]).map((m) => m.memberId) : [body.memberId];
  if (refused) return { throttleTimeMs: 0, errorCode: refused, members: [] };
  const group = ctx.state.groups.get(body.groupId);
  const members = ids.map((memberId) => ({ memberId, groupInstanceId: null, errorCode: group.remove(memberId) }));
  const errorCode = version >= 3 ? 0 : members[0]!.errorCode;
  return { throttleTimeMs: 0, errorCode, members };
}

export function offsetCommit(ctx: HandlerContext): Body {
  const { state, body, version } = ctx;
  const byId = version >= 10;
  const refused = notHere(ctx, body.groupId);
  const group = refused ? undefined : state.groups.get(body.groupId);
  const g848 = refused ? undefined : consumerGroup848(state, body.groupId);
  const denied = refused || (g848 ?? group!).checkCommit(body.memberId ?? '', body.generationIdOrMemberEpoch ?? -1);
  const topics = (body.topics as Body[]).map((t) => {
    const name = state.topicName(t.name, t.topicId, byId);
    return {
      name, topicId: t.topicId,
      partitions: (t.partitions as Body[]).map((p) => {
        let errorCode = denied || ctx.errorFor(name, p.partitionIndex);
        if (!errorCode && !state.partition(name, p.partitionIndex)) errorCode = byId ? errorCodes.UNKNOWN_TOPIC_ID : errorCodes.UNKNOWN_TOPIC_OR_PARTITION;
        if (!errorCode) group!.offsets.set(`${name}:${p.partitionIndex}`, { offset: Number(p.committedOffset), leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata });
        return { partitionIndex: p.partitionIndex, errorCode };
      }),
    };
  });
  return { throttleTimeMs: 0, topics };
}

function fetchOffsets(ctx: HandlerContext, groupId: string, asked: Body[] | null, byId: boolean): { errorCode: number; topics: Body[] } {
  const { state } = ctx;
  const refused = notHere(ctx, groupId);
  if (refused) return { errorCode: refused, topics: [] };
  const group = state.groups.get(groupId);
  let wanted: { name: string; topicId: string; partitions: number[] }[];
  if (asked === null) {
    const m = new Map<string, number[]>();
    for (const k of group.offsets.keys()) {
      const at = k.lastIndexOf(':');
      const name = k.slice(0, at);
      if (!m.has(name)) m.set(name, []);
      m.get(name)!.push(Number(k.slice(at + 1)));
    }
    wanted = [...m].map(([name, partitions]) => ({ name, topicId: state.topics.get(name)?.id ?? 'AAAAAAAAAAAAAAAAAAAAAA', partitions }));
  } else {
    wanted = asked.map((t) => ({ name: state.topicName(t.name, t.topicId, byId), topicId: t.topicId, partitions: t.partitionIndexes }));
  }
  const topics = wanted.map((t) => ({
    name: t.name, topicId: t.topicId,
    partitions: t.partitions.map((partitionIndex) => {
      const injected = ctx.errorFor(t.name, partitionIndex);
      const c = injected ? undefined : group.offsets.get(`${t.name}:${partitionIndex}`);
      return { partitionIndex, committedOffset: BigInt(c?.offset ?? -1), committedLeaderEpoch: c?.leaderEpoch ?? -1, metadata: c?.metadata ?? '', errorCode: injected };
    }),
  }));
  return { errorCode: 0, topics };
}

export function offsetFetch(ctx: HandlerContext): Body {
  const { body, version } = ctx;
  if (version >= 8) {
    const groups = (body.groups as Body[]).map((g) => {
      const r = fetchOffsets(ctx, g.groupId, g.topics, version >= 10);
      return { groupId: g.groupId, topics: r.topics, errorCode: r.errorCode };
    });
    return { throttleTimeMs: 0, groups };
  }
  const r = fetchOffsets(ctx, body.groupId, body.topics, false);
  return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode };
}
