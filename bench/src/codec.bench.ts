/**
 * Protocol micro-benchmarks: RecordBatch v2 encode and decode (1,000 records of 100 B and of 1 KB, each
 * compression a library supports), CRC-32C and varints, for kafka-channels beside KafkaJS and @platformatic/kafka.
 *
 *   node .build/bench/src/codec.bench.js [--quick] [--out results/codec-node22.json] [--only encode|decode|compression|crc|varint]
 *
 * Every library encodes the same records; every decoder decodes the same bytes (kafka-channels' output when it
 * has the compression, else the first peer's), after each library's output was checked by the others' decoders.
 * The parent process runs those checks, then times each library in a child process of its own (`--lib`).
 */

import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPRESSIONS, expected, mismatch, type CodecContender, type Compression } from './contender.js';
import { makeBytes, makeRecords, seededRandom, type RecordSet } from './fixtures.js';
import { FULL, QUICK, machine, measureAll, parseArgs, writeJson, type TimingOptions } from './harness.js';
import { kafkajs } from './peers/kafkajs.js';
import { ours } from './peers/ours.js';
import { loadPlatformatic } from './peers/platformatic.js';

/** One measured row of the results file. */
export interface Row {
  bench: 'encode' | 'decode' | 'compress' | 'decompress' | 'crc32c' | 'varint-write' | 'varint-read';
  input: string;
  compression?: Compression;
  variant?: string;
  lib: string;
  nsPerOp: number;
  minNs: number;
  maxNs: number;
  recordsPerSec?: number;
  /** Payload (key + value, or checksummed bytes) megabytes (1e6 B) per second. */
  mbPerSec?: number;
  /** Encoded batch size, bytes. */
  batchBytes?: number;
  /** Child-process rounds this row is the median of. */
  rounds?: number;
}

const rows: Row[] = [];
const checks: string[] = [];

function log(row: Row): void {
  rows.push(row);
  const rate = row.recordsPerSec !== undefined ? `${(row.recordsPerSec / 1e6).toFixed(3)} M rec/s` : '';
  const mb = row.mbPerSec !== undefined ? `${row.mbPerSec.toFixed(1)} MB/s` : '';
  const what = [row.bench, row.input, row.compression ?? row.variant ?? ''].join(' ');
  console.log(`${what.padEnd(34)} ${row.lib.padEnd(44)} ${(row.nsPerOp / 1e3).toFixed(1).padStart(10)} us/op ${rate.padStart(16)} ${mb.padStart(12)}`);
}

/** Encodes with every contender and decodes each output with every decoder; returns the reference bytes. */
async function crossCheck(set: RecordSet, c: Compression, libs: CodecContender[]): Promise<Buffer | undefined> {
  const want = expected(set.records);
  let reference: Buffer | undefined;
  for (const producer of libs) {
    if (!producer.batch?.compressions.includes(c)) continue;
    const bytes = producer.batch.bytes(await producer.batch.encode(producer.batch.prepare(set), c));
    reference ??= bytes;
    if (!checking) break;
    for (const consumer of libs) {
      if (!consumer.batch?.compressions.includes(c)) continue;
      const bad = mismatch(want, await consumer.batch.read(bytes));
      const line = `${set.name} ${c}: ${producer.name} -> ${consumer.name}: ${bad ?? 'ok'}`;
      checks.push(line);
      if (bad) console.error(`CHECK FAILED ${line}`);
    }
  }
  return reference;
}

/** A case to time: its row (without timings) and the operation. */
interface Case {
  row: Omit<Row, 'nsPerOp' | 'minNs' | 'maxNs'>;
  op: () => unknown;
  /** Turns a median ns/op into rates for the row. */
  rates?: (nsPerOp: number) => Partial<Row>;
}

/**
 * Library names this process times. The parent process times none: it cross-checks, then runs one child
 * process per library, so that one library's garbage is never collected (and charged to the CPU clock) while
 * another library is being timed.
 */
const timed = new Set<string>();
/** Whether this process runs the cross-checks (the parent does; children skip them). */
let checking = true;

/** Times the cases of this process's library and logs them. */
async function compare(all: Case[], opts: TimingOptions): Promise<void> {
  const cases = all.filter((c) => timed.has(c.row.lib.replace(' (verifyCrc off)', '')));
  if (cases.length === 0) return;
  const timings = await measureAll(cases.map((c) => c.op), opts);
  cases.forEach((c, i) => {
    const t = timings[i]!;
    log({ ...c.row, ...t, ...(c.rates?.(t.nsPerOp) ?? {}) } as Row);
  });
}

