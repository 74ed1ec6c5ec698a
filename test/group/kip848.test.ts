/**
 * KIP-848 (`groupProtocol: 'consumer'`) through the channel ConsumerGroup on the fake cluster's
 * ConsumerGroupHeartbeat (test/fake-cluster/consumer-groups-848.ts): members split the partitions without
 * JoinGroup, commits carry the member epoch, a fenced member releases and rejoins with epoch 0, a coordinator move
 * is followed, failing heartbeats back off and are reported, a member that vanishes is replaced after the session
 * timeout, leave uses epoch -1 (-2 static), close is bounded by requestTimeoutMs, careless configs are refused.
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../kit.js';
import type { ConsumerGroup } from '../../src/channels/consumer-group.js';
import type { ConsumerGroupConfig } from '../../src/channels/config.js';
import { ConsumerGroup as Group } from '../../src/channels/consumer-group.js';
import { BrokerError, InvalidArgumentError, KafkaError } from '../../src/errors.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';
import { consumerGroups848 } from '../fake-cluster/consumer-groups-848.js';
import { FakeGroups } from '../channels/fake-group.js';
import { Cluster } from '../../src/client/cluster.js';
import { GroupCoordinator } from '../../src/group/coordinator.js';
import { OffsetManager } from '../../src/group/offsets.js';

let c: FakeCluster;
const groups = new FakeGroups(() => c);
const s = suite('KIP-848 consumer groups on the fake cluster', { timeoutMs: 30_000 });
s.before.each(async () => { c = await FakeCluster.start({ brokers: 3, topics: { t: 6 } }); });
s.after.each(async () => {
  await groups.closeAll();
  await c.close();
});

/** A member speaking the consumer protocol (the broker sets the heartbeat interval: none of ours). */
const member = (config: Partial<ConsumerGroupConfig> = {}): ConsumerGroup =>
  groups.make({ groupProtocol: 'consumer', heartbeatIntervalMs: undefined, ...config });

/** Every record handled by `g`, as `partition:value`. */
function collect(g: ConsumerGroup, into: string[]): void {
  g.registerHandler(async (m) => { into.push(`${m.partition}:${m.value!.toString()}`); await m.commit(); });
}

async function produceAll(prefix: string, n = 5): Promise<string[]> {
  const all: string[] = [];
  for (let p = 0; p < 6; p++) {
    const values = Array.from({ length: n }, (_, i) => `${prefix}${p}-${i}`);
    await c.append('t', p, values);
    all.push(...values.map((v) => `${p}:${v}`));
  }
  return all;
}

const fake848 = () => consumerGroups848(c.state);
type Body = Record<string, any>;
const hb = () => c.log.entries.filter((e) => e.api === 'ConsumerGroupHeartbeat').map((e) => ({ ...e, body: e.body as Body }));

/** The errors a group reported, drained. */
function drainErrors(g: ConsumerGroup): Error[] {
  const out: Error[] = [];
  for (let r; (r = g.channels.errors.tryRecv()) !== undefined && !r.done;) out.push(r.value);
  return out;
}

function causeCode(err: unknown): number | undefined {
  for (let e: unknown = err; e !== undefined; e = (e as { cause?: unknown }).cause) if (e instanceof BrokerError) return e.errorCode;
  return undefined;
}

s('three members split six partitions by ConsumerGroupHeartbeat alone; every record once; commits carry the member epoch', async () => {
  const want = await produceAll('a');
  const got: string[] = [];
  const members = [member(), member(), member()];
  for (const g of members) { collect(g, got); g.start(); }
  await eventually('all consumed', () => got.length >= want.length, 10_000);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal([...got].sort(), [...want].sort(), 'each record exactly once');
  assert.is(c.log.count('JoinGroup'), 0, 'no classic request');
  const g = fake848().group('g')!;
  await eventually('stable: 2 partitions each', () => [...g.members.values()].every((m) => m.owned.size === 2 && m.epoch === g.epoch), 5_000);
  const commits = c.log.entries.filter((e) => e.api === 'OffsetCommit');
  assert.ok(commits.length > 0);
  for (const { version, body } of commits) {
    const e = { version, body: body as Body };
    assert.ok(e.version >= 9, `OffsetCommit v${e.version}`);
    assert.ok(e.body.generationIdOrMemberEpoch > 0 && g.members.has(e.body.memberId), 'a member epoch and a member id of the group');
  }
  for (const p of [0, 1, 2, 3, 4, 5]) await eventually(`p${p} committed`, () => c.committed('g', 't', p) === 5, 5_000);
});

s('the heartbeat interval is the broker\'s; close leaves with epoch -1, a static member with -2', async () => {
  fake848().options.heartbeatIntervalMs = 250;
  const a = member();
  const b = member({ groupInstanceId: 'static-b' });
  a.start();
  b.start();
  await a.stateWait('Consuming', AbortSignal.timeout(5_000));
  await b.stateWait('Consuming', AbortSignal.timeout(5_000));
  await new Promise((r) => setTimeout(r, 300)); // settle
  const since = Date.now();
  await new Promise((r) => setTimeout(r, 1_000));
  const beats = hb().filter((e) => e.at >= since).length;
  assert.ok(beats >= 4 && beats <= 12, `two members at 250 ms over 1 s: ${beats} heartbeats`);
  await a.close();
  await b.close();
  const leaves = hb().filter((e) => e.body.memberEpoch < 0).map((e) => [e.body.instanceId, e.body.memberEpoch]);
  assert.equal(leaves.sort(), [[null, -1], ['static-b', -2]]);
});

