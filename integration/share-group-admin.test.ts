/**
 * Share-group administration (src/group/share/share-admin.ts) against the real broker: list, describe (members
 * and assignments), start offsets, reset (refused while members are in, then done and consumed again), delete.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { Producer } from '../src/channels/producer.js';
import { ShareGroup } from '../src/channels/share-group.js';
import { BrokerError } from '../src/errors.js';
import { ShareGroupAdmin } from '../src/group/share/share-admin.js';
import { brokers } from './harness/index.js';

const s = suite('share group admin on the real broker', { timeoutMs: 120_000 });

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

s('list, describe, offsets, reset (refused with members, then replayed), delete', async () => {
  const bootstrap = await brokers();
  const topic = `share-admin-${Date.now()}`;
  const groupId = `${topic}-sg`;
  const cluster = new Cluster({ bootstrap });
  const admin = new ShareGroupAdmin(cluster, { requestTimeoutMs: 10_000 });
  try {
    await new Admin(cluster).createTopics([{ name: topic, numPartitions: 2 }]);
    const p = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1 });
    for (let i = 0; i < 100; i++) await p.channels.output.send({ value: String(i), partition: i % 2 });
    await p.close();
    const consume = async (): Promise<{ group: ShareGroup; seen: Set<string> }> => {
      const group = new ShareGroup({ brokerAddrs: bootstrap, topic, groupName: groupId, minBrokersHealthy: 1, offset: 'oldest', fetchMaxWaitMs: 200 });
      const seen = new Set<string>();
      group.registerHandler((m) => { seen.add(m.value!.toString()); });
      group.start();
      await until('100 consumed', () => seen.size === 100);
      return { group, seen };
    };
    const first = await consume();
    assert.ok((await admin.listShareGroups()).some((g) => g.groupId === groupId), 'listed as a share group');
    const d = await admin.describeShareGroup(groupId);
    assert.is(d.members.length, 1);
    assert.equal(d.members[0]!.subscribedTopicNames, [topic]);
    assert.equal(d.members[0]!.assignment.get(topic), [0, 1]);
    assert.is(d.state, 'Stable');
    let last = '';
    await until('no lag left', async () => {
      const o = [...(await admin.shareGroupOffsets(groupId, topic))];
      last = JSON.stringify(o, (_, v) => (typeof v === 'bigint' ? String(v) : v));
      return o.length === 2 && o.every(([, x]) => x.lag === 0n && x.startOffset > 0n);
    }).catch((err: Error) => { throw new Error(`${err.message}: ${last}`); });
    const refused = await admin.resetShareGroupOffsets(groupId, topic, 'earliest').then(() => undefined, (e: unknown) => e);
    assert.ok(refused instanceof BrokerError, `a reset with a member in the group is refused: ${String(refused)}`);
    await first.group.close();
    await until('the member left', async () => (await admin.describeShareGroup(groupId)).members.length === 0);
    await admin.resetShareGroupOffsets(groupId, topic, 'earliest');
    const offsets = await admin.shareGroupOffsets(groupId, topic);
    assert.equal([...offsets.values()].map((o) => o.startOffset), [0n, 0n]);
    const second = await consume();
    assert.is(second.seen.size, 100, 'replayed after the reset');
    await second.group.close();
    await until('empty again', async () => (await admin.describeShareGroup(groupId)).members.length === 0);
    await admin.deleteShareGroup(groupId);
    assert.not.ok((await admin.listShareGroups()).some((g) => g.groupId === groupId), 'deleted');
    const gone = await admin.describeShareGroup(groupId).then(() => undefined, (e: unknown) => e);
    assert.ok(gone instanceof BrokerError && /GROUP_ID_NOT_FOUND|Dead/.test(gone.message) || gone === undefined, String(gone));
  } finally {
    await cluster.close();
  }
});

s.run();
