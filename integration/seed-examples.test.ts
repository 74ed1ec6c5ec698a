/**
 * The seed's own examples (the dp-kafka README in /work/shared/seed, "Creation" to "Health-check"), ported line
 * for line to TypeScript and run against the real broker. Each Go line is quoted above its port; the same ports
 * are in README.md's porting guide, so a change here must change the guide too. `Output <- []byte(msg)` is
 * literal too: `channels.output` takes bytes or a string as the value.
 */
import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { ConsumerGroup, Producer, type Chan, type Message } from '../src/index.js';
import { brokers, runKafkaTool, tools } from './harness/index.js';

const s = suite('the seed README examples, ported', { timeoutMs: 120_000 });

/** The service config the seed's examples read from (`cfg.Brokers`, `cfg.KafkaMaxBytes`, ...). */
interface ServiceConfig {
  brokers: string[];
  producedTopic: string;
  consumedTopic: string;
  consumedGroup: string;
  kafkaMaxBytes: number;
  kafkaParallelMessages: number;
}

async function serviceConfig(name: string, partitions: number, parallel: number): Promise<ServiceConfig> {
  const bootstrap = await brokers();
  const topic = `seed-${name}-${Date.now()}`;
  const cl = new Cluster({ bootstrap });
  try { await new Admin(cl).createTopics([{ name: topic, numPartitions: partitions }]); } finally { await cl.close(); }
  return { brokers: bootstrap, producedTopic: topic, consumedTopic: topic, consumedGroup: `${topic}-g`, kafkaMaxBytes: 1_000_000, kafkaParallelMessages: parallel };
}

function waitFor(cond: () => boolean, what: () => string, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`not met in ${ms} ms: ${what()}`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

/** Committed-offset lag of each partition the group committed on, from Kafka's ConsumerGroupCommand (-1: none). */
async function lags(bootstrap: string, group: string, topic: string): Promise<number[]> {
  const described = await runKafkaTool(tools.consumerGroups, ['--bootstrap-server', bootstrap, '--describe', '--group', group]);
  return [...described.matchAll(new RegExp(`${topic}\\s+\\d+\\s+(\\S+)\\s+(\\d+)\\s+(\\S+)`, 'g'))].map((m) => (m[1] === '-' ? -1 : Number(m[2]) - Number(m[1])));
}

/** Runs the seed's example program: creation, initialisation, production, the consume loop(s), start, stop, close. */
async function seedProgram(cfg: ServiceConfig, workers: 'single' | 'multiple', count: number): Promise<{ handled: string[]; maxInFlight: number }> {
  const handled: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const doStuff = async (msg: Message): Promise<void> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    handled.push(msg.value!.toString());
    inFlight--;
  };

  // pChannels := kafka.CreateProducerChannels()
  // pConfig := &kafka.ProducerConfig{MaxMessageBytes: &cfg.KafkaMaxBytes}
  // producer, err := kafka.NewProducer(ctx, cfg.Brokers, cfg.ProducedTopic, pChannels, pConfig)
  const producer = new Producer({ brokerAddrs: cfg.brokers, topic: cfg.producedTopic, maxMessageBytes: cfg.kafkaMaxBytes, minBrokersHealthy: 1 });
  const pChannels = producer.channels;

  // cg, err := consumer.NewConsumerGroup(ctx, &kafkaConfig.ConsumerGroupConfig{
  //   BrokerAddrs: cfg.Brokers, Topic: cfg.ConsumedTopic, GroupName: cfg.ConsumedGroup,
  //   KafkaVersion: &cfg.KafkaVersion, NumWorkers: &cfg.KafkaParallelMessages })
  const cg = new ConsumerGroup({
    brokerAddrs: cfg.brokers, topic: cfg.consumedTopic, groupName: cfg.consumedGroup,
    numWorkers: cfg.kafkaParallelMessages, // KafkaVersion: not taken (versions are negotiated per request)
  });
  const channels = cg.channels;

  // go func() { <-channels.Ready; doStuff() }()
  let readyInParallel = false;
  void (async () => { await channels.ready.wait(); readyInParallel = true; })();
  // <-channels.Ready; doStuff()
  await channels.ready.wait();
  await pChannels.ready.wait();
  assert.is(cg.state, 'Stopped', 'initialised consumers are Stopped until they receive true from Consume');

  // pChannels.Output <- []byte(msg)
  for (let i = 0; i < count; i++) {
    const msg = `message-${i}`;
    await pChannels.output.send(Buffer.from(msg));
  }

  // func consume(upstream chan kafka.Message) { for { msg := <-upstream; doStuff(msg); msg.Commit() } }
  async function consume(upstream: Chan<Message>): Promise<void> {
    for (;;) {
      const { value: msg, done } = await upstream.recv();
      if (done) return; // Go's loop would read zero values from a closed channel; ours ends
      await doStuff(msg);
      void msg.commit(); // Go fires msg.Commit() and moves on; it releases the message, as the seed says
    }
  }
  if (workers === 'single') {
    // go consume(channels.Upstream)
    void consume(channels.upstream);
  } else {
    // for w := 1; w <= cfg.KafkaParallelMessages; w++ { go consume(channels.Upstream) }
    for (let w = 1; w <= cfg.kafkaParallelMessages; w++) void consume(channels.upstream);
  }

  // channels.Consume <- true
  await channels.consume.send(true);
  await waitFor(() => handled.length >= count, () => `${handled.length} of ${count} handled (state ${cg.state})`);

  // channels.Consume <- false   (then Stopping → Stopped)
  await channels.consume.send(false);
  await cg.stateWait('Stopped');
  assert.ok(readyInParallel);

  // StopListeningToConsumer(ctx) then Close(ctx)
  await cg.stopAndWait();
  await cg.close();
  await producer.close();
  assert.ok(channels.closed.closed && pChannels.closed.closed);
  return { handled, maxInFlight };
}

