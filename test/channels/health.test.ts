import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import {
  MSG_HEALTHY_CONSUMER_GROUP, MSG_HEALTHY_PRODUCER, checker, evaluateHealth, type BrokerHealth,
} from '../../src/channels/health.js';

const s = suite('health', { timeoutMs: 5_000 });

const ok = (address: string): BrokerHealth => ({ address, reachable: true, hasTopic: true });
const down = (address: string): BrokerHealth => ({ address, reachable: false, hasTopic: false });
const noTopic = (address: string): BrokerHealth => ({ address, reachable: true, hasTopic: false });

s('not initialised: WARNING, whatever the brokers say', () => {
  const p = evaluateHealth({ initialised: false, brokers: [ok('a:1'), ok('b:1')], minBrokersHealthy: 1 }, 'producer');
  assert.is(p.status, 'WARNING');
  assert.is(p.message, 'kafka producer is not initialised');
  const c = evaluateHealth({ initialised: false, brokers: [], minBrokersHealthy: 1 }, 'consumer-group');
  assert.is(c.status, 'WARNING');
  assert.is(c.message, 'kafka consumer-group is not initialised');
});

s('no brokers: CRITICAL', () => {
  const r = evaluateHealth({ initialised: true, brokers: [], minBrokersHealthy: 1 }, 'producer');
  assert.is(r.status, 'CRITICAL');
  assert.is(r.message, 'no brokers defined');
});

s('all brokers healthy: OK with the healthy message of the subject', () => {
  const view = { initialised: true, brokers: [ok('a:1'), ok('b:1')], minBrokersHealthy: 2 };
  assert.equal(evaluateHealth(view, 'producer'), { status: 'OK', message: MSG_HEALTHY_PRODUCER, brokers: view.brokers });
  assert.is(evaluateHealth(view, 'consumer-group').message, MSG_HEALTHY_CONSUMER_GROUP);
  assert.is(MSG_HEALTHY_PRODUCER, 'kafka producer is healthy');
  assert.is(MSG_HEALTHY_CONSUMER_GROUP, 'kafka consumer group is healthy');
});

s('enough but not all healthy: OK, with a message naming the unhealthy brokers (dp-kafka v3.10+)', () => {
  const r = evaluateHealth({ initialised: true, brokers: [ok('a:1'), down('b:1'), ok('c:1')], minBrokersHealthy: 2 }, 'producer');
  assert.is(r.status, 'OK');
  assert.is(r.message, 'broker(s) not reachable at: [b:1]');
});

s('exactly minBrokersHealthy healthy is enough', () => {
  const r = evaluateHealth({ initialised: true, brokers: [ok('a:1'), down('b:1')], minBrokersHealthy: 1 }, 'consumer-group');
  assert.is(r.status, 'OK');
});

s('fewer healthy than minBrokersHealthy: CRITICAL', () => {
  const r = evaluateHealth({ initialised: true, brokers: [ok('a:1'), down('b:1'), down('c:1')], minBrokersHealthy: 2 }, 'producer');
  assert.is(r.status, 'CRITICAL');
  assert.is(r.message, 'broker(s) not reachable at: [b:1 c:1]');
});

s('a reachable broker without the topic is unhealthy, and named separately', () => {
  const r = evaluateHealth({ initialised: true, brokers: [noTopic('a:1'), down('b:1'), ok('c:1')], minBrokersHealthy: 2 }, 'producer');
  assert.is(r.status, 'CRITICAL');
  assert.is(r.message, 'broker(s) not reachable at: [b:1], unexpected metadata response from broker(s): [a:1]');
  const only = evaluateHealth({ initialised: true, brokers: [noTopic('a:1'), ok('b:1')], minBrokersHealthy: 1 }, 'producer');
  assert.is(only.status, 'OK');
  assert.is(only.message, 'unexpected metadata response from broker(s): [a:1]');
});

s('an unreachable broker is not also listed as missing the topic', () => {
  const r = evaluateHealth({ initialised: true, brokers: [down('a:1')], minBrokersHealthy: 1 }, 'producer');
  assert.is(r.status, 'CRITICAL');
  assert.not.match(r.message, /metadata/);
});

s('checker takes a fresh view on every call', async () => {
  let reachable = true;
  const check = checker('consumer-group', () => ({ initialised: true, brokers: [{ address: 'a:1', reachable, hasTopic: true }], minBrokersHealthy: 1 }));
  assert.is((await check()).status, 'OK');
  reachable = false;
  assert.is((await check()).status, 'CRITICAL');
});

s('checker accepts an async probe and turns a failing probe into CRITICAL', async () => {
  const good = checker('producer', async () => ({ initialised: false, brokers: [], minBrokersHealthy: 1 }));
  assert.is((await good()).status, 'WARNING');
  const bad = checker('producer', async () => {
    throw new Error('metadata timed out');
  });
  const r = await bad();
  assert.is(r.status, 'CRITICAL');
  assert.match(r.message, /metadata timed out/);
});

s.run();
