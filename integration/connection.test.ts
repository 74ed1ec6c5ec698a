/**
 * The connection layer against the real broker (PLAINTEXT listener): the ApiVersions handshake through our codec,
 * lanes, pipelining, the v0 layout of an UNSUPPORTED_VERSION answer, and a request that times out while the
 * broker is still working on it: its late response is dropped and the connection stays usable.
 */
import * as assert from 'uvu/assert';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import { suite } from '../test/kit.js';
import { singleNode } from './harness/index.js';
import { Broker, decodeApiVersionsResponse } from '../src/client/broker.js';
import { Connection } from '../src/client/connection.js';
import { ApiVersions } from '../src/protocol/apis/api-versions.js';
import { CreateTopics } from '../src/protocol/apis/create-topics.js';
import { Fetch } from '../src/protocol/apis/fetch.js';
import { Metadata } from '../src/protocol/apis/metadata.js';
import { ConnectionError, RequestTimeoutError } from '../src/errors.js';

function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

const brokers: Broker[] = [];
async function plaintextBroker(extra: Partial<ConstructorParameters<typeof Broker>[0]> = {}): Promise<Broker> {
  const b = new Broker({ ...hostPort((await singleNode()).endpoints.plaintext), ...extra });
  brokers.push(b);
  return b;
}

