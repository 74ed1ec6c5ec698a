/**
 * Interop with the seed's library: a dp-kafka v4 program (integration/go/dpkafka-peer, on the Sarama that dp-kafka
 * pins) and ours read what the other writes, against the real broker; and Sarama's own encoders and strict decoders
 * judge our consumer-protocol bytes (the bytes of a mixed group's JoinGroup and SyncGroup).
 *
 * dp-kafka's producer sends values only (no key; headers only as producer-wide `AddHeader`), and exposes no
 * compression setting: the peer sets Sarama's codec through dp-kafka's producer generator hook.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { ConsumerGroup } from '../src/channels/consumer-group.js';
import { Producer } from '../src/channels/producer.js';
import type { Message } from '../src/channels/message.js';
import type { Compression } from '../src/channels/config.js';
import {
  CONSUMER_PROTOCOL_VERSION, decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, subscriptionVersionFor,
} from '../src/group/consumer-protocol.js';
import { brokers } from './harness/index.js';
import { runDpKafkaPeer, startDpKafkaPeer, type PeerLine } from './harness/go-tools.js';

const s = suite('dp-kafka interop', { timeoutMs: 600_000 });
const CODECS: Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const JAVA_V3_SUBSCRIPTION = '0003000000020005617564697400066f726465727300000004000000070000000200056175646974000000010000000000066f72646572730000000200000001000000020000000700067261636b2d61';

async function createTopic(bootstrap: string[], name: string, partitions: number): Promise<void> {
  const cl = new Cluster({ bootstrap });
  try { await new Admin(cl).createTopics([{ name, numPartitions: partitions }], { ignoreExisting: true }); } finally { await cl.close(); }
}

function waitFor(what: string, cond: () => boolean, ms = 90_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`${what}: not met in ${ms} ms`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

s('Sarama 1.38 (dp-kafka v4) decodes the subscriptions we write for its assignors and every assignment we write', async () => {
  const sub = {
    topics: ['orders', 'audit'], userData: Buffer.from('00000007', 'hex'),
    ownedPartitions: [{ topic: 'orders', partitions: [2, 1] }, { topic: 'audit', partitions: [0] }], generationId: 7, rackId: 'rack-a',
  };
  const lines: string[] = [];
  for (const name of ['range', 'roundrobin']) lines.push(`sub ${encodeSubscription(sub, subscriptionVersionFor(name)).toString('hex')}`);
  for (let v = 0; v <= CONSUMER_PROTOCOL_VERSION; v++) lines.push(`sub ${encodeSubscription(sub, v).toString('hex')}`);
  const assigned = [{ topic: 'orders', partitions: [2, 1] }, { topic: 'audit', partitions: [0] }];
  for (let v = 0; v <= CONSUMER_PROTOCOL_VERSION; v++) {
    lines.push(`asg ${encodeAssignment({ assignedPartitions: assigned }, v).toString('hex')}`);
    lines.push(`asg ${encodeAssignment({ assignedPartitions: [], userData: Buffer.from('ab', 'hex') }, v).toString('hex')}`);
  }
  // Java 4.3's own subscription (recorded in test/group/consumer-protocol.test.ts): v3, so a Sarama 1.38 leader
  // cannot read a Java 4.x member either; that pairing needs a Java (or our) leader.
  lines.push(`sub ${JAVA_V3_SUBSCRIPTION}`);
  lines.push('enc-sub orders,audit', 'enc-asg orders:0,2', 'enc-asg ');
  const out = await runDpKafkaPeer(['codec'], lines.join('\n') + '\n');
  assert.is(out.length, lines.length, JSON.stringify(out));
  const [range, roundrobin, v0, v1, v2, v3] = out;
  for (const ok of [range, roundrobin, v1]) {
    assert.equal([ok!.error, ok!.version, ok!.topics, ok!.owned, ok!.userData], [undefined, 1, ['audit', 'orders'], { audit: [0], orders: [1, 2] }, '00000007']);
  }
  assert.equal([v0!.error, v0!.version, v0!.owned], [undefined, 0, {}]);
  // Versions 2 and 3 are what broke mixed groups: Sarama leaves the generation (and rack) unread and gives up.
  assert.is(v2!.error, 'kafka: error decoding packet: invalid length');
  assert.is(v3!.error, 'kafka: error decoding packet: invalid length');
  out.slice(6, 6 + 2 * (CONSUMER_PROTOCOL_VERSION + 1)).forEach((a, i) => {
    assert.is(a.error, undefined, `assignment ${i}: ${a.error}`);
    assert.equal(a.topics, i % 2 === 0 ? { orders: [2, 1], audit: [0] } : {});
  });
  assert.is(out.at(-4)!.error, 'kafka: error decoding packet: invalid length', 'Java 4.x subscription');
  // What Sarama writes, read by us (the unit tests hold the same bytes as fixtures).
  const [encSub, encAsg, encEmpty] = out.slice(-3);
  assert.is(encSub!.hex, '00000000000200066f726465727300056175646974ffffffff');
  assert.equal(decodeSubscription(Buffer.from(encSub!.hex as string, 'hex')), { version: 0, topics: ['orders', 'audit'], userData: null, ownedPartitions: [], generationId: -1, rackId: null });
  assert.is(encAsg!.hex, '00000000000100066f7264657273000000020000000000000002ffffffff');
  assert.equal(decodeAssignment(Buffer.from(encAsg!.hex as string, 'hex')).assignedPartitions, [{ topic: 'orders', partitions: [0, 2] }]);
  assert.equal(decodeAssignment(Buffer.from(encEmpty!.hex as string, 'hex')), { version: 0, assignedPartitions: [], userData: null });
});

s('we read what dp-kafka writes: values, its producer headers, every codec Sarama offers it', async () => {
  const bootstrap = await brokers();
  const topic = `dpk-to-ours-${Date.now()}`;
  await createTopic(bootstrap, topic, 3);
  const per = 200;
  for (const codec of CODECS) {
    const out = await runDpKafkaPeer(['produce', '-brokers', bootstrap.join(','), '-topic', topic, '-n', String(per),
      '-prefix', codec, '-codec', codec, '-header', `codec=${codec}`, '-header', 'app=dp']);
    assert.equal(out.filter((l) => l.type !== 'produced'), [], `${codec}: errors`);
    assert.equal(out.at(-1), { type: 'produced', count: per, acked: per });
  }
  const g = new ConsumerGroup({ brokerAddrs: bootstrap, topic, groupName: `${topic}-ours`, minBrokersHealthy: 1, messageConsumeTimeout: 6000 });
  const got = new Map<string, Message>();
  g.registerHandler(async (m: Message) => { got.set(m.value!.toString(), m); });
  g.start();
  try {
    await waitFor('all of dp-kafka\'s records', () => got.size === per * CODECS.length);
  } finally {
    await g.close();
  }
  for (const codec of CODECS) {
    for (const i of [0, per - 1]) {
      const m = got.get(`${codec}-${i}`);
      assert.ok(m, `${codec}-${i}`);
      assert.is(m!.key, null, 'dp-kafka sends no key');
      const headers = Object.fromEntries(m!.headers.map((h) => [h.key, h.value?.toString()]));
      assert.is(headers.codec, codec);
      assert.is(headers.app, 'dp');
    }
  }
});

s('dp-kafka reads what we write: keys, headers, every codec', async () => {
  const bootstrap = await brokers();
  const topic = `ours-to-dpk-${Date.now()}`;
  await createTopic(bootstrap, topic, 3);
  const per = 200;
  for (const codec of CODECS) {
    const p = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1, compression: codec });
    for (let i = 0; i < per; i++) {
      const key = i % 10 === 0 ? null : `k-${codec}-${i}`;
      await p.send({ key, value: `${codec}-${i}`, headers: [{ key: 'codec', value: codec }, { key: 'i', value: String(i) }] });
    }
    await p.close();
  }
  const peer = await startDpKafkaPeer(['consume', '-brokers', bootstrap.join(','), '-topic', topic, '-group', `${topic}-dp`]);
  const records = (): PeerLine[] => peer.of('record');
  try {
    await waitFor('dp-kafka consumed everything', () => records().length >= per * CODECS.length);
  } catch (err) {
    throw new Error(`${(err as Error).message}; got ${records().length}\n${peer.tail()}`);
  } finally {
    await peer.close();
  }
  const byValue = new Map(records().map((r) => [r.value as string, r]));
  assert.is(byValue.size, per * CODECS.length, 'each record once');
  for (const codec of CODECS) {
    for (let i = 0; i < per; i++) {
      const r = byValue.get(`${codec}-${i}`);
      assert.ok(r, `${codec}-${i}`);
      assert.is(r!.key, i % 10 === 0 ? null : `k-${codec}-${i}`);
      const { 'request-id': traceId, ...rest } = r!.headers as Record<string, string>;
      assert.equal(rest, { codec, i: String(i) });
      assert.match(traceId!, /^[0-9a-f-]{36}$/, 'our trace header is dp-kafka\'s request-id'); // dp-kafka's TraceIDHeaderKey
      assert.is(r!.topic, topic);
    }
  }
});

s('health side by side: the same brokers, the same one down, the same status from dp-kafka\'s Checker and ours', async () => {
  const bootstrap = await brokers();
  const topic = `dpk-health-${Date.now()}`;
  await createTopic(bootstrap, topic, 1);
  // A broker that is down looks, to either probe, like an address where nothing listens.
  const down = await closedAddress();
  const cases = [
    { name: 'all up', addrs: bootstrap, min: 1, want: 'OK' },
    { name: 'one of two down, 1 required', addrs: [...bootstrap, down], min: 1, want: 'OK' },
    { name: 'one of two down, 2 required', addrs: [...bootstrap, down], min: 2, want: 'CRITICAL' },
    { name: 'the only broker down (never initialised)', addrs: [down], min: 1, want: 'WARNING' },
  ];
  const rows: string[] = [];
  for (const c of cases) {
    const group = `${topic}-${cases.indexOf(c)}`;
    const peer = await startDpKafkaPeer(['consume', '-brokers', c.addrs.join(','), '-topic', topic, '-group', `${group}-dp`, '-min-brokers', String(c.min)]);
    const g = new ConsumerGroup({ brokerAddrs: c.addrs, topic, groupName: `${group}-ours`, minBrokersHealthy: c.min, messageConsumeTimeout: 6000, connectTimeoutMs: 2000 });
    try {
      let theirs: PeerLine | undefined;
      await waitFor(`${c.name}: dp-kafka's status`, () => {
        const h = peer.of('health').at(-1);
        if (h?.status === c.want) { theirs = h; return true; }
        peer.send('health');
        return false;
      }, 60_000);
      let ours = await g.checker();
      const t0 = Date.now();
      while (ours.status !== c.want && Date.now() - t0 < 30_000) { await new Promise((r) => setTimeout(r, 500)); ours = await g.checker(); }
      rows.push(`${c.name}: dp-kafka ${theirs!.status} (${theirs!.message}) | ours ${ours.status} (${ours.message})`);
      assert.is(ours.status, theirs!.status, c.name);
    } finally {
      await g.close();
      await peer.close();
    }
  }
  console.log(`\n${rows.join('\n')}`);
});

/** host:port on this machine where nothing listens (a port bound, then released). */
async function closedAddress(): Promise<string> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

s.run();
