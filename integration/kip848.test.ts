/**
 * KIP-848 consumer groups (`groupProtocol: 'consumer'`) on the real broker (Kafka 4.x, the consumer protocol on by
 * default; the harness expels a dead member after 6 s, group.consumer.session.timeout.ms).
 *
 * 1. Three of ours (one a child process) and two Java console consumers (`group.protocol=consumer`) in one group
 *    on a 12-partition topic while records are produced; the child is killed -9 mid-run. Every record is consumed;
 *    a record consumed twice must be one the killed member handled shortly before it died (its uncommitted window).
 *    ConsumerGroupDescribe shows the five members under the broker's assignor.
 * 2. Rebalance time, consumer vs classic protocol on the same workload: three of ours busy on a backlog, a fourth
 *    joins; the time from its start() to its first record, per protocol, and their ratio (printed).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Cluster } from '../src/client/cluster.js';
import { ConsumerGroup } from '../src/channels/consumer-group.js';
import type { ConsumerGroupConfig } from '../src/channels/config.js';
import { Producer } from '../src/channels/producer.js';
import { GroupCoordinator } from '../src/group/coordinator.js';
import { ConsumerGroupDescribe } from '../src/protocol/apis/consumer-group-describe.js';
import { brokers } from './harness/index.js';
import { createTopicAndWait, javaConsumer, waitFor } from './mixed-group-kit.js';

const s = suite('KIP-848 consumer groups, live', { timeoutMs: 180_000 });
const PARTITIONS = 12;

/** One of ours in this process: the values it handled, with the time each was handled. */
function ours(name: string, bootstrap: string[], topic: string, group: string, extra: Partial<ConsumerGroupConfig> = {}, handleMs = 1) {
  const values: string[] = [];
  const errors: string[] = [];
  const g = new ConsumerGroup({
    brokerAddrs: bootstrap, topic, groupName: group, clientId: name, groupProtocol: 'consumer', minBrokersHealthy: 1, autoCommitIntervalMs: 200, ...extra,
  });
  g.registerHandler(async (m) => {
    if (handleMs > 0) await new Promise((r) => setTimeout(r, handleMs));
    values.push(m.value!.toString());
  });
  void (async () => { for await (const e of g.channels.errors) if (errors.length < 200) errors.push(`${e.name}: ${e.message}`); })();
  g.start();
  return { name, g, values, diagnostics: () => `${name}: state ${g.state}; errors ${errors.slice(-4).join(' | ')}` };
}

/** Our consumer as a child process (kip848-member.ts): killed with SIGKILL it neither commits nor leaves. */
function child(name: string, bootstrap: string[], topic: string, group: string, handleMs: number) {
  const script = new URL('./kip848-member.js', import.meta.url).pathname;
  const p = spawn(process.execPath, [script, JSON.stringify({ bootstrap, topic, group, name, handleMs })], { stdio: ['ignore', 'pipe', 'pipe'] });
  const seen: { value: string; at: number }[] = [];
  const stderr: string[] = [];
  createInterface({ input: p.stdout! }).on('line', (l) => { if (l.startsWith('V ')) seen.push({ value: l.slice(2), at: Date.now() }); });
  createInterface({ input: p.stderr! }).on('line', (l) => { if (stderr.length < 500) stderr.push(l); });
  const exited = new Promise<void>((resolve) => p.on('exit', () => resolve()));
  return {
    name, seen,
    kill: async () => { p.kill('SIGKILL'); await exited; },
    diagnostics: () => `${name}: ${stderr.slice(-4).join(' | ')}`,
  };
}

async function describeMembers(bootstrap: string[], group: string): Promise<{ assignor: string; members: Map<string, number> }> {
  const cl = new Cluster({ bootstrap });
  try {
    const broker = await new GroupCoordinator(cl, group).broker();
    const res = await broker.request(ConsumerGroupDescribe, { groupIds: [group], includeAuthorizedOperations: false });
    const g = res.groups[0]!;
    const members = new Map<string, number>();
    for (const m of g.members) members.set(m.clientId, m.assignment.topicPartitions.reduce((n, tp) => n + tp.partitions.length, 0));
    return { assignor: g.assignorName, members };
  } finally {
    await cl.close();
  }
}

/** Hands `values` to a Producer (its output channel; delivery follows in the background), spread over every partition. */
async function produce(p: Producer, values: string[]): Promise<void> {
  let i = 0;
  for (const v of values) await p.send({ value: v, partition: i++ % PARTITIONS });
}

