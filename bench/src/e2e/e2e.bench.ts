/**
 * End-to-end benchmarks against a real Kafka broker (issue 7): kafka-channels (channel API and lower client
 * path) beside KafkaJS, @platformatic/kafka and Kafka's own ProducerPerformance / ConsumerPerformance.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 node .build/bench/src/e2e/e2e.bench.js [--quick] [--out results/e2e-node22.json] [--only rss]
 *     [--rss-seconds 60] [--rounds 5] [--config 'x 1024 B acks=all']
 *
 * Without KAFKA_BROKERS the integration harness starts a single node from Kafka's jars. Every run is a child
 * process of its own (worker.js) on a fresh topic (consume runs: a fresh group over one pre-filled topic); the
 * libraries are alternated within each round and the order rotates from round to round (A B C D, B C D A, ...), so
 * load that comes and goes, and whatever the broker still does after the previous run, falls on all alike. Ratios
 * are taken per round (the pair ran minutes apart at most) and reported as the median over rounds with their range.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machine } from '../harness.js';
import type { Lib, RunResult, RunSpec } from './spec.js';
import { runWorker } from './run-worker.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const outAt = args.indexOf('--out');
const OUT = outAt >= 0 ? args[outAt + 1] : undefined;
const onlyAt = args.indexOf('--only');
const ONLY = onlyAt >= 0 ? args[onlyAt + 1]!.split(',') : undefined;
const roundsAt = args.indexOf('--rounds');
const ROUNDS = roundsAt >= 0 ? Number(args[roundsAt + 1]) : QUICK ? 1 : 3;
const configAt = args.indexOf('--config');
/** Only the produce configurations whose label contains this (e.g. `x 1024 B acks=all none`). */
const CONFIG = configAt >= 0 ? args[configAt + 1] : undefined;
const rssAt = args.indexOf('--rss-seconds');
/** How long each rss run consumes (from its first message): 20 s, 8 s in quick mode, or --rss-seconds. */
const RSS_MS = rssAt >= 0 ? Number(args[rssAt + 1]) * 1000 : QUICK ? 8_000 : 20_000;
const JAVA = 'java';
/** Kafka's jars: the harness keeps them in <repo>/.kafka/libs (this file runs from bench/.build/bench/src/e2e). */
const LIBS = process.env.KAFKA_LIBS ?? join(here, '..', '..', '..', '..', '..', '.kafka', 'libs');

/** Each library's settings per scenario, as written into the results. */
export const SETTINGS = {
  ours: 'channel API. produce: Producer, lingerMs 5, batchBytes 128 KiB, outputCapacity 10,000, traceHeader false (no request-id header, as the peers send none), idempotent with acks=all, one trySend per record then close(); consume: ConsumerGroup, upstream channel drained with tryRecv() and awaiting recv() only when nothing is ready (Go\'s receive-with-default), mark()+release() per message, fetchMaxWaitMs 100; latency: Producer with lingerMs 0, acks 1, traceHeader false, trySend per record',
  'ours-await': 'consume only: as ours (channel API), but read with the plain `for await (const m of upstream)` loop, one await per message',
  'ours-lower': 'ProducerEngine over Cluster, lingerMs 5, batchSize 128 KiB, send() in arrays of 1,000 records; consume: GroupConsumer, claim.batches(), markNext per fetched run; awaited sends: ProducerEngine lingerMs 0 with the delivery callback (the channel API resolves send() on enqueue, not on ack). Latency runs (all libraries): the records due in each 1 ms tick go out in one send call, acks 1, no linger; consumers as in the consume runs',
  kafkajs: 'kafkajs 2.2.4: producer.send() of 1,000 messages, 4 calls in flight (maxInFlightRequests 4; idempotent with maxInFlightRequests 1 for acks=all); no lz4/zstd codec is built in; consume: eachBatch, partitionsConsumedConcurrently 6, maxBytes 50 MB, maxBytesPerPartition 1 MB, maxWaitTimeInMs 100',
  platformatic: '@platformatic/kafka 2.12.1: producer.send() of 1,000 messages, 4 calls in flight, idempotent with acks=all; consume: consumer.consume() stream, mode earliest, maxWaitTime 100, maxBytes 50 MB, autocommit 1 s',
  java: 'Kafka 4.3.1 tools on Java 17 (-Xmx1g, default JIT and GC): ProducerPerformance --throughput -1, batch.size 131072, linger.ms 5, enable.idempotence with acks=all only; ConsumerPerformance (fetch.nMsg.sec: rate after the group join, as our consumers\' clock starts at the first record)',
} as const;

