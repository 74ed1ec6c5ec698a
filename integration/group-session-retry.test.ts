/**
 * dp-kafka's session retry on the real broker: a static member fenced by another process with the same
 * `groupInstanceId` (KIP-345: FENCED_INSTANCE_ID, which no quick retry can fix) reports it on `errors` with the
 * pause that follows, shows Starting, and after `maxRetryPeriod` joins again and consumes; it is never dropped.
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { ConsumerGroup } from '../src/channels/consumer-group.js';
import type { ConsumerGroupConfig } from '../src/channels/config.js';
import { BrokerError, KafkaError } from '../src/errors.js';
import { brokers } from './harness/index.js';

const s = suite('group session retry (real broker)', { timeoutMs: 120_000 });

s('a fenced static member is reported, waits maxRetryPeriod in Starting, then joins again and consumes', async () => {
  const bootstrap = await brokers();
  const topic = `session-retry-${Date.now()}`;
  const cl = new Cluster({ bootstrap });
  try { await new Admin(cl).createTopics([{ name: topic, numPartitions: 2 }]); } finally { await cl.close(); }
  const cfg: ConsumerGroupConfig = {
    brokerAddrs: bootstrap, topic, groupName: `${topic}-g`, groupInstanceId: 'instance-1', minBrokersHealthy: 1,
    minRetryPeriod: 200, maxRetryPeriod: 3_000, heartbeatIntervalMs: 300, messageConsumeTimeout: 6_000,
  };
  const a = new ConsumerGroup(cfg);
  const errors: Error[] = [];
  void (async () => { for await (const e of a.channels.errors) errors.push(e); })();
  let b: ConsumerGroup | undefined;
  try {
    a.start();
    await a.stateWait('Consuming', AbortSignal.timeout(30_000));
    b = new ConsumerGroup(cfg); // same instance id: the coordinator hands the membership to b, a is fenced
    b.start();
    const failed = (): KafkaError | undefined => errors.find((e): e is KafkaError => e instanceof KafkaError && e.code === 'ERR_KAFKA_SESSION_FAILED');
    await eventually('a reports the fenced session', () => failed() !== undefined, 30_000, 50);
    const at = Date.now();
    const f = failed()!;
    assert.instance(f.cause, BrokerError);
    assert.is((f.cause as BrokerError).errorName, 'FENCED_INSTANCE_ID');
    assert.match(f.message, /in 3000 ms/);
    assert.is(a.state, 'Starting', 'a shows where it is while it waits');
    await b.close(); // the other process goes away: a's next attempt succeeds
    b = undefined;
    await a.stateWait('Consuming', AbortSignal.timeout(30_000));
    assert.ok(Date.now() - at >= 2_500, `a consumed again ${Date.now() - at} ms after the failure (maxRetryPeriod 3000)`);
  } finally {
    await Promise.all([a.close(), b?.close()]);
  }
});

s.run();
