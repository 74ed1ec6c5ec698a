/**
 * Admin.listOffsets against the shared fake cluster (three brokers) whose partition leaders move: a partition
 * answered with NOT_LEADER_OR_FOLLOWER (or whose leader is unreachable) is asked again, of its new leader, after
 * a metadata refresh; answered partitions are not asked twice; the retries stop at the deadline with the last error.
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Admin, OffsetSpec } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { BrokerError, ConnectionError } from '../../src/errors.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';

const fast = { retryMinMs: 1, retryMaxMs: 4, retryDeadlineMs: 2_000 };
const s = suite('admin: listOffsets retries moved leaders', { timeoutMs: 5_000 });

/** End offsets of t-0, t-1, t-2: each partition's answer is recognisable. */
const END = [3, 5, 7];

let c: FakeCluster;
let cluster: Cluster;
s.before.each(async () => {
  // t-0 and t-1 led by broker 1, t-2 by broker 2; broker 3 leads nothing until a leader moves to it.
  c = await FakeCluster.start({ brokers: 3, topics: { t: 3 } });
  c.moveLeader('t', 1, 1);
  c.moveLeader('t', 2, 2);
  for (const p of [0, 1, 2]) await c.append('t', p, Array.from({ length: END[p]! }, (_, i) => `${p}/${i}`));
  cluster = new Cluster({ bootstrap: c.bootstrap, ...fast });
  await cluster.topic('t'); // the admin starts from metadata that names those leaders
});
s.after.each(async () => {
  await cluster.close({ timeoutMs: 500 });
  await c.close();
});

/** The ListOffsets requests so far: `broker:partitions`. */
const requests = (): string[] => c.log.of('ListOffsets').map((r) => `${r.broker}:${r.partitions.map((p) => p.partition).join(',')}`);

s('NOT_LEADER_OR_FOLLOWER once: metadata is refreshed and only that partition is asked again, of its new leader', async () => {
  c.moveLeader('t', 0, 3); // broker 1 now answers NOT_LEADER_OR_FOLLOWER for t-0
  const metadata = c.log.count('Metadata');
  const offsets = await new Admin(cluster, 30_000, fast).listOffsets('t', OffsetSpec.latest);
  assert.equal([...offsets].sort(([a], [b]) => a - b), [[0, 3n], [1, 5n], [2, 7n]]);
  assert.is(c.log.count('Metadata') - metadata, 1, 'one refresh');
  const sorted = requests();
  assert.equal(sorted.slice(0, 2).sort(), ['1:0,1', '2:2']);
  assert.equal(sorted.slice(2), ['3:0'], 'answered partitions are not asked twice');
});

s('LEADER_NOT_AVAILABLE and UNKNOWN_TOPIC_OR_PARTITION are retried too', async () => {
  c.fault({ api: 'ListOffsets', broker: 1, topic: 't', partition: 1, times: 1, action: 'error', code: errorCodes.LEADER_NOT_AVAILABLE });
  c.fault({ api: 'ListOffsets', broker: 1, topic: 't', partition: 1, times: 1, action: 'error', code: errorCodes.UNKNOWN_TOPIC_OR_PARTITION });
  const offsets = await new Admin(cluster, 30_000, fast).listOffsets('t');
  assert.is(offsets.get(1), 5n);
  assert.is(requests().length, 4);
  assert.equal(requests().slice(2), ['1:1', '1:1']);
});

s('a leader whose connection drops: its partitions go to the new leader', async () => {
  await c.stopBroker(2); // t-2's leadership moves to broker 3
  assert.is(c.leaderOf('t', 2), 3);
  const offsets = await new Admin(cluster, 30_000, fast).listOffsets('t');
  assert.is(offsets.get(2), 7n);
  assert.is(offsets.size, 3);
  assert.ok(requests().includes('3:2'), `asked the new leader: ${requests()}`);
});

s('non-retriable partition errors throw at once, without a refresh', async () => {
  c.fault({ api: 'ListOffsets', broker: 2, topic: 't', partition: 2, times: 1, action: 'error', code: errorCodes.TOPIC_AUTHORIZATION_FAILED });
  const metadata = c.log.count('Metadata');
  const err = await new Admin(cluster, 30_000, fast).listOffsets('t').then(() => null, (e: unknown) => e);
  assert.instance(err, BrokerError);
  assert.is((err as BrokerError).errorName, 'TOPIC_AUTHORIZATION_FAILED');
  assert.is(c.log.count('Metadata') - metadata, 0);
});

s('a leader that never comes back: the last error after the retry deadline', async () => {
  // Broker 2 drops every connection that asks it for offsets; the metadata keeps naming it as t-2's leader.
  c.fault({ api: 'ListOffsets', broker: 2, action: 'reset' });
  const started = Date.now();
  // Each attempt opens a connection (and asks ApiVersions) before it is dropped: a deadline long enough for several.
  const err = await new Admin(cluster, 30_000, { ...fast, retryDeadlineMs: 500 }).listOffsets('t').then(() => null, (e: unknown) => e);
  assert.instance(err, ConnectionError);
  const took = Date.now() - started;
  assert.ok(took >= 450 && took < 1_500, `gave up after ${took} ms`);
  assert.ok(c.log.count('ListOffsets', { broker: 2 }) > 3, 'retried several times before');
});

s.run();