/** The rss scenario (issue 7: peak RSS of a consumer with a slow handler over a 1 GB backlog), per library. */
export const RSS_SETTINGS = {
  common: 'backlog of 1,000,000 x 1 KB (about 1 GB) in one 6-partition topic, filled once by Java\'s ProducerPerformance (acks 1, no compression); ' +
    'each run is a fresh process and a fresh group reading from the start; the handler awaits a 1 ms setTimeout per message (every library here has a ' +
    'per-message handler API, so per message for all, one message in flight, no handler concurrency); process.memoryUsage() sampled every 100 ms from the ' +
    'group join on; the run lasts a fixed time from the first message; baseline = RSS after connecting (library loaded, client connected), before the group join. ' +
    'Fetch sizes aligned with Java\'s defaults for all (50 MB per response, 1 MB per partition); each library\'s own buffering bound at its documented default',
  ours: 'ConsumerGroup with registerHandler (numWorkers 1, the default; returning commits), offset oldest, every other option at its default ' +
    '(fetchMaxBytes 50 MiB, maxPartitionFetchBytes 1 MiB, upstream capacity 1); the byte bound is the fetcher\'s prefetch bound (the run records where it comes from)',
  kafkajs: 'kafkajs 2.2.4: consumer.run with eachMessage, partitionsConsumedConcurrently 1 (default), maxBytes 50 MB, maxBytesPerPartition 1 MB ' +
    '(its documented fetch-size bounds; it documents no bound in bytes on what it keeps buffered)',
  platformatic: '@platformatic/kafka 2.12.1: consumer.consume() stream read with for await, highWaterMark 1024 messages (the default; the README\'s documented ' +
    'memory knob), maxBytes 50 MB, maxBytesPerPartition 1 MB (its default would be maxBytes), mode earliest, autocommit 1 s',
} as const;

/** One library's rss runs: peak is the worst run, baseline and records the median. MiB. */
interface MemRow {
  config: string;
  lib: Lib;
  runs: RunResult[];
  records: number;
  baselineRssMb: number;
  peakRssMb: number;
  /** Worst run's peak minus its own baseline. */
  growthMb: number;
  /** Worst run's RSS when its timed phase ended. */
  endRssMb: number;
  /** Worst run's RSS slope over the second half of its timed phase (MiB/s): near 0 once bounded memory levelled off. */
  lateSlopeMbPerS: number;
  peakHeapUsedMb: number;
  peakArrayBuffersMb: number;
  /** Worst run's getrusage maxRSS: the kernel's high-water mark over the whole process. */
  maxRssMb: number;
  boundMb?: number;
  boundSource?: string;
  /** Target (ours): peak RSS <= bound + 64 MiB. */
  limitMb?: number;
  met?: boolean;
}

const memRows: MemRow[] = [];

interface Row {
  scenario: string;
  config: string;
  lib: Lib | 'java';
  runs: RunResult[];
  msgPerSec: number;
  mbPerSec: number;
  minMsgPerSec: number;
  maxMsgPerSec: number;
  cpuUsPerRecord?: number;
  p50?: number;
  p99?: number;
}

