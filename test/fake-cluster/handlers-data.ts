/**
 * Handlers of the fake cluster's data and metadata APIs: ApiVersions, Metadata, CreateTopics, Produce,
 * InitProducerId, Fetch (with KIP-227 sessions and long polling), ListOffsets and OffsetForLeaderEpoch. Each takes the decoded request
 * and answers a response body for the version asked (fields outside a version are simply not written), or
 * undefined for no answer (Produce with acks=0).
 */
import { errorCodes } from '../../src/protocol/error-codes.js';
import { apis } from '../../src/protocol/apis/index.js';
import { supportedVersions } from '../../src/protocol/versions.js';
import type { ApiDef } from '../../src/protocol/schema-types.js';
import { FetchSessions, type FetchRequestPartition, type SessionPartition } from './fetch-sessions.js';
import type { ClusterState, FakeTopic } from './state.js';

type Body = Record<string, any>;

/** What a handler knows about the request it answers. */
export interface HandlerContext {
  state: ClusterState;
  /** Node id of the broker answering. */
  broker: number;
  version: number;
  clientId: string;
  body: Body;
  /** The error code an `error` fault injects for this partition (0: none). */
  errorFor(topic: string, partition: number): number;
  /** The error code an `error` fault injects at the top level (0: none). */
  topError: number;
  /** Aborts when the connection closes or the cluster stops (ends long polls). */
  signal: AbortSignal;
}

export type Handler = (ctx: HandlerContext) => Body | undefined | Promise<Body | undefined>;

/** The APIs the fake speaks, and the handlers' names for them. */
export const SPOKEN: readonly ApiDef[] = [
  apis.ApiVersions, apis.Metadata, apis.CreateTopics, apis.Produce, apis.InitProducerId, apis.Fetch, apis.ListOffsets, apis.OffsetForLeaderEpoch,
  apis.FindCoordinator, apis.JoinGroup, apis.SyncGroup, apis.Heartbeat, apis.LeaveGroup, apis.OffsetCommit, apis.OffsetFetch,
  apis.ConsumerGroupHeartbeat,
  apis.SaslHandshake, apis.SaslAuthenticate,
  apis.AddPartitionsToTxn, apis.AddOffsetsToTxn, apis.EndTxn, apis.TxnOffsetCommit,
  apis.ShareGroupHeartbeat, apis.ShareFetch, apis.ShareAcknowledge,
  apis.ListGroups, apis.DescribeGroups, apis.ConsumerGroupDescribe, apis.DeleteGroups,
];

/** The [min, max] the fake advertises for an API: ours, narrowed by the cluster's `versions` option. */
export function advertised(state: ClusterState, api: ApiDef): [number, number] {
  const [lo, hi] = supportedVersions(api);
  const pin = state.options.versions?.[api.name];
  return pin ? [Math.max(lo, pin[0]), Math.min(hi, pin[1])] : [lo, hi];
}

export function apiVersions(ctx: HandlerContext): Body {
  return {
    errorCode: ctx.topError,
    apiKeys: SPOKEN.map((api) => { const [minVersion, maxVersion] = advertised(ctx.state, api); return { apiKey: api.apiKey, minVersion, maxVersion }; }),
    throttleTimeMs: 0,
  };
}

function partitionMeta(ctx: HandlerContext, t: FakeTopic, pick?: number): Body[] {
  return t.partitions.map((p) => {
    const up = ctx.state.live.has(p.leader);
    const injected = pick === undefined ? 0 : ctx.errorFor(t.name, p.partition);
    return {
      errorCode: injected || (up ? 0 : errorCodes.LEADER_NOT_AVAILABLE), partitionIndex: p.partition, leaderId: up ? p.leader : -1,
      leaderEpoch: p.leaderEpoch, replicaNodes: p.replicas, isrNodes: p.replicas.filter((r) => ctx.state.live.has(r)),
      offlineReplicas: p.replicas.filter((r) => !ctx.state.live.has(r)),
    };
  });
}

