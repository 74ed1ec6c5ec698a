/**
 * GroupAdmin (src/group/group-admin.ts) against the real broker: a classic group of ours and a KIP-848
 * (`groupProtocol: 'consumer'`) group of ours and a share group of ours running on one 4-partition topic are listed with their types, described
 * with their members and assignments (every partition once per group), refused deletion while running
 * (NON_EMPTY_GROUP), stopped, deleted, and then gone (GROUP_ID_NOT_FOUND).
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Cluster } from '../src/client/cluster.js';
import { ConsumerGroup } from '../src/channels/consumer-group.js';
import { ShareGroup } from '../src/channels/share-group.js';
import { BrokerError } from '../src/errors.js';
import { GroupAdmin, type GroupDescription } from '../src/group/group-admin.js';
import { errorCodes } from '../src/protocol/error-codes.js';
import { brokers } from './harness/index.js';
import { createTopicAndWait, waitFor } from './mixed-group-kit.js';

const s = suite('group admin on the real broker', { timeoutMs: 90_000 });

const partitionsOf = (d: GroupDescription): string[] =>
  d.members.flatMap((m) => [...m.assignment].flatMap(([t, ps]) => ps.map((p) => `${t}:${p}`))).sort();

s('a classic and a consumer group of ours: listed with their types, described, not deleted while running, stopped, deleted', async () => {
  const t0 = Date.now();
  const bootstrap = await brokers();
  const topic = `group-admin-${Date.now()}`;
  const classicId = `${topic}-classic`;
  const consumerId = `${topic}-consumer`;
  const shareId = `${topic}-share`;
  await createTopicAndWait(bootstrap, topic, 4, 20_000);
  const cluster = new Cluster({ bootstrap });
  const admin = new GroupAdmin(cluster, { requestTimeoutMs: 10_000 });
  const members: (ConsumerGroup | ShareGroup)[] = [];
  const make = (groupName: string, groupProtocol: 'classic' | 'consumer', clientId: string): void => {
    const g = new ConsumerGroup({ brokerAddrs: bootstrap, topic, groupName, groupProtocol, clientId, minBrokersHealthy: 1 });
    g.registerHandler(() => undefined);
    g.start();
    members.push(g);
  };
  try {
    make(classicId, 'classic', 'ours-classic-1');
    make(classicId, 'classic', 'ours-classic-2');
    make(consumerId, 'consumer', 'ours-848-1');
    make(consumerId, 'consumer', 'ours-848-2');
    const share = new ShareGroup({ brokerAddrs: bootstrap, topic, groupName: shareId, clientId: 'ours-share', minBrokersHealthy: 1 });
    share.registerHandler(() => undefined);
    share.start();
    members.push(share);
    let last: GroupDescription[] = [];
    const settled = (d: GroupDescription): boolean => d.state === 'Stable' && d.members.length === 2
      && d.members.every((m) => m.assignment.size > 0) && partitionsOf(d).length === 4;
    await waitFor('both groups stable with two members sharing the 4 partitions', async () => {
      last = await admin.describeGroups([classicId, consumerId, shareId]).catch(() => []);
      return last.length === 3 && last.slice(0, 2).every(settled) && partitionsOf(last[2]!).length === 4;
    }, 40_000, () => JSON.stringify(last.map((d) => ({ id: d.groupId, state: d.state, members: d.members.length, parts: partitionsOf(d) }))));

    const [classic, consumer, shared] = last as [GroupDescription, GroupDescription, GroupDescription];
    const all = [0, 1, 2, 3].map((p) => `${topic}:${p}`);
    assert.is(classic.type, 'classic');
    assert.is(classic.protocolType, 'consumer');
    assert.ok(classic.assignor !== '', 'the classic group names its assignor');
    assert.equal(classic.members.map((m) => m.clientId).sort(), ['ours-classic-1', 'ours-classic-2']);
    assert.equal(partitionsOf(classic), all);
    assert.is(consumer.type, 'consumer');
    assert.ok(['uniform', 'range'].includes(consumer.assignor), consumer.assignor);
    assert.ok(consumer.groupEpoch > 0);
    assert.equal(consumer.members.map((m) => m.clientId).sort(), ['ours-848-1', 'ours-848-2']);
    assert.ok(consumer.members.every((m) => m.memberEpoch > 0 && m.subscribedTopicNames?.includes(topic)));
    assert.equal(partitionsOf(consumer), all);
    assert.ok(classic.coordinator >= 0 && consumer.coordinator >= 0 && shared.coordinator >= 0);
    assert.is(shared.type, 'share');
    assert.equal(shared.members.map((m) => m.clientId), ['ours-share']);
    assert.equal(partitionsOf(shared), all);

    const listed = (await admin.listGroups()).filter((g) => g.groupId.startsWith(topic)).sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
    assert.equal(listed.map((g) => [g.groupId, g.type, g.state]), [[classicId, 'classic', 'Stable'], [consumerId, 'consumer', 'Stable'], [shareId, 'share', 'Stable']]);
    assert.equal((await admin.listGroups({ types: ['consumer'] })).filter((g) => g.groupId.startsWith(topic)).map((g) => g.groupId), [consumerId]);
    assert.equal((await admin.listGroups({ types: ['classic'], states: ['Stable'] })).filter((g) => g.groupId.startsWith(topic)).map((g) => g.groupId), [classicId]);

    assert.equal((await admin.listGroups({ types: ['share'] })).filter((g) => g.groupId.startsWith(topic)).map((g) => g.groupId), [shareId]);
    const refused = await admin.deleteGroups([classicId, consumerId, shareId]);
    assert.is(refused.get(classicId)?.errorCode, errorCodes.NON_EMPTY_GROUP);
    assert.is(refused.get(consumerId)?.errorCode, errorCodes.NON_EMPTY_GROUP);
    assert.is(refused.get(shareId)?.errorCode, errorCodes.NON_EMPTY_GROUP);

    await Promise.all(members.splice(0).map((g) => g.close()));
    await waitFor('both groups empty', async () => {
      last = await admin.describeGroups([classicId, consumerId, shareId]).catch(() => []);
      return last.length === 3 && last.every((d) => d.state === 'Empty' && d.members.length === 0);
    }, 20_000, () => JSON.stringify(last.map((d) => [d.groupId, d.state, d.members.length])));
    const deleted = await admin.deleteGroups([classicId, consumerId, shareId]);
    assert.equal([...deleted], [[classicId, undefined], [consumerId, undefined], [shareId, undefined]]);
    assert.equal((await admin.listGroups()).filter((g) => g.groupId.startsWith(topic)), []);
    for (const id of [classicId, consumerId, shareId]) {
      const gone = await admin.describeGroups([id]).then(() => undefined, (e: unknown) => e);
      assert.ok(gone instanceof BrokerError && gone.errorCode === errorCodes.GROUP_ID_NOT_FOUND, `${id}: ${String(gone)}`);
    }
    console.log(`  group admin, live: ${Date.now() - t0} ms`);
  } finally {
    await Promise.all(members.map((g) => g.close()));
    await cluster.close();
  }
});

s.run();
