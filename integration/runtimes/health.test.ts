/**
 * The health checker under the runtime running this file, by dp-kafka's rules: OK for Producer and ConsumerGroup
 * on a live broker (plaintext, and SASL_SSL with SCRAM), hasTopic false for a topic the broker lacks, WARNING
 * for a client that never initialised because its broker is unreachable.
 */
import * as assert from 'uvu/assert';
import { suite } from '../../test/kit.js';
import { ConsumerGroup } from '../../src/channels/consumer-group.js';
import { Producer } from '../../src/channels/producer.js';
import { MSG_HEALTHY_CONSUMER_GROUP, MSG_HEALTHY_PRODUCER } from '../../src/channels/health.js';
import { createTopic, runtimeBroker, runtimeName, topicName } from './kit.js';

const s = suite(`runtime ${runtimeName()}: health`, { timeoutMs: 60_000 });

for (const secured of [false, true]) {
  s(`${secured ? 'SASL_SSL SCRAM-SHA-256' : 'plaintext'}: checker() OK for Producer and ConsumerGroup, before and after initialisation`, async () => {
    const broker = await runtimeBroker();
    const topic = topicName('health');
    await createTopic(broker, topic, 1);
    const address = secured ? broker.endpoints.saslSsl : broker.endpoints.plaintext;
    const security = secured ? { securityConfig: { rootCACerts: broker.tls.caPem }, sasl: { mechanism: 'scram-sha-256' as const, ...broker.users.scram } } : {};
    const common = { brokerAddrs: [address], topic, minBrokersHealthy: 1, ...security };
    const p = new Producer(common);
    const g = new ConsumerGroup({ ...common, groupName: `${topic}-g` });
    try {
      for (const [client, healthy] of [[p, MSG_HEALTHY_PRODUCER], [g, MSG_HEALTHY_CONSUMER_GROUP]] as const) {
        const before = await client.checker();
        assert.equal([before.status, before.message], ['OK', healthy]);
        assert.equal(before.brokers.map((b) => [b.address, b.reachable, b.hasTopic]), [[address, true, true]]);
        assert.ok(client.isInitialised());
        assert.is((await client.checker()).status, 'OK');
      }
    } finally {
      await Promise.all([p.close(), g.close()]);
    }
  });
}

s('a topic the broker lacks: reachable, hasTopic false', async () => {
  const broker = await runtimeBroker();
  const g = new ConsumerGroup({ brokerAddrs: [broker.endpoints.plaintext], topic: topicName('absent'), groupName: topicName('absent-g'), minBrokersHealthy: 1, minRetryPeriod: 60_000, maxRetryPeriod: 60_000 });
  try {
    const h = await g.checker();
    assert.equal(h.brokers.map((b) => [b.reachable, b.hasTopic]), [[true, false]], h.message);
  } finally {
    await g.close({ signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  }
});

s('a producer whose broker is unreachable is WARNING (not initialised)', async () => {
  const p = new Producer({ brokerAddrs: ['127.0.0.1:1'], topic: 'nowhere', minBrokersHealthy: 1, connectTimeoutMs: 2_000 });
  try {
    const h = await p.checker();
    assert.is(h.status, 'WARNING', h.message);
    assert.equal(h.brokers.map((b) => b.reachable), [false]);
  } finally {
    await p.close();
  }
});

s.run();
