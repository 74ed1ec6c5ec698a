/**
 * An in-memory stand-in for one broker acting as group coordinator, for unit tests of the group state machines
 * (the real broker is exercised by integration/group-*.test.ts). It speaks the decoded request/response objects
 * of our API schemas, follows the classic protocol for one member at a time (KIP-394's MEMBER_ID_REQUIRED, leader
 * election, SyncGroup), keeps committed offsets, and lets a test inject error codes per API.
 */
import type { Cluster } from '../../src/client/cluster.js';
import { decodeSubscription } from '../../src/group/consumer-protocol.js';
import { brokerError } from '../../src/protocol/error-codes.js';

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export class FakeCoordinator {
  /** Every request in arrival order: API name and body. */
  readonly log: { api: string; body: Body; at: number }[] = [];
  /** Error codes to answer, per API, consumed one per request. */
  readonly inject = new Map<string, number[]>();
  readonly committed = new Map<string, bigint>();
  readonly committedEpochs = new Map<string, number>();
  generation = 0;
  memberId = '';
  nextMemberNo = 1;
  partitions = 6;
  /** ListOffsets answers: earliest and latest of every partition. */
  earliest = 0n;
  latest = 100n;

  /** Rewrites of the next answers, per API, consumed one per request (a broker answering something odd). */
  readonly mangle = new Map<string, ((res: Body) => Body)[]>();
  /** Topics the cluster does not know: metadata lookups reject, ListOffsets answers UNKNOWN_TOPIC_OR_PARTITION. */
  readonly unknownTopics = new Set<string>();
  /** ListOffsets answers these error codes for these partitions (`topic-partition` keys). */
  readonly listOffsetsErrors = new Map<string, number>();
  /** When set, SyncGroup hands out these assignment bytes (one per answer) instead of the leader's. */
  readonly syncAnswers: Buffer[] = [];

  constructor(readonly topic = 't') {}

  /** The next answer of `api` goes through `fn` first. */
  rewrite(api: string, fn: (res: Body) => Body): void {
    this.mangle.set(api, [...(this.mangle.get(api) ?? []), fn]);
  }

  count(api: string): number {
    return this.log.filter((l) => l.api === api).length;
  }

  fail(api: string, ...codes: number[]): void {
    this.inject.set(api, [...(this.inject.get(api) ?? []), ...codes]);
  }

  private injected(api: string): number {
    return this.inject.get(api)?.shift() ?? 0;
  }

  /** A broker object with the two methods the group layer calls. */
  readonly broker = {
    nodeId: 1,
    address: 'fake:9092',
    versionFor: async (api: { name: string }): Promise<number> => (api.name === 'FindCoordinator' ? 4 : 8),
    request: async (api: { name: string }, body: Body): Promise<Body> => this.handle(api.name, body),
  };

  /** A Cluster look-alike routing everything to this broker. */
  get cluster(): Cluster {
    return {
      anyBroker: async () => this.broker,
      broker: () => this.broker,
      refresh: async () => undefined,
      invalidate: () => undefined,
      topic: async (name: string) => this.unknownTopics.has(name) ? Promise.reject(brokerError(3, { topic: name })) : ({ name, topicId: '', errorCode: 0, isInternal: false,
        partitions: Array.from({ length: this.partitions }, (_, partition) => ({ topic: name, partition, leaderId: 1, leaderEpoch: 0, replicas: [1], isr: [1], errorCode: 0 })) }),
    } as unknown as Cluster;
  }

  private async handle(api: string, body: Body): Promise<Body> {
    const res = await this.answer(api, body);
    const fn = this.mangle.get(api)?.shift();
    return fn ? fn(res) : res;
  }

  private async answer(api: string, body: Body): Promise<Body> {
    this.log.push({ api, body, at: Date.now() });
    await Promise.resolve();
    const err = this.injected(api);
    switch (api) {
      case 'FindCoordinator':
        return { coordinators: [{ key: body.coordinatorKeys[0], nodeId: 1, host: 'fake', port: 9092, errorCode: err, errorMessage: null }] };
      case 'JoinGroup': return this.join(body, err);
      case 'SyncGroup': {
        if (err) return { errorCode: err, assignment: Buffer.alloc(0) };
        const mine = (body.assignments as { memberId: string; assignment: Buffer }[]).find((a) => a.memberId === body.memberId);
        const given = this.syncAnswers.shift() ?? mine?.assignment ?? Buffer.from([0, 3, 0, 0, 0, 0, 255, 255, 255, 255]);
        return { errorCode: 0, protocolType: 'consumer', protocolName: body.protocolName, assignment: given };
      }
      case 'Heartbeat': return { errorCode: err };
      case 'LeaveGroup': return { errorCode: err, members: [] };
      case 'OffsetCommit': return this.commit(body, err);
      case 'OffsetFetch': return this.fetchOffsets(body, err);
      case 'ListOffsets':
        return { topics: body.topics.map((t: Body) => ({ name: t.name, partitions: t.partitions.map((p: Body) => ({
          partitionIndex: p.partitionIndex, errorCode: this.unknownTopics.has(t.name) ? 3 : this.listOffsetsErrors.get(`${t.name}-${p.partitionIndex}`) ?? 0, offset: p.timestamp === -2n ? this.earliest : this.latest, timestamp: -1n, leaderEpoch: 0 })) })) };
      default: throw new Error(`the fake coordinator does not answer ${api}`);
    }
  }

  private join(body: Body, err: number): Body {
    const base = { generationId: -1, protocolType: 'consumer', protocolName: null, leader: '', skipAssignment: false, members: [] };
    if (err) return { ...base, errorCode: err, memberId: body.memberId };
    if (body.memberId === '' && body.groupInstanceId === null) {
      return { ...base, errorCode: 79, memberId: `member-${this.nextMemberNo++}` }; // MEMBER_ID_REQUIRED (KIP-394)
    }
    this.memberId = body.memberId || `static-${this.nextMemberNo++}`;
    this.generation++;
    const protocol = body.protocols[0];
    decodeSubscription(protocol.metadata); // must be valid consumer protocol bytes
    return {
      ...base, errorCode: 0, generationId: this.generation, protocolName: protocol.name, leader: this.memberId, memberId: this.memberId,
      members: [{ memberId: this.memberId, groupInstanceId: body.groupInstanceId, metadata: protocol.metadata }],
    };
  }

  private commit(body: Body, err: number): Body {
    return {
      topics: body.topics.map((t: Body) => ({ name: t.name, partitions: t.partitions.map((p: Body) => {
        if (!err) {
          this.committed.set(`${t.name}-${p.partitionIndex}`, p.committedOffset);
          this.committedEpochs.set(`${t.name}-${p.partitionIndex}`, p.committedLeaderEpoch);
        }
        return { partitionIndex: p.partitionIndex, errorCode: err };
      }) })),
    };
  }

  private fetchOffsets(body: Body, err: number): Body {
    const g = body.groups[0];
    return {
      groups: [{ groupId: g.groupId, errorCode: err, topics: g.topics.map((t: Body) => ({ name: t.name, partitions: t.partitionIndexes.map((p: number) => ({
        partitionIndex: p, committedOffset: this.committed.get(`${t.name}-${p}`) ?? -1n, committedLeaderEpoch: -1, metadata: null, errorCode: 0,
      })) })) }],
    };
  }
}

