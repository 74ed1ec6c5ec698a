/**
 * The e2e produce and consume scenarios of kafka-channels (worker.ts, lib `ours`: the channel API) under Node 22,
 * Bun and Deno, in one run, against one broker; prints each runtime's rate and its ratio to Node 22.
 *
 *   KAFKA_BROKERS=127.0.0.1:<port> node .build/bench/src/e2e/runtimes.bench.js [--quick] [--rounds N]
 *
 * Runtimes: the binaries .ci/run installs (../.kafka/node22, ../.kafka/runtimes/{bun,deno}), or BENCH_NODE22,
 * BENCH_BUN, BENCH_DENO. Each run is a worker process of that runtime on a fresh topic (produce) or a fresh group
 * over one topic filled once by our Node 22 producer (consume); rounds alternate the runtimes; each row is the
 * median with [min..max]. Wall-clock rates: on a shared machine they are indicative only.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '../../../src/client/admin.js';
import { Cluster } from '../../../src/client/cluster.js';
import type { RunResult, RunSpec } from './spec.js';
import { runWorker, type WorkerRuntime } from './run-worker.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..', '..', '..'); // bench/.build/bench/src/e2e → the repository
const QUICK = process.argv.includes('--quick');
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : QUICK ? 1 : 3;
const brokersList = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (brokersList.length === 0) throw new Error('set KAFKA_BROKERS (npm run broker:start in the repository prints it)');

type Rt = WorkerRuntime;
const runtimes: Rt[] = [
  { name: 'node22', bin: process.env.BENCH_NODE22 ?? join(repo, '.kafka/node22/node_modules/.bin/node'), args: [] },
  { name: 'bun', bin: process.env.BENCH_BUN ?? join(repo, '.kafka/runtimes/bun/node_modules/.bin/bun'), args: [] },
  { name: 'deno', bin: process.env.BENCH_DENO ?? join(repo, '.kafka/runtimes/deno/node_modules/.bin/deno'), args: ['run', '-A'] },
];
const missing = runtimes.filter((r) => !existsSync(r.bin));
if (missing.length > 0) throw new Error(`runtime(s) not found: ${missing.map((r) => `${r.name} at ${r.bin}`).join(', ')} (.ci/run installs them)`);

const stamp = Date.now();
let seq = 0;
const cluster = new Cluster({ bootstrap: brokersList });
const admin = new Admin(cluster);

async function freshTopic(what: string): Promise<string> {
  const topic = `bench-rt-${what}-${stamp}-${++seq}`;
  await admin.createTopics([{ name: topic, numPartitions: 6, replicationFactor: 1 }]);
  return topic;
}


const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (r: RunResult) => r.records / (r.wallMs / 1000);

function report(scenario: string, results: Map<string, RunResult[]>): void {
  const base = median((results.get('node22') ?? []).map(rate));
  for (const rt of runtimes) {
    const rates = (results.get(rt.name) ?? []).map(rate);
    if (rates.length === 0) continue;
    const m = median(rates);
    const cpu = median((results.get(rt.name) ?? []).map((r) => ((r.cpuMs ?? NaN) * 1000) / r.records));
    console.log(`${scenario.padEnd(36)} ${rt.name.padEnd(7)} ${Math.round(m).toLocaleString('en').padStart(10)} msg/s  [${Math.round(Math.min(...rates))}..${Math.round(Math.max(...rates))}]` +
      `  ${Number.isFinite(cpu) ? `${cpu.toFixed(2)} us CPU/rec` : ''}  x${(m / base).toFixed(2)} of node22`);
  }
}

async function main(): Promise<void> {
  const count = QUICK ? 200_000 : 1_000_000;
  console.log(`runtimes e2e (kafka-channels channel API), ${QUICK ? 'quick' : 'full'}, ${ROUNDS} round(s); brokers ${brokersList.join(',')}`);
  const produce = new Map<string, RunResult[]>();
  const config = { count, size: 100, acks: 1 as const, compression: 'none' as const };
  for (let round = -1; round < ROUNDS; round++) {
    for (const rt of round % 2 === 0 ? runtimes : [...runtimes].reverse()) {
      const topic = await freshTopic('produce');
      const r = await runWorker({ lib: 'ours', scenario: 'produce', brokers: brokersList, topic, ...config, count: round < 0 ? 20_000 : count }, rt);
      await admin.deleteTopics([topic]).catch(() => undefined);
      if (round >= 0) produce.set(rt.name, [...(produce.get(rt.name) ?? []), r]);
    }
  }
  report(`produce ${count / 1000}k x 100 B acks=1 none`, produce);
  // Filled once by our producer under Node 22; each consume run reads it from the start under a fresh group.
  const topic = await freshTopic('consume');
  await runWorker({ lib: 'ours', scenario: 'produce', brokers: brokersList, topic, ...config }, runtimes[0]!);
  const consume = new Map<string, RunResult[]>();
  for (let round = -1; round < ROUNDS; round++) {
    for (const rt of round % 2 === 0 ? runtimes : [...runtimes].reverse()) {
      const r = await runWorker({ lib: 'ours', scenario: 'consume', brokers: brokersList, topic, ...config, group: `g-rt-${stamp}-${++seq}` }, rt);
      if (round >= 0) consume.set(rt.name, [...(consume.get(rt.name) ?? []), r]);
    }
  }
  report(`consume ${count / 1000}k x 100 B, 6 partitions`, consume);
  await admin.deleteTopics([topic]).catch(() => undefined);
  await cluster.close();
}

main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
