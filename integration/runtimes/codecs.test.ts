/**
 * Produce and consume through the channel API with every codec, under whichever runtime runs this file (the host
 * Node, or Node 22/24/26, Bun or Deno started by test/run.ts): 300 keyed records with a header, 3 partitions,
 * each one back intact and once.
 */
import * as assert from 'uvu/assert';
import { suite } from '../../test/kit.js';
import type { Compression } from '../../src/channels/config.js';
import { checkAll, createTopic, roundTrip, runtimeBroker, runtimeName, topicName } from './kit.js';

const s = suite(`runtime ${runtimeName()}: produce/consume, every codec`, { timeoutMs: 90_000 });
const COUNT = 300;

for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as Compression[]) {
  s(`${codec}: ${COUNT} records through Producer and ConsumerGroup, each back intact, once`, async () => {
    const broker = await runtimeBroker();
    const topic = topicName(`codec-${codec}`);
    await createTopic(broker, topic, 3);
    const bootstrap = [broker.endpoints.plaintext];
    const seen = await roundTrip(topic, COUNT, { brokerAddrs: bootstrap, compression: codec, lingerMs: 20 }, { brokerAddrs: bootstrap, numWorkers: 3 });
    assert.is(checkAll(seen, COUNT), undefined);
    assert.is(new Set(seen.map((r) => r.partition)).size, 3, 'keys spread over the 3 partitions');
  });
}

s.run();
