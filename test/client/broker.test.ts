/**
 * The Broker's handshake logic against the fake cluster (test/fake-cluster; the real broker is in
 * integration/connection.test.ts and security.test.ts). Here we can do what a real broker will not on demand:
 * refuse our ApiVersions version, advertise narrow ranges, grant a 300 ms SASL session (KIP-368), drop a socket.
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Broker, encodeRequest, encodeRequestChunks } from '../../src/client/broker.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { Metadata } from '../../src/protocol/apis/metadata.js';
import { AuthenticationError, ConnectionError, UnsupportedVersionError } from '../../src/errors.js';
import { FakeCluster, type FakeClusterOptions } from '../fake-cluster/fake-cluster.js';
import { saslSettings } from '../fake-cluster/handlers-sasl.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const metadata = { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false };

let fake: FakeCluster;
let broker: Broker | undefined;

/** A one-broker fake cluster advertising Metadata up to v12 (as the old fake peer did), with `options`. */
async function start(options: FakeClusterOptions = {}): Promise<void> {
  await fake?.close();
  fake = await FakeCluster.start({ clusterId: 'fake', ...options, versions: { Metadata: [0, 12], ...options.versions } });
}
const port = () => fake.state.ports.get(1)!;
/** `[apiKey, version]` of every request frame received, in arrival order (those the broker refused unparsed too). */
const seen = () => fake.log.arrivals.map((a) => [a.apiKey, a.version]);
/** Connections that sent anything, in order of their first request. */
const sockets = () => [...new Set(fake.log.arrivals.map((a) => a.connection))];
/** API keys handled on the n-th connection, in order. */
const keysOn = (n: number) => fake.log.entries.filter((e) => e.connection === sockets()[n]).map((e) => e.apiKey);

const s = suite('broker (fake cluster)');
s.before.each(async () => { await start(); });
s.after.each(async () => { broker?.destroy(); broker = undefined; await fake.close(); });

s('sends ApiVersions v4 first, then picks min(ours, broker max) for each request', async () => {
  broker = new Broker({ host: '127.0.0.1', port: port() });
  const res = await broker.request(Metadata, metadata);
  assert.is(res.clusterId, 'fake');
  assert.equal(seen(), [[18, 4], [3, 12]]);
  assert.equal(fake.log.of('ApiVersions')[0]!.body, { clientSoftwareName: 'kafka-channels', clientSoftwareVersion: '0.1.0' });
  assert.equal(broker.apiVersions!.get(3), [0, 12]);
});

s('UNSUPPORTED_VERSION to ApiVersions: retried at the version the v0 answer allows', async () => {
  await start({ versions: { ApiVersions: [0, 2] } });
  broker = new Broker({ host: '127.0.0.1', port: port() });
  await broker.request(Metadata, metadata);
  assert.equal(seen(), [[18, 4], [18, 2], [3, 12]]);
  assert.is(sockets().length, 1, 'on the same socket');
  assert.is(fake.connectionCount(), 1);
});

s('a pin caps the version, as does a narrower broker range; no common version is UnsupportedVersionError', async () => {
  await start({ versions: { Metadata: [4, 9] } });
  broker = new Broker({ host: '127.0.0.1', port: port() });
  await broker.request(Metadata, metadata);
  await broker.request(Metadata, metadata, { version: 5 });
  await broker.request(Metadata, metadata, { version: 11 });
  assert.equal(fake.log.of('Metadata').map((x) => x.version), [9, 5, 9]);
  const err = await broker.request(Metadata, metadata, { version: 3 }).then(() => null, (e: Error) => e);
  assert.instance(err, UnsupportedVersionError);
  // A broker that does not list Metadata at all.
  fake.fault({ api: 'ApiVersions', action: 'mutate', mutate: (res) => { res.apiKeys = (res.apiKeys as { apiKey: number }[]).filter((k) => k.apiKey !== 3); } });
  const b2 = new Broker({ host: '127.0.0.1', port: port() });
  const missing = await b2.request(Metadata, metadata).then(() => null, (e: Error) => e);
  b2.destroy();
  assert.instance(missing, UnsupportedVersionError);
  assert.match(missing!.message, /does not support/);
});

const sasl = { mechanism: 'PLAIN', username: 'u', password: 'secret' } as const;

s('SASL PLAIN: handshake then authenticate on every lane before any other request', async () => {
  saslSettings(fake.state).users.set('u', 'secret');
  broker = new Broker({ host: '127.0.0.1', port: port(), sasl });
  await Promise.all([broker.request(Metadata, metadata), broker.request(Metadata, metadata, { lane: 'fetch' })]);
  assert.is(sockets().length, 2);
  for (const socket of [0, 1]) assert.equal(keysOn(socket), [18, 17, 36, 3], `socket ${socket}`);
  assert.equal(fake.log.of('SaslHandshake').map((x) => x.body.mechanism), ['PLAIN', 'PLAIN']);
});

s('KIP-368: re-authenticates on the same socket before the session lifetime ends', async () => {
  saslSettings(fake.state).users.set('u', 'secret');
  saslSettings(fake.state).sessionLifetimeMs = 300;
  broker = new Broker({ host: '127.0.0.1', port: port(), sasl });
  await broker.request(Metadata, metadata);
  const auths = () => keysOn(0).filter((k) => k === 36).length;
  const started = Date.now();
  while (auths() < 3 && Date.now() - started < 3000) {
    await broker.request(Metadata, metadata); // keeps traffic flowing through the re-authentications
    await sleep(20);
  }
  assert.ok(auths() >= 3, `re-authenticated twice within ${Date.now() - started} ms`);
  assert.is(sockets().length, 1, 'no reconnect');
  // SASL frames never interleave with other requests: each SaslHandshake is followed directly by SaslAuthenticate.
  const keys = fake.log.arrivals.map((x) => x.apiKey);
  keys.forEach((k, i) => { if (k === 17) assert.is(keys[i + 1], 36); });
});

