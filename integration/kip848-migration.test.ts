/**
 * Online migration as Kafka defines it (KIP-848's upgrade path, group.consumer.migration.policy): a classic group
 * of three of ours is restarted one member at a time with `groupProtocol: 'consumer'` while records are produced.
 * The broker converts the group when the first consumer-protocol member joins, the classic members go on inside it
 * (JoinGroup/SyncGroup, answered from the server-side assignment) until they too are restarted. No record is lost;
 * duplicates are counted (each restart closes gracefully, so they should be rare) and printed. At the end
 * ConsumerGroupDescribe knows the group (a classic group answers GROUP_ID_NOT_FOUND) with three members.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Cluster } from '../src/client/cluster.js';
import { ConsumerGroup } from '../src/channels/consumer-group.js';
import { Producer } from '../src/channels/producer.js';
import { GroupCoordinator } from '../src/group/coordinator.js';
import { ConsumerGroupDescribe } from '../src/protocol/apis/consumer-group-describe.js';
import { brokers } from './harness/index.js';
import { createTopicAndWait, waitFor } from './mixed-group-kit.js';

const s = suite('KIP-848 online migration, live', { timeoutMs: 180_000 });
const PARTITIONS = 6;

/** The group as ConsumerGroupDescribe sees it (a classic group answers GROUP_ID_NOT_FOUND): member types, assignor. */
async function describeGroup(bootstrap: string[], group: string): Promise<{ errorCode: number; types: number[]; assignor: string }> {
  const cl = new Cluster({ bootstrap });
  try {
    const res = await (await new GroupCoordinator(cl, group).broker()).request(ConsumerGroupDescribe, { groupIds: [group], includeAuthorizedOperations: false });
    const g = res.groups[0]!;
    return { errorCode: g.errorCode, types: g.members.map((m) => m.memberType).sort(), assignor: g.assignorName };
  } finally {
    await cl.close();
  }
}

s('a classic group of three of ours restarted one by one with groupProtocol consumer: no record lost', async () => {
  const bootstrap = await brokers();
  const stamp = Date.now();
  const topic = `kip848-mig-${stamp}`;
  const group = `kip848-mig-${stamp}`;
  await createTopicAndWait(bootstrap, topic, PARTITIONS, 30_000);
  const producer = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1, lingerMs: 5 });
  const consumed: string[] = [];
  const errors: string[] = [];
  const member = (name: string, protocol: 'classic' | 'consumer'): ConsumerGroup => {
    const g = new ConsumerGroup({
      brokerAddrs: bootstrap, topic, groupName: group, clientId: name, groupProtocol: protocol, minBrokersHealthy: 1, autoCommitIntervalMs: 200,
      ...(protocol === 'classic' ? { heartbeatIntervalMs: 500, messageConsumeTimeout: 6_000 } : {}),
    });
    g.registerHandler(async (m) => {
      await new Promise((r) => setTimeout(r, 1));
      consumed.push(m.value!.toString());
    });
    void (async () => { for await (const e of g.channels.errors) if (errors.length < 100) errors.push(`${name} ${e.name}: ${e.message}`); })();
    g.start();
    return g;
  };
  const produced: string[] = [];
  let stopProducing = false;
  const producing = (async () => {
    let n = 0;
    while (!stopProducing) {
      for (let i = 0; i < 120; i++) {
        const v = `m-${n++}`;
        produced.push(v);
        await producer.send({ value: v, partition: n % PARTITIONS });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const members = [member('mig-1', 'classic'), member('mig-2', 'classic'), member('mig-3', 'classic')];
  const diag = (): string => `states ${members.map((g) => g.state)}; consumed ${consumed.length} of ${produced.length}; errors ${errors.slice(-6).join(' | ')}`;
  try {
    await waitFor('the classic group consuming', () => members.every((g) => g.state === 'Consuming') && consumed.length > 200, 30_000, diag);
    const mixed: string[] = [];
    for (let i = 0; i < 3; i++) {
      await members[i]!.close();
      members[i] = member(`mig-${i + 1}-848`, 'consumer');
      const before = consumed.length;
      await waitFor(`restarted member ${i + 1} consuming under the consumer protocol`, () => members[i]!.state === 'Consuming' && consumed.length > before + 200, 30_000, diag);
      const d = await describeGroup(bootstrap, group);
      mixed.push(`after restart ${i + 1}: ${d.errorCode === 0 ? d.types.join(' ') : `error ${d.errorCode}`}`);
    }
    console.log(`  member types (ConsumerGroupDescribe, 0 classic / 1 consumer): ${mixed.join('; ')}`);
    await new Promise((r) => setTimeout(r, 1_000));
    stopProducing = true;
    await producing;
    await waitFor('every record consumed', () => { const got = new Set(consumed); return produced.every((v) => got.has(v)); }, 30_000,
      () => `${diag()}; missing ${produced.filter((v) => !new Set(consumed).has(v)).length}`);
    const d = await describeGroup(bootstrap, group);
    const described = { members: d.types.length, errorCode: d.errorCode, assignor: d.assignor };
    const counts = new Map<string, number>();
    for (const v of consumed) counts.set(v, (counts.get(v) ?? 0) + 1);
    const dups = [...counts.values()].filter((n) => n > 1).length;
    console.log(`  produced ${produced.length}; consumed ${consumed.length}; lost 0; duplicated ${dups}; ` +
      `after the restarts ConsumerGroupDescribe: error ${described.errorCode}, ${described.members} members, assignor ${described.assignor}`);
    assert.is(described.errorCode, 0, 'the group is a consumer (KIP-848) group now');
    assert.is(described.members, 3);
  } finally {
    stopProducing = true;
    await producing.catch(() => undefined);
    await Promise.allSettled([...members.map((g) => g.close()), producer.close()]);
  }
});

s.run();
