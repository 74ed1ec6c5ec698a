/**
 * dp-kafka's session loop (src/group/session-retry.ts) through the channel ConsumerGroup on the fake cluster: a
 * failed session is reported with its cause and started again after the backoff, the state showing Starting in
 * between; a cause retrying cannot fix soon (fenced, unauthorised) waits maxRetryPeriod and is still retried.
 * Also: close() on a coordinator that stopped answering is bounded by requestTimeoutMs.
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../kit.js';
import { ConsumerGroup } from '../../src/channels/consumer-group.js';
import type { ConsumerGroupConfig } from '../../src/channels/config.js';
import type { ConsumerState } from '../../src/channels/state.js';
import { BrokerError, KafkaError } from '../../src/errors.js';
import { isSlowRetryCause } from '../../src/group/session-retry.js';
import { AuthenticationError } from '../../src/errors.js';
import { brokerError, errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';

let c: FakeCluster;
let groups: ConsumerGroup[] = [];
const s = suite('group session retry (channel ConsumerGroup, fake cluster)', { timeoutMs: 20_000 });
s.before.each(async () => { c = await FakeCluster.start({ brokers: 1, topics: { t: 2 } }); });
s.after.each(async () => {
  c.clearFaults();
  await Promise.allSettled(groups.map((g) => g.close({ signal: AbortSignal.timeout(3_000) })));
  groups = [];
  await c.close();
});

function group(config: Partial<ConsumerGroupConfig> = {}): { g: ConsumerGroup; errors: Error[]; states: ConsumerState[] } {
  const g = new ConsumerGroup({
    brokerAddrs: c.bootstrap, topic: 't', groupName: 'g', minRetryPeriod: 40, maxRetryPeriod: 640, retryBackoffMs: 20,
    heartbeatIntervalMs: 50, messageConsumeTimeout: 1_000, rebalanceTimeoutMs: 2_000, autoCommitIntervalMs: 100,
    fetchMaxWaitMs: 50, requestTimeoutMs: 3_000, ...config,
  });
  groups.push(g);
  const errors: Error[] = [];
  const states: ConsumerState[] = [];
  void (async () => { for await (const e of g.channels.errors) errors.push(e); })();
  const timer = setInterval(() => { if (states.at(-1) !== g.state) states.push(g.state); }, 5);
  timer.unref();
  return { g, errors, states };
}

const sessionFailures = (errors: Error[]): KafkaError[] => errors.filter((e): e is KafkaError => e instanceof KafkaError && e.code === 'ERR_KAFKA_SESSION_FAILED');

s('a fenced instance (fatal) is reported, the state goes back to Starting, and after maxRetryPeriod the member consumes again', async () => {
  const { g, errors, states } = group({ groupInstanceId: 'i-1' });
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(10_000));
  c.fault({ api: 'Heartbeat', action: 'error', code: errorCodes.FENCED_INSTANCE_ID, times: 1 });
  await eventually('reported', () => sessionFailures(errors).length === 1, 5_000);
  const failedAt = Date.now();
  const f = sessionFailures(errors)[0]!;
  assert.instance(f.cause, BrokerError);
  assert.is((f.cause as BrokerError).errorName, 'FENCED_INSTANCE_ID');
  assert.match(f.message, /in 640 ms/, 'the slow end of the backoff');
  await eventually('Starting while waiting', () => g.state === 'Starting', 1_000);
  const joinsBefore = c.log.count('JoinGroup');
  await new Promise((r) => setTimeout(r, 400));
  assert.is(c.log.count('JoinGroup'), joinsBefore, 'no rejoin before maxRetryPeriod');
  await g.stateWait('Consuming', AbortSignal.timeout(5_000));
  assert.ok(Date.now() - failedAt >= 600, `consuming again after ${Date.now() - failedAt} ms`);
  await new Promise((r) => setTimeout(r, 30)); // the state sampler's next tick
  assert.equal(states.slice(-3), ['Consuming', 'Starting', 'Consuming'], states.join(' '));
});

s('a failure retrying can fix (INCONSISTENT_GROUP_PROTOCOL) is retried on the cyclic backoff from minRetryPeriod, never dropped', async () => {
  const { g, errors } = group();
  c.fault({ api: 'JoinGroup', action: 'error', code: errorCodes.INCONSISTENT_GROUP_PROTOCOL, times: 3 });
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(10_000));
  const f = sessionFailures(errors);
  assert.is(f.length, 3);
  assert.equal(f.map((e) => (e.cause as BrokerError).errorName), ['INCONSISTENT_GROUP_PROTOCOL', 'INCONSISTENT_GROUP_PROTOCOL', 'INCONSISTENT_GROUP_PROTOCOL']);
  const pauses = f.map((e) => Number(/in (\d+) ms/.exec(e.message)![1]));
  assert.ok(pauses[0]! >= 30 && pauses[0]! < 50 && pauses[1]! >= 70 && pauses[1]! < 90 && pauses[2]! >= 150 && pauses[2]! < 170, `pauses ${pauses.join(',')}`);
});

s('which causes wait at the slow end', () => {
  assert.ok(isSlowRetryCause(new AuthenticationError('bad password')));
  for (const code of [errorCodes.GROUP_AUTHORIZATION_FAILED, errorCodes.TOPIC_AUTHORIZATION_FAILED, errorCodes.FENCED_INSTANCE_ID]) assert.ok(isSlowRetryCause(brokerError(code)));
  assert.not.ok(isSlowRetryCause(brokerError(errorCodes.INCONSISTENT_GROUP_PROTOCOL)));
  assert.not.ok(isSlowRetryCause(new Error('x')));
});

s('close() while the coordinator stopped answering takes about requestTimeoutMs, not 30 s', async () => {
  const { g } = group({ requestTimeoutMs: 500 });
  g.start();
  await g.stateWait('Consuming', AbortSignal.timeout(10_000));
  c.fault({ action: 'drop' }); // every request from now on is accepted and never answered
  const t0 = Date.now();
  await g.close();
  const ms = Date.now() - t0;
  assert.ok(ms < 2_500, `close took ${ms} ms (requestTimeoutMs 500)`);
});

s.run();
