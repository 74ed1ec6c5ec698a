/**
 * A small, dependency-free timing harness: warm up, calibrate a batch of iterations to a target duration, time
 * several such batches and keep the median, which ignores the odd GC pause or scheduler hiccup better than the mean.
 */

import { writeFileSync, mkdirSync } from 'node:fs';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';

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

export const FULL: TimingOptions = { warmupMs: 400, runMs: 200, runs: 12 };
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

/**
 * Which clock a run reads. Our machines are shared (other engineers' compilers and tests run beside the
 * benchmarks), so wall time inflates with the load while this process's CPU time (process.cpuUsage: user +
 * system, all its threads, so GC helpers are charged too) mostly does not. CPU time is the default.
 */
export let clock: 'cpu' | 'wall' = 'cpu';
export function useClock(c: 'cpu' | 'wall'): void {
  clock = c;
}

/** Runs `op` `n` times; returns the elapsed nanoseconds on the chosen clock. */
async function loop(op: Op, n: number, isAsync: boolean): Promise<number> {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  if (isAsync) {
    for (let i = 0; i < n; i++) sink = await op();
  } else {
    for (let i = 0; i < n; i++) sink = op();
  }
  if (clock === 'wall') return Number(process.hrtime.bigint() - wall);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) * 1000;
}

/**
 * Times several operations that do the same work in different libraries. Each is warmed up and calibrated
 * alone, then their timed runs are interleaved (A B C, A B C, ...), so that noise from other processes on the
 * machine falls on all of them alike and their ratios stay meaningful.
 */
export async function measureAll(ops: readonly Op[], options: TimingOptions): Promise<Timing[]> {
  const plans: { op: Op; isAsync: boolean; iterations: number; perOp: number[] }[] = [];
  for (const op of ops) {
    const first = op();
    const isAsync = isPromise(first);
    if (isAsync) await first;
    // Warm up and calibrate together: double the batch until it takes a while.
    let n = 1;
    let elapsed = 0;
    const warmEnd = Date.now() + options.warmupMs;
    do {
      elapsed = (await loop(op, n, isAsync)) / 1e6;
      if (elapsed < options.runMs / 4) n *= 2;
    } while (Date.now() < warmEnd || elapsed < options.runMs / 4);
    const iterations = Math.max(1, Math.round((n * options.runMs) / Math.max(elapsed, 0.001)));
    plans.push({ op, isAsync, iterations, perOp: [] });
  }
  for (let r = 0; r < options.runs; r++) {
    for (const p of plans) p.perOp.push((await loop(p.op, p.iterations, p.isAsync)) / p.iterations);
  }
  return plans.map((p) => {
    const sorted = p.perOp.sort((a, b) => a - b);
    return { nsPerOp: sorted[sorted.length >> 1]!, minNs: sorted[0]!, maxNs: sorted[sorted.length - 1]!, iterations: p.iterations };
  });
}

/** Times one operation (see {@link measureAll}). */
export async function measure(op: Op, options: TimingOptions): Promise<Timing> {
  return (await measureAll([op], options))[0]!;
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
    clock,
    loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
  };
}

/** Command-line flags shared by all bench entry points. */
export function parseArgs(argv = process.argv.slice(2)): { quick: boolean; out: string | undefined; only: string | undefined; lib: string | undefined } {
  const quick = argv.includes('--quick');
  if (argv.includes('--wall')) useClock('wall');
  const outAt = argv.indexOf('--out');
  const onlyAt = argv.indexOf('--only');
  const libAt = argv.indexOf('--lib');
  return {
    quick,
    out: outAt >= 0 ? argv[outAt + 1] : undefined,
    only: onlyAt >= 0 ? argv[onlyAt + 1] : undefined,
    lib: libAt >= 0 ? argv[libAt + 1] : undefined,
  };
}

/** Writes a results file, creating its folder. */
export function writeJson(path: string, data: unknown): void {
  mkdirSync(new URL('.', `file://${path}`).pathname, { recursive: true });
  writeFileSync(path, JSON.stringify(data, null, 2) + '\n');
}
