/**
 * Cluster metadata and admin operations against the real broker; records are written by Kafka's own console
 * producer, so the offsets we read back were not produced by our code.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin, ConfigResource, OffsetSpec } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { BrokerError, InvalidArgumentError } from '../src/errors.js';
import { brokers, cluster as threeNodes, runKafkaTool, tools } from './harness/index.js';

const s = suite('admin and cluster metadata', { timeoutMs: 90_000 });
let cl: Cluster;
let admin: Admin;
const topic = `admin-${Date.now()}`;

s.before(async () => {
  cl = new Cluster({ bootstrap: await brokers(), clientId: 'admin-test', allowAutoTopicCreation: false, retryDeadlineMs: 5_000 });
  admin = new Admin(cl);
});
s.after(async () => { await cl?.close(); });

s('bad bootstrap addresses are listed in one InvalidArgumentError', () => {
  try {
    new Cluster({ bootstrap: ['nohost', 'h:0', 'ok:9092'] });
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, InvalidArgumentError);
    assert.is((err as InvalidArgumentError).problems.length, 2);
  }
});

s('createTopics, then metadata shows every partition with a leader', async () => {
  await admin.createTopics([{ name: topic, numPartitions: 6, replicationFactor: 1, configs: { 'retention.ms': '3600000' } }]);
  const meta = await cl.topic(topic);
  assert.is(meta.partitions.length, 6);
  assert.ok(meta.partitions.every((p) => p.leaderId >= 0));
  assert.is(meta.topicId.length, 22, 'topic id as base64url');
  assert.ok(cl.knownBrokers.length >= 1);
  const leader = await cl.leader(topic, 3);
  assert.is(leader.nodeId, meta.partitions[3]!.leaderId);
});

s('creating it again is TOPIC_ALREADY_EXISTS, unless ignored', async () => {
  const err = await admin.createTopics([{ name: topic, numPartitions: 6 }]).then(() => null, (e: unknown) => e);
  assert.instance(err, BrokerError);
  assert.is((err as BrokerError).errorName, 'TOPIC_ALREADY_EXISTS');
  await admin.createTopics([{ name: topic, numPartitions: 6 }], { ignoreExisting: true });
});

s('listOffsets sees what Kafka\'s console producer wrote; deleteRecords moves the low watermark', async () => {
  const lines = Array.from({ length: 60 }, (_, i) => `k${i}:v${i}`).join('\n') + '\n';
  await runKafkaTool(tools.consoleProducer, ['--bootstrap-server', (await brokers())[0]!, '--topic', topic,
    '--property', 'parse.key=true', '--property', 'key.separator=:'], { input: lines });
  const latest = await admin.listOffsets(topic, OffsetSpec.latest);
  const earliest = await admin.listOffsets(topic, OffsetSpec.earliest);
  assert.is(latest.size, 6);
  assert.is([...latest.values()].reduce((a, b) => a + b, 0n), 60n);
  assert.ok([...earliest.values()].every((o) => o === 0n));
  const [partition, end] = [...latest].find(([, o]) => o >= 2n)!;
  const low = await admin.deleteRecords(topic, new Map([[partition, end - 1n]]));
  assert.is(low.get(partition), end - 1n);
  assert.is((await admin.listOffsets(topic, OffsetSpec.earliest)).get(partition), end - 1n);
});

s('describeConfigs shows the topic config we set; describeCluster lists the broker', async () => {
  const configs = await admin.describeConfigs(ConfigResource.topic, topic, ['retention.ms']);
  assert.is(configs.get('retention.ms'), '3600000');
  const desc = await admin.describeCluster();
  assert.ok(desc.brokers.length >= 1);
  assert.is(desc.clusterId, cl.clusterId);
});

s('createPartitions grows the topic; deleteTopics removes it', async () => {
  await admin.createPartitions(topic, 8);
  cl.invalidate(topic);
  assert.is((await cl.topic(topic)).partitions.length, 8);
  await admin.deleteTopics([topic]);
  // Deletion reaches the broker's metadata cache a moment after DeleteTopics answers: look until it is gone.
  let err: unknown = null;
  for (let i = 0; i < 50 && err === null; i++) {
    cl.invalidate(topic);
    err = await cl.topic(topic).then(() => null, (e: unknown) => e);
    if (err === null) await new Promise((r) => setTimeout(r, 200));
  }
  assert.instance(err, BrokerError);
  assert.is((err as BrokerError).errorName, 'UNKNOWN_TOPIC_OR_PARTITION');
});

s('listGroups shows a group that Kafka\'s console consumer made', async () => {
  const group = `admin-group-${Date.now()}`;
  const t = `${topic}-g`;
  await admin.createTopics([{ name: t, numPartitions: 1 }]);
  await runKafkaTool(tools.consoleConsumer, ['--bootstrap-server', (await brokers())[0]!, '--topic', t, '--group', group,
    '--from-beginning', '--timeout-ms', '3000'], { timeoutMs: 60_000 }).catch(() => undefined);
  const groups = await admin.listGroups();
  assert.ok(groups.some((g) => g.groupId === group), `${group} listed`);
});
s.run();

const failover = suite('cluster metadata: failover', { timeoutMs: 120_000 });
failover('after kill -9 of a leader, leader() routes to a live node; metadata survives losing a seed', async () => {
  const c = await threeNodes();
  const client = new Cluster({ bootstrap: c.bootstrap, retryDeadlineMs: 60_000 });
  const a = new Admin(client, 30_000, { retryDeadlineMs: 60_000 }); // listOffsets waits out the other partitions' elections
  try {
    const t = `failover-meta-${Date.now()}`;
    await a.createTopics([{ name: t, numPartitions: 3, replicationFactor: 3 }]);
    const before = (await client.leader(t, 0)).nodeId;
    await c.kill(before);
    try {
      let after = before;
      for (let i = 0; i < 60 && after === before; i++) {
        client.invalidate(t);
        after = (await client.leader(t, 0)).nodeId;
        if (after === before) await new Promise((r) => setTimeout(r, 500));
      }
      assert.is.not(after, before, 'a new leader was elected and found');
      assert.ok((await a.listOffsets(t)).size === 3, 'offsets served by the surviving leaders');
    } finally {
      await c.start(before);
    }
  } finally {
    await client.close();
  }
});
failover.run();