const rows: Row[] = [];
let brokersList: string[] = [];
/** Stops the broker this run started (none when KAFKA_BROKERS points at one). */
let stopBroker: (() => Promise<void>) | undefined;
let topicSeq = 0;
const stamp = Date.now().toString(36);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Round `round`'s running order: `libs` rotated by the round number, so no library always runs first. */
function rotated<T>(libs: readonly T[], round: number): T[] {
  const k = ((round % libs.length) + libs.length) % libs.length;
  return [...libs.slice(k), ...libs.slice(0, k)];
}

let admin: any;
async function freshTopic(tag: string): Promise<string> {
  if (!admin) {
    const { Kafka, logLevel } = await import('kafkajs' as string);
    admin = new Kafka({ clientId: 'bench-admin', brokers: brokersList, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  }
  const topic = `e2e-${stamp}-${tag}-${++topicSeq}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: true });
  return topic;
}

async function deleteTopic(topic: string): Promise<void> {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
}


/** Runs a Kafka tool with a JIT and heap a user would give it; returns stdout and the JVM's CPU seconds. */
function runJava(mainClass: string, toolArgs: string[]): Promise<{ stdout: string; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'CPU %U %S', JAVA, '-Xmx1g', '-Dlog4j2.level=warn', '-cp', join(LIBS, '*'), mainClass, ...toolArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => {
      const m = /CPU ([\d.]+) ([\d.]+)/.exec(err);
      if (code === 0) resolve({ stdout: out, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN });
      else reject(new Error(`${mainClass} exited ${code}: ${out.slice(-800)} ${err.slice(-800)}`));
    });
  });
}

function summarise(scenario: string, config: string, lib: Row['lib'], runs: RunResult[], size: number): Row {
  const rates = runs.map((r) => r.records / (r.wallMs / 1000));
  const row: Row = {
    scenario, config, lib, runs, msgPerSec: median(rates), mbPerSec: (median(rates) * size) / 1e6,
    minMsgPerSec: Math.min(...rates), maxMsgPerSec: Math.max(...rates),
  };
  const cpu = runs.filter((r) => r.cpuMs !== undefined && Number.isFinite(r.cpuMs));
  if (cpu.length) row.cpuUsPerRecord = median(cpu.map((r) => (r.cpuMs! * 1000) / r.records));
  if (runs[0]?.latency) {
    row.p50 = median(runs.map((r) => r.latency!.p50));
    row.p99 = median(runs.map((r) => r.latency!.p99));
  }
  rows.push(row);
  const lat = row.p50 !== undefined ? `  p50 ${row.p50.toFixed(2)} ms  p99 ${row.p99!.toFixed(2)} ms` : '';
  const cpuText = row.cpuUsPerRecord !== undefined ? `  ${row.cpuUsPerRecord.toFixed(2)} us CPU/rec` : '';
  console.log(`${scenario.padEnd(9)} ${config.padEnd(26)} ${lib.padEnd(13)} ${Math.round(row.msgPerSec).toLocaleString('en').padStart(10)} msg/s ${row.mbPerSec.toFixed(1).padStart(7)} MB/s  [${Math.round(row.minMsgPerSec)}..${Math.round(row.maxMsgPerSec)}]${cpuText}${lat}`);
  return row;
}

/** Java ProducerPerformance on a fresh topic. */
async function javaProduce(count: number, size: number, acks: 1 | 'all', compression: string): Promise<RunResult> {
  const topic = await freshTopic('java');
  const props = [`bootstrap.servers=${brokersList.join(',')}`, `acks=${acks === 'all' ? 'all' : '1'}`, `compression.type=${compression}`,
    'batch.size=131072', 'linger.ms=5', `enable.idempotence=${acks === 'all'}`];
  const { stdout, cpuMs } = await runJava('org.apache.kafka.tools.ProducerPerformance',
    ['--topic', topic, '--num-records', String(count), '--record-size', String(size), '--throughput', '-1', '--producer-props', ...props]);
  await deleteTopic(topic);
  const m = /(\d+) records sent, ([\d.]+) records\/sec/.exec(stdout.trim().split('\n').pop() ?? '');
  if (!m) throw new Error('cannot read ProducerPerformance output: ' + stdout.slice(-400));
  return { wallMs: (Number(m[1]) / Number(m[2])) * 1000, cpuMs, records: Number(m[1]), errors: 0 };
}

const LIBS_PRODUCE: Lib[] = ['ours', 'ours-lower', 'kafkajs', 'platformatic'];

async function produceScenario(count: number, size: number, acks: 1 | 'all', compression: 'none' | 'lz4' | 'zstd'): Promise<void> {
  const config = `${count / 1000}k x ${size} B acks=${acks} ${compression}`;
  const libs = LIBS_PRODUCE.filter((l) => l !== 'kafkajs' || compression === 'none');
  const runs = new Map<string, RunResult[]>();
  const spec = (lib: Lib, topic: string, n: number): RunSpec => ({ lib, scenario: 'produce', brokers: brokersList, topic, count: n, size, acks, compression });
  for (let round = -1; round < ROUNDS; round++) {
    for (const lib of rotated([...libs, 'java' as const], round)) {
      if (lib === 'java') {
        if (round >= 0) runs.set('java', [...(runs.get('java') ?? []), await javaProduce(count, size, acks, compression)]);
        continue;
      }
      const topic = await freshTopic(lib);
      // Round -1 warms the broker's log segments and page cache with a short run; it is not recorded.
      const r = await runWorker(spec(lib, topic, round < 0 ? Math.min(count, 20_000) : count));
      await deleteTopic(topic);
      if (round >= 0) runs.set(lib, [...(runs.get(lib) ?? []), r]);
    }
  }
  for (const [lib, r] of runs) summarise('produce', config, lib as Row['lib'], r, size);
}

async function awaitedScenario(count: number): Promise<void> {
  const config = `${count.toLocaleString('en')} x 100 B acks=all`;
  const libs: Lib[] = ['ours', 'kafkajs', 'platformatic'];
  const runs = new Map<string, RunResult[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const lib of rotated(libs, round)) {
      const topic = await freshTopic('aw');
      const r = await runWorker({ lib, scenario: 'awaited', brokers: brokersList, topic, count, size: 100, acks: 'all', compression: 'none' });
      await deleteTopic(topic);
      runs.set(lib, [...(runs.get(lib) ?? []), r]);
    }
  }
  for (const [lib, r] of runs) summarise('awaited', config, lib as Lib, r, 100);
}

async function consumeScenario(count: number): Promise<void> {
  const config = `${count / 1000}k x 100 B, 6 partitions`;
  const topic = await freshTopic('consume');
  // Filled once by Java, so no client is favoured; every run reads it from the start under a fresh group.
  await runJava('org.apache.kafka.tools.ProducerPerformance', ['--topic', topic, '--num-records', String(count), '--record-size', '100',
    '--throughput', '-1', '--producer-props', `bootstrap.servers=${brokersList.join(',')}`, 'acks=1', 'batch.size=131072', 'linger.ms=5']);
  const runs = new Map<string, RunResult[]>();
  let g = 0;
  for (let round = -1; round < ROUNDS; round++) {
    for (const lib of rotated([...LIBS_PRODUCE, 'ours-await'] as Lib[], round)) {
      const r = await runWorker({ lib, scenario: 'consume', brokers: brokersList, topic, count, size: 100, acks: 1, compression: 'none', group: `g-${stamp}-${++g}` });
      if (round >= 0) runs.set(lib, [...(runs.get(lib) ?? []), r]);
    }
    if (round < 0) continue;
    const { stdout, cpuMs } = await runJava('org.apache.kafka.tools.ConsumerPerformance', ['--bootstrap-server', brokersList.join(','), '--topic', topic,
      '--messages', String(count), '--group', `g-${stamp}-${++g}`, '--timeout', '60000']);
    const lines = stdout.trim().split('\n');
    const cols = lines[lines.length - 1]!.split(',').map((s) => s.trim());
    // start, end, MB, MB.sec, nMsg, nMsg.sec, rebalance.ms, fetch.ms, fetch.MB.sec, fetch.nMsg.sec
    const fetchMs = Number(cols[7]);
    runs.set('java', [...(runs.get('java') ?? []), { wallMs: fetchMs, cpuMs, records: Number(cols[4]), errors: 0 }]);
  }
  await deleteTopic(topic);
  for (const [lib, r] of runs) summarise('consume', config, lib as Row['lib'], r, 100);
}

async function latencyScenario(rate: number, durationMs: number): Promise<void> {
  const config = `${rate.toLocaleString('en')} msg/s for ${durationMs / 1000} s, 100 B`;
  const runs = new Map<string, RunResult[]>();
  let g = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const lib of rotated(LIBS_PRODUCE, round)) {
      const topic = await freshTopic('lat');
      const r = await runWorker({ lib, scenario: 'latency', brokers: brokersList, topic, count: 0, size: 100, acks: 1, compression: 'none', group: `gl-${stamp}-${++g}`, rate, durationMs });
      await deleteTopic(topic);
      runs.set(lib, [...(runs.get(lib) ?? []), r]);
    }
  }
  for (const [lib, r] of runs) summarise('latency', config, lib as Lib, r, 100);
}

/** Target of issue 7: a slow consumer's RSS stays within its configured byte bound plus this. */
const RSS_SLACK_MB = 64;

/** Least-squares slope (per second) of the second half of a once-a-second series. */
function lateSlope(series: number[]): number {
  const ys = series.slice(Math.floor(series.length / 2));
  if (ys.length < 2) return NaN;
  const mx = (ys.length - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => { num += (x - mx) * (y - my); den += (x - mx) ** 2; });
  return num / den;
}

async function rssScenario(count: number, durationMs: number): Promise<void> {
  const size = 1024;
  const config = `${(count / 1e6).toLocaleString('en')}M x 1 KB backlog, 1 ms/msg handler, ${durationMs / 1000} s`;
  const topic = await freshTopic('rss');
  const t0 = Date.now();
  const fill = await runJava('org.apache.kafka.tools.ProducerPerformance', ['--topic', topic, '--num-records', String(count), '--record-size', String(size),
    '--throughput', '-1', '--producer-props', `bootstrap.servers=${brokersList.join(',')}`, 'acks=1', 'batch.size=131072', 'linger.ms=5']);
  const sent = /(\d+) records sent/.exec(fill.stdout.trim().split('\n').pop() ?? '');
  if (!sent || Number(sent[1]) !== count) throw new Error('backlog not filled: ' + fill.stdout.slice(-400));
  console.log(`rss       backlog of ${count.toLocaleString('en')} x ${size} B written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const libs: Lib[] = ['ours', 'kafkajs', 'platformatic'];
  const runs = new Map<Lib, RunResult[]>();
  let g = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const lib of rotated(libs, round)) {
      const r = await runWorker({ lib, scenario: 'rss', brokers: brokersList, topic, count, size, acks: 1, compression: 'none', group: `gr-${stamp}-${++g}`, durationMs, handlerSleepMs: 1 });
      runs.set(lib, [...(runs.get(lib) ?? []), r]);
    }
  }
  await deleteTopic(topic);
  for (const [lib, rs] of runs) {
    const mem = rs.map((r) => r.memory!);
    const worst = mem.reduce((a, b) => (b.peakRssMb > a.peakRssMb ? b : a));
    const row: MemRow = {
      config, lib, runs: rs, records: median(rs.map((r) => r.records)), baselineRssMb: median(mem.map((m) => m.baselineRssMb)),
      peakRssMb: worst.peakRssMb, growthMb: worst.peakRssMb - worst.baselineRssMb, endRssMb: worst.endRssMb,
      lateSlopeMbPerS: lateSlope(worst.rssEverySecondMb),
      peakHeapUsedMb: Math.max(...mem.map((m) => m.peakHeapUsedMb)), peakArrayBuffersMb: Math.max(...mem.map((m) => m.peakArrayBuffersMb)),
      maxRssMb: Math.max(...rs.map((r) => r.peakRssMb ?? 0)),
    };
    if (worst.boundBytes !== undefined) {
      row.boundMb = worst.boundBytes / 1048576;
      row.boundSource = worst.boundSource;
      row.limitMb = row.boundMb + RSS_SLACK_MB;
      // Both the 100 ms samples and the kernel's high-water mark of the whole process (getrusage maxRSS, which also
      // covers what fell between samples, start-up and close) must stay within the limit.
      row.met = rs.every((r) => r.memory!.peakRssMb <= row.limitMb! && (r.peakRssMb ?? 0) <= row.limitMb!);
    }
    memRows.push(row);
    const target = row.limitMb !== undefined ? `  bound ${row.boundMb!.toFixed(0)} MiB + ${RSS_SLACK_MB} = ${row.limitMb.toFixed(0)} MiB: ${row.met ? 'met' : 'MISSED'}` : '';
    console.log(`rss       ${config.padEnd(26)} ${lib.padEnd(13)} peak ${row.peakRssMb.toFixed(1).padStart(7)} MiB (maxRSS ${row.maxRssMb.toFixed(1)})  baseline ${row.baselineRssMb.toFixed(1).padStart(6)} MiB  growth ${row.growthMb.toFixed(1).padStart(7)} MiB  at end ${row.endRssMb.toFixed(1).padStart(7)} MiB  late slope ${row.lateSlopeMbPerS.toFixed(2)} MiB/s  ${Math.round(row.records / (durationMs / 1000))} msg/s handled${target}`);
  }
}

