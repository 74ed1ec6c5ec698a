/**
 * zstd through node:zlib three ways (src/protocol/compression/zstd.ts): node:zlib's one-shot call as is (it
 * sets up the context of an unbounded input, a 2 MiB window at level 3, on every call); the one-shot call with
 * a window that just covers the batch; and `zstdCompress`, which reuses one native context per (level, window)
 * (zstd-context.ts). All three write the same bytes (checked here); the difference is CPU and the native memory
 * each call leaves for the GC. Producer batches of 16 KiB (Kafka's default batch.size) and 128 KiB (the e2e
 * bench's), JSON-like and the e2e bench's synthetic values. The clock is CPU time; each case runs in fresh
 * processes, taking turns with the others (see main). Then decompression of the same frames: node:zlib's
 * one-shot call (a fresh ZSTD_DCtx per call) against `zstdDecompress` (one reused context). Node 22.15+ only.
 * `node_modules/.bin/node .build/bench/src/zstd-window.bench.js`
 */
import { execFileSync } from 'node:child_process';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { hasNativeZstd, zstdCompress, zstdCompressOneShot, zstdDecompress } from '../../src/protocol/compression/zstd.js';

const ROUNDS = 5;
const CALLS = 400;
const PAIRS = 5;

function jsonLike(size: number): Buffer {
  const lines: string[] = [];
  for (let i = 0, n = 0; n < size; i++) {
    const l = JSON.stringify({ id: i, user: `user-${(i * 7919) % 1000}`, amount: ((i * 37) % 10000) / 100, at: new Date(1.7e12 + i * 1000).toISOString() });
    lines.push(l);
    n += l.length + 1;
  }
  return Buffer.from(lines.join('\n')).subarray(0, size);
}

/** The e2e bench's 1 KB values (bench/src/e2e/worker.ts), back to back. */
function synthetic(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + (((i % 1024) * 7 + (i >> 10)) % 26);
  return b;
}

const plainZstd = (zlib as unknown as { zstdCompressSync: (d: Uint8Array) => Buffer }).zstdCompressSync;

const WAYS = ['default', 'sized', 'reused'] as const;
type Way = (typeof WAYS)[number];
const compressWith: Record<Way, (d: Uint8Array) => Buffer> = { default: plainZstd, sized: (d) => zstdCompressOneShot(d), reused: (d) => zstdCompress(d) };
const UNWAYS = ['one-shot', 'reused-d'] as const;
type Unway = (typeof UNWAYS)[number];
const plainUnzstd = (zlib as unknown as { zstdDecompressSync: (d: Uint8Array) => Buffer }).zstdDecompressSync;
const decompressWith: Record<Unway, (d: Uint8Array) => Buffer> = { 'one-shot': plainUnzstd, 'reused-d': (d) => zstdDecompress(d) };

/** One case in this process: CPU µs per call (median of the rounds) and RSS growth over all calls. */
function runCase(kind: string, size: number, way: Way | Unway): void {
  const data = (kind === 'json' ? jsonLike : synthetic)(size);
  const frame = plainZstd(data);
  const f = way in compressWith ? (): Buffer => compressWith[way as Way](data) : (): Buffer => decompressWith[way as Unway](frame);
  for (let i = 0; i < CALLS / 2; i++) f();
  const r0 = process.memoryUsage().rss;
  const us: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t = process.cpuUsage();
    for (let i = 0; i < CALLS; i++) f();
    const d = process.cpuUsage(t);
    us.push((d.user + d.system) / CALLS);
  }
  us.sort((a, b) => a - b);
  console.log(JSON.stringify({ us: us[us.length >> 1], rssMb: (process.memoryUsage().rss - r0) / 2 ** 20, bytes: f().length }));
}

/** Each case in a fresh process, taking turns, so one case's contexts are never collected on another's clock. */
function main(): void {
  if (!hasNativeZstd) { console.log(`node ${process.version} has no zstd in node:zlib: nothing to compare`); return; }
  console.log(`zstd level 3 via node:zlib, node ${process.version}: CPU µs per call (median over ${PAIRS} processes per case, each the median of ${ROUNDS} rounds of ${CALLS}), RSS growth over a process's calls`);
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  for (const kind of ['json', 'synthetic']) {
    for (const size of [16 << 10, 128 << 10]) {
      const bytes = sameBytesCheck(kind, size);
      const r = { default: [], sized: [], reused: [] } as Record<Way, { us: number; rssMb: number }[]>;
      for (let i = 0; i < PAIRS; i++) {
        for (const way of WAYS) {
          const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), 'case', kind, String(size), way], { encoding: 'utf8' });
          r[way].push(JSON.parse(out));
        }
      }
      const us = (w: Way): number => med(r[w].map((x) => x.us));
      const cell = (w: Way): string => `${w} ${us(w).toFixed(1).padStart(6)} µs, RSS +${med(r[w].map((x) => x.rssMb)).toFixed(0).padStart(3)} MiB`;
      console.log(`${kind.padEnd(10)} ${String(size >> 10).padStart(4)} KiB -> ${String(bytes).padStart(6)} B   ${WAYS.map(cell).join('   ')}   default/sized ${(us('default') / us('sized')).toFixed(2)}x  sized/reused ${(us('sized') / us('reused')).toFixed(2)}x  default/reused ${(us('default') / us('reused')).toFixed(2)}x`);
    }
  }
  console.log('decompress the same frames (node:zlib one-shot against one reused context):');
  for (const kind of ['json', 'synthetic']) {
    for (const size of [16 << 10, 128 << 10]) {
      const data = (kind === 'json' ? jsonLike : synthetic)(size);
      if (!zstdDecompress(plainZstd(data)).equals(data)) throw new Error(`${kind} ${size}: reused decompression differs`);
      const r = { 'one-shot': [], 'reused-d': [] } as Record<Unway, { us: number; rssMb: number }[]>;
      for (let i = 0; i < PAIRS; i++) {
        for (const way of UNWAYS) {
          const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), 'case', kind, String(size), way], { encoding: 'utf8' });
          r[way].push(JSON.parse(out));
        }
      }
      const us = (w: Unway): number => med(r[w].map((x) => x.us));
      const cell = (w: Unway): string => `${w.replace('-d', '')} ${us(w).toFixed(1).padStart(6)} µs, RSS +${med(r[w].map((x) => x.rssMb)).toFixed(0).padStart(3)} MiB`;
      console.log(`${kind.padEnd(10)} ${String(size >> 10).padStart(4)} KiB   ${UNWAYS.map(cell).join('   ')}   one-shot/reused ${(us('one-shot') / us('reused-d')).toFixed(2)}x`);
    }
  }
}

/** All ways write the same bytes, a reused context on its second frame too; returns the compressed size. */
function sameBytesCheck(kind: string, size: number): number {
  const data = (kind === 'json' ? jsonLike : synthetic)(size);
  const a = plainZstd(data);
  for (const way of WAYS) {
    for (let twice = 0; twice < 2; twice++) {
      if (!a.equals(compressWith[way](data))) throw new Error(`${kind} ${size}: ${way} wrote different bytes`);
    }
  }
  return a.length;
}

if (process.argv[2] === 'case') runCase(process.argv[3]!, Number(process.argv[4]), process.argv[5] as Way | Unway);
else main();
