/**
 * Decompression bombs: a few KiB that inflate to a GiB must be refused at the cap with a DecodeError, and the
 * memory they take on the way stays within the cap plus a small constant (no doubling copies, no output produced
 * past the cap and then checked). Each bomb runs in a child process so its peak RSS (Linux VmHWM, reset before the
 * decompression; elsewhere getrusage maxrss) is its own.
 */
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from '../kit.js';
import { hasNativeZstd } from '../../src/protocol/compression/index.js';

const s = suite('decompression cap (bombs, peak memory)', { timeoutMs: 60_000 });
const compression = fileURLToPath(new URL('../../src/protocol/compression/index.js', import.meta.url));
const CAP = 32 << 20;
/** What a refusal may take beyond the cap: the initial output guess, the runtime's own churn. */
const SLACK = 8 << 20;
/**
 * node:zlib's one-shot decoders (gzip; zstd on Node 22+) take more of the runtime's own: measured at a 16-128 MiB cap,
 * +0.5-4 MiB over their output on Node 20/22 but +4-10 MiB on Node 24/26, about constant whatever the cap. Still
 * below what one copy of the output would add (16 MiB here), so a doubling or 1.5x path fails either way.
 */
const NATIVE_SLACK = 12 << 20;

/** Builds `bomb` (an expression over `c`, the compression module, and `zlib`) in a child, decompresses it with `codec` under CAP. */
function peakOf(codec: number, bomb: string): { error: string; bombBytes: number; growthBytes: number } {
  const script = `
    import * as c from ${JSON.stringify(compression)};
    import * as zlib from 'node:zlib';
    import { existsSync, readFileSync, writeFileSync } from 'node:fs';
    const bomb = ${bomb};
    // Linux: the peak RSS of this process alone (VmHWM), reset to the current RSS (clear_refs 5) just before the
    // decompression. getrusage's maxRSS will not do there: it carries the parent's peak across fork and exec, so a
    // child of a 200 MiB test runner reports 200 MiB before it does anything.
    const proc = existsSync('/proc/self/status');
    const hwm = () => Number(/VmHWM:\\s*(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024;
    if (proc) writeFileSync('/proc/self/clear_refs', '5');
    const before = process.memoryUsage().rss;
    let error = 'none';
    try { c.decompress(${codec}, bomb, ${CAP}); } catch (e) { error = e.constructor.name + ': ' + e.message; }
    const peak = proc ? hwm() : process.resourceUsage().maxRSS * 1024;
    console.log(JSON.stringify({ error, bombBytes: bomb.length, growthBytes: peak - before }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 50_000 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** A zstd frame (no content size, 128 KiB window) of `blocks` RLE blocks of 128 KiB each: 4 bytes a block. */
const ZSTD_RLE_BOMB = `(() => {
  const blocks = 8190, out = Buffer.alloc(6 + blocks * 4);
  out.writeUInt32LE(0xfd2fb528, 0); out[4] = 0; out[5] = 7 << 3;
  for (let b = 0; b < blocks; b++) {
    const h = ((128 * 1024) << 3) | (1 << 1) | (b === blocks - 1 ? 1 : 0), o = 6 + b * 4;
    out[o] = h & 255; out[o + 1] = (h >>> 8) & 255; out[o + 2] = h >>> 16; out[o + 3] = 0x61;
  }
  return out;
})()`;

/** gzip always, and zstd where node:zlib has it, decode in node:zlib's one-shot call. */
const native = (codec: number): boolean => codec === 1 || (codec === 4 && hasNativeZstd);

const cases: Array<[string, number, string]> = [
  ['zstd (32 KiB of RLE blocks, 1 GiB out)', 4, ZSTD_RLE_BOMB],
  ['gzip (members of 1 MiB of zeros, 128 MiB out)', 1, 'Buffer.concat(Array(128).fill(zlib.gzipSync(Buffer.alloc(1 << 20))))'],
  ['lz4 (frames of 4 MiB of zeros, 128 MiB out)', 3, 'Buffer.concat(Array(32).fill(c.compress(3, Buffer.alloc(4 << 20))))'],
  // snappy cannot shrink much (at most ~21x): its bomb is bigger, and its declared lengths are checked before any output.
  ['snappy (xerial chunks of zeros, 64 MiB out)', 2, 'Buffer.concat([c.compress(2, Buffer.alloc(32 << 10)).subarray(0, 16), ...Array(2048).fill(c.compress(2, Buffer.alloc(32 << 10)).subarray(16))])'],
];

for (const [name, codec, bomb] of cases) {
  s(`${name}: refused at the cap, peak memory within the cap plus a small constant`, () => {
    const r = peakOf(codec, bomb);
    assert.match(r.error, new RegExp(`^DecodeError: .*exceeds the ${CAP}-byte limit`), `refused at the cap, naming it: ${r.error}`);
    assert.ok(r.bombBytes < 4 << 20, `the bomb is small (${r.bombBytes} bytes)`);
    const slack = native(codec) ? NATIVE_SLACK : SLACK;
    assert.ok(r.growthBytes <= CAP + slack, `peak RSS grew ${(r.growthBytes / 2 ** 20).toFixed(1)} MiB for a ${CAP / 2 ** 20} MiB cap`);
  });
}

s.run();