interface Ratio {
  scenario: string;
  config: string;
  pair: string;
  /** Median over rounds of the per-round ratio (A and B of one round ran on the same broker minutes apart). */
  ratio: number;
  min: number;
  max: number;
  /** The ratio of the two rows' medians, for comparison. */
  ofMedians: number;
  basis: string;
}

/** Ours against each peer, and the channel API against the lower path: per round, then the median over rounds. */
function ratios(): Ratio[] {
  const out: Ratio[] = [];
  const find = (s: string, c: string, l: string): Row | undefined => rows.find((r) => r.scenario === s && r.config === c && r.lib === l);
  const rate = (r: RunResult): number => r.records / (r.wallMs / 1000);
  for (const r of rows.filter((x) => x.lib === 'ours' || x.lib === 'ours-await')) {
    for (const peer of r.lib === 'ours' ? ['kafkajs', 'platformatic', 'java', 'ours-lower'] as const : ['ours-lower'] as const) {
      const p = find(r.scenario, r.config, peer);
      if (!p) continue;
      const pair = peer !== 'ours-lower' ? `ours / ${peer}` : r.lib === 'ours' ? 'channel API / lower path' : 'channel API, for await / lower path';
      const byP99 = r.scenario === 'awaited' || r.scenario === 'latency';
      const n = Math.min(r.runs.length, p.runs.length);
      const perRound = Array.from({ length: n }, (_, i) => byP99
        ? p.runs[i]!.latency!.p99 / r.runs[i]!.latency!.p99
        : rate(r.runs[i]!) / rate(p.runs[i]!));
      out.push({
        scenario: r.scenario, config: r.config, pair, ratio: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound),
        ofMedians: byP99 ? p.p99! / r.p99! : r.msgPerSec / p.msgPerSec,
        basis: byP99 ? 'peer p99 / our p99 (>1: ours lower)' : 'msg/s',
      });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const env = process.env.KAFKA_BROKERS?.trim();
  if (env) brokersList = env.split(',');
  else {
    // Broker log dirs on tmpfs: on a disk, the page cache's writeback stalls the broker for seconds at a time and
    // swings produce rates by 2x between rounds (PROFILE-E2E.md, fourth pass). KAFKA_HARNESS_DATA overrides it.
    if (existsSync('/dev/shm')) process.env.KAFKA_HARNESS_DATA ??= '/dev/shm/kafka-channels-bench';
    // The harness is compiled by the repository's `npm run build:tests` into <repo>/.build, not into bench/.build.
    const harness = join(here, '..', '..', '..', '..', '..', '.build', 'integration', 'harness', 'index.js');
    const h: any = await import(pathToFileURL(harness).href).catch(() => {
      throw new Error(`set KAFKA_BROKERS, or run \`npm run build:tests\` at the repository root so ${harness} exists`);
    });
    h.installExitHandlers?.(); // Ctrl-C or a crash stops the broker it starts
    stopBroker = () => h.stopAll();
    brokersList = await h.brokers();
  }
  const kafkaVersion = readdirSync(LIBS).join(' ').match(/kafka-clients-([\d.]+)\.jar/)?.[1] ?? 'unknown';
  const t0 = Date.now();
  const want = (s: string): boolean => !ONLY || ONLY.includes(s);
  console.log(`e2e against ${brokersList.join(',')}, ${QUICK ? 'quick' : 'full'}, ${ROUNDS} round(s), node ${process.version}`);
  if (want('produce')) {
    const small = QUICK ? 200_000 : 1_000_000;
    const big = QUICK ? 50_000 : 100_000;
    const configs: Array<[number, number, 1 | 'all', 'none' | 'lz4' | 'zstd']> = QUICK
      ? [[small, 100, 1, 'none'], [small, 100, 'all', 'none'], [small, 100, 1, 'lz4'], [small, 100, 1, 'zstd'], [big, 1024, 1, 'none']]
      : [100, 1024].flatMap((size) => (['none', 'lz4', 'zstd'] as const).flatMap((c) => ([1, 'all'] as const).map((a) => [size === 100 ? small : big, size, a, c] as [number, number, 1 | 'all', 'none' | 'lz4' | 'zstd'])));
    for (const [n, size, acks, c] of configs) {
      if (CONFIG === undefined || `${n / 1000}k x ${size} B acks=${acks} ${c}`.includes(CONFIG)) await produceScenario(n, size, acks, c);
    }
  }
  if (want('awaited')) await awaitedScenario(QUICK ? 2_000 : 20_000);
  if (want('consume')) await consumeScenario(QUICK ? 200_000 : 1_000_000);
  if (want('latency')) await latencyScenario(10_000, QUICK ? 5_000 : 10_000);
  if (want('rss')) await rssScenario(1_000_000, RSS_MS);
  await admin?.disconnect();
  // With KAFKA_BROKERS, KAFKA_HARNESS_DATA (if set) names where that broker was started with its log dirs.
  const brokerLogDirs = process.env.KAFKA_HARNESS_DATA ?? (env ? 'external broker (not stated)' : 'harness default (disk)');
  const result = { suite: 'e2e', date: new Date().toISOString(), quick: QUICK, rounds: ROUNDS, kafka: kafkaVersion, brokerLogDirs, machine: machine(), elapsedS: Math.round((Date.now() - t0) / 1000), settings: SETTINGS, rows, ratios: ratios(),
    ...(memRows.length ? { memorySettings: RSS_SETTINGS, memorySlackMb: RSS_SLACK_MB, memory: memRows } : {}) };
  if (OUT) writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  console.log(`done in ${result.elapsedS} s`);
  for (const r of result.ratios) {
    console.log(`${r.scenario.padEnd(9)} ${r.config.padEnd(30)} ${r.pair.padEnd(36)} ${r.ratio.toFixed(2)}x [${r.min.toFixed(2)}..${r.max.toFixed(2)}] (of medians ${r.ofMedians.toFixed(2)}x; ${r.basis})`);
  }
  await stopBroker?.();
  process.exit(0);
}

main().catch(async (err: unknown) => {
  console.error(err);
  await stopBroker?.().catch(() => undefined);
  process.exit(1);
});