s('re-authentication waits for in-flight requests and holds new ones back', async () => {
  saslSettings(fake.state).users.set('u', 'secret');
  saslSettings(fake.state).sessionLifetimeMs = 200;
  fake.fault({ api: 'Metadata', action: 'delay', ms: 40 }); // answered in order, 40 ms each: requests stay in flight
  broker = new Broker({ host: '127.0.0.1', port: port(), sasl });
  const all: Promise<unknown>[] = [];
  const until = Date.now() + 700;
  while (Date.now() < until) {
    all.push(broker.request(Metadata, metadata).then(() => null, (e: Error) => e));
    await sleep(25);
  }
  assert.equal((await Promise.all(all)).filter(Boolean), [], 'every request answered');
  const handshakes = fake.log.arrivals.filter((a) => a.apiKey === 17);
  assert.ok(handshakes.length >= 2, 're-authenticated at least once');
  assert.ok(fake.log.arrivals.some((a) => a.apiKey === 3 && a.unanswered > 0), 'requests were pipelined (else nothing was in flight to wait for)');
  assert.equal(handshakes.map((a) => a.unanswered), handshakes.map(() => 0), 'unanswered requests at each handshake');
  // Between a SaslHandshake and its SaslAuthenticate no Metadata was received (new requests were held back),
  // and each Metadata received before the handshake had been answered (in-flight ones were drained first).
  const keys = fake.log.arrivals.map((x) => x.apiKey);
  keys.forEach((k, i) => { if (k === 17) assert.is(keys[i + 1], 36); });
});

s('wrong password: one connection, one AuthenticationError for all lanes, held, then tried again', async () => {
  saslSettings(fake.state).users.set('u', 'other');
  broker = new Broker({ host: '127.0.0.1', port: port(), sasl, authFailureHoldMs: 200 });
  const errs = await Promise.all((['control', 'produce', 'fetch'] as const).map((lane) =>
    broker!.request(Metadata, metadata, { lane }).then(() => null, (e: Error) => e)));
  assert.instance(errs[0], AuthenticationError);
  assert.ok(errs.every((e) => e === errs[0]));
  assert.match(errs[0]!.message, /Invalid username or password/);
  assert.is(sockets().length, 1);
  assert.is(await broker.request(Metadata, metadata).then(() => null, (e: Error) => e), errs[0]);
  assert.is(sockets().length, 1, 'no login attempt while the failure is held');
  await sleep(250);
  saslSettings(fake.state).users.set('u', 'secret');
  await broker.request(Metadata, metadata);
  assert.is(sockets().length, 2, 'after the hold, one new attempt, which succeeds');
});

s('an unsupported mechanism: AuthenticationError naming what the broker enables', async () => {
  broker = new Broker({ host: '127.0.0.1', port: port(), sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' } });
  const err = await broker.request(Metadata, metadata).then(() => null, (e: Error) => e);
  assert.instance(err, AuthenticationError);
  assert.match(err!.message, /enables PLAIN/);
});

s('a dropped socket fails its requests with ConnectionError; the next request reconnects', async () => {
  broker = new Broker({ host: '127.0.0.1', port: port() });
  await broker.request(Metadata, metadata);
  fake.fault({ api: 'Metadata', times: 1, action: 'delay', until: new Promise(() => {}) }); // held until the socket goes
  const pending = broker.request(Metadata, metadata).then(() => null, (e: Error) => e);
  while (fake.log.of('Metadata').length < 2) await sleep(2);
  assert.is(fake.dropConnections(), 1);
  assert.instance(await pending, ConnectionError);
  await broker.request(Metadata, metadata);
  assert.is(sockets().length, 2);
});

s('close() is graceful: in-flight requests are answered; later requests are refused', async () => {
  fake.fault({ api: 'Metadata', action: 'delay', ms: 50 });
  broker = new Broker({ host: '127.0.0.1', port: port() });
  await broker.request(Metadata, metadata);
  const inflight = broker.request(Metadata, metadata);
  await sleep(5);
  await broker.close();
  assert.is((await inflight).clusterId, 'fake');
  assert.instance(await broker.request(Metadata, metadata).then(() => null, (e: Error) => e), ConnectionError);
});

s('a Produce request in pieces: the same bytes as whole, record batches referenced uncopied, every version', () => {
  const big = Buffer.alloc(20_000, 3);
  const small = Buffer.alloc(100, 4);
  const body = { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [
    { index: 0, records: big }, { index: 1, records: small }, { index: 2, records: big },
  ] }] };
  for (let v = 3; v <= 13; v++) {
    const whole = encodeRequest(Produce, v, body, 'c');
    const chunks = encodeRequestChunks(Produce, v, body, 'c');
    assert.ok(Buffer.concat(chunks).equals(whole), `v${v}: same bytes`);
    assert.is(chunks.filter((c) => c === big).length, 2, `v${v}: both large batches referenced`);
    assert.is(whole.readInt32BE(0), whole.length - 4);
  }
});

s.run();
