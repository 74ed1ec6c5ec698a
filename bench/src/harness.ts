/**
 * A small, dependency-free timing harness: warm up, calibrate a batch of iterations to a target duration, time
 * several such batches and keep the median, which ignores the odd GC pause or scheduler hiccup better than the mean.
 */

import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem, platform, arch } from 'node:os';

/** One operation; may return a promise (KafkaJS's codec is async), which is awaited. */
export type Op = () => unknown;

export interface TimingOptions {
  /** Milliseconds spent warming up before calibration. */
  warmupMs: number;
  /** Target milliseconds for one timed run. */
  runMs: number;
  /** Number of timed runs; the median is reported. */
  runs: number;
}

export const FULL: TimingOptions = { warmupMs: 600, runMs: 300, runs: 9 };
export const QUICK: TimingOptions = { warmupMs: 150, runMs: 80, runs: 3 };

/** Median and spread of one measured operation. */
export interface Timing {
  /** Median nanoseconds per operation. */
  nsPerOp: number;
  /** Fastest and slowest run, nanoseconds per operation. */
  minNs: number;
  maxNs: number;
  /** Operations per timed run. */
  iterations: number;
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Keeps results alive so the JIT cannot discard an operation whose output is unused. */
export let sink: unknown;

async function loop(op: Op, n: number, isAsync: boolean): Promise<bigint> {
  const start = process.hrtime.bigint();
  if (isAsync) {
    for (let i = 0; i < n; i++) sink = await op();
  } else {
    for (let i = 0; i < n; i++) sink = op();
  }
  return process.hrtime.bigint() - start;
}

/** Times `op`: warm-up, calibration, then `runs` runs of about `runMs` each. */
export async function measure(op: Op, options: TimingOptions): Promise<Timing> {
  const first = op();
  const isAsync = isPromise(first);
  if (isAsync) await first;
  // Warm up and calibrate together: double the batch until it takes a while.
  let n = 1;
  let elapsed = 0;
  const warmEnd = Date.now() + options.warmupMs;
  do {
    elapsed = Number(await loop(op, n, isAsync)) / 1e6;
    if (elapsed < options.runMs / 4) n *= 2;
  } while (Date.now() < warmEnd || elapsed < options.runMs / 4);
  const iterations = Math.max(1, Math.round((n * options.runMs) / Math.max(elapsed, 0.001)));
  const perOp: number[] = [];
  for (let r = 0; r < options.runs; r++) {
    perOp.push(Number(await loop(op, iterations, isAsync)) / iterations);
  }
  perOp.sort((a, b) => a - b);
  return { nsPerOp: perOp[perOp.length >> 1]!, minNs: perOp[0]!, maxNs: perOp[perOp.length - 1]!, iterations };
}

/** What the machine is, for the results file. */
export function machine(): Record<string, unknown> {
  const c = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${platform()}-${arch()}`,
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
}

/** Command-line flags shared by all bench entry points. */
export function parseArgs(argv = process.argv.slice(2)): { quick: boolean; out: string | undefined; only: string | undefined } {
  const quick = argv.includes('--quick');
  const outAt = argv.indexOf('--out');
  const onlyAt = argv.indexOf('--only');
  return {
    quick,
    out: outAt >= 0 ? argv[outAt + 1] : undefined,
    only: onlyAt >= 0 ? argv[onlyAt + 1] : undefined,
  };
}

/** Writes a results file, creating its folder. */
export function writeJson(path: string, data: unknown): void {
  mkdirSync(new URL('.', `file://${path}`).pathname, { recursive: true });
  writeFileSync(path, JSON.stringify(data, null, 2) + '\n');
}
