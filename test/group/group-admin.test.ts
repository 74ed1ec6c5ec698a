/**
 * GroupAdmin on the fake cluster (test/fake-cluster/group-admin.ts answers ListGroups, DescribeGroups,
 * ConsumerGroupDescribe and DeleteGroups): careless arguments refused before any request, unknown groups,
 * coordinator moves and loading retried within requestTimeoutMs, a coordinator that never answers right bounded,
 * non-empty groups not deleted, hostile assignment bytes survived; then a classic and a KIP-848 group listed with
 * their types and described with their members and assignments.
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../kit.js';
import { Cluster } from '../../src/client/cluster.js';
import { BrokerError, InvalidArgumentError, UnsupportedVersionError } from '../../src/errors.js';
import { GroupAdmin, type GroupDescription } from '../../src/group/group-admin.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';
import { consumerGroups848 } from '../fake-cluster/consumer-groups-848.js';
import { FakeGroups } from '../channels/fake-group.js';

let c: FakeCluster;
let cluster: Cluster;
const groups = new FakeGroups(() => c);
const s = suite('GroupAdmin on the fake cluster', { timeoutMs: 30_000 });
s.before.each(async () => {
  c = await FakeCluster.start({ brokers: 3, topics: { t: 6 } });
  cluster = new Cluster({ bootstrap: c.bootstrap, retryMinMs: 2, retryMaxMs: 5 });
});
s.after.each(async () => {
  await groups.closeAll();
  await cluster.close({ timeoutMs: 0 });
  await c.close();
});

const admin = (requestTimeoutMs = 3_000): GroupAdmin => new GroupAdmin(cluster, { requestTimeoutMs });
const sent = (api: string): number => c.log.entries.filter((e) => e.api === api).length;

/** A classic group `classic-g` of two members and a KIP-848 group `k-g` of two, each with all 6 partitions of t. */
async function runBoth(): Promise<void> {
  for (let i = 0; i < 2; i++) groups.make({ groupName: 'classic-g' }).channels.consume.trySend(true);
  for (let i = 0; i < 2; i++) groups.make({ groupName: 'k-g', groupProtocol: 'consumer', heartbeatIntervalMs: undefined }).channels.consume.trySend(true);
  await eventually('classic group stable with two members', () => {
    const g = c.state.groups.byId.get('classic-g');
    return g?.state === 'Stable' && g.members.size === 2;
  }, 10_000);
  await eventually('KIP-848 group with its 6 partitions given to two members', () => {
    const g = consumerGroups848(c.state).group('k-g');
    return g !== undefined && g.members.size === 2 && [...g.members.values()].reduce((n, m) => n + m.given.size, 0) === 6
      && [...g.members.values()].every((m) => m.given.size > 0);
  }, 10_000);
}

const partitionsOf = (d: GroupDescription): string[] =>
  d.members.flatMap((m) => [...m.assignment].flatMap(([t, ps]) => ps.map((p) => `${t}:${p}`))).sort();

s('careless arguments are refused with InvalidArgumentError before any request', async () => {
  const a = admin();
  const bad: [string, () => Promise<unknown>][] = [
    ['describe []', () => a.describeGroups([])],
    ['describe a string', () => a.describeGroups('g' as never)],
    ['describe an empty id', () => a.describeGroups(['ok', ''])],
    ['describe a number', () => a.describeGroups([7 as never])],
    ['describe undefined', () => a.describeGroups(undefined as never)],
    ['delete null', () => a.deleteGroups(null as never)],
    ['delete []', () => a.deleteGroups([])],
    ['delete an object', () => a.deleteGroups([{} as never])],
    ['list null', () => a.listGroups(null as never)],
    ['list an unknown type', () => a.listGroups({ types: ['streamz' as never] })],
    ['list types as a string', () => a.listGroups({ types: 'classic' as never })],
    ['list an empty state', () => a.listGroups({ states: [''] })],
    ['list a state number', () => a.listGroups({ states: [1 as never] })],
  ];
  for (const [what, call] of bad) {
    const err = await call().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof InvalidArgumentError, `${what}: ${String(err)}`);
  }
  for (const t of [0, -1, NaN, Infinity, '5' as never]) {
    assert.throws(() => new GroupAdmin(cluster, { requestTimeoutMs: t }), (e: unknown) => e instanceof InvalidArgumentError, `requestTimeoutMs ${String(t)}`);
  }
  assert.is(c.log.entries.filter((e) => ['ListGroups', 'DescribeGroups', 'ConsumerGroupDescribe', 'DeleteGroups', 'FindCoordinator'].includes(e.api)).length, 0);
});

