/**
 * A consumer group with two members under the runtime running this file: both join, the 4 partitions are split
 * between them, and every record produced while both are in the group is handled once.
 */
import * as assert from 'uvu/assert';
import { suite } from '../../test/kit.js';
import { ConsumerGroup } from '../../src/channels/consumer-group.js';
import { Producer } from '../../src/channels/producer.js';
import type { Message } from '../../src/channels/message.js';
import { createTopic, runtimeBroker, runtimeName, topicName, waitUntil } from './kit.js';

const s = suite(`runtime ${runtimeName()}: consumer group`, { timeoutMs: 120_000 });

s('two members share 4 partitions; 400 records each handled once, each partition by one member', async () => {
  const broker = await runtimeBroker();
  const topic = topicName('group');
  await createTopic(broker, topic, 4);
  const bootstrap = [broker.endpoints.plaintext];
  const cfg = { brokerAddrs: bootstrap, topic, groupName: `${topic}-g`, minBrokersHealthy: 1, heartbeatIntervalMs: 500, messageConsumeTimeout: 10_000, numWorkers: 2 };
  const members = [new ConsumerGroup(cfg), new ConsumerGroup(cfg)];
  const byMember: Array<Set<number>> = [new Set(), new Set()];
  const values = new Map<string, number>();
  const errors: unknown[] = [];
  members.forEach((g, i) => {
    void (async () => { for await (const e of g.channels.errors) errors.push(e); })();
    g.registerHandler(async (m: Message) => {
      byMember[i]!.add(m.partition);
      const v = m.value!.toString();
      values.set(v, (values.get(v) ?? 0) + 1);
    });
  });
  const p = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1 });
  try {
    members.forEach((g) => g.start());
    // A member is Consuming once a generation that includes it is running: with both Consuming, the
    // assignment for two members has been taken by each.
    await Promise.all(members.map((g) => g.stateWait('Consuming')));
    await p.channels.ready.wait();
    for (let i = 0; i < 400; i++) await p.send({ key: `k${i}`, value: `v${i}` });
    await waitUntil(`400 records consumed (have ${values.size})`, () => values.size === 400, 60_000);
    assert.ok(byMember[0]!.size > 0 && byMember[1]!.size > 0, `both members handled records: ${byMember.map((m) => [...m].join(',')).join(' | ')}`);
    assert.equal([...byMember[0]!, ...byMember[1]!].sort(), [0, 1, 2, 3], 'the 4 partitions, each with one member');
    assert.is([...values.values()].filter((n) => n > 1).length, 0, 'no record handled twice');
    assert.equal(errors.map(String), []);
  } finally {
    await p.close();
    await Promise.all(members.map((g) => g.close({ signal: AbortSignal.timeout(20_000) })));
  }
});

s.run();