export function metadata(ctx: HandlerContext): Body {
  const { state, body } = ctx;
  const asked: { name: string | null; topicId: string }[] | null = body.topics;
  const names = asked === null ? [...state.topics.keys()] : asked.map((t) => t.name ?? state.topicsById.get(t.topicId)?.name ?? '');
  const topics = names.map((name) => {
    let t = state.topics.get(name);
    if (!t && name !== '' && state.options.autoCreateTopics && body.allowAutoTopicCreation) t = state.createTopic(name, state.options.defaultPartitions ?? 1);
    // An injected error wins over "unknown" (Kafka checks authorization before existence).
    if (!t) return { errorCode: ctx.errorFor(name, -1) || errorCodes.UNKNOWN_TOPIC_OR_PARTITION, name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', isInternal: false, partitions: [] };
    // An `error` fault naming a partition hits that partition; one naming only the topic hits the topic.
    const topicError = ctx.errorFor(name, -1);
    return { errorCode: topicError, name, topicId: t.id, isInternal: false, partitions: partitionMeta(ctx, t, topicError ? undefined : 0), topicAuthorizedOperations: -2147483648 };
  });
  const brokers = state.brokerIds.filter((id) => state.live.has(id)).map((id) => ({ nodeId: id, host: '127.0.0.1', port: state.ports.get(id)!, rack: null }));
  return { throttleTimeMs: 0, brokers, clusterId: state.options.clusterId ?? 'fake-cluster', controllerId: brokers[0]?.nodeId ?? -1, topics, errorCode: ctx.topError };
}

export function createTopics(ctx: HandlerContext): Body {
  const { state, body } = ctx;
  const topics = (body.topics as Body[]).map((t) => {
    const n = t.numPartitions === -1 ? (state.options.defaultPartitions ?? 1) : t.numPartitions;
    const rf = t.replicationFactor === -1 ? undefined : t.replicationFactor;
    const result = { name: t.name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', errorCode: 0, errorMessage: null as string | null, numPartitions: n, replicationFactor: rf ?? -1, configs: [] };
    if (ctx.topError) return { ...result, errorCode: ctx.topError };
    if (state.topics.has(t.name)) return { ...result, errorCode: errorCodes.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${t.name}' already exists.` };
    if (!(n > 0)) return { ...result, errorCode: errorCodes.INVALID_PARTITIONS, errorMessage: `Number of partitions must be larger than 0.` };
    if (rf !== undefined && (rf < 1 || rf > state.live.size)) return { ...result, errorCode: errorCodes.INVALID_REPLICATION_FACTOR };
    if (body.validateOnly) return result;
    const created = state.createTopic(t.name, n, rf);
    return { ...result, topicId: created.id, replicationFactor: created.partitions[0]!.replicas.length };
  });
  return { throttleTimeMs: 0, topics };
}

export function produce(ctx: HandlerContext): Body | undefined {
  const { state, body, version } = ctx;
  const byId = version >= 13;
  const badAcks = body.acks !== 0 && body.acks !== 1 && body.acks !== -1;
  let appended = false;
  const responses = (body.topicData as Body[]).map((td) => {
    const name = state.topicName(td.name, td.topicId, byId);
    const partitionResponses = (td.partitionData as Body[]).map((pd) => {
      const answer = (errorCode: number, baseOffset = -1, errorMessage: string | null = null): Body => ({
        index: pd.index, errorCode, baseOffset: BigInt(baseOffset), logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage,
      });
      if (badAcks) return answer(errorCodes.INVALID_REQUIRED_ACKS);
      const injected = ctx.errorFor(name, pd.index);
      if (injected) return answer(injected);
      const log = state.partition(name, pd.index);
      if (!log) return answer(byId && name === '' ? errorCodes.UNKNOWN_TOPIC_ID : errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
      if (log.leader !== ctx.broker) return answer(errorCodes.NOT_LEADER_OR_FOLLOWER);
      const r = log.append(pd.records, state.options.duplicateSequenceError ?? false);
      if (r.errorCode === 0) appended = true;
      return answer(r.errorCode, r.baseOffset, r.errorMessage ?? null);
    });
    return { name, topicId: td.topicId, partitionResponses };
  });
  if (appended) state.notifyAppend();
  if (body.acks === 0) return undefined;
  return { responses, throttleTimeMs: 0 };
}

export function initProducerId(ctx: HandlerContext): Body {
  const { state, body } = ctx;
  const fail = (errorCode: number): Body => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 });
  if (ctx.topError) return fail(ctx.topError);
  if (body.transactionalId !== null) return fail(errorCodes.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  const asked = Number(body.producerId ?? -1n);
  if (asked >= 0) {
    // KIP-360: a producer that lost its sequence state asks for an epoch bump of its own id.
    const epoch = state.producerEpochs.get(asked);
    if (epoch === undefined) return fail(errorCodes.INVALID_PRODUCER_ID_MAPPING);
    if (body.producerEpoch !== epoch) return fail(errorCodes.PRODUCER_FENCED);
    state.producerEpochs.set(asked, epoch + 1);
    return { throttleTimeMs: 0, errorCode: 0, producerId: BigInt(asked), producerEpoch: epoch + 1 };
  }
  const pid = state.newProducerId();
  return { throttleTimeMs: 0, errorCode: 0, producerId: BigInt(pid), producerEpoch: 0 };
}

interface PartitionAnswer { p: SessionPartition; errorCode: number; records: Buffer; highWatermark: number; logStart: number }

function readPartition(ctx: HandlerContext, p: SessionPartition): PartitionAnswer {
  const none: Buffer = Buffer.alloc(0);
  const answer = (errorCode: number, records: Buffer = none, highWatermark = -1, logStart = -1): PartitionAnswer => ({ p, errorCode, records, highWatermark, logStart });
  const injected = ctx.errorFor(p.topic, p.partition);
  if (injected) return answer(injected);
  const log = ctx.state.partition(p.topic, p.partition);
  if (!log) return answer(p.topic === '' ? errorCodes.UNKNOWN_TOPIC_ID : errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
  if (log.leader !== ctx.broker) return answer(errorCodes.NOT_LEADER_OR_FOLLOWER);
  if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch < log.leaderEpoch) return answer(errorCodes.FENCED_LEADER_EPOCH);
  if (p.currentLeaderEpoch > log.leaderEpoch) return answer(errorCodes.UNKNOWN_LEADER_EPOCH);
  if (p.fetchOffset < log.logStartOffset || p.fetchOffset > log.endOffset) return answer(errorCodes.OFFSET_OUT_OF_RANGE, none, log.endOffset, log.logStartOffset);
  return answer(0, log.read(p.fetchOffset, Math.max(1, p.maxBytes)), log.endOffset, log.logStartOffset);
}

export async function fetch(ctx: HandlerContext): Promise<Body> {
  const { state, body, version } = ctx;
  const byId = version >= 13;
  const request: FetchRequestPartition[] = [];
  for (const t of body.topics as Body[]) {
    const topic = state.topicName(t.topic, t.topicId, byId);
    for (const p of t.partitions as Body[]) {
      request.push({ topic, partition: p.partition, fetchOffset: Number(p.fetchOffset), maxBytes: p.partitionMaxBytes, currentLeaderEpoch: p.currentLeaderEpoch });
    }
  }
  const forgotten = ((body.forgottenTopicsData ?? []) as Body[]).flatMap((f) => (f.partitions as number[]).map((partition) => ({ topic: state.topicName(f.topic, f.topicId, byId), partition })));
  const empty = (errorCode: number): Body => ({ throttleTimeMs: 0, errorCode, sessionId: 0, responses: [] });
  // Session errors are top-level; any other injected error lands on the partitions (errorFor).
  if (ctx.topError === errorCodes.FETCH_SESSION_ID_NOT_FOUND || ctx.topError === errorCodes.INVALID_FETCH_SESSION_EPOCH) return empty(ctx.topError);
  const outcome = version >= 7
    ? state.sessions.resolve(ctx.broker, body.sessionId, body.sessionEpoch, request, forgotten)
    : { errorCode: 0 as const, sessionId: 0, full: true, partitions: request.map((p) => ({ ...p, sentHighWatermark: -1, sentLogStart: -1 })) };
  if (outcome.errorCode !== 0) return empty(outcome.errorCode);
  const { partitions, full } = outcome as { partitions: SessionPartition[]; full: boolean };
  const collect = (): PartitionAnswer[] => {
    let budget = body.maxBytes > 0 ? body.maxBytes : 0x7fffffff;
    return partitions.map((p) => {
      const a = readPartition(ctx, p);
      if (a.records.length > 0 && budget <= 0) a.records = Buffer.alloc(0);
      budget -= a.records.length;
      return a;
    });
  };
  let answers = collect();
  const bytes = (): number => answers.reduce((n, a) => n + a.records.length, 0);
  const errors = (): boolean => answers.some((a) => a.errorCode !== 0);
  const wait = Math.min(body.maxWaitMs, state.options.maxFetchWaitMs ?? Infinity);
  const deadline = Date.now() + wait;
  while (!errors() && bytes() < Math.max(1, body.minBytes) && Date.now() < deadline && !ctx.signal.aborted) {
    await state.waitForAppend(deadline - Date.now(), ctx.signal);
    answers = collect();
  }
  if (!full) answers = answers.filter((a) => FetchSessions.mustAnswer(a.p, a.records.length > 0, a.errorCode, a.highWatermark, a.logStart));
  const byTopic = new Map<string, Body[]>();
  for (const a of answers) {
    a.p.sentHighWatermark = a.highWatermark;
    a.p.sentLogStart = a.logStart;
    let list = byTopic.get(a.p.topic);
    if (!list) byTopic.set(a.p.topic, (list = []));
    const log = state.partition(a.p.topic, a.p.partition);
    list.push({
      partitionIndex: a.p.partition, errorCode: a.errorCode, highWatermark: BigInt(a.highWatermark), lastStableOffset: BigInt(a.highWatermark),
      logStartOffset: BigInt(a.logStart), abortedTransactions: null, preferredReadReplica: -1, records: a.records,
      currentLeader: a.errorCode === errorCodes.NOT_LEADER_OR_FOLLOWER && log ? { leaderId: log.leader, leaderEpoch: log.leaderEpoch } : undefined,
    });
  }
  const responses = [...byTopic].map(([topic, list]) => ({ topic, topicId: state.topics.get(topic)?.id ?? 'AAAAAAAAAAAAAAAAAAAAAA', partitions: list }));
  return { throttleTimeMs: 0, errorCode: 0, sessionId: outcome.sessionId, responses };
}

export function listOffsets(ctx: HandlerContext): Body {
  const { state, body } = ctx;
  const topics = (body.topics as Body[]).map((t) => ({
    name: t.name,
    partitions: (t.partitions as Body[]).map((p) => {
      const answer = (errorCode: number, offset = -1, timestamp = -1): Body => ({ partitionIndex: p.partitionIndex, errorCode, timestamp: BigInt(timestamp), offset: BigInt(offset), leaderEpoch: -1 });
      const injected = ctx.errorFor(t.name, p.partitionIndex);
      if (injected) return answer(injected);
      const log = state.partition(t.name, p.partitionIndex);
      if (!log) return answer(errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
      if (log.leader !== ctx.broker) return answer(errorCodes.NOT_LEADER_OR_FOLLOWER);
      if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch < log.leaderEpoch) return answer(errorCodes.FENCED_LEADER_EPOCH);
      const r = log.offsetForTimestamp(Number(p.timestamp));
      return { ...answer(0, r.offset, r.timestamp), leaderEpoch: log.leaderEpoch };
    }),
  }));
  return { throttleTimeMs: 0, topics };
}

export function offsetForLeaderEpoch(ctx: HandlerContext): Body {
  const { state, body } = ctx;
  const topics = (body.topics as Body[]).map((t) => ({
    topic: t.topic,
    partitions: (t.partitions as Body[]).map((p) => {
      const answer = (errorCode: number, leaderEpoch = -1, endOffset = -1): Body => ({ errorCode, partition: p.partition, leaderEpoch, endOffset: BigInt(endOffset) });
      const injected = ctx.errorFor(t.topic, p.partition);
      if (injected) return answer(injected);
      const log = state.partition(t.topic, p.partition);
      if (!log) return answer(errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
      if (log.leader !== ctx.broker) return answer(errorCodes.NOT_LEADER_OR_FOLLOWER);
      if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch < log.leaderEpoch) return answer(errorCodes.FENCED_LEADER_EPOCH);
      if (p.currentLeaderEpoch > log.leaderEpoch) return answer(errorCodes.UNKNOWN_LEADER_EPOCH);
      const r = log.endOfEpoch(p.leaderEpoch);
      return answer(0, r.leaderEpoch, r.endOffset);
    }),
  }));
  return { throttleTimeMs: 0, topics };
}
