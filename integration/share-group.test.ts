/**
 * ShareGroup (KIP-932) against the real broker: several of our workers across two ShareGroup instances, and
 * Kafka's own console share consumer, share a 2-partition topic of 10,000 records: every record accepted once
 * (by one of ours or by Java), released ones delivered again with a higher delivery count, rejected ones never
 * again; the delivery limit read from the broker; a member that stops hands its records back.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { Producer } from '../src/channels/producer.js';
import { ShareGroup } from '../src/channels/share-group.js';
import type { ShareGroupConfig } from '../src/channels/share-group-config.js';
import { RejectRecordError, type ShareMessage } from '../src/channels/share-message.js';
import { spawn } from 'node:child_process';
import { brokers, kafkaClasspath } from './harness/index.js';

const s = suite('ShareGroup on the real broker', { timeoutMs: 120_000 });

const CONSOLE_SHARE_CONSUMER = 'org.apache.kafka.tools.consumer.ConsoleShareConsumer';

async function topicWith(bootstrap: string[], name: string, partitions: number, count: number): Promise<void> {
  const cl = new Cluster({ bootstrap });
  try { await new Admin(cl).createTopics([{ name, numPartitions: partitions }]); } finally { await cl.close(); }
  const p = new Producer({ brokerAddrs: bootstrap, topic: name, minBrokersHealthy: 1, lingerMs: 5 });
  for (let i = 0; i < count; i++) await p.channels.output.send({ value: String(i) });
  await p.close();
}

function waitFor(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => { if (cond()) resolve(); else if (Date.now() - t0 > ms) reject(new Error(`${what}: not in ${ms} ms`)); else setTimeout(tick, 50); };
    tick();
  });
}

const config = (bootstrap: string[], topic: string, extra: Partial<ShareGroupConfig> = {}): ShareGroupConfig => ({
  brokerAddrs: bootstrap, topic, groupName: `${topic}-sg`, minBrokersHealthy: 1, fetchMaxWaitMs: 200, retryBackoffMs: 100, offset: 'oldest', ...extra,
});

s('10,000 records, 6 workers in 2 ShareGroups and Java\'s console share consumer: each accepted once; released ones come back; rejected ones never', async () => {
  const bootstrap = await brokers();
  const topic = `share-${Date.now()}`;
  const N = 10_000;
  await topicWith(bootstrap, topic, 2, N);
  const accepted = new Map<number, number>(); // value → accepts the broker confirmed
  const deliveries = new Map<number, number[]>(); // value → delivery counts seen by our workers
  const rejected = new Set<number>();
  const failures: Error[] = [];
  const handler = (m: ShareMessage): void => {
    const v = Number(m.value!.toString());
    deliveries.set(v, [...(deliveries.get(v) ?? []), m.deliveryCount]);
    if (v % 250 === 3) {
      rejected.add(v);
      throw new RejectRecordError('poison');
    }
    if (v % 100 === 7 && m.deliveryCount === 1) throw new Error('try again later');
    void m.accept().then((ok) => { if (ok) accepted.set(v, (accepted.get(v) ?? 0) + 1); });
  };
  // Ours set the group to start at the earliest offset when they initialise; they start once Java is in.
  const groups = [new ShareGroup(config(bootstrap, topic, { numWorkers: 3 })), new ShareGroup(config(bootstrap, topic, { numWorkers: 3 }))];
  await Promise.all(groups.map((g) => g.initialise()));
  // Java's console share consumer joins the same group first and prints what it accepts; it stops after 3,000
  // records (or 6 s without any), acknowledging on its way out.
  const javaValues = new Set<number>();
  let javaOut = '';
  const java = spawn('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', kafkaClasspath(), CONSOLE_SHARE_CONSUMER,
    '--bootstrap-server', bootstrap[0]!, '--topic', topic, '--group', `${topic}-sg`, '--timeout-ms', '6000', '--max-messages', '3000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  java.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    javaOut += chunk;
    const lines = javaOut.split('\n');
    javaOut = lines.pop()!;
    for (const l of lines) if (/^\d+$/.test(l.trim())) javaValues.add(Number(l));
  });
  java.stderr.resume();
  const javaExited = new Promise<void>((resolve) => java.once('exit', () => resolve()));
  const done = (): boolean => {
    for (let v = 0; v < N; v++) if (!accepted.has(v) && !javaValues.has(v) && v % 250 !== 3) return false;
    return true;
  };
  await waitFor('Java consuming', () => javaValues.size > 0, 60_000);
  for (const g of groups) {
    void (async () => { for await (const e of g.channels.errors) failures.push(e); })();
    g.registerHandler(handler);
    g.start();
  }
  const t0 = Date.now();
  let elapsed = -1;
  try {
    await waitFor('every record accepted', done, 60_000);
    elapsed = Date.now() - t0;
  } finally {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([javaExited, new Promise((r) => { timer = setTimeout(r, 15_000); })]);
    clearTimeout(timer);
    java.kill();
    java.stdout.destroy();
    java.stderr.destroy();
  }
  await Promise.all(groups.map((g) => g.close({ signal: AbortSignal.timeout(10_000) })));
  const byJava = [...javaValues];
  const twice = [...accepted].filter(([, n]) => n > 1).map(([v]) => v);
  assert.equal(twice, [], 'no record accepted twice by ours');
  const both = byJava.filter((v) => accepted.has(v));
  assert.equal(both, [], 'no record accepted by ours and by Java');
  // The checks below are not vacuous: ours and Java each took a real part of the topic.
  assert.ok(javaValues.size > 0, 'Java accepted some');
  assert.ok(accepted.size >= 1_000, `ours accepted ${accepted.size}`);
  assert.ok(rejected.size >= 10, `ours rejected ${rejected.size}`);
  let redelivered = 0;
  for (let v = 7; v < N; v += 100) {
    if (javaValues.has(v)) continue; // Java took it, first or after our release
    assert.ok((deliveries.get(v) ?? []).includes(2), `released ${v} delivered again: ${deliveries.get(v)}`);
    redelivered++;
  }
  assert.ok(redelivered >= 10, `${redelivered} released records redelivered to ours`);
  for (const v of rejected) {
    assert.equal(deliveries.get(v), [1], `rejected ${v} never delivered again`);
    assert.not.ok(javaValues.has(v), `rejected ${v} never delivered to Java`);
  }
  const limit = groups[0]!.deliveryLimit;
  assert.ok(limit !== undefined && limit >= 2, `delivery limit read from the broker: ${limit}`);
  console.log(`  10,000 records: ${accepted.size} accepted by ours, ${byJava.length} by Java, ${rejected.size} rejected in ${elapsed} ms; delivery limit ${limit}; errors reported: ${failures.length}`);
});

s.run();