s('a group that does not exist: describe rejects with GROUP_ID_NOT_FOUND, delete reports it for that group only', async () => {
  groups.make({ groupName: 'classic-g' }).channels.consume.trySend(true);
  await eventually('classic group stable', () => c.state.groups.byId.get('classic-g')?.state === 'Stable', 10_000);
  const a = admin();
  const err = await a.describeGroups(['classic-g', 'nope']).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof BrokerError && err.errorCode === errorCodes.GROUP_ID_NOT_FOUND && err.groupId === 'nope', String(err));
  await groups.closeAll();
  await eventually('classic group empty', () => c.state.groups.byId.get('classic-g')?.members.size === 0, 5_000);
  const out = await a.deleteGroups(['nope', 'classic-g']);
  assert.is(out.get('nope')?.errorCode, errorCodes.GROUP_ID_NOT_FOUND);
  assert.is(out.has('classic-g'), true);
  assert.is(out.get('classic-g'), undefined, 'the empty classic group is deleted');
  const again = await a.describeGroups(['classic-g']).then(() => undefined, (e: unknown) => e);
  assert.ok(again instanceof BrokerError && again.errorCode === errorCodes.GROUP_ID_NOT_FOUND, `deleted: ${String(again)}`);
});

s('non-empty groups of either type are not deleted (NON_EMPTY_GROUP per group); once stopped, they are', async () => {
  await runBoth();
  const a = admin();
  const refused = await a.deleteGroups(['classic-g', 'k-g']);
  assert.is(refused.get('classic-g')?.errorCode, errorCodes.NON_EMPTY_GROUP);
  assert.is(refused.get('k-g')?.errorCode, errorCodes.NON_EMPTY_GROUP);
  assert.ok(refused.get('k-g') instanceof BrokerError);
  await groups.closeAll();
  await eventually('both groups empty', async () => (await a.listGroups({ states: ['Empty'] })).length === 2, 5_000);
  const done = await a.deleteGroups(['classic-g', 'k-g']);
  assert.equal([...done], [['classic-g', undefined], ['k-g', undefined]]);
  assert.equal(await a.listGroups(), []);
});

s('a coordinator that moved is found again: describe and delete follow it', async () => {
  await runBoth();
  const a = admin();
  const before = await a.describeGroups(['classic-g', 'k-g']);
  assert.equal(before.map((d) => d.coordinator), [c.coordinatorOf('classic-g'), c.coordinatorOf('k-g')]);
  const to = (id: string): number => [1, 2, 3].find((b) => b !== c.coordinatorOf(id))!;
  const classicTo = to('classic-g');
  const kTo = to('k-g');
  c.moveCoordinator('classic-g', classicTo);
  c.moveCoordinator('k-g', kTo);
  const notCoordinator = c.log.entries.length;
  const after = await a.describeGroups(['classic-g', 'k-g']);
  assert.equal(after.map((d) => d.coordinator), [classicTo, kTo]);
  assert.ok(c.log.entries.slice(notCoordinator).filter((e) => e.api === 'FindCoordinator').length >= 2, 'looked up again');
  // the moved coordinators know no members (the fake keeps group state cluster-wide), so the groups are the same
  assert.equal(partitionsOf(after[0]!), partitionsOf(before[0]!));
  await groups.closeAll();
  c.moveCoordinator('classic-g', to('classic-g'));
  await eventually('both empty', async () => (await a.listGroups({ states: ['Empty'] })).length === 2, 5_000);
  const done = await a.deleteGroups(['classic-g', 'k-g']);
  assert.equal([...done.values()], [undefined, undefined]);
});

s('COORDINATOR_LOAD_IN_PROGRESS is waited out on the same coordinator; NOT_COORDINATOR for ever ends at requestTimeoutMs', async () => {
  await runBoth();
  c.fault({ api: 'ConsumerGroupDescribe', times: 2, action: 'error', code: errorCodes.COORDINATOR_LOAD_IN_PROGRESS });
  const [k] = await admin().describeGroups(['k-g']);
  assert.is(k!.type, 'consumer');
  assert.is(sent('ConsumerGroupDescribe'), 3);

  c.fault({ api: 'DescribeGroups', action: 'error', code: errorCodes.NOT_COORDINATOR });
  const before = sent('DescribeGroups');
  const t0 = Date.now();
  const err = await admin(600).describeGroups(['classic-g']).then(() => undefined, (e: unknown) => e);
  const took = Date.now() - t0;
  assert.ok(err instanceof BrokerError && err.errorCode === errorCodes.NOT_COORDINATOR, String(err));
  assert.ok(took < 2_000, `bounded by requestTimeoutMs: ${took} ms`);
  const tries = sent('DescribeGroups') - before;
  assert.ok(tries >= 2 && tries <= 10, `backs off between tries: ${tries}`);
});

