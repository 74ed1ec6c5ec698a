/**
 * Admin.listOffsets against a fake cluster whose partition leaders move: a partition answered with
 * NOT_LEADER_OR_FOLLOWER (or whose leader is unreachable) is asked again, of its new leader, after a metadata
 * refresh; answered partitions are not asked twice; the retries stop at the deadline with the last error.
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Admin, OffsetSpec } from '../../src/client/admin.js';
import type { Cluster } from '../../src/client/cluster.js';
import { BrokerError, ConnectionError } from '../../src/errors.js';
import { errorCodes } from '../../src/protocol/error-codes.js';

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Three partitions led by brokers from `leaders`; `invalidate(topic)` makes the next `topic()` see `moved`
 * (a metadata refresh after a leader election). Each broker answers the offset `100 * nodeId + partition`
 * unless `errors` has a code queued for that broker and partition.
 */
class MovingCluster {
  leaders = [1, 1, 2];
  moved = [3, 1, 2];
  refreshes = 0;
  private stale = false;
  readonly requests: { nodeId: number; partitions: number[] }[] = [];
  /** `${nodeId}/${partition}` → codes to answer, one per request. */
  readonly errors = new Map<string, number[]>();
  /** Brokers whose requests fail as a dropped connection would. */
  readonly down = new Set<number>();

  get cluster(): Cluster {
    return {
      topic: async (name: string) => {
        if (this.stale) { this.stale = false; this.refreshes++; this.leaders = [...this.moved]; }
        return { name, topicId: '', errorCode: 0, isInternal: false,
          partitions: this.leaders.map((leaderId, partition) => ({ topic: name, partition, leaderId, leaderEpoch: 0, replicas: [1, 2, 3], isr: [1, 2, 3], errorCode: 0 })) };
      },
      invalidate: () => { this.stale = true; },
      broker: (nodeId: number) => ({ nodeId, request: async (_api: unknown, body: Body) => this.answer(nodeId, body) }),
    } as unknown as Cluster;
  }

  private async answer(nodeId: number, body: Body): Promise<Body> {
    await Promise.resolve();
    const partitions = (body.topics[0].partitions as Body[]).map((p) => p.partitionIndex as number);
    this.requests.push({ nodeId, partitions });
    if (this.down.has(nodeId)) throw new ConnectionError(`broker ${nodeId} closed the connection`);
    return { topics: body.topics.map((t: Body) => ({ name: t.name, partitions: partitions.map((partitionIndex) => {
      const errorCode = this.errors.get(`${nodeId}/${partitionIndex}`)?.shift() ?? 0;
      return { partitionIndex, errorCode, offset: errorCode ? -1n : BigInt(100 * nodeId + partitionIndex), timestamp: -1n, leaderEpoch: 0 };
    }) })) };
  }
}

const fast = { retryMinMs: 1, retryMaxMs: 4, retryDeadlineMs: 2_000 };
const s = suite('admin: listOffsets retries moved leaders', { timeoutMs: 5_000 });

s('NOT_LEADER_OR_FOLLOWER once: metadata is refreshed and only that partition is asked again, of its new leader', async () => {
  const fake = new MovingCluster();
  fake.errors.set('1/0', [errorCodes.NOT_LEADER_OR_FOLLOWER]);
  const offsets = await new Admin(fake.cluster, 30_000, fast).listOffsets('t', OffsetSpec.latest);
  assert.equal([...offsets].sort(([a], [b]) => a - b), [[0, 300n], [1, 101n], [2, 202n]]);
  assert.is(fake.refreshes, 1);
  const sorted = fake.requests.map((r) => `${r.nodeId}:${r.partitions.join(',')}`);
  assert.equal(sorted.slice(0, 2).sort(), ['1:0,1', '2:2']);
  assert.equal(sorted.slice(2), ['3:0'], 'answered partitions are not asked twice');
});

s('LEADER_NOT_AVAILABLE and UNKNOWN_TOPIC_OR_PARTITION are retried too', async () => {
  const fake = new MovingCluster();
  fake.moved = [...fake.leaders];
  fake.errors.set('1/1', [errorCodes.LEADER_NOT_AVAILABLE, errorCodes.UNKNOWN_TOPIC_OR_PARTITION]);
  const offsets = await new Admin(fake.cluster, 30_000, fast).listOffsets('t');
  assert.is(offsets.get(1), 101n);
  assert.is(fake.requests.length, 4);
});

s('a leader whose connection drops: its partitions go to the new leader', async () => {
  const fake = new MovingCluster();
  fake.down.add(2);
  fake.moved = [1, 1, 3];
  const offsets = await new Admin(fake.cluster, 30_000, fast).listOffsets('t');
  assert.is(offsets.get(2), 302n);
  assert.is(offsets.size, 3);
});

s('non-retriable partition errors throw at once, without a refresh', async () => {
  const fake = new MovingCluster();
  fake.errors.set('2/2', [errorCodes.TOPIC_AUTHORIZATION_FAILED]);
  const err = await new Admin(fake.cluster, 30_000, fast).listOffsets('t').then(() => null, (e: unknown) => e);
  assert.instance(err, BrokerError);
  assert.is((err as BrokerError).errorName, 'TOPIC_AUTHORIZATION_FAILED');
  assert.is(fake.refreshes, 0);
});

s('a leader that never comes back: the last error after the retry deadline', async () => {
  const fake = new MovingCluster();
  fake.moved = [...fake.leaders];
  fake.down.add(2);
  const started = Date.now();
  const err = await new Admin(fake.cluster, 30_000, { ...fast, retryDeadlineMs: 200 }).listOffsets('t').then(() => null, (e: unknown) => e);
  assert.instance(err, ConnectionError);
  const took = Date.now() - started;
  assert.ok(took >= 150 && took < 1_000, `gave up after ${took} ms`);
  assert.ok(fake.requests.filter((r) => r.nodeId === 2).length > 3, 'retried several times before');
});

s.run();
