/**
 * checker() by dp-kafka's rules against real brokers: all up → OK; some down but at least minBrokersHealthy →
 * OK naming the unreachable ones; fewer → CRITICAL; never initialised → WARNING; a topic the brokers lack is
 * hasTopic false. And a consumer group closed in the middle of a rebalance closes cleanly and leaves the group empty.
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { ConsumerGroup } from '../src/channels/consumer-group.js';
import { Producer } from '../src/channels/producer.js';
import { GroupCoordinator } from '../src/group/coordinator.js';
import { brokers, cluster } from './harness/index.js';

const s = suite('health and close (real brokers)', { timeoutMs: 150_000 });

s('producer health on the 3-node cluster: OK, then OK with one node down (minBrokersHealthy 2), CRITICAL below it', async () => {
  const c = await cluster();
  const topic = `health-${Date.now()}`;
  const cl = new Cluster({ bootstrap: c.bootstrap });
  try { await new Admin(cl).createTopics([{ name: topic, numPartitions: 3, replicationFactor: 3 }]); } finally { await cl.close(); }
  const p = new Producer({ brokerAddrs: c.bootstrap, topic, minBrokersHealthy: 2 });
  const strict = new Producer({ brokerAddrs: c.bootstrap, topic, minBrokersHealthy: 3 });
  try {
    await Promise.all([p.channels.ready.wait(), strict.channels.ready.wait()]);
    // A new topic reaches each broker's metadata cache a moment apart (a node restarted by an earlier suite may
    // still be catching up), so wait for all three to know it.
    let all = await p.checker();
    await eventually('all three brokers to know the topic', async () => (all = await p.checker()).brokers.filter((b) => b.reachable && b.hasTopic).length === 3, 30_000, 250);
    assert.is(all.status, 'OK', all.message);
    // The same brokers, asked about a topic they do not have: reachable, hasTopic false on each (so the wait above
    // could not have been met by a probe that always says the topic exists).
    const missing = new ConsumerGroup({ brokerAddrs: c.bootstrap, topic: `${topic}-missing`, groupName: `${topic}-g`, minBrokersHealthy: 1, minRetryPeriod: 60_000, maxRetryPeriod: 60_000 });
    try {
      const none = await missing.checker();
      assert.equal(none.brokers.map((b) => [b.reachable, b.hasTopic]), [[true, false], [true, false], [true, false]], none.message);
      assert.equal([none.status, none.message], ['WARNING', 'kafka consumer-group is not initialised']);
    } finally {
      await missing.close({ signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    }
    await c.kill(3);
    try {
      const some = await p.checker();
      assert.is(some.status, 'OK', 'two healthy brokers satisfy minBrokersHealthy 2');
      assert.match(some.message, c.nodes[2]!.address);
      const fewer = await strict.checker();
      assert.is(fewer.status, 'CRITICAL', 'two healthy brokers do not satisfy minBrokersHealthy 3');
    } finally {
      await c.start(3);
    }
  } finally {
    await Promise.all([p.close(), strict.close()]);
  }
});

s('a producer for brokers that are all down is WARNING (not initialised); an initialised one whose broker is gone is CRITICAL', async () => {
  const dead = ['127.0.0.1:1'];
  const p = new Producer({ brokerAddrs: dead, topic: 'nowhere', minBrokersHealthy: 1 });
  const h = await p.checker();
  assert.is(h.status, 'WARNING');
  await p.close({ signal: AbortSignal.timeout(2000) });
  const c = await cluster();
  const topic = `health-gone-${Date.now()}`;
  const only = c.nodes[0]!.address;
  const p2 = new Producer({ brokerAddrs: [only], topic, minBrokersHealthy: 1 });
  try {
    await p2.channels.ready.wait();
    await c.kill(1);
    try {
      const gone = await p2.checker();
      assert.is(gone.status, 'CRITICAL', gone.message);
    } finally {
      await c.start(1);
    }
  } finally {
    await p2.close({ signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
  }
});

s('close during a rebalance: both members close, nothing hangs, the group ends empty', async () => {
  const bootstrap = await brokers();
  const topic = `close-rebalance-${Date.now()}`;
  const cl = new Cluster({ bootstrap });
  try { await new Admin(cl).createTopics([{ name: topic, numPartitions: 4 }]); } finally { await cl.close(); }
  const p = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1 });
  for (let i = 0; i < 400; i++) await p.send({ value: `r${i}` });
  await p.close();
  const cfg = { brokerAddrs: bootstrap, topic, groupName: `${topic}-g`, messageConsumeTimeout: 6000, heartbeatIntervalMs: 500 };
  const a = new ConsumerGroup(cfg);
  let handled = 0;
  a.registerHandler(async () => { handled++; await new Promise((r) => setTimeout(r, 2)); });
  a.start();
  await a.stateWait('Consuming');
  const b = new ConsumerGroup(cfg);
  b.registerHandler(async () => { handled++; });
  b.start(); // a's next heartbeat sees REBALANCE_IN_PROGRESS
  await a.stateWait('Starting'); // a is in the rebalance now
  const t0 = Date.now();
  await Promise.all([a.close(), b.close()]);
  assert.ok(Date.now() - t0 < 30_000, 'close finished promptly');
  assert.ok(a.channels.closed.closed && b.channels.closed.closed);
  assert.ok(handled > 0);
  // Both members left: the group has no member and is Empty (a member that closed without LeaveGroup would
  // still be listed until its session timed out).
  const cl2 = new Cluster({ bootstrap });
  try {
    const coordinator = await new GroupCoordinator(cl2, cfg.groupName).broker(AbortSignal.timeout(10_000));
    const [g] = await new Admin(cl2).describeGroups(coordinator, [cfg.groupName]);
    assert.equal([g!.errorCode, g!.groupState, g!.members.length], [0, 'Empty', 0]);
  } finally {
    await cl2.close();
  }
});
s.run();
