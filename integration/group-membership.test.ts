/**
 * Classic group membership against the real broker: joins (KIP-394's MEMBER_ID_REQUIRED round trip), rebalances
 * when members join and leave, heartbeats that keep a member alive while its "application code" is stuck in a
 * long await, a member that dies without LeaveGroup expelled after its session timeout, and a group shared with
 * Kafka's own Java console consumer. Each member has its own Cluster (own sockets), as separate processes would.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { GroupCoordinator } from '../src/group/coordinator.js';
import { GroupMembership, type Generation, type MembershipListener } from '../src/group/membership.js';
import type { TopicPartitions } from '../src/group/consumer-protocol.js';
import { builtInAssignor } from '../src/group/assignors/index.js';
import { brokers, runKafkaTool, tools } from './harness/index.js';

const s = suite('group membership', { timeoutMs: 90_000 });
const topic = `group-members-${Date.now()}`;
let bootstrap: string[];
let admin: Admin;
let adminCluster: Cluster;
const live: Member[] = [];

class Member implements MembershipListener {
  readonly cluster: Cluster;
  readonly membership: GroupMembership;
  readonly coordinator: GroupCoordinator;
  owned: TopicPartitions[] = [];
  generations: Generation[] = [];
  errors: unknown[] = [];
  assignDelayMs = 0;
  run: Promise<void>;

  constructor(groupId: string, options: { sessionTimeoutMs?: number; heartbeatIntervalMs?: number; groupInstanceId?: string; assignor?: 'range' | 'cooperative-sticky'; topic?: string; partitionCheckIntervalMs?: number } = {}) {
    this.cluster = new Cluster({ bootstrap, clientId: 'group-test' });
    this.coordinator = new GroupCoordinator(this.cluster, groupId);
    this.membership = new GroupMembership(this.cluster, this.coordinator, this, {
      groupId, topics: [options.topic ?? topic], partitionCheckIntervalMs: options.partitionCheckIntervalMs, sessionTimeoutMs: options.sessionTimeoutMs ?? 6_000, heartbeatIntervalMs: options.heartbeatIntervalMs ?? 500,
      rebalanceTimeoutMs: 20_000, groupInstanceId: options.groupInstanceId, assignors: [builtInAssignor(options.assignor ?? 'range')],
    });
    this.run = this.membership.start();
    this.run.catch(() => undefined);
    live.push(this);
  }

  async revoke(): Promise<void> { this.owned = []; }
  async lose(): Promise<void> { this.owned = []; }
  async assign(_added: TopicPartitions[], all: TopicPartitions[], g: Generation): Promise<void> {
    this.owned = all;
    this.generations.push(g);
    if (this.assignDelayMs > 0) await new Promise((r) => setTimeout(r, this.assignDelayMs));
  }
  error(err: unknown): void { this.errors.push(err); }

  partitions(): number[] {
    return this.owned.flatMap((tp) => tp.partitions).sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    await this.membership.close({ timeoutMs: 10_000 });
    await this.cluster.close();
  }

  async destroy(): Promise<void> {
    this.membership.destroy();
    await this.cluster.close();
  }
}

/** Waits until `check` holds (polling), failing with `what` after `ms`. */
async function until(what: string, check: () => boolean, ms = 30_000): Promise<number> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

/** Every member holds a disjoint share and together they hold all 6 partitions, in one common generation. */
function settled(members: Member[]): boolean {
  const all = members.flatMap((m) => m.partitions()).sort((a, b) => a - b);
  const gens = new Set(members.map((m) => m.membership.generationId));
  return all.join() === '0,1,2,3,4,5' && gens.size === 1 && !gens.has(-1) && members.every((m) => m.owned.length > 0);
}

async function describe(groupId: string): Promise<{ state: string; members: string[] }> {
  const coord = new GroupCoordinator(adminCluster, groupId);
  const [g] = await admin.describeGroups(await coord.broker(), [groupId]);
  return { state: g!.groupState, members: g!.members.map((m) => m.memberId) };
}

s.before(async () => {
  bootstrap = await brokers();
  adminCluster = new Cluster({ bootstrap, clientId: 'group-admin' });
  admin = new Admin(adminCluster);
  await admin.createTopics([{ name: topic, numPartitions: 6, replicationFactor: 1 }]);
});

s.after(async () => {
  await Promise.allSettled(live.map((m) => m.destroy()));
  await adminCluster?.close();
});

s('one member joins (MEMBER_ID_REQUIRED round trip) and gets all 6 partitions; 2 and 3 members split them', async () => {
  const g = `members-${Date.now()}`;
  const a = new Member(g);
  await until('first member assigned', () => settled([a]));
  assert.ok(a.membership.memberId.startsWith('group-test-'), `broker-chosen member id ${a.membership.memberId}`);
  assert.is(a.generations.at(-1)!.isLeader, true);
  const b = new Member(g);
  const t2 = await until('two members settled', () => settled([a, b]));
  assert.is(a.partitions().length, 3);
  const c = new Member(g);
  const t3 = await until('three members settled', () => settled([a, b, c]));
  assert.equal([a, b, c].map((m) => m.partitions().length), [2, 2, 2]);
  const d = await describe(g);
  assert.is(d.state, 'Stable');
  assert.is(d.members.length, 3);
  console.log(`    rebalance to 2 members: ${t2} ms, to 3 members: ${t3} ms`);
  // A graceful leave rebalances at once (LeaveGroup), without waiting for the session timeout.
  const tLeave = Date.now();
  await c.close();
  await until('two members after LeaveGroup', () => settled([a, b]), 5_000);
  console.log(`    rebalance after LeaveGroup: ${Date.now() - tLeave} ms`);
  await Promise.all([a.close(), b.close()]);
  assert.is((await describe(g)).state, 'Empty');
});

