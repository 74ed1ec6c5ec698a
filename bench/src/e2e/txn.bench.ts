/**
 * Transactional produce beside Java's (issue 20): N records of 100 B to a fresh 6-partition topic, a commit every
 * 1,000 records, through our channel API (`Producer` with `transactionalId`: begin, 1,000 × `send`, commit) and
 * Java's ProducerPerformance with `--transactional-id` (it commits on time, every `--transaction-duration-ms`;
 * the duration is chosen so its transactions hold about 1,000 records at the rate it reached without
 * transactions, and the records per transaction it actually got are printed). Also the same N records without
 * transactions (idempotent, acks=all) for both, so the cost of the transactions shows as a ratio.
 *
 *   KAFKA_BROKERS=127.0.0.1:<port> node .build-NAME/bench/src/e2e/txn.bench.js [records=200000] [--out results/txn-node20.json]
 *
 * One run each, on a shared 2-core machine: indicative only.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../../../src/client/cluster.js';
import { Admin } from '../../../src/client/admin.js';
import { Producer } from '../../../src/channels/producer.js';

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

const results: Record<string, unknown> = { records: N, perTransaction: PER_TXN, when: new Date().toISOString() };
const oursIdem = await ours(false);
const oursTxn = await ours(true);
const javaIdem = await javaRun();
const durationMs = Math.max(5, Math.round((PER_TXN / javaIdem.rate) * 1000));
const javaTxn = await javaRun(durationMs);
const javaTxnCount = Math.max(1, Math.ceil(N / javaTxn.rate * 1000 / durationMs));
Object.assign(results, {
  ours: { idempotent: oursIdem.rate, transactional: oursTxn.rate, transactions: Math.ceil(N / PER_TXN) },
  java: { idempotent: javaIdem.rate, transactional: javaTxn.rate, transactionDurationMs: durationMs, approxRecordsPerTransaction: Math.round(N / javaTxnCount) },
});
const f = (x: number): string => `${Math.round(x).toLocaleString('en-US')} rec/s`;
console.log(`${N} x 100 B, 6 partitions, acks=all, idempotent`);
console.log(`  ours  idempotent    ${f(oursIdem.rate)}`);
console.log(`  ours  transactional ${f(oursTxn.rate)}  (commit every ${PER_TXN}: ${Math.ceil(N / PER_TXN)} transactions)  ${(oursTxn.rate / oursIdem.rate).toFixed(2)}x of ours idempotent`);
console.log(`  java  idempotent    ${f(javaIdem.rate)}`);
console.log(`  java  transactional ${f(javaTxn.rate)}  (commit every ${durationMs} ms, ~${Math.round(N / javaTxnCount)} records per transaction)  ${(javaTxn.rate / javaIdem.rate).toFixed(2)}x of java idempotent`);
console.log(`  ratio ours/java transactional ${(oursTxn.rate / javaTxn.rate).toFixed(2)}; idempotent ${(oursIdem.rate / javaIdem.rate).toFixed(2)}`);
const outIdx = process.argv.indexOf('--out');
if (outIdx > 0) writeFileSync(process.argv[outIdx + 1]!, JSON.stringify(results, null, 2));
