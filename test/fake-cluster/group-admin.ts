/**
 * The fake cluster's group administration APIs: ListGroups (16), DescribeGroups (15), DeleteGroups (42) and
 * ConsumerGroupDescribe (69), over its classic groups (groups.ts) and KIP-848 groups (consumer-groups-848.ts).
 * As Kafka: each broker lists and describes only the groups it coordinates (NOT_COORDINATOR per group otherwise);
 * DescribeGroups of an unknown or non-classic group answers state Dead (and GROUP_ID_NOT_FOUND from v6);
 * ConsumerGroupDescribe of anything but a KIP-848 group answers GROUP_ID_NOT_FOUND; DeleteGroups refuses a group
 * with members (NON_EMPTY_GROUP). KIP-848 members report no client id or host to the fake: those are ''.
 */
import { errorCodes } from '../../src/protocol/error-codes.js';
import { consumerGroups848, type ConsumerGroup848 } from './consumer-groups-848.js';
import type { Handler, HandlerContext } from './handlers-data.js';
import type { Group } from './groups.js';

type Body = Record<string, any>;

/** A classic group that exists: has members or offsets or has been joined (the fake creates groups on lookup). */
function classic(ctx: HandlerContext, id: string): Group | undefined {
  const g = ctx.state.groups.byId.get(id);
  return g !== undefined && (g.members.size > 0 || g.offsets.size > 0 || g.generation > 0) ? g : undefined;
}

function state848(g: ConsumerGroup848): string {
  g.sweep(Date.now()); // members silent past their session are gone, as the coordinator's timer would have it
  return [...g.members.values()].some((m) => !m.away) ? 'Stable' : 'Empty';
}

function listGroups(ctx: HandlerContext): Body {
  const { state, body, broker, version } = ctx;
  if (ctx.topError) return { throttleTimeMs: 0, errorCode: ctx.topError, groups: [] };
  const mine = (id: string): boolean => state.coordinatorFor(id) === broker;
  const groups: Body[] = [];
  for (const id of state.groups.byId.keys()) {
    const g = classic(ctx, id);
    if (g && mine(id)) groups.push({ groupId: id, protocolType: g.protocolType ?? '', groupState: g.state, groupType: 'classic' });
  }
  const k848 = consumerGroups848(state);
  for (const id of k848.ids()) {
    if (mine(id)) groups.push({ groupId: id, protocolType: 'consumer', groupState: state848(k848.group(id)!), groupType: 'consumer' });
  }
  const states = new Set<string>((version >= 4 ? body.statesFilter : []).map((s: string) => s.toLowerCase()));
  const types = new Set<string>((version >= 5 ? body.typesFilter : []).map((t: string) => t.toLowerCase()));
  return {
    throttleTimeMs: 0, errorCode: 0,
    groups: groups.filter((g) => (states.size === 0 || states.has(g.groupState.toLowerCase())) && (types.size === 0 || types.has(g.groupType))),
  };
}

function describeGroups(ctx: HandlerContext): Body {
  const { state, broker, version } = ctx;
  const dead = (groupId: string, errorCode: number): Body => ({
    errorCode, errorMessage: null, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [], authorizedOperations: -2147483648,
  });
  return {
    throttleTimeMs: 0,
    groups: (ctx.body.groups as string[]).map((groupId) => {
      if (ctx.topError) return dead(groupId, ctx.topError);
      if (state.coordinatorFor(groupId) !== broker) return dead(groupId, errorCodes.NOT_COORDINATOR);
      const g = classic(ctx, groupId);
      if (!g) return dead(groupId, version >= 6 ? errorCodes.GROUP_ID_NOT_FOUND : 0);
      const stable = g.state === 'Stable';
      return {
        errorCode: 0, errorMessage: null, groupId, groupState: g.state, protocolType: g.protocolType ?? '', protocolData: stable ? g.protocolName ?? '' : '',
        members: [...g.members.values()].map((m) => ({
          memberId: m.id, groupInstanceId: null, clientId: m.clientId, clientHost: '/127.0.0.1',
          memberMetadata: m.protocols.find((p) => p.name === g.protocolName)?.metadata ?? Buffer.alloc(0),
          memberAssignment: stable ? m.assignment : Buffer.alloc(0),
        })),
        authorizedOperations: -2147483648,
      };
    }),
  };
}

function consumerGroupDescribe(ctx: HandlerContext): Body {
  const { state, broker } = ctx;
  const k848 = consumerGroups848(state);
  const failed = (groupId: string, errorCode: number): Body => ({
    errorCode, errorMessage: null, groupId, groupState: '', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [], authorizedOperations: -2147483648,
  });
  const assignment = (keys: Iterable<string>): Body => {
    const byTopic = new Map<string, number[]>();
    for (const k of keys) {
      const at = k.lastIndexOf(':');
      const topic = k.slice(0, at);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), Number(k.slice(at + 1))]);
    }
    return { topicPartitions: [...byTopic].map(([topicName, partitions]) => ({ topicId: state.topics.get(topicName)?.id ?? 'AAAAAAAAAAAAAAAAAAAAAA', topicName, partitions })) };
  };
  return {
    throttleTimeMs: 0,
    groups: (ctx.body.groupIds as string[]).map((groupId) => {
      if (ctx.topError) return failed(groupId, ctx.topError);
      if (state.coordinatorFor(groupId) !== broker) return failed(groupId, errorCodes.NOT_COORDINATOR);
      const g = k848.group(groupId);
      if (!g) return failed(groupId, errorCodes.GROUP_ID_NOT_FOUND);
      const members = [...g.members.values()].filter((m) => !m.away);
      return {
        errorCode: 0, errorMessage: null, groupId, groupState: state848(g), groupEpoch: g.epoch, assignmentEpoch: g.epoch,
        assignorName: members[0]?.assignor ?? 'uniform', authorizedOperations: -2147483648,
        members: members.map((m) => ({
          memberId: m.id, instanceId: m.instanceId, rackId: null, memberEpoch: m.epoch, clientId: '', clientHost: '/127.0.0.1',
          subscribedTopicNames: m.topics, subscribedTopicRegex: null, assignment: assignment(m.given), targetAssignment: assignment(m.given), memberType: 1,
        })),
      };
    }),
  };
}

function deleteGroups(ctx: HandlerContext): Body {
  const { state, broker } = ctx;
  const k848 = consumerGroups848(state);
  return {
    throttleTimeMs: 0,
    results: (ctx.body.groupsNames as string[]).map((groupId) => {
      const result = (errorCode: number): Body => ({ groupId, errorCode });
      if (ctx.topError) return result(ctx.topError);
      if (state.coordinatorFor(groupId) !== broker) return result(errorCodes.NOT_COORDINATOR);
      const g = classic(ctx, groupId);
      const g848 = k848.group(groupId);
      if (g) {
        if (g.members.size > 0) return result(errorCodes.NON_EMPTY_GROUP);
        g.stop();
        state.groups.byId.delete(groupId);
        return result(0);
      }
      if (g848) {
        if (state848(g848) !== 'Empty') return result(errorCodes.NON_EMPTY_GROUP);
        k848.remove(groupId);
        return result(0);
      }
      return result(errorCodes.GROUP_ID_NOT_FOUND);
    }),
  };
}

/** The handlers, by API key, for server.ts's registry. */
export const GROUP_ADMIN_HANDLERS: Record<number, Handler> = { 16: listGroups, 15: describeGroups, 69: consumerGroupDescribe, 42: deleteGroups };