s('FENCED_MEMBER_EPOCH: the member releases its partitions, rejoins with epoch 0 and the same member id, and consumes again', async () => {
  await produceAll('a', 2);
  const got: string[] = [];
  const g = member();
  collect(g, got);
  g.start();
  await eventually('first records', () => got.length === 12, 10_000);
  const before = hb().at(-1)!.body.memberId as string;
  const fencedAt = hb().length;
  c.fault({ api: 'ConsumerGroupHeartbeat', times: 1, action: 'error', code: errorCodes.FENCED_MEMBER_EPOCH });
  const after = () => hb().slice(fencedAt);
  await eventually('rejoined with epoch 0', () => after().some((e) => e.body.memberEpoch === 0), 5_000);
  assert.ok(after()[0]!.fault === 'error' && after()[0]!.body.memberEpoch > 0, 'the fenced heartbeat came first');
  const rejoin = after().find((e) => e.body.memberEpoch === 0)!;
  assert.is(rejoin.body.memberId, before, 'same member id (KIP-1082)');
  assert.equal(rejoin.body.topicPartitions, [], 'joins owning nothing: its partitions were released first');
  await eventually('a fence reported', () => drainErrors(g).some((e) => e instanceof KafkaError && e.code === 'ERR_KAFKA_MEMBER_FENCED'), 3_000);
  await produceAll('b', 1);
  await eventually('consumes after the rejoin', () => got.length === 18, 10_000);
  assert.is(g.state, 'Consuming');
});

s('the coordinator moves: NOT_COORDINATOR sends the member to the new one, it keeps its epoch and partitions', async () => {
  await produceAll('a', 1);
  const got: string[] = [];
  const g = member();
  collect(g, got);
  g.start();
  await eventually('consumed', () => got.length === 6, 10_000);
  const from = c.coordinatorOf('g');
  const to = c.brokerIds.find((b) => b !== from)!;
  const epoch = fake848().group('g')!.epoch;
  c.moveCoordinator('g', to);
  await eventually('heartbeats reach the new coordinator', () => hb().some((e) => e.broker === to), 5_000);
  assert.ok(hb().every((e) => e.body.memberEpoch !== 0 || e.broker === from), 'no rejoin: the epoch survives the move');
  assert.is(fake848().group('g')!.epoch, epoch);
  await produceAll('b', 1);
  await eventually('consumes on', () => got.length === 12, 10_000);
});

s('a heartbeat that keeps failing backs off (a few a second, not a storm) and is reported on errors', async () => {
  const g = member({ retryBackoffMs: 20 });
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(5_000));
  drainErrors(g);
  c.fault({ api: 'ConsumerGroupHeartbeat', action: 'error', code: errorCodes.UNKNOWN_SERVER_ERROR });
  const since = Date.now();
  await new Promise((r) => setTimeout(r, 1_500));
  const n = c.log.count('ConsumerGroupHeartbeat', { since });
  assert.ok(n >= 3 && n <= 15, `failing heartbeats in 1.5 s: ${n}`);
  assert.ok(drainErrors(g).some((e) => causeCode(e) === errorCodes.UNKNOWN_SERVER_ERROR), 'reported');
  c.clearFaults();
  assert.is(g.state, 'Consuming', 'the member still consumes (its session on the broker is alive)');
});

s('a member that goes silent is expelled after the broker\'s session timeout; the survivor takes its partitions', async () => {
  const got: string[] = [];
  const a = member({ clientId: 'member-a' });
  const b = member({ clientId: 'member-b' });
  collect(a, got);
  collect(b, []);
  a.start();
  b.start();
  const g = () => fake848().group('g')!;
  await eventually('two members, 3 partitions each', () => fake848().group('g') !== undefined && g().members.size === 2 && [...g().members.values()].every((m) => m.owned.size === 3), 5_000);
  const aId = hb().find((e) => e.header.clientId === 'member-a')!.body.memberId as string;
  c.fault({ api: 'ConsumerGroupHeartbeat', when: (r) => r.header.clientId === 'member-b', action: 'drop' }); // b is silent from now on
  await eventually('b expelled, a owns all six', () => g().members.size === 1 && g().members.get(aId)?.owned.size === 6, 8_000);
  const want = await produceAll('z', 1);
  await eventually('a consumes every new record', () => want.every((w) => got.includes(w)), 10_000);
});

