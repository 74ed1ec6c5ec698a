/**
 * Our client inside workerd (the open-source Workers runtime) against the real broker, every byte through the
 * Workers sockets transport (`connect()` from `cloudflare:sockets`): integration/workerd/worker.ts, bundled by
 * esbuild from the compiled package, produces records and reads them back; Node's client then reads the same
 * records with node:net and checks keys, values, partitions and offsets agree.
 *
 * workerd refuses loopback by default: its built-in "internet" network allows only public addresses (the Worker
 * sees "proxy request failed, cannot connect to the specified address"; workerd logs "connecting to 127.0.0.1:… is
 * not allowed"), so the config below replaces it with a network service allowing "local" (loopback), whose
 * tlsOptions trust the harness's CA for the TLS listener (without tlsOptions: "this client has no TLS
 * configuration"). A refused certificate reaches the Worker as the same generic "cannot connect" message (the
 * reason is only in workerd's log), so the transport reports it as a ConnectionError, not an AuthenticationError.
 * `nodejs_compat` gives the Worker Buffer (and node:zlib for gzip, node:crypto for SCRAM).
 *
 * workerd comes from .kafka/workerd (installed by .ci/run, or `npm install --prefix .kafka/workerd workerd@<pin>`),
 * or WORKERD_BIN. Without it the tests are skipped with that reason, except under CI, where they fail.
 */
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onlyIf, suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { Fetcher } from '../src/client/fetcher.js';
import { fetchedRecords } from '../src/client/fetch-buffer.js';
import { singleNode } from './harness/index.js';
import { repoRoot } from './harness/paths.js';
import type { RunRequest, RunResult } from './workerd/worker.js';

/** The workerd release .ci/run installs (npm package `workerd`). */
export const WORKERD_VERSION = '1.20261123.1';
const workerdBin = process.env.WORKERD_BIN ?? join(repoRoot, '.kafka', 'workerd', 'node_modules', '.bin', 'workerd');
const haveWorkerd = existsSync(workerdBin);
if (!haveWorkerd && process.env.CI) throw new Error(`workerd not found at ${workerdBin}: .ci/run installs workerd@${WORKERD_VERSION} there`);

const s = suite('our client under workerd (Workers sockets transport, real broker)', { timeoutMs: 90_000 });
const test = onlyIf(s, haveWorkerd, `no workerd at ${workerdBin} (npm install --prefix .kafka/workerd workerd@${WORKERD_VERSION})`, 'workerd');