s('sequential consumer: the seed loop (msg.Commit() alone) gets every message of every partition and commits them', async () => {
  const cfg = await serviceConfig('sequential', 3, 1);
  const { handled, maxInFlight } = await seedProgram(cfg, 'single', 300);
  assert.is(handled.length, 300, 'each once');
  assert.is(new Set(handled).size, 300);
  assert.is(maxInFlight, 1);
  const l = await lags(cfg.brokers[0]!, cfg.consumedGroup, cfg.consumedTopic);
  assert.ok(l.length >= 1 && l.every((x) => x === 0), `every offset committed (partitions that got records): ${l}`);
});

s('concurrent consumer: KafkaParallelMessages workers on one upstream, up to one message per partition in flight', async () => {
  const cfg = await serviceConfig('concurrent', 3, 3);
  const { handled, maxInFlight } = await seedProgram(cfg, 'multiple', 300);
  assert.is(new Set(handled).size, 300);
  assert.is(handled.length, 300);
  assert.ok(maxInFlight >= 2 && maxInFlight <= 3, `in flight at most: ${maxInFlight}`);
  const l = await lags(cfg.brokers[0]!, cfg.consumedGroup, cfg.consumedTopic);
  assert.ok(l.length >= 1 && l.every((x) => x === 0), `every offset committed (partitions that got records): ${l}`);
});

s('health-check: check, err = cli.Checker(ctx) is OK for an initialised producer and consumer with the topic', async () => {
  const cfg = await serviceConfig('health', 1, 1);
  const producer = new Producer({ brokerAddrs: cfg.brokers, topic: cfg.producedTopic, minBrokersHealthy: 1 });
  const cg = new ConsumerGroup({ brokerAddrs: cfg.brokers, topic: cfg.consumedTopic, groupName: cfg.consumedGroup });
  await producer.channels.ready.wait();
  await cg.channels.ready.wait();
  // check, err = cli.Checker(ctx)
  for (const cli of [producer, cg]) {
    const check = await cli.checker();
    assert.is(check.status, 'OK', check.message);
  }
  await cg.close();
  await producer.close();
});

s.run();
