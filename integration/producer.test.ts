/**
 * The channel-API Producer against the real broker; what it wrote is counted by Kafka's own console consumer.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { Producer } from '../src/channels/producer.js';
import { InvalidArgumentError } from '../src/errors.js';
import { brokers, runKafkaTool, singleNode, tools } from './harness/index.js';

const s = suite('channel API: Producer', { timeoutMs: 120_000 });

async function newTopic(bootstrap: string[], name: string, partitions = 3): Promise<void> {
  const cl = new Cluster({ bootstrap });
  try { await new Admin(cl).createTopics([{ name, numPartitions: partitions }]); } finally { await cl.close(); }
}

/** Reads the topic with Kafka's console consumer; returns the values it printed. */
async function readAll(bootstrap: string, topic: string, expected: number): Promise<string[]> {
  const out = await runKafkaTool(tools.consoleConsumer, ['--bootstrap-server', bootstrap, '--topic', topic, '--from-beginning',
    '--max-messages', String(expected), '--timeout-ms', '20000', '--property', 'print.headers=true'], { timeoutMs: 90_000 });
  // With print.headers each record is `headers<TAB>value`; other lines (e.g. the total) are not records.
  return out.split('\n').filter((l) => l.includes('\t'));
}

/** After close: every error the producer reported (none is expected when every message arrived). */
function reportedErrors(p: Producer): string[] {
  const errors: Error[] = [];
  p.channels.errors.drainInto(errors);
  return errors.map((e) => `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}`);
}

s('config mistakes are listed together in one InvalidArgumentError', () => {
  try {
    new Producer({ brokerAddrs: [], topic: '', minRetryPeriod: -1 } as never);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, InvalidArgumentError);
    assert.ok((err as InvalidArgumentError).problems.length >= 3, (err as Error).message);
  }
});

s('messages written to output arrive, with the request-id header and our own headers', async () => {
  const bootstrap = await brokers();
  const topic = `producer-${Date.now()}`;
  await newTopic(bootstrap, topic);
  const p = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1 });
  await p.channels.ready.wait();
  assert.ok(p.isInitialised());
  p.addHeader('team', 'core');
  for (let i = 0; i < 500; i++) await p.channels.output.send({ value: `v${i}`, key: `k${i % 7}` });
  await p.sendJSON({ n: 1 }, { headers: [{ key: 'kind', value: 'json' }] });
  await p.close();
  assert.ok(p.channels.closed.closed);
  assert.equal(reportedErrors(p), [], 'no delivery failed');
  const lines = await readAll(bootstrap[0]!, topic, 501);
  assert.is(lines.length, 501);
  assert.ok(lines.every((l) => l.includes('request-id:')), 'every message carries request-id');
  assert.ok(lines.every((l) => l.includes('team:core')), 'the producer-wide header added before sending');
  assert.ok(lines.some((l) => l.includes('kind:json')), 'a per-message header');
  const values = new Set(lines.map((l) => l.split('\t').pop()));
  for (let i = 0; i < 500; i++) assert.ok(values.has(`v${i}`), `v${i}`);
  assert.ok(values.has('{"n":1}'));
});

s('health: OK when the broker answers', async () => {
  const bootstrap = await brokers();
  const topic = `producer-health-${Date.now()}`;
  await newTopic(bootstrap, topic, 1);
  const p = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1 });
  try {
    // Whether the background attempt got there first or not, the first check is OK: with every broker healthy a
    // check of a producer not yet initialised initialises it (the seed's rule), so no timing decides the answer.
    const before = await p.checker();
    assert.is(before.status, 'OK', before.message);
    assert.ok(p.isInitialised(), 'initialised once the check said OK');
    assert.ok(p.channels.ready.closed, 'ready is closed');
    const h = await p.checker();
    assert.is(h.status, 'OK', h.message);
  } finally {
    await p.close();
  }
});

s('a producer made while the broker is down initialises when it comes up and delivers every message sent meanwhile', async () => {
  const node = await singleNode();
  const bootstrap = [node.endpoints.plaintext];
  const topic = `producer-late-${Date.now()}`;
  await newTopic(bootstrap, topic, 2);
  await node.stop();
  let p: Producer | undefined;
  try {
    p = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1, minRetryPeriod: 100, maxRetryPeriod: 1000 });
    const sends = Array.from({ length: 50 }, (_, i) => p!.send({ value: `late-${i}` }));
    await new Promise((r) => setTimeout(r, 1500));
    assert.not.ok(p.isInitialised(), 'not initialised while the broker is down');
    const h = await p.checker();
    assert.is(h.status, 'WARNING');
  } finally {
    await node.start();
  }
  await p!.channels.ready.wait();
  await p!.close();
  assert.equal(reportedErrors(p!), [], 'no delivery failed');
  const lines = await readAll(bootstrap[0]!, topic, 50);
  assert.is(lines.length, 50);
});
s('close() right after sending, before initialisation finished, still delivers every accepted message', async () => {
  const bootstrap = await brokers();
  const topic = `producer-early-close-${Date.now()}`;
  await newTopic(bootstrap, topic, 2);
  const p = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1 });
  for (let i = 0; i < 200; i++) await p.send({ value: `early-${i}` });
  assert.not.ok(p.isInitialised(), 'the sends were accepted by the bounded output channel before initialisation');
  await p.close();
  assert.equal(reportedErrors(p), [], 'no delivery failed');
  const lines = await readAll(bootstrap[0]!, topic, 200);
  assert.is(lines.length, 200);
});
s.run();