async function batchBenches(libs: CodecContender[], opts: TimingOptions, only?: string): Promise<void> {
  for (const set of [makeRecords(1000, 100), makeRecords(1000, 1024)]) {
    for (const c of COMPRESSIONS) {
      const reference = await crossCheck(set, c, libs);
      if (!reference) continue;
      const withIt = libs.filter((l) => l.batch?.compressions.includes(c) && timed.has(l.name));
      const rate = (ns: number) => rates(set, ns);
      if (!only || only === 'encode') {
        const cases: Case[] = [];
        for (const lib of withIt) {
          const b = lib.batch!;
          const prepared = b.prepare(set);
          const batchBytes = b.bytes(await b.encode(prepared, c)).length;
          cases.push({ row: { bench: 'encode', input: set.name, compression: c, lib: lib.name, batchBytes }, op: () => b.encode(prepared, c), rates: rate });
        }
        await compare(cases, opts);
      }
      if (!only || only === 'decode') {
        const cases: Case[] = [];
        const row = { bench: 'decode' as const, input: set.name, compression: c, batchBytes: reference.length };
        for (const lib of withIt) {
          const b = lib.batch!;
          cases.push({ row: { ...row, lib: lib.name }, op: () => b.decode(reference), rates: rate });
          const noCrc = b.decodeWithoutCrc;
          if (noCrc) cases.push({ row: { ...row, lib: `${lib.name} (verifyCrc off)` }, op: () => noCrc(reference), rates: rate });
        }
        await compare(cases, opts);
      }
    }
  }
}

function rates(set: RecordSet, nsPerOp: number): { recordsPerSec: number; mbPerSec: number } {
  return { recordsPerSec: (set.records.length * 1e9) / nsPerOp, mbPerSec: (set.payloadBytes * 1e3) / nsPerOp };
}

/**
 * The codecs alone, on the records' payload (keys and values back to back): separates codec speed from record
 * framing, and checks that each library reads what the others compress.
 */
async function compressionBenches(libs: CodecContender[], opts: TimingOptions): Promise<void> {
  for (const set of [makeRecords(1000, 100), makeRecords(1000, 1024)]) {
    const data = Buffer.concat(set.records.flatMap((r) => [r.key, r.value]));
    for (const c of COMPRESSIONS) {
      const withIt = libs.filter((l) => l.codecs?.[c]);
      for (const from of checking ? withIt : []) {
        const packed = Buffer.from(from.codecs![c]!.compress(data));
        for (const to of withIt) {
          const ok = Buffer.from(to.codecs![c]!.decompress(packed)).equals(data);
          const line = `codec ${set.name} ${c}: ${from.name} -> ${to.name}: ${ok ? 'ok' : 'differs'}`;
          checks.push(line);
          if (!ok) console.error(`CHECK FAILED ${line}`);
        }
      }
      const packed = withIt.map((lib) => (timed.has(lib.name) ? Buffer.from(lib.codecs![c]!.compress(data)) : Buffer.alloc(0)));
      const mb = (ns: number) => ({ mbPerSec: (data.length * 1e3) / ns });
      await compare(withIt.map((lib, i) => ({ row: { bench: 'compress', input: set.name, compression: c, lib: lib.name, batchBytes: packed[i]!.length }, op: () => lib.codecs![c]!.compress(data), rates: mb })), opts);
      // Each library decompresses its own output (the cross-check above proved they read each other's).
      await compare(withIt.map((lib, i) => ({ row: { bench: 'decompress', input: set.name, compression: c, lib: lib.name, batchBytes: packed[i]!.length }, op: () => lib.codecs![c]!.decompress(packed[i]!), rates: mb })), opts);
    }
  }
}

async function crcBenches(libs: CodecContender[], opts: TimingOptions): Promise<void> {
  for (const size of [1024, 1 << 20]) {
    const data = makeBytes(size);
    const want = libs[0]!.crc32c[Object.keys(libs[0]!.crc32c)[0]!]!(data);
    const cases: Case[] = [];
    for (const lib of libs) {
      for (const [variant, fn] of Object.entries(lib.crc32c)) {
        const line = `crc32c ${size} B: ${lib.name} ${variant}: ${fn(data) === want ? 'ok' : 'differs'}`;
        if (checking) checks.push(line);
        if (!line.endsWith(': ok')) console.error(`CHECK FAILED ${line}`);
        cases.push({ row: { bench: 'crc32c', input: size >= 1 << 20 ? '1MiB' : '1KiB', variant, lib: lib.name }, op: () => fn(data), rates: (ns) => ({ mbPerSec: (size * 1e3) / ns }) });
      }
    }
    await compare(cases, opts);
  }
}

/** 10,000 int32 values of the magnitudes records carry: mostly small deltas and lengths, some large. */
function varintValues(): Int32Array {
  const random = seededRandom(3);
  const v = new Int32Array(10_000);
  for (let i = 0; i < v.length; i++) {
    const p = random();
    // Up to 2^29: @platformatic/kafka 2.12 misreads zigzag values of 2^30 and beyond (signed shift).
    const mag = p < 0.6 ? 64 : p < 0.9 ? 16384 : 2 ** 29;
    v[i] = Math.floor((random() * 2 - 1) * mag) | 0;
  }
  return v;
}

