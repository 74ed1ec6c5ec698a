/**
 * Proves the harness: a hand-built ApiVersions v3 request over a raw socket (PLAINTEXT and SSL listeners of the
 * single node, every node of the cluster) answers error 0 and lists Produce (0) and Fetch (1); and a cluster node
 * killed with -9 leaves the other two serving, then comes back.
 */
import * as assert from 'uvu/assert';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { suite } from '../test/kit.js';
import { cluster, runKafkaTool, singleNode, tools } from './harness/index.js';

/** ApiVersions v3: request header v2 (api key, version, correlation id, client id, no tags) + compact body. */
function apiVersionsRequest(correlationId: number): Buffer {
  const clientId = Buffer.from('smoke');
  const name = Buffer.from('kafka-channels');
  const version = Buffer.from('0.1.0');
  const body = Buffer.concat([
    Buffer.from([name.length + 1]), name, Buffer.from([version.length + 1]), version, Buffer.from([0]),
  ]);
  const header = Buffer.alloc(2 + 2 + 4 + 2);
  header.writeInt16BE(18, 0);
  header.writeInt16BE(3, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  const payload = Buffer.concat([header, clientId, Buffer.from([0]), body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  return Buffer.concat([size, payload]);
}

interface ApiVersionsResult { correlationId: number; errorCode: number; apis: Map<number, [number, number]> }

/** Parses the v3 response: header v0 (correlation id only, KIP-511), error code, compact array of ranges. */
function parseApiVersions(frame: Buffer): ApiVersionsResult {
  let o = 0;
  const correlationId = frame.readInt32BE(o); o += 4;
  const errorCode = frame.readInt16BE(o); o += 2;
  let n = 0, shift = 0, b: number;
  do { b = frame[o++]!; n |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
  const apis = new Map<number, [number, number]>();
  for (let i = 0; i < n - 1; i++) {
    apis.set(frame.readInt16BE(o), [frame.readInt16BE(o + 2), frame.readInt16BE(o + 4)]);
    o += 6;
    const tags = frame[o++]!;
    assert.is(tags, 0, 'no tagged fields expected in an api entry');
  }
  return { correlationId, errorCode, apis };
}

function exchange(socket: Socket, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        socket.end();
        resolve(buf.subarray(4, 4 + buf.readInt32BE(0)));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed before a full response')));
    socket.write(request);
  });
}

function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

async function apiVersionsOver(address: string, tls?: { ca: string; cert?: string; key?: string }): Promise<ApiVersionsResult> {
  const { host, port } = hostPort(address);
  const socket: Socket = tls
    ? tlsConnect({ host, port, servername: 'localhost', ca: tls.ca, cert: tls.cert, key: tls.key })
    : tcpConnect({ host, port });
  await new Promise<void>((resolve, reject) => {
    socket.once(tls ? 'secureConnect' : 'connect', () => resolve());
    socket.once('error', reject);
  });
  const res = parseApiVersions(await exchange(socket, apiVersionsRequest(7)));
  assert.is(res.correlationId, 7);
  return res;
}

function assertServes(res: ApiVersionsResult): void {
  assert.is(res.errorCode, 0);
  assert.ok(res.apis.has(0), 'Produce listed');
  assert.ok(res.apis.has(1), 'Fetch listed');
  assert.ok(res.apis.get(0)![1] >= 9, 'Produce max version of a 4.x broker');
}

const single = suite('harness: single node', { timeoutMs: 120_000 });
single('PLAINTEXT listener answers ApiVersions', async () => {
  assertServes(await apiVersionsOver((await singleNode()).endpoints.plaintext));
});
single('SSL listener answers ApiVersions over TLS', async () => {
  const node = await singleNode();
  assertServes(await apiVersionsOver(node.endpoints.ssl, { ca: node.tls.caPem }));
});
single('mutual-TLS listener answers with a client certificate', async () => {
  const node = await singleNode();
  const { caPem, clientCertPem, clientKeyPem } = node.tls;
  assertServes(await apiVersionsOver(node.endpoints.mtls, { ca: caPem, cert: clientCertPem, key: clientKeyPem }));
});
single('mutual-TLS listener refuses a client without a certificate', async () => {
  const node = await singleNode();
  const err = await apiVersionsOver(node.endpoints.mtls, { ca: node.tls.caPem }).then(() => null, (e: Error) => e);
  // A refusal is a TLS or socket error; an answer that merely failed our checks (an assertion) is no refusal.
  assert.ok(err instanceof Error && !(err instanceof assert.Assertion), `the broker must refuse a client without a certificate: ${String(err)}`);
  console.log(`  mTLS without a certificate: ${String(err)}`);
});
single('a node an earlier test left stopped (a test that timed out before its finally) is started again by singleNode()', async () => {
  const err = await (await singleNode()).stop().then(() => null, (e: Error) => e);
  if (err) { // the container harness cannot stop its broker, so it cannot be left stopped either
    assert.match(err.message, 'needs the JVM harness');
    return;
  }
  assertServes(await apiVersionsOver((await singleNode()).endpoints.plaintext));
});
single.run();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Partition lines of TopicCommand --describe: leader and ISR per partition. */
async function describe(bootstrap: string, topic: string): Promise<{ leader: number; isr: number[] }[]> {
  const out = await runKafkaTool(tools.topics, ['--bootstrap-server', bootstrap, '--describe', '--topic', topic]);
  return [...out.matchAll(/Leader: (-?\d+)\s+Replicas: [\d,]+\s+Isr: ([\d,]*)/g)].map((m) => ({
    leader: Number(m[1]), isr: m[2]!.split(',').filter(Boolean).map(Number),
  }));
}

const failover = suite('harness: 3-node cluster', { timeoutMs: 180_000 });
failover('every node answers ApiVersions', async () => {
  const c = await cluster();
  assert.is(c.nodes.length, 3);
  for (const n of c.nodes) assertServes(await apiVersionsOver(n.address));
});
failover('kill -9 of a node: the other two serve; the node restarts and rejoins the ISR', async () => {
  const c = await cluster();
  const topic = `smoke-failover-${Date.now()}`;
  await runKafkaTool(tools.topics, ['--bootstrap-server', c.bootstrap.join(','), '--create', '--topic', topic,
    '--partitions', '3', '--replication-factor', '3']);
  let parts = await describe(c.bootstrap[0]!, topic);
  for (let i = 0; i < 50 && parts.some((p) => p.isr.length < 3); i++) { await sleep(200); parts = await describe(c.bootstrap[0]!, topic); }
  assert.is(parts.length, 3);
  const victim = parts[0]!.leader;
  const alive = c.nodes.filter((n) => n.id !== victim);
  const survivor = alive[0]!.address;
  await c.kill(victim);
  try {
    assert.not.ok(c.isRunning(victim));
    for (const n of alive) assertServes(await apiVersionsOver(n.address));
    const refused = await apiVersionsOver(c.nodes[victim - 1]!.address).then(() => false, () => true);
    assert.ok(refused, 'the killed node must not answer');
    // The survivors move leadership off the dead node and shrink the ISR (broker.session.timeout.ms = 3 s).
    for (let i = 0; i < 100; i++) {
      parts = await describe(survivor, topic);
      if (parts.every((p) => p.leader !== victim && p.leader >= 0 && !p.isr.includes(victim))) break;
      await sleep(300);
    }
    assert.ok(parts.every((p) => p.leader !== victim && p.leader >= 0), `leaders moved off node ${victim}: ${JSON.stringify(parts)}`);
  } finally {
    await c.start(victim);
  }
  assertServes(await apiVersionsOver(c.nodes[victim - 1]!.address));
  for (let i = 0; i < 100; i++) {
    parts = await describe(survivor, topic);
    if (parts.every((p) => p.isr.includes(victim))) break;
    await sleep(300);
  }
  assert.ok(parts.every((p) => p.isr.includes(victim)), `node ${victim} back in every ISR: ${JSON.stringify(parts)}`);
});
failover.run();
