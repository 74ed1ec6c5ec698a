import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { createServer, type Server, type Socket } from 'node:net';
import {
  MSG_HEALTHY_CONSUMER_GROUP, MSG_HEALTHY_PRODUCER, checkHealth, checker, evaluateHealth, type BrokerHealth, type HealthSource,
} from '../../src/channels/health.js';
import { BrokerHealthProbe } from '../../src/channels/broker-health.js';
import { ConsumerGroup } from '../../src/channels/consumer-group.js';
import { Producer } from '../../src/channels/producer.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';

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


/** A source whose initialise is counted and, unless told otherwise, succeeds. */
function source(brokers: BrokerHealth[], initialise: (signal?: AbortSignal) => Promise<void> = async () => undefined): HealthSource & { inits: number; done: boolean } {
  const src = {
    inits: 0, done: false, minBrokersHealthy: 1, timeoutMs: 100,
    isInitialised: () => src.done,
    initialise: async (signal?: AbortSignal) => { src.inits++; await initialise(signal); src.done = true; },
    probe: async () => brokers,
  };
  return src;
}

s("the seed's rule: not initialised, every broker answering with the topic: the check initialises and says OK", async () => {
  const src = source([ok('a:1'), ok('b:1')]);
  const r = await checkHealth('producer', src);
  assert.equal([r.status, r.message, src.inits], ['OK', MSG_HEALTHY_PRODUCER, 1]);
  await checkHealth('producer', src);
  assert.is(src.inits, 1, 'initialised: not tried again');
});

s('not initialised and a broker unhealthy: WARNING, no initialisation tried; a failed or slow one stays WARNING', async () => {
  for (const brokers of [[ok('a:1'), down('b:1')], [noTopic('a:1')], []]) {
    const src = source(brokers);
    const r = await checkHealth('consumer-group', src);
    assert.equal([r.status, r.message, src.inits], ['WARNING', 'kafka consumer-group is not initialised', 0]);
  }
  const failing = source([ok('a:1')], async () => { throw new Error('no'); });
  assert.is((await checkHealth('producer', failing)).status, 'WARNING');
  // An initialisation that would never end is given up after timeoutMs: the signal it gets aborts then.
  const stuck = source([ok('a:1')], (signal) => new Promise((_, reject) => signal!.addEventListener('abort', () => reject(signal!.reason))));
  const t0 = Date.now();
  assert.is((await checkHealth('producer', stuck)).status, 'WARNING');
  assert.ok(Date.now() - t0 < 1_000, `took ${Date.now() - t0} ms`);
});

s('a probe that throws gives CRITICAL with its message', async () => {
  const r = await checkHealth('producer', { ...source([]), probe: async () => { throw new Error('boom'); } });
  assert.equal([r.status, r.message], ['CRITICAL', 'kafka producer health check failed: boom']);
});

/** A TCP listener that accepts connections and never answers a byte (a wedged broker or a wrong port). */
async function silentBroker(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => { sockets.add(sock); sock.on('error', () => undefined); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { address: `127.0.0.1:${port}`, close: async () => { for (const x of sockets) x.destroy(); await new Promise((r) => server.close(r)); } };
}

s('the probe: the topic listed with partitions is hasTopic; a missing topic is reachable without it; a silent broker is unreachable within the timeout', async () => {
  const c = await FakeCluster.start({ brokers: 2, topics: { t: 2 } });
  const silent = await silentBroker();
  const probes: BrokerHealthProbe[] = [];
  try {
    const probe = (topic: string, addrs = c.bootstrap): BrokerHealthProbe => { const p = new BrokerHealthProbe(addrs, topic, { clientId: 'h' }, 300); probes.push(p); return p; };
    assert.equal((await probe('t').check()).map((b) => [b.reachable, b.hasTopic]), [[true, true], [true, true]]);
    assert.equal((await probe('nope').check()).map((b) => [b.reachable, b.hasTopic]), [[true, false], [true, false]]);
    const t0 = Date.now();
    const r = await probe('t', [c.bootstrap[0]!, silent.address]).check();
    const ms = Date.now() - t0;
    assert.equal(r.map((b) => [b.address, b.reachable, b.hasTopic]), [[c.bootstrap[0], true, true], [silent.address, false, false]]);
    assert.ok(ms >= 250 && ms < 1_500, `a silent broker took ${ms} ms (timeout 300)`);
  } finally {
    await Promise.all(probes.map((p) => p.close()));
    await silent.close();
    await c.close();
  }
});

s('Producer and ConsumerGroup checker(): before initialisation they initialise from the check (OK); a broker that stops answering is CRITICAL within requestTimeoutMs', async () => {
  const c = await FakeCluster.start({ brokers: 1, topics: { t: 1 } });
  const common = { brokerAddrs: c.bootstrap, topic: 't', minBrokersHealthy: 1, requestTimeoutMs: 400, minRetryPeriod: 60_000, maxRetryPeriod: 60_000 };
  // The background initialisations' first attempts fail (the topic refused once each), their retries are a minute away.
  c.fault({ api: 'Metadata', topic: 't', times: 2, action: 'error', code: 29 }); // TOPIC_AUTHORIZATION_FAILED
  const producer = new Producer(common);
  const group = new ConsumerGroup({ ...common, groupName: 'g' });
  try {
    await new Promise((r) => setTimeout(r, 200));
    assert.not.ok(producer.isInitialised() || group.isInitialised(), 'not initialised yet: the check is what initialises');
    for (const client of [producer, group]) {
      const r = await client.checker();
      assert.is(r.status, 'OK', r.message);
      assert.ok(client.isInitialised());
    }
    c.fault({ api: 'Metadata', action: 'drop' }); // accepts the request, never answers
    for (const client of [producer, group]) {
      const t0 = Date.now();
      const r = await client.checker();
      const ms = Date.now() - t0;
      assert.is(r.status, 'CRITICAL', r.message);
      assert.ok(ms >= 350 && ms < 2_000, `CRITICAL after ${ms} ms (requestTimeoutMs 400)`);
    }
  } finally {
    c.clearFaults();
    await Promise.all([producer.close(), group.close()]);
    await c.close();
  }
});

s.run();
