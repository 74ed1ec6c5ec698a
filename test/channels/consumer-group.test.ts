/**
 * The channel ConsumerGroup (src/channels/consumer-group.ts) against the in-process fake cluster
 * (test/fake-cluster): consuming what was produced, committing, a second member joining (rebalance) and leaving,
 * restarting from committed offsets, a coordinator-side rebalance, and close (leaves the group, bounded). The
 * real broker's tests are in integration/consumer-group.test.ts and group-*.test.ts.
 */
import * as assert from 'uvu/assert';
import { getEventListeners } from 'node:events';
import { eventually, suite } from '../kit.js';
import { ConsumerGroup } from '../../src/channels/consumer-group.js';
import type { ConsumerGroupConfig } from '../../src/channels/config.js';
import type { Message } from '../../src/channels/message.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';
import { FakeGroups } from './fake-group.js';

let c: FakeCluster;
const groups = new FakeGroups(() => c);
const s = suite('channel ConsumerGroup on the fake cluster', { timeoutMs: 30_000 });
s.before.each(async () => { c = await FakeCluster.start({ brokers: 3, topics: { t: 3 } }); });
s.after.each(async () => {
  await groups.closeAll();
  await c.close();
});

const group = (config: Partial<ConsumerGroupConfig> = {}): ConsumerGroup => groups.make(config);

/** Appends `values` to a partition of `t` as one batch. */
const produce = (partition: number, values: string[]): Promise<void> => c.append('t', partition, values);

const committedAll = (groupId = 'g'): number[] => [0, 1, 2].map((p) => c.committed(groupId, 't', p) ?? -1);

s('consumes what was produced from upstream, in order per partition; commit() stores the next offset', async () => {
  for (const p of [0, 1, 2]) await produce(p, Array.from({ length: 10 }, (_, i) => `p${p}-${i}`));
  const g = group();
  g.start();
  const got: Message[] = [];
  while (got.length < 30) {
    const r = await g.channels.upstream.recv(AbortSignal.timeout(10_000));
    if (r.done) break;
    got.push(r.value);
    await r.value.commit();
  }
  assert.is(got.length, 30);
  for (const p of [0, 1, 2]) {
    assert.equal(got.filter((m) => m.partition === p).map((m) => m.value!.toString()), Array.from({ length: 10 }, (_, i) => `p${p}-${i}`));
  }
  await eventually('every partition committed to its end', () => committedAll().every((o) => o === 10), 5_000);
  assert.is(g.state, 'Consuming');
  await g.close();
  assert.ok(g.channels.closed.closed);
});

s('a registered handler with mark(): auto-commit; a restart resumes after the committed offsets', async () => {
  for (const p of [0, 1, 2]) await produce(p, [`a${p}`, `b${p}`]);
  const first = group();
  const seen: string[] = [];
  first.registerHandler(async (m) => { seen.push(m.value!.toString()); });
  first.start();
  await eventually('six handled', () => seen.length === 6, 10_000);
  await eventually('auto-committed', () => committedAll().every((o) => o === 2), 5_000);
  await first.close();
  assert.is(c.group('g').members.size, 0, 'close left the group');
  for (const p of [0, 1, 2]) await produce(p, [`c${p}`]);
  const second = group();
  const later: string[] = [];
  second.registerHandler(async (m) => { later.push(m.value!.toString()); });
  second.start();
  await eventually('the three new ones', () => later.length === 3, 10_000);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(later.sort(), ['c0', 'c1', 'c2'], 'nothing redelivered');
});

s('a second member joining rebalances: partitions split between the two, each delivered to one; its leaving gives them back', async () => {
  const a = group({ clientId: 'member-a' });
  const byA: Message[] = [];
  a.registerHandler(async (m) => { byA.push(m); });
  a.start();
  await a.stateWait('Consuming', AbortSignal.timeout(10_000));
  const gen1 = c.group('g').generation;
  const b = group({ clientId: 'member-b' });
  const byB: Message[] = [];
  b.registerHandler(async (m) => { byB.push(m); });
  b.start();
  await eventually('two members in a new generation', () => c.group('g').members.size === 2 && c.group('g').state === 'Stable' && c.group('g').generation > gen1, 10_000);
  await b.stateWait('Consuming', AbortSignal.timeout(10_000));
  await eventually('a consuming again', () => a.state === 'Consuming', 10_000);
  for (const p of [0, 1, 2]) await produce(p, [`x${p}`, `y${p}`]);
  await eventually('six delivered', () => byA.length + byB.length === 6, 10_000);
  await new Promise((r) => setTimeout(r, 200));
  assert.is(byA.length + byB.length, 6, 'none twice');
  assert.ok(byA.length > 0 && byB.length > 0, `split: a ${byA.length}, b ${byB.length}`);
  const partsA = new Set(byA.map((m) => m.partition));
  assert.ok(byB.every((m) => !partsA.has(m.partition)), 'a partition belongs to one member');
  await b.close();
  await eventually('one member left', () => c.group('g').members.size === 1 && c.group('g').state === 'Stable', 10_000);
  await eventually('a consuming', () => a.state === 'Consuming', 10_000);
  for (const p of [0, 1, 2]) await produce(p, [`z${p}`]);
  await eventually('a gets every partition', () => byA.filter((m) => m.value!.toString().startsWith('z')).length === 3, 10_000);
});