interface Workerd { url: string; stop(): Promise<void>; log(): string }

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Bundles the Worker (node: built-ins and cloudflare:sockets left to the runtime) and starts workerd serving it. */
async function startWorkerd(caPem: string): Promise<Workerd> {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-workerd-'));
  const { build } = await import('esbuild');
  await build({
    entryPoints: [fileURLToPath(new URL('./workerd/worker.js', import.meta.url))],
    bundle: true, format: 'esm', platform: 'neutral', outfile: join(dir, 'worker.js'),
    external: ['cloudflare:sockets', 'node:*'], logLevel: 'error',
  });
  writeFileSync(join(dir, 'ca.pem'), caPem);
  const port = await freePort();
  writeFileSync(join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # Replaces the default "internet" service (public addresses only): the broker is on loopback.
    (name = "internet", network = (allow = ["local"], tlsOptions = (trustedCertificates = [embed "ca.pem"]))),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.js") ],
  compatibilityDate = "2026-11-01",
  compatibilityFlags = ["nodejs_compat"],
);
`);
  const out: string[] = [];
  const child: ChildProcess = spawn(workerdBin, ['serve', join(dir, 'config.capnp')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => out.push(d.toString()));
  let exited = false;
  child.once('exit', () => { exited = true; });
  const url = `http://127.0.0.1:${port}/`;
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      await new Promise((r) => { child.once('exit', r); setTimeout(r, 3_000); });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const t0 = Date.now();
  for (;;) {
    if (exited) { await stop(); throw new Error(`workerd exited at start:\n${out.join('')}`); }
    if (await fetch(url, { method: 'GET' }).then(() => true, () => false)) break;
    if (Date.now() - t0 > 20_000) { await stop(); throw new Error(`workerd did not listen within 20 s:\n${out.join('')}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop, log: () => out.join('') };
}

async function runInWorker(w: Workerd, req: RunRequest): Promise<RunResult> {
  const res = await fetch(w.url, { method: 'POST', body: JSON.stringify(req), signal: AbortSignal.timeout(80_000) });
  const body = await res.json() as RunResult & { error?: string; stack?: string };
  if (res.status !== 200) throw new Error(`the Worker failed: ${body.error}\n${body.stack}\nworkerd:\n${w.log()}`);
  return body;
}

/** Reads every record of `topic` with Node's client (node:net): `partition/offset key=value`, sorted. */
async function readWithNode(bootstrap: string[], topic: string, partitions: number, count: number): Promise<string[]> {
  const cluster = new Cluster({ bootstrap });
  const fetcher = new Fetcher(cluster, { maxWaitMs: 100 });
  const out: string[] = [];
  try {
    fetcher.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
    const deadline = AbortSignal.timeout(30_000);
    while (out.length < count) {
      const b = await fetcher.next(deadline);
      for (const r of fetchedRecords(b)) out.push(`${b.partition}/${r.offset} ${r.key!.toString()}=${r.value!.toString()}`);
      fetcher.consumed(b, b.nextOffset);
    }
  } finally {
    await fetcher.close();
    await cluster.close();
  }
  return out.sort();
}

/** What the Worker says it produced and read, in the same `partition/offset key=value` form. */
function workerView(result: RunResult): { produced: string[]; consumed: string[] } {
  const valueOf = (key: string) => `workerd-${key.slice(2)}`;
  return {
    produced: result.produced.map((p) => `${p.partition}/${p.offset} ${p.key}=${valueOf(p.key)}`).sort(),
    consumed: result.consumed.map((c) => `${c.partition}/${c.offset} ${c.key}=${c.value}`).sort(),
  };
}

let workerd: Workerd | undefined;
s.after(async () => { await workerd?.stop(); });

async function checkRun(topicPrefix: string, count: number, make: (node: Awaited<ReturnType<typeof singleNode>>, topic: string) => Omit<RunRequest, 'topic' | 'count' | 'partitions'>): Promise<RunResult> {
  const node = await singleNode();
  workerd ??= await startWorkerd(node.tls.caPem);
  const topic = `${topicPrefix}-${Date.now()}`;
  const partitions = 3;
  const admin = new Cluster({ bootstrap: [node.endpoints.plaintext] });
  try { await new Admin(admin).createTopics([{ name: topic, numPartitions: partitions, replicationFactor: 1 }]); } finally { await admin.close(); }
  const result = await runInWorker(workerd, { ...make(node, topic), topic, partitions, count });
  assert.is(result.runtime.navigatorUserAgent, 'Cloudflare-Workers', 'ran inside workerd');
  assert.ok(result.transportConnects >= 1, `connections through cloudflare:sockets: ${result.transportConnects}`);
  const view = workerView(result);
  assert.is(view.produced.length, count);
  assert.equal(view.consumed, view.produced, 'the Worker read back what it wrote, at the offsets it was told');
  assert.equal(await readWithNode([node.endpoints.plaintext], topic, partitions, count), view.produced, 'Node reads the same records');
  assert.is(new Set(result.produced.map((p) => p.partition)).size, partitions, 'keys spread over every partition');
  return result;
}

test('PLAINTEXT: 1000 records produced and read back inside workerd; Node reads the same', async () => {
  const r = await checkRun('workerd-plain', 1000, (node) => ({ brokers: [node.endpoints.plaintext] }));
  console.log(`  workerd: 1000 records produced in ${r.produceMs} ms, read back in ${r.consumeMs} ms`);
});

test('gzip (node:zlib of nodejs_compat) and lz4 (ours) batches from workerd', async () => {
  await checkRun('workerd-gzip', 300, (node) => ({ brokers: [node.endpoints.plaintext], compression: 'gzip' }));
  await checkRun('workerd-lz4', 300, (node) => ({ brokers: [node.endpoints.plaintext], compression: 'lz4' }));
});

test('TLS (secureTransport \'on\', the broker checked against the CA workerd trusts) with SASL SCRAM-SHA-512', async () => {
  await checkRun('workerd-tls', 200, (node) => ({
    brokers: [node.endpoints.saslSsl], tls: true,
    sasl: { mechanism: 'SCRAM-SHA-512', username: node.users.scram.username, password: node.users.scram.password },
  }));
});

test('TLS by startTls() on a plain socket, the certificate checked against another name than the host (servername localhost)', async () => {
  await checkRun('workerd-starttls', 100, (node) => {
    assert.match(node.endpoints.ssl, /^127\.0\.0\.1:/);
    return { brokers: [node.endpoints.ssl], tls: true, starttls: true, servername: 'localhost' };
  });
});

test('the public API: a Producer and a ConsumerGroup (transport option) inside workerd; the group reads and commits every record', async () => {
  const r = await checkRun('workerd-channels', 300, (node) => ({ brokers: [node.endpoints.plaintext], api: 'channels', compression: 'lz4' }));
  console.log(`  workerd (channel API): 300 records sent in ${r.produceMs} ms, consumed by the group in ${r.consumeMs} ms`);
});

s.run();