s('hostile assignment bytes in DescribeGroups leave that member without partitions, never a crash', async () => {
  await runBoth();
  c.fault({ api: 'DescribeGroups', times: 1, action: 'mutate', mutate: (res) => {
    const g = (res.groups as Record<string, any>[])[0]!;
    g.members[0].memberAssignment = Buffer.from([0, 1, 0, 0, 0, 9, 0xff, 0xff]);
    g.members[1].memberAssignment = Buffer.from([0, 3, 0x7f, 0xff, 0xff, 0xff]);
  } });
  const [d] = await admin().describeGroups(['classic-g']);
  assert.is(d!.members.length, 2);
  assert.equal(d!.members.map((m) => m.assignment.size), [0, 0]);
});

s('lists both groups with their types and filters; describes members and assignments in one shape', async () => {
  await runBoth();
  const a = admin();
  const all = (await a.listGroups()).sort((x, y) => (x.groupId < y.groupId ? -1 : 1));
  assert.equal(all, [
    { groupId: 'classic-g', protocolType: 'consumer', state: 'Stable', type: 'classic' },
    { groupId: 'k-g', protocolType: 'consumer', state: 'Stable', type: 'consumer' },
  ]);
  assert.equal((await a.listGroups({ types: ['consumer'] })).map((g) => g.groupId), ['k-g']);
  assert.equal((await a.listGroups({ types: ['classic'], states: ['stable'] })).map((g) => g.groupId), ['classic-g']);
  assert.equal(await a.listGroups({ types: ['share'] }), []);
  assert.equal(await a.listGroups({ states: ['Empty'] }), []);
  const lists = c.log.entries.filter((e) => e.api === 'ListGroups');
  assert.ok(lists.every((e) => e.version === 5), 'ListGroups v5');
  assert.ok(lists.some((e) => (e.body.typesFilter as string[]).includes('consumer')), 'types filtered by the broker');

  const [classic, k] = await a.describeGroups(['classic-g', 'k-g']);
  assert.is(classic!.type, 'classic');
  assert.is(classic!.state, 'Stable');
  assert.is(classic!.protocolType, 'consumer');
  assert.ok(classic!.assignor.length > 0, 'the chosen assignor');
  assert.is(classic!.members.length, 2);
  assert.ok(classic!.members.every((m) => m.memberId !== '' && m.clientId !== '' && m.memberEpoch === -1 && m.assignment.size === 1));
  assert.equal(partitionsOf(classic!), ['t:0', 't:1', 't:2', 't:3', 't:4', 't:5']);
  assert.is(k!.type, 'consumer');
  assert.is(k!.state, 'Stable');
  assert.ok(k!.groupEpoch > 0);
  assert.is(k!.members.length, 2);
  assert.ok(k!.members.every((m) => m.memberEpoch > 0 && m.subscribedTopicNames?.[0] === 't' && m.targetAssignment !== undefined));
  assert.equal(partitionsOf(k!), ['t:0', 't:1', 't:2', 't:3', 't:4', 't:5']);
  // ConsumerGroupDescribe is asked first; the classic group falls back to DescribeGroups on GROUP_ID_NOT_FOUND
  assert.is(sent('ConsumerGroupDescribe'), 2);
  assert.is(sent('DescribeGroups'), 1);
});

s('a broker before ListGroups v5 lists classic groups, filtered here; before v4 a state filter is refused', async () => {
  await c.close();
  c = await FakeCluster.start({ brokers: 1, topics: { t: 6 }, versions: { ListGroups: [0, 3], ConsumerGroupDescribe: [-1, -1] } });
  await cluster.close({ timeoutMs: 0 });
  cluster = new Cluster({ bootstrap: c.bootstrap, retryMinMs: 2, retryMaxMs: 5 });
  groups.make({ groupName: 'old' }).channels.consume.trySend(true);
  await eventually('classic group stable', () => c.state.groups.byId.get('old')?.state === 'Stable', 10_000);
  const a = admin();
  assert.equal(await a.listGroups({ types: ['classic'] }), [{ groupId: 'old', protocolType: 'consumer', state: '', type: 'classic' }]);
  assert.equal(await a.listGroups({ types: ['consumer'] }), []);
  const err = await a.listGroups({ states: ['Stable'] }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof UnsupportedVersionError, String(err));
});

s.run();