s('heartbeats keep a member alive while its code is stuck in a long await', async () => {
  const g = `blocked-${Date.now()}`;
  const a = new Member(g, { sessionTimeoutMs: 2_000, heartbeatIntervalMs: 300 });
  await until('member assigned', () => settled([a]));
  const gen = a.membership.generationId;
  // The next rebalance's assign hook "blocks" for 3 session timeouts; a second member joins meanwhile.
  a.assignDelayMs = 6_000;
  const b = new Member(g, { sessionTimeoutMs: 2_000, heartbeatIntervalMs: 300 });
  await until('two members settled', () => settled([a, b]));
  const blockedGen = a.membership.generationId;
  await new Promise((r) => setTimeout(r, 6_500));
  assert.is(a.membership.generationId, blockedGen, 'no rebalance while the code was blocked');
  assert.ok(blockedGen > gen);
  const d = await describe(g);
  assert.is(d.state, 'Stable');
  assert.is(d.members.length, 2);
  await Promise.all([a.close(), b.close()]);
});

s('a member destroyed without LeaveGroup is expelled after its session timeout', async () => {
  const g = `expel-${Date.now()}`;
  const a = new Member(g, { sessionTimeoutMs: 3_000, heartbeatIntervalMs: 300 });
  const b = new Member(g, { sessionTimeoutMs: 3_000, heartbeatIntervalMs: 300 });
  await until('two members settled', () => settled([a, b]));
  const t0 = Date.now();
  await b.destroy();
  await until('survivor owns everything', () => a.partitions().length === 6, 15_000);
  const ms = Date.now() - t0;
  console.log(`    expelled and rebalanced after ${ms} ms (session timeout 3000 ms)`);
  assert.ok(ms >= 2_500, `not before the session timeout (${ms} ms)`);
  assert.is((await describe(g)).members.length, 1);
  await a.close();
});

s('static members (KIP-345) do not leave on close: their partitions wait for them', async () => {
  const g = `static-${Date.now()}`;
  const a = new Member(g, { groupInstanceId: 'instance-a', sessionTimeoutMs: 4_000 });
  const b = new Member(g, { groupInstanceId: 'instance-b', sessionTimeoutMs: 4_000 });
  await until('two static members settled', () => settled([a, b]));
  const before = b.partitions().join();
  await b.close();
  await new Promise((r) => setTimeout(r, 1_500));
  assert.is(a.partitions().length, 3, 'no rebalance: b did not send LeaveGroup');
  const b2 = new Member(g, { groupInstanceId: 'instance-b', sessionTimeoutMs: 4_000 });
  await until('instance-b back', () => b2.partitions().length === 3, 10_000);
  assert.is(b2.partitions().join(), before, 'the returning static member gets its partitions back');
  await Promise.all([a.close(), b2.close()]);
});

s('our member and Kafka\'s Java console consumer share a group (range) and split the partitions', async () => {
  const g = `mixed-${Date.now()}`;
  const a = new Member(g);
  await until('member assigned', () => settled([a]));
  const java = runKafkaTool(tools.consoleConsumer, ['--bootstrap-server', bootstrap[0]!, '--topic', topic, '--group', g,
    '--timeout-ms', '12000', '--consumer-property', 'group.protocol=classic',
    '--consumer-property', 'partition.assignment.strategy=org.apache.kafka.clients.consumer.RangeAssignor',
    '--consumer-property', 'session.timeout.ms=6000', '--consumer-property', 'heartbeat.interval.ms=500'], { timeoutMs: 60_000 }).catch((e: unknown) => e);
  await until('Java consumer took half', () => a.partitions().length === 3, 30_000);
  const d = await describe(g);
  assert.is(d.members.length, 2);
  console.log(`    with the Java consumer, ours owns ${a.partitions().join(',')}`);
  await java;
  await until('all back after the Java consumer left', () => a.partitions().length === 6, 20_000);
  await a.close();
});

s('the leader notices new partitions and rebalances so they get an owner', async () => {
  const grown = `group-grow-${Date.now()}`;
  await admin.createTopics([{ name: grown, numPartitions: 2, replicationFactor: 1 }]);
  const g = `grow-${Date.now()}`;
  const a = new Member(g, { topic: grown, partitionCheckIntervalMs: 300 });
  const b = new Member(g, { topic: grown, partitionCheckIntervalMs: 300 });
  await until('2 partitions split', () => a.partitions().length === 1 && b.partitions().length === 1);
  await admin.createPartitions(grown, 6);
  const ms = await until('6 partitions split', () => a.partitions().length === 3 && b.partitions().length === 3, 20_000);
  console.log(`    new partitions assigned ${ms} ms after CreatePartitions`);
  await Promise.all([a.close(), b.close()]);
});

s.run();
