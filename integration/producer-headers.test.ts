/**
 * The channel-API Producer's producer-wide headers against the real broker, read back by Kafka's console consumer:
 * `traceHeader: false` drops dp-kafka's request-id header, and `addHeader` applies to later messages only.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { Producer } from '../src/channels/producer.js';
import { brokers, runKafkaTool, tools } from './harness/index.js';

const s = suite('channel API: Producer headers', { timeoutMs: 120_000 });

s('traceHeader false sends no request-id; a header added later is not given to messages queued before it', async () => {
  const bootstrap = await brokers();
  const topic = `producer-headers-${Date.now()}`;
  const cl = new Cluster({ bootstrap });
  try { await new Admin(cl).createTopics([{ name: topic, numPartitions: 1 }]); } finally { await cl.close(); }
  const p = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1, traceHeader: false, lingerMs: 1000 });
  await p.channels.ready.wait();
  await p.send({ value: 'before' });
  await new Promise((resolve) => setImmediate(resolve)); // taken from output; lingering in the accumulator now
  p.addHeader('team', 'core');
  await p.send({ value: 'after' });
  await p.close();
  const out = await runKafkaTool(tools.consoleConsumer, ['--bootstrap-server', bootstrap[0]!, '--topic', topic, '--from-beginning',
    '--max-messages', '2', '--timeout-ms', '20000', '--property', 'print.headers=true'], { timeoutMs: 90_000 });
  const lines = out.split('\n').filter((l) => l.includes('\t'));
  assert.equal(lines, ['NO_HEADERS\tbefore', 'team:core\tafter']);
});

s.run();