s('a coordinator-side rebalance (REBALANCE_IN_PROGRESS on heartbeats) is followed by a rejoin, and consuming goes on', async () => {
  const g = group();
  const seen: string[] = [];
  g.registerHandler(async (m) => { seen.push(m.value!.toString()); });
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(10_000));
  const gen = c.group('g').generation;
  c.group('g').prepareRebalance();
  await eventually('rejoined in a new generation', () => c.group('g').generation > gen && c.group('g').state === 'Stable', 10_000);
  await produce(1, ['after']);
  await eventually('consumed after the rebalance', () => seen.includes('after'), 10_000);
  assert.ok(c.log.count('JoinGroup') >= 2);
});

s('a commit refused by the coordinator (error) is reported on errors; the group keeps consuming', async () => {
  await produce(0, ['one']);
  const g = group({ autoCommitIntervalMs: 60_000 });
  g.start();
  const r = await g.channels.upstream.recv(AbortSignal.timeout(10_000));
  c.fault({ api: 'OffsetCommit', times: 1, action: 'error', code: errorCodes.OFFSET_METADATA_TOO_LARGE });
  await r.value!.commit();
  const e = await g.channels.errors.recv(AbortSignal.timeout(5_000));
  assert.ok(e.value instanceof Error);
  await produce(0, ['two']);
  const next = await g.channels.upstream.recv(AbortSignal.timeout(10_000));
  assert.is(next.value!.value!.toString(), 'two');
});

s('close leaves the group at once and is bounded; upstream and closed close', async () => {
  const g = group();
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(10_000));
  const t0 = Date.now();
  await g.close({ signal: AbortSignal.timeout(3_000) });
  assert.ok(Date.now() - t0 < 3_000, `close took ${Date.now() - t0} ms`);
  assert.ok(c.log.count('LeaveGroup') >= 1);
  assert.is(c.group('g').members.size, 0);
  assert.ok(g.channels.closed.closed && g.channels.upstream.closed);
  assert.is(c.state.groups.expired.length, 0, 'left, not expired');
});

s('close({ signal }) leaves no listener on the caller\'s signal (under Deno a listened AbortSignal.timeout holds the process until it fires)', async () => {
  const g = group();
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(10_000));
  const signal = AbortSignal.timeout(60_000);
  await g.close({ signal });
  assert.is(getEventListeners(signal, 'abort').length, 0);
});

s('close with careless arguments is refused with InvalidArgumentError and closes nothing; a proper close still works', async () => {
  const g = group();
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(10_000));
  for (const bad of [null, 5, 'soon', { signal: 5 }, { signal: {} }]) {
    const err = await g.close(bad as never).then(() => undefined, (e: unknown) => e);
    assert.instance(err, InvalidArgumentError, `close(${JSON.stringify(bad)})`);
  }
  assert.is(g.state, 'Consuming', 'nothing closed by a refused call');
  await g.close({ signal: AbortSignal.timeout(3_000) });
  assert.ok(g.channels.closed.closed);
});

s('leaders moving, fetch sessions evicted and a broker stopping: consuming goes on, nothing lost or repeated', async () => {
  const g = group();
  const seen: string[] = [];
  g.registerHandler(async (m) => { seen.push(m.value!.toString()); });
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(10_000));
  for (const p of [0, 1, 2]) await produce(p, [`a${p}`]);
  await eventually('first round', () => seen.length === 3, 10_000);
  c.moveLeader('t', 0);
  c.evictFetchSessions();
  for (const p of [0, 1, 2]) await produce(p, [`b${p}`]);
  await eventually('after a leader move and session eviction', () => seen.length === 6, 10_000);
  await c.stopBroker(c.leaderOf('t', 2));
  for (const p of [0, 1, 2]) await produce(p, [`c${p}`]);
  await eventually('after a broker stopped', () => seen.length === 9, 15_000);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal([...seen].sort(), ['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'c0', 'c1', 'c2']);
});

s('a partition whose fetches keep failing (NOT_LEADER_OR_FOLLOWER for good) is retried at a few requests a second, the others flow', async () => {
  const g = group();
  const seen: string[] = [];
  g.registerHandler(async (m) => { seen.push(m.value!.toString()); });
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(10_000));
  c.fault({ api: 'Fetch', topic: 't', partition: 0, action: 'error', code: errorCodes.NOT_LEADER_OR_FOLLOWER });
  const t0 = Date.now();
  for (const p of [1, 2]) await produce(p, [`ok${p}`]);
  await eventually('the healthy partitions flow', () => seen.length === 2, 10_000);
  await new Promise((r) => setTimeout(r, 2_000));
  const t1 = Date.now();
  const metadata = c.log.count('Metadata', { since: t0 });
  const fetchesFor0 = c.log.entries.filter((e) => e.at >= t0 && e.api === 'Fetch' && e.partitions.some((tp) => tp.partition === 0)).length;
  const perSecond = (n: number): number => (n * 1000) / (t1 - t0);
  console.log(`  [rates] Metadata ${perSecond(metadata).toFixed(1)}/s, Fetch of the failing partition ${perSecond(fetchesFor0).toFixed(1)}/s`);
  assert.ok(perSecond(metadata) <= 10, `Metadata ${perSecond(metadata).toFixed(1)}/s`);
  assert.ok(perSecond(fetchesFor0) <= 30, `Fetch naming partition 0: ${perSecond(fetchesFor0).toFixed(1)}/s`);
});

s.run();
