/**
 * The Broker's handshake logic against a loopback fake broker that speaks our protocol codecs (the real broker
 * is in integration/connection.test.ts and security.test.ts). Here we can do what a real broker will not on
 * demand: refuse our ApiVersions version, advertise narrow ranges, grant a 300 ms SASL session (KIP-368), drop
 * a socket.
 */
import * as assert from 'uvu/assert';
import { createServer, type Server, type Socket } from 'node:net';
import { suite } from '../kit.js';
import { Broker, encodeRequest, encodeRequestChunks } from '../../src/client/broker.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { FrameDecoder } from '../../src/client/frame-decoder.js';
import { ApiVersions } from '../../src/protocol/apis/api-versions.js';
import { Metadata } from '../../src/protocol/apis/metadata.js';
import { SaslAuthenticate } from '../../src/protocol/apis/sasl-authenticate.js';
import { SaslHandshake } from '../../src/protocol/apis/sasl-handshake.js';
import { headerVersions, readRequestHeader, writeResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { requestCodec, responseCodec } from '../../src/protocol/schema.js';
import type { ApiDef } from '../../src/protocol/schema-types.js';
import { Writer } from '../../src/protocol/writer.js';
import { AuthenticationError, ConnectionError, UnsupportedVersionError } from '../../src/errors.js';

const APIS: Record<number, ApiDef> = { 18: ApiVersions, 3: Metadata, 17: SaslHandshake, 36: SaslAuthenticate };

interface Seen { socket: number; apiKey: number; version: number; body: Record<string, unknown> }

/** A fake broker: ApiVersions, Metadata, SaslHandshake and SaslAuthenticate (PLAIN) with scripted quirks. */
class FakeBroker {
  server!: Server;
  port = 0;
  sockets: Socket[] = [];
  seen: Seen[] = [];
  /** Highest ApiVersions version it accepts; above, it answers UNSUPPORTED_VERSION in the v0 layout. */
  apiVersionsMax = 4;
  ranges: Record<number, [number, number]> = { 18: [0, 4], 3: [0, 12], 17: [0, 1], 36: [0, 2] };
  password = 'secret';
  sessionLifetimeMs = 0n;
  metadataDelayMs = 0;
  /** Metadata requests received and not yet answered; recorded at each SaslHandshake. */
  outstanding = 0;
  outstandingAtHandshake: number[] = [];

  async start(): Promise<void> {
    this.server = createServer((socket) => {
      const id = this.sockets.push(socket) - 1;
      const decoder = new FrameDecoder();
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => decoder.push(chunk, (frame) => this.handle(id, socket, Buffer.from(frame))));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  private handle(id: number, socket: Socket, frame: Buffer): void {
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    const api = APIS[apiKey]!;
    if (apiKey === 18 && version > this.apiVersionsMax) {
      this.seen.push({ socket: id, apiKey, version, body: {} });
      const apiKeys = Object.entries(this.ranges).map(([k, [min, max]]) => ({ apiKey: Number(k), minVersion: min, maxVersion: k === '18' ? this.apiVersionsMax : max }));
      return this.send(socket, ApiVersions, 0, frame.readInt32BE(4), { errorCode: 35, apiKeys });
    }
    const r = new Reader(frame);
    const header = readRequestHeader(r, headerVersions(api, version)[0]);
    const body = requestCodec(api, version).decode(r) as Record<string, unknown>;
    this.seen.push({ socket: id, apiKey, version, body });
    const reply = (res: Record<string, unknown>) => this.send(socket, api, version, header.correlationId, res);
    switch (apiKey) {
      case 18:
        return reply({ errorCode: 0, apiKeys: Object.entries(this.ranges).map(([k, [min, max]]) => ({ apiKey: Number(k), minVersion: min, maxVersion: max })) });
      case 17:
        this.outstandingAtHandshake.push(this.outstanding);
        return reply({ errorCode: body.mechanism === 'PLAIN' ? 0 : 33, mechanisms: ['PLAIN'] });
      case 36: {
        const [, user, pass] = (body.authBytes as Buffer).toString().split('\0');
        if (pass !== this.password) {
          reply({ errorCode: 58, errorMessage: `Authentication failed: Invalid username or password`, authBytes: Buffer.alloc(0) });
          setTimeout(() => socket.destroy(), 5);
          return;
        }
        return reply({ errorCode: 0, errorMessage: null, authBytes: Buffer.alloc(0), sessionLifetimeMs: user ? this.sessionLifetimeMs : 0n });
      }
      case 3:
        this.outstanding++;
        setTimeout(() => {
          this.outstanding--;
          reply({ brokers: [{ nodeId: 1, host: '127.0.0.1', port: this.port, rack: null }], clusterId: 'fake', controllerId: 1, topics: [] });
        }, this.metadataDelayMs);
    }
  }

  private send(socket: Socket, api: ApiDef, version: number, correlationId: number, res: Record<string, unknown>): void {
    const w = new Writer();
    const size = w.reserveInt32();
    writeResponseHeader(w, headerVersions(api, version)[1], { correlationId });
    responseCodec(api, version).encode(w, res as never);
    w.patchSizeFrom(size);
    if (!socket.destroyed) socket.write(Buffer.from(w.finish()));
  }

  count(apiKey: number, socket?: number): number {
    return this.seen.filter((s) => s.apiKey === apiKey && (socket === undefined || s.socket === socket)).length;
  }

  async stop(): Promise<void> {
    this.sockets.forEach((s) => s.destroy());
    await new Promise((r) => this.server.close(r));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const metadata = { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false };

let fake: FakeBroker;
let broker: Broker | undefined;
const s = suite('broker (fake peer)');
s.before.each(async () => { fake = new FakeBroker(); await fake.start(); });
s.after.each(async () => { broker?.destroy(); broker = undefined; await fake.stop(); });

s('sends ApiVersions v4 first, then picks min(ours, broker max) for each request', async () => {
  broker = new Broker({ host: '127.0.0.1', port: fake.port });
  const res = await broker.request(Metadata, metadata);
  assert.is(res.clusterId, 'fake');
  assert.equal(fake.seen.map((x) => [x.apiKey, x.version]), [[18, 4], [3, 12]]);
  assert.equal(fake.seen[0]!.body, { clientSoftwareName: 'kafka-channels', clientSoftwareVersion: '0.1.0' });
  assert.equal(broker.apiVersions!.get(3), [0, 12]);
});

s('UNSUPPORTED_VERSION to ApiVersions: retried at the version the v0 answer allows', async () => {
  fake.apiVersionsMax = 2;
  broker = new Broker({ host: '127.0.0.1', port: fake.port });
  await broker.request(Metadata, metadata);
  assert.equal(fake.seen.map((x) => [x.apiKey, x.version]), [[18, 4], [18, 2], [3, 12]]);
  assert.is(fake.sockets.length, 1, 'on the same socket');
});

s('a pin caps the version, as does a narrower broker range; no common version is UnsupportedVersionError', async () => {
  fake.ranges[3] = [4, 9];
  broker = new Broker({ host: '127.0.0.1', port: fake.port });
  await broker.request(Metadata, metadata);
  await broker.request(Metadata, metadata, { version: 5 });
  await broker.request(Metadata, metadata, { version: 11 });
  assert.equal(fake.seen.filter((x) => x.apiKey === 3).map((x) => x.version), [9, 5, 9]);
  const err = await broker.request(Metadata, metadata, { version: 3 }).then(() => null, (e: Error) => e);
  assert.instance(err, UnsupportedVersionError);
  delete fake.ranges[3];
  const b2 = new Broker({ host: '127.0.0.1', port: fake.port });
  const missing = await b2.request(Metadata, metadata).then(() => null, (e: Error) => e);
  b2.destroy();
  assert.instance(missing, UnsupportedVersionError);
  assert.match(missing!.message, /does not support/);
});

s('SASL PLAIN: handshake then authenticate on every lane before any other request', async () => {
  broker = new Broker({ host: '127.0.0.1', port: fake.port, sasl: { mechanism: 'PLAIN', username: 'u', password: 'secret' } });
  await Promise.all([broker.request(Metadata, metadata), broker.request(Metadata, metadata, { lane: 'fetch' })]);
  for (const socket of [0, 1]) {
    assert.equal(fake.seen.filter((x) => x.socket === socket).map((x) => x.apiKey), [18, 17, 36, 3], `socket ${socket}`);
  }
  assert.equal(fake.seen.find((x) => x.apiKey === 17)!.body.mechanism, 'PLAIN');
});

s('KIP-368: re-authenticates on the same socket before the session lifetime ends', async () => {
  fake.sessionLifetimeMs = 300n;
  broker = new Broker({ host: '127.0.0.1', port: fake.port, sasl: { mechanism: 'PLAIN', username: 'u', password: 'secret' } });
  await broker.request(Metadata, metadata);
  const started = Date.now();
  while (fake.count(36, 0) < 3 && Date.now() - started < 3000) {
    await broker.request(Metadata, metadata); // keeps traffic flowing through the re-authentications
    await sleep(20);
  }
  assert.ok(fake.count(36, 0) >= 3, `re-authenticated twice within ${Date.now() - started} ms`);
  assert.is(fake.sockets.length, 1, 'no reconnect');
  // SASL frames never interleave with other requests: each SaslHandshake is followed directly by SaslAuthenticate.
  const keys = fake.seen.map((x) => x.apiKey);
  keys.forEach((k, i) => { if (k === 17) assert.is(keys[i + 1], 36); });
});

s('re-authentication waits for in-flight requests and holds new ones back', async () => {
  fake.sessionLifetimeMs = 200n;
  fake.metadataDelayMs = 150;
  broker = new Broker({ host: '127.0.0.1', port: fake.port, sasl: { mechanism: 'PLAIN', username: 'u', password: 'secret' } });
  const all: Promise<unknown>[] = [];
  const until = Date.now() + 700;
  while (Date.now() < until) {
    all.push(broker.request(Metadata, metadata).then(() => null, (e: Error) => e));
    await sleep(25);
  }
  assert.equal((await Promise.all(all)).filter(Boolean), [], 'every request answered');
  assert.ok(fake.count(17, 0) >= 2, 're-authenticated at least once');
  assert.ok(fake.outstandingAtHandshake.every((n) => n === 0), `unanswered requests at each handshake: ${fake.outstandingAtHandshake}`);
  // Between a SaslHandshake and its SaslAuthenticate no Metadata was received, and the broker answered each
  // Metadata it got before the handshake (in-flight ones were drained first).
  const keys = fake.seen.map((x) => x.apiKey);
  keys.forEach((k, i) => { if (k === 17) assert.is(keys[i + 1], 36); });
});

s('wrong password: one connection, one AuthenticationError for all lanes, held, then tried again', async () => {
  fake.password = 'other';
  broker = new Broker({ host: '127.0.0.1', port: fake.port, sasl: { mechanism: 'PLAIN', username: 'u', password: 'secret' }, authFailureHoldMs: 200 });
  const errs = await Promise.all((['control', 'produce', 'fetch'] as const).map((lane) =>
    broker!.request(Metadata, metadata, { lane }).then(() => null, (e: Error) => e)));
  assert.instance(errs[0], AuthenticationError);
  assert.ok(errs.every((e) => e === errs[0]));
  assert.match(errs[0]!.message, /Invalid username or password/);
  assert.is(fake.sockets.length, 1);
  assert.is(await broker.request(Metadata, metadata).then(() => null, (e: Error) => e), errs[0]);
  assert.is(fake.sockets.length, 1, 'no login attempt while the failure is held');
  await sleep(250);
  fake.password = 'secret';
  await broker.request(Metadata, metadata);
  assert.is(fake.sockets.length, 2, 'after the hold, one new attempt, which succeeds');
});

s('an unsupported mechanism: AuthenticationError naming what the broker enables', async () => {
  broker = new Broker({ host: '127.0.0.1', port: fake.port, sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' } });
  const err = await broker.request(Metadata, metadata).then(() => null, (e: Error) => e);
  assert.instance(err, AuthenticationError);
  assert.match(err!.message, /enables PLAIN/);
});

s('a dropped socket fails its requests with ConnectionError; the next request reconnects', async () => {
  broker = new Broker({ host: '127.0.0.1', port: fake.port });
  await broker.request(Metadata, metadata);
  fake.metadataDelayMs = 100;
  const pending = broker.request(Metadata, metadata).then(() => null, (e: Error) => e);
  await sleep(20);
  fake.sockets[0]!.destroy();
  assert.instance(await pending, ConnectionError);
  fake.metadataDelayMs = 0;
  await broker.request(Metadata, metadata);
  assert.is(fake.sockets.length, 2);
});

s('close() is graceful: in-flight requests are answered; later requests are refused', async () => {
  fake.metadataDelayMs = 50;
  broker = new Broker({ host: '127.0.0.1', port: fake.port });
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