async function varintBenches(libs: CodecContender[], opts: TimingOptions): Promise<void> {
  const values = varintValues();
  const encoded = kafkajs.writeVarints!(values) as Buffer;
  const want = values.reduce((a, b) => a + b, 0);
  const withIt = libs.filter((l) => l.writeVarints && l.readVarints);
  for (const lib of withIt) {
    const w = `varint write: ${lib.name}: ${Buffer.from(lib.writeVarints!(values) as Uint8Array).equals(encoded) ? 'ok' : 'differs'}`;
    const r = `varint read: ${lib.name}: ${lib.readVarints!(encoded, values.length) === want ? 'ok' : 'differs'}`;
    for (const line of [w, r]) {
      if (checking) checks.push(line);
      if (!line.endsWith(': ok')) console.error(`CHECK FAILED ${line}`);
    }
  }
  const rate = (ns: number) => ({ recordsPerSec: (values.length * 1e9) / ns });
  await compare(withIt.map((lib) => ({ row: { bench: 'varint-write', input: '10k', lib: lib.name }, op: () => lib.writeVarints!(values), rates: rate })), opts);
  await compare(withIt.map((lib) => ({ row: { bench: 'varint-read', input: '10k', lib: lib.name }, op: () => lib.readVarints!(encoded, values.length), rates: rate })), opts);
}

/** Rounds of child processes in a full run. */
const ROUNDS = 3;

/** The round whose time is the median, with the spread of all rounds. */
function medianRow(samples: Row[]): Row {
  const sorted = [...samples].sort((a, b) => a.nsPerOp - b.nsPerOp);
  const mid = sorted[sorted.length >> 1]!;
  return { ...mid, minNs: Math.min(...samples.map((r) => r.minNs)), maxNs: Math.max(...samples.map((r) => r.maxNs)), rounds: samples.length };
}

const KEYS: Record<string, string> = { ours: ours.name, kafkajs: kafkajs.name };

/** Runs this file again with `--lib key` and returns the rows the child wrote. */
function timeInChild(key: string, argv: string[]): Row[] {
  const out = join(tmpdir(), `codec-bench-${process.pid}-${key}.json`);
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...argv, '--lib', key, '--out', out], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`timing ${key} failed with status ${r.status}`);
  const rowsOut = (JSON.parse(readFileSync(out, 'utf8')) as { rows: Row[] }).rows;
  rmSync(out, { force: true });
  return rowsOut;
}

async function main(): Promise<void> {
  const args = parseArgs();
  // A round (see main) does a third of a full run's timed runs.
  const opts = args.quick ? QUICK : process.argv.includes('--round') ? { ...FULL, runs: Math.ceil(FULL.runs / ROUNDS) } : FULL;
  const platformatic = await loadPlatformatic();
  if (platformatic) KEYS.platformatic = platformatic.name;
  const libs = [ours, kafkajs, ...(platformatic ? [platformatic] : [])];
  if (args.lib) {
    if (!KEYS[args.lib]) throw new Error(`unknown --lib ${args.lib}; one of ${Object.keys(KEYS).join(', ')}`);
    timed.add(KEYS[args.lib]!);
    checking = false;
  } else {
    console.log(`codec benchmarks on Node ${process.version}${args.quick ? ' (quick)' : ''}: ${libs.map((l) => l.name).join(', ')}`);
  }
  if (!args.only || args.only === 'encode' || args.only === 'decode') await batchBenches(libs, opts, args.only);
  if (!args.only || args.only === 'compression') await compressionBenches(libs, opts);
  if (!args.only || args.only === 'crc') await crcBenches(libs, opts);
  if (!args.only || args.only === 'varint') await varintBenches(libs, opts);
  if (!args.lib) {
    // Rounds of A B C, each with a share of the runs: load from other processes that comes and goes then falls
    // on every library alike. A row's figure is the median of its rounds' medians.
    const passOn = process.argv.slice(2).filter((a, i, all) => a !== '--out' && all[i - 1] !== '--out');
    const rounds = args.quick ? 1 : ROUNDS;
    const byKey = new Map<string, Row[]>();
    for (let round = 0; round < rounds; round++) {
      for (const key of Object.keys(KEYS)) {
        for (const row of timeInChild(key, [...passOn, '--round'])) {
          const k = [row.bench, row.input, row.compression ?? '', row.variant ?? '', row.lib].join('|');
          byKey.set(k, [...(byKey.get(k) ?? []), row]);
        }
      }
    }
    for (const samples of byKey.values()) rows.push(medianRow(samples));
  }
  // A partial run (--only) goes to results/partial/ (the report reads results/*.json only), so it never replaces
  // the full results, unless --out says where it goes.
  const major = process.versions.node.split('.')[0];
  const out = args.out ?? new URL(args.only ? `../../../results/partial/codec-node${major}-${args.only}.json` : `../../../results/codec-node${major}.json`, import.meta.url).pathname;
  writeJson(out, { suite: 'codec', date: new Date().toISOString(), quick: args.quick, machine: machine(), libs: libs.map((l) => l.name), checks, rows });
  if (!args.lib) console.log(`wrote ${out}`);
  if (checks.some((c) => !c.endsWith(': ok'))) process.exitCode = 1;
}

await main();