s('three of ours (one killed -9 mid-run) and two Java consumers under group.protocol=consumer: every record consumed, duplicates only from the killed member\'s uncommitted window', async () => {
  const bootstrap = await brokers();
  const stamp = Date.now();
  const topic = `kip848-${stamp}`;
  const group = `kip848-g-${stamp}`;
  await createTopicAndWait(bootstrap, topic, PARTITIONS, 30_000);
  const producer = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1, lingerMs: 5 });
  const pattern = /^r-\d+$/;
  const javas = [1, 2].map((i) => javaConsumer({ name: `java-${i}`, bootstrap, topic, group, groupProtocol: 'consumer', valuePattern: pattern }));
  const a = ours('ours-1', bootstrap, topic, group);
  const b = ours('ours-2', bootstrap, topic, group);
  const victim = child('ours-victim', bootstrap, topic, group, 2);
  const all = (): string[] => [...a.values, ...b.values, ...victim.seen.map((x) => x.value), ...javas.flatMap((j) => j.values())];
  const diag = (): string => [a.diagnostics(), b.diagnostics(), victim.diagnostics(), ...javas.map((j) => j.diagnostics()),
    `handled: ours-1 ${a.values.length}, ours-2 ${b.values.length}, victim ${victim.seen.length}, java ${javas.map((j) => j.values().length)}`].join('\n');
  const produced: string[] = [];
  let next = 0;
  const more = async (n: number): Promise<void> => {
    const vals = Array.from({ length: n }, () => `r-${next++}`);
    produced.push(...vals);
    await produce(producer, vals);
  };
  try {
    await waitFor('five members, every partition assigned', async () => {
      const d = await describeMembers(bootstrap, group);
      return d.members.size === 5 && [...d.members.values()].reduce((x, y) => x + y, 0) === PARTITIONS && [...d.members.values()].every((n) => n > 0);
    }, 45_000, diag);
    const before = await describeMembers(bootstrap, group);
    console.log(`  group ${group}: assignor ${before.assignor}; partitions per member ${[...before.members].map(([k, v]) => `${k}=${v}`).join(', ')}`);
    assert.is(before.assignor, 'uniform');
    // records flow; the victim is killed once it has handled a few hundred, while it has more in hand
    const t0 = Date.now();
    while (victim.seen.length < 400 && Date.now() - t0 < 30_000) { await more(240); await new Promise((r) => setTimeout(r, 200)); }
    assert.ok(victim.seen.length >= 400, `the victim consumed ${victim.seen.length} in 30 s\n${diag()}`);
    const killedAt = Date.now();
    await victim.kill();
    const victimSeen = victim.seen.length;
    for (let i = 0; i < 6; i++) { await more(240); await new Promise((r) => setTimeout(r, 200)); }
    await waitFor('every record consumed', () => { const got = new Set(all()); return produced.every((v) => got.has(v)); }, 60_000,
      () => `${diag()}\nmissing ${produced.filter((v) => !new Set(all()).has(v)).length}`);
    await new Promise((r) => setTimeout(r, 1_000)); // late duplicates show up too
    const counts = new Map<string, number>();
    for (const v of all()) counts.set(v, (counts.get(v) ?? 0) + 1);
    const dups = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
    const victimValues = new Set(victim.seen.map((x) => x.value));
    const window = new Set(victim.seen.filter((x) => x.at >= killedAt - 1_000).map((x) => x.value));
    const after = await describeMembers(bootstrap, group);
    console.log(`  produced ${produced.length}; consumed ours-1 ${a.values.length}, ours-2 ${b.values.length}, victim ${victimSeen} (killed -9), ` +
      `${javas.map((j, i) => `java-${i + 1} ${j.values().length}`).join(', ')}; lost 0; duplicated ${dups.length} ` +
      `(the victim handled ${window.size} in its last second); after: ${[...after.members].map(([k, v]) => `${k}=${v}`).join(', ')}`);
    assert.ok(dups.every((v) => victimValues.has(v)), `a duplicate the killed member never handled: ${dups.filter((v) => !victimValues.has(v)).slice(0, 5)}`);
    assert.ok(dups.every((v) => window.has(v)), `duplicates outside the killed member's last second: ${dups.filter((v) => !window.has(v)).slice(0, 5)}`);
    assert.is(after.members.size, 4, 'the killed member was expelled');
  } finally {
    await victim.kill();
    await Promise.allSettled([a.g.close(), b.g.close(), ...javas.map((j) => j.leave()), producer.close()]);
  }
});

/** Three of ours busy on a backlog, then a fourth joins: ms from its start() to its first record. */
async function joinTime(protocol: 'classic' | 'consumer', bootstrap: string[]): Promise<number> {
  const stamp = Date.now();
  const topic = `kip848-rb-${protocol}-${stamp}`;
  const group = `kip848-rb-${protocol}-${stamp}`;
  await createTopicAndWait(bootstrap, topic, PARTITIONS, 30_000);
  const producer = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1, lingerMs: 5 });
  await produce(producer, Array.from({ length: 6_000 }, (_, i) => `b-${i}`));
  const extra: Partial<ConsumerGroupConfig> = protocol === 'classic'
    ? { groupProtocol: 'classic', heartbeatIntervalMs: 500, messageConsumeTimeout: 6_000 } // the broker's consumer-protocol interval is 500 ms too
    : { groupProtocol: 'consumer' };
  const members = [1, 2, 3].map((i) => ours(`rb-${i}`, bootstrap, topic, group, extra, 2));
  try {
    await waitFor('three consuming', () => members.every((m) => m.values.length > 0), 30_000, () => members.map((m) => m.diagnostics()).join('\n'));
    const t0 = Date.now();
    const fourth = ours('rb-4', bootstrap, topic, group, extra, 2);
    members.push(fourth);
    await waitFor('the fourth consuming', () => fourth.values.length > 0, 30_000, () => members.map((m) => m.diagnostics()).join('\n'));
    return Date.now() - t0;
  } finally {
    await Promise.allSettled([...members.map((m) => m.g.close()), producer.close()]);
  }
}

s('rebalance time when a member joins: consumer protocol beside classic (same workload; ratio printed)', async () => {
  const bootstrap = await brokers();
  const consumer = await joinTime('consumer', bootstrap);
  const classic = await joinTime('classic', bootstrap);
  console.log(`  a fourth member's start() to its first record: consumer protocol ${consumer} ms, classic (roundrobin, eager) ${classic} ms; ` +
    `ratio consumer/classic ${(consumer / classic).toFixed(2)}`);
  assert.ok(consumer < 15_000 && classic < 15_000);
});

s.run();