s('UNRELEASED_INSTANCE_ID: a second process with a static id still held is refused and told, the first keeps its partitions', async () => {
  const a = member({ groupInstanceId: 'one' });
  a.start();
  await a.stateWait('Consuming', AbortSignal.timeout(5_000));
  const b = member({ groupInstanceId: 'one' });
  b.start();
  await eventually('refused and reported', () => drainErrors(b).some((e) => causeCode(e) === errorCodes.UNRELEASED_INSTANCE_ID), 5_000);
  const g = fake848().group('g')!;
  assert.is(g.members.size, 1);
  assert.is([...g.members.values()][0]!.owned.size, 6);
});

s('UNSUPPORTED_ASSIGNOR and GROUP_MAX_SIZE_REACHED end the session with the cause on errors (retried by the session loop)', async () => {
  fake848().options.maxSize = 1;
  const a = member({ groupRemoteAssignor: 'range' });
  a.start();
  await a.stateWait('Consuming', AbortSignal.timeout(5_000));
  const b = member();
  b.start();
  await eventually('GROUP_MAX_SIZE_REACHED', () => drainErrors(b).some((e) => causeCode(e) === errorCodes.GROUP_MAX_SIZE_REACHED), 5_000);
  assert.ok(hb().some((e) => e.body.serverAssignor === 'range'), 'the remote assignor is sent');
  fake848().options.maxSize = Infinity;
  await b.close();
  c.fault({ api: 'ConsumerGroupHeartbeat', times: 1, when: (r) => r.header.clientId === 'member-d', action: 'error', code: errorCodes.UNSUPPORTED_ASSIGNOR });
  const d = member({ clientId: 'member-d' });
  d.start();
  await eventually('UNSUPPORTED_ASSIGNOR', () => drainErrors(d).some((e) => causeCode(e) === errorCodes.UNSUPPORTED_ASSIGNOR), 5_000);
});

s('close is bounded by requestTimeoutMs when the coordinator stops answering', async () => {
  const g = member({ requestTimeoutMs: 1_000 });
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(5_000));
  c.fault({ api: 'ConsumerGroupHeartbeat', action: 'drop' });
  c.fault({ api: 'OffsetCommit', action: 'drop' });
  const t0 = Date.now();
  await g.close();
  const took = Date.now() - t0;
  assert.ok(took < 3_000, `close took ${took} ms with requestTimeoutMs 1000`);
});

s('careless configs are refused at the constructor, each problem named', async () => {
  const base = { brokerAddrs: ['127.0.0.1:9092'], topic: 't', groupName: 'g' };
  const refused = (cfg: Record<string, unknown>, words: RegExp): void => {
    try {
      new Group({ ...base, ...cfg } as ConsumerGroupConfig);
    } catch (err) {
      assert.instance(err, InvalidArgumentError);
      assert.match((err as Error).message, words);
      return;
    }
    assert.unreachable(`accepted ${JSON.stringify(cfg)}`);
  };
  refused({ groupProtocol: 'kip848' }, /groupProtocol must be one of "classic", "consumer"/);
  refused({ groupRemoteAssignor: 'uniform' }, /groupRemoteAssignor needs groupProtocol 'consumer'/);
  refused({ groupProtocol: 'consumer', groupRemoteAssignor: 'sticky' }, /groupRemoteAssignor must be one of "uniform", "range"/);
  refused({ groupProtocol: 'consumer', assignors: ['range'] }, /use groupRemoteAssignor/);
  refused({ groupProtocol: 'consumer', heartbeatIntervalMs: 500 }, /heartbeatIntervalMs is set by the broker/);
  const ok = new Group({ ...base, groupProtocol: 'consumer', groupRemoteAssignor: 'range', messageConsumeTimeout: 1_000 });
  const classic = new Group(base);
  try {
    assert.is(ok.config.groupProtocol, 'consumer');
    assert.is(classic.config.groupProtocol, 'classic', 'classic stays the default');
  } finally {
    await Promise.all([ok.close(), classic.close()]);
  }
});

s('a commit refused with STALE_MEMBER_EPOCH goes out once more with the member\'s new epoch', async () => {
  const cluster = new Cluster({ bootstrap: c.bootstrap, retryMinMs: 2, retryMaxMs: 5 });
  try {
    let epoch = 4;
    const om = new OffsetManager(cluster, new GroupCoordinator(cluster, 'g', { retryMinMs: 2, retryMaxMs: 5 }), {
      groupId: 'g', identitySource: () => ({ generationId: epoch, memberId: 'm', groupInstanceId: null }),
    });
    // the epoch moves on while the first commit is on its way; the second is accepted (the fake has no member m)
    c.fault({ api: 'OffsetCommit', times: 1, action: 'error', code: errorCodes.STALE_MEMBER_EPOCH, when: () => { epoch = 5; return true; } });
    c.fault({ api: 'OffsetCommit', times: 1, action: 'mutate', mutate: (res) => { for (const t of res.topics as Body[]) for (const p of t.partitions) p.errorCode = 0; } });
    om.markNext('t', 0, 3);
    await om.commit();
    const sent = c.log.entries.filter((e) => e.api === 'OffsetCommit').map((e) => (e.body as Body).generationIdOrMemberEpoch);
    assert.equal(sent, [4, 5]);
  } finally {
    await cluster.close({ timeoutMs: 0 });
  }
});

s.run();