/** Creates a one-partition topic and waits until it has a leader; returns its id. */
async function createTopic(b: Broker, topic: string): Promise<string> {
  const created = await b.request(CreateTopics, { topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30_000 });
  assert.is(created.topics[0]!.errorCode, 0);
  for (let i = 0; i < 50; i++) {
    const md = await b.request(Metadata, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const t = md.topics[0]!;
    if (t.errorCode === 0 && t.partitions[0]?.leaderId === 1) {
      // Metadata can name the leader before its replica serves fetches (NOT_LEADER_OR_FOLLOWER): wait for that too.
      for (let j = 0; j < 50; j++) {
        const f = await b.request(Fetch, longPoll(topic, t.topicId!, 0));
        if (f.responses[0]?.partitions[0]?.errorCode === 0) return t.topicId!;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`topic ${topic} has no leader`);
}

/** A long poll: an empty partition with minBytes 1 makes the broker hold the fetch for `maxWaitMs`. */
function longPoll(topic: string, topicId: string, maxWaitMs: number) {
  return { maxWaitMs, minBytes: 1, topics: [{ topic, topicId, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [] };
}

/** A TCP relay in front of the real broker that a test can cut (the broker "vanishes") or stall. */
class Relay {
  server!: Server;
  port = 0;
  pairs: Array<[Socket, Socket]> = [];
  async start(target: { host: string; port: number }): Promise<void> {
    this.server = createServer((client) => {
      const upstream = tcpConnect(target);
      this.pairs.push([client, upstream]);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }
  cut(): void {
    for (const [a, b] of this.pairs.splice(0)) { a.destroy(); b.destroy(); }
  }
  stall(): void {
    for (const [, upstream] of this.pairs) upstream.unpipe();
  }
  async stop(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server.close(r));
  }
}

const s = suite('connection (real broker)', { timeoutMs: 120_000 });
s.after.each(async () => { await Promise.all(brokers.splice(0).map((b) => b.close())); });

s('ApiVersions through our codec: the broker lists its ranges', async () => {
  const b = await plaintextBroker();
  assert.is(b.apiVersions, undefined, 'the constructor does no I/O');
  const version = await b.versionFor(Metadata);
  const v = b.apiVersions!;
  assert.ok(v.get(0)![1] >= 11, `Produce max ${v.get(0)}`);
  assert.ok(v.get(1)![1] >= 16, `Fetch max ${v.get(1)}`);
  assert.equal(v.get(ApiVersions.apiKey), [0, 4]);
  assert.ok(version >= 12, `Metadata v${version}`);
});

s('Metadata on each lane: three sockets, one per lane', async () => {
  const b = await plaintextBroker();
  const node = hostPort((await singleNode()).endpoints.plaintext);
  const res = await Promise.all((['control', 'produce', 'fetch'] as const).map((lane) =>
    b.request(Metadata, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { lane })));
  for (const r of res) assert.ok(r.brokers.some((x) => x.port === node.port), JSON.stringify(r.brokers));
  const conns = await Promise.all((['control', 'produce', 'fetch'] as const).map((l) => b.connection(l)));
  assert.is(new Set(conns).size, 3);
});

s('100 pipelined requests on one lane are answered in order', async () => {
  const b = await plaintextBroker({ maxInFlight: 5 });
  const res = await Promise.all(Array.from({ length: 100 }, () => b.request(ApiVersions, { clientSoftwareName: 'kc', clientSoftwareVersion: '1' })));
  assert.ok(res.every((r) => r.errorCode === 0 && r.apiKeys.length > 20));
});

s('a version the broker does not know gets UNSUPPORTED_VERSION in the v0 layout, which we decode', async () => {
  const conn = await Connection.connect(hostPort((await singleNode()).endpoints.plaintext));
  try {
    // ApiVersions v99: header v2 (flexible), empty compact body; hand-built, as no codec exists for v99.
    const clientId = Buffer.from('kc');
    const f = Buffer.alloc(4 + 8 + 2 + clientId.length + 1 + 3);
    f.writeInt32BE(f.length - 4, 0);
    f.writeInt16BE(18, 4);
    f.writeInt16BE(99, 6);
    f.writeInt16BE(clientId.length, 12);
    clientId.copy(f, 14);
    const res = decodeApiVersionsResponse(99, (await conn.request(f))!);
    assert.is(res.errorCode, 35);
    const own = res.apiKeys.find((k) => k.apiKey === 18);
    assert.ok(own && own.maxVersion >= 3, JSON.stringify(own));
  } finally {
    await conn.close();
  }
});

s('a request that times out while the broker works on it: late response dropped, same connection still serves', async () => {
  const b = await plaintextBroker();
  const topic = `conn-late-${Date.now()}`;
  const topicId = await createTopic(b, topic);
  const conn = await b.connection('fetch');
  // An empty partition and minBytes 1: the broker holds the fetch for maxWaitMs (1.5 s) before answering.
  const started = Date.now();
  const err = await b.request(Fetch, longPoll(topic, topicId, 1500), { lane: 'fetch', timeoutMs: 200 }).then((r) => r, (e: Error) => e);
  assert.instance(err, RequestTimeoutError, JSON.stringify(err, (_k, v) => typeof v === 'bigint' ? String(v) : v));
  assert.ok(Date.now() - started < 1000, 'the timeout fired before the broker answered');
  assert.is(conn.inFlightCount, 1, 'the abandoned fetch keeps its slot until its response comes');
  const md = await b.request(Metadata, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { lane: 'fetch' });
  assert.ok(Date.now() - started >= 1400, 'metadata was answered after the late fetch response');
  assert.is(md.topics[0]!.name, topic);
  assert.is(await b.connection('fetch'), conn, 'same socket');
  assert.not.ok(conn.closed);
  assert.is(conn.inFlightCount, 0);
});

s('a broker that vanishes mid-request: every pending request gets a ConnectionError at once; the next one reconnects', async () => {
  const relay = new Relay();
  await relay.start(hostPort((await singleNode()).endpoints.plaintext));
  try {
    const b = await plaintextBroker({ host: '127.0.0.1', port: relay.port });
    const topic = `conn-vanish-${Date.now()}`;
    const topicId = await createTopic(b, topic);
    relay.stall(); // the broker still gets our requests, but its answers stop here: both are surely pending
    const fetch = b.request(Fetch, longPoll(topic, topicId, 5000), { timeoutMs: 30_000 }).then(() => null, (e: Error) => e);
    const meta = b.request(Metadata, { topics: [], includeTopicAuthorizedOperations: false }, { timeoutMs: 30_000 }).then(() => null, (e: Error) => e);
    await new Promise((r) => setTimeout(r, 200));
    assert.is((await b.connection('control')).inFlightCount, 2);
    const cutAt = Date.now();
    relay.cut();
    const [e1, e2] = await Promise.all([fetch, meta]);
    assert.instance(e1, ConnectionError);
    assert.instance(e2, ConnectionError, 'the request queued behind the long poll fails too');
    assert.ok(Date.now() - cutAt < 1000, 'failed at once, not after a timeout');
    const md = await b.request(Metadata, { topics: [], includeTopicAuthorizedOperations: false });
    assert.ok(md.brokers.length >= 1, 'a new connection serves');
    assert.is(relay.pairs.length, 1);
  } finally {
    await relay.stop();
  }
});

s('a broker that stops answering (no FIN) gives RequestTimeoutError, never a hang', async () => {
  const relay = new Relay();
  await relay.start(hostPort((await singleNode()).endpoints.plaintext));
  try {
    const b = await plaintextBroker({ host: '127.0.0.1', port: relay.port });
    await b.request(Metadata, { topics: [], includeTopicAuthorizedOperations: false });
    relay.stall();
    const err = await b.request(Metadata, { topics: [], includeTopicAuthorizedOperations: false }, { timeoutMs: 300 }).then(() => null, (e: Error) => e);
    assert.instance(err, RequestTimeoutError);
  } finally {
    await relay.stop();
  }
});

s('diagnostics_channel sees the handshake requests of a new connection', async () => {
  const seen: number[] = [];
  const onStart = (m: unknown) => seen.push((m as { apiKey: number }).apiKey);
  subscribe('kafka-channels:request:start', onStart);
  try {
    const b = await plaintextBroker();
    await b.request(Metadata, { topics: [], includeTopicAuthorizedOperations: false });
  } finally {
    unsubscribe('kafka-channels:request:start', onStart);
  }
  assert.equal(seen, [18, 3]);
});

s.run();
