import * as assert from 'uvu/assert';
import * as zlib from 'node:zlib';
import { onlyIf, suite } from '../kit.js';
import { DecodeError } from '../../src/errors.js';
import { hasNativeZstd, zstdCompress, zstdCompressOneShot, zstdDecompress } from '../../src/protocol/compression/zstd.js';
import { allowContexts, contextCount, decompressContext, dropDecompressContext, retireContexts, ZstdContext, type ZstdStream } from '../../src/protocol/compression/zstd-context.js';

const s = suite('zstd reused contexts');
const native = zlib as unknown as { zstdDecompressSync?: (d: Uint8Array) => Buffer; zstdCompressSync?: (d: Uint8Array, o?: object) => Buffer; createZstdCompress?: unknown };
// Node 20 (CI's runtime) has no zstd in node:zlib; the runner repeats this file on a Node that has it (test/run.ts).
const canReuse = hasNativeZstd && typeof native.createZstdCompress === 'function';
const withNativeZstd = onlyIf(s, canReuse, `node ${process.version} has no zstd in node:zlib`, 'native-zstd');

function text(n: number, seed: number): Buffer {
  const parts: string[] = [];
  for (let i = 0, len = 0; len < n; i++) {
    const p = `{"id":${i * seed},"user":"u${(i * 7919 + seed) % 1000}","v":${(i * seed) % 97}}\n`;
    parts.push(p);
    len += p.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

withNativeZstd('the same bytes as a fresh one-shot context, frame after frame, at every size and level, Uint8Array input too', () => {
  const sizes = [0, 1, 100, 16_384, 70_000, 131_072, 262_144, 262_145, 600_000];
  for (let round = 0; round < 3; round++) {
    for (const level of [undefined, 1, 3, 19, -5]) {
      for (const n of sizes) {
        const buf = text(n, round * 31 + n);
        const data = round === 1 ? new Uint8Array(buf) : buf;
        const reused = zstdCompress(data, level);
        assert.ok(reused.equals(zstdCompressOneShot(data, level)), `${n} bytes at level ${level}, round ${round}`);
        assert.ok(native.zstdDecompressSync!(reused).equals(buf), `${n} bytes at level ${level}: round trip`);
      }
    }
  }
  // At least one context per level used (1, 3, 19, -5; the default is 3), not just the one-shot path.
  assert.ok(contextCount() >= 4, `contexts were kept for reuse: ${contextCount()}`);
  assert.ok(contextCount() <= 8, `at most 8 contexts live, ${contextCount()}`);
});

withNativeZstd('incompressible input larger than the scratch bound and output that is not copied over by the next frame', () => {
  let x = 7;
  const noise = Buffer.alloc(200_000);
  for (let i = 0; i < noise.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; noise[i] = x & 0xff; }
  const first = zstdCompress(noise);
  const copy = Buffer.from(first);
  zstdCompress(text(200_000, 3));
  assert.ok(first.equals(copy), 'a returned frame is the caller\'s own');
  assert.ok(native.zstdDecompressSync!(first).equals(noise));
});

withNativeZstd('after the contexts are retired the one-shot path writes the same bytes', () => {
  const data = text(50_000, 5);
  const before = zstdCompress(data, 3);
  retireContexts();
  try {
    assert.is(contextCount(), 0);
    assert.ok(zstdCompress(data, 3).equals(before));
    assert.is(contextCount(), 0, 'no context is made once retired');
  } finally {
    allowContexts();
  }
  zstdCompress(data, 3);
  assert.is(contextCount(), 1, 'allowed again, one frame makes its one context');
});

/** A frame without the content size in its header, as zstd-jni's streams write them. */
function withoutContentSize(data: Uint8Array): Buffer {
  const flag = (zlib.constants as unknown as { ZSTD_c_contentSizeFlag: number }).ZSTD_c_contentSizeFlag;
  return native.zstdCompressSync!(data, { params: { [flag]: 0 } });
}

withNativeZstd('decompression reuses one context and reads what the one-shot call reads, with and without a content size', () => {
  assert.ok(decompressContext(), 'this runtime can drive a decompression context');
  for (let round = 0; round < 2; round++) {
    for (const n of [0, 1, 100, 16_384, 70_000, 131_072, 600_000, 3_000_000]) {
      const data = text(n, n + round);
      for (const frame of [zstdCompress(data), withoutContentSize(data), zstdCompress(data, 19)]) {
        const out = zstdDecompress(frame);
        assert.ok(out.equals(data), `${n} bytes, round ${round}`);
        assert.ok(out.equals(native.zstdDecompressSync!(frame)));
      }
    }
  }
});

withNativeZstd('decompression: a corrupt frame, a lying content size or output over the limit is a DecodeError, and the next frame still decodes', () => {
  const data = text(100_000, 9); // over 65,791 bytes: a 4-byte content size
  const good = zstdCompress(data);
  const noSize = withoutContentSize(data);
  const corrupt = Buffer.from(good);
  for (let i = 20; i < corrupt.length - 8; i += 7) corrupt[i] ^= 0x5a;
  const fhd = good[4]!;
  assert.is(fhd >>> 6, 2, 'a 4-byte content size at offset 5 or 6');
  const contentAt = fhd & 0x20 ? 5 : 6;
  const lying = Buffer.from(good);
  lying.writeUInt32LE(data.length - 10, contentAt);
  const cases: [string, () => unknown][] = [
    ['corrupt', () => zstdDecompress(corrupt)],
    ['content size smaller than the content', () => zstdDecompress(lying)],
    ['over the limit, size in the header', () => zstdDecompress(good, data.length - 1)],
    ['over the limit, no size in the header', () => zstdDecompress(noSize, data.length - 1)],
    ['over the limit, no size, tiny limit', () => zstdDecompress(noSize, 10)],
  ];
  for (const [name, f] of cases) {
    const before = decompressContext();
    assert.throws(f, (e: unknown) => e instanceof DecodeError, name);
    assert.ok(decompressContext() !== before, `after ${name}: the failed context was replaced`);
    assert.ok(zstdDecompress(good).equals(data), `after ${name}: sized frame`);
    assert.ok(zstdDecompress(noSize).equals(data), `after ${name}: unsized frame`);
  }
  assert.is(zstdDecompress(good, data.length).length, data.length, 'exactly at the limit');
  assert.is(zstdDecompress(noSize, data.length).length, data.length, 'exactly at the limit, no size');
});

withNativeZstd('a decompression context that failed is never written to again (node aborts the process on that write)', () => {
  const data = text(20_000, 4);
  const corrupt = Buffer.from(zstdCompress(data));
  for (let i = 20; i < corrupt.length - 8; i += 5) corrupt[i] ^= 0x33;
  const ctx = decompressContext()!;
  assert.throws(() => ctx.decompress(corrupt, -1, 1 << 20));
  assert.throws(() => ctx.decompress(zstdCompress(data), -1, 1 << 20), /failed before/);
  dropDecompressContext();
  assert.ok(decompressContext() !== ctx, 'a fresh context replaces it');
  assert.ok(zstdDecompress(zstdCompress(data)).equals(data));
});

/** A stand-in for a node:zlib stream, to check the feature checks without a native zstd. */
type FakeStream = ZstdStream & { closed: boolean };
function fakeStream(parts: Partial<ZstdStream>): FakeStream {
  const f: FakeStream = { destroyed: false, closed: false, on: (): FakeStream => f, close: () => { f.closed = true; }, ...parts };
  return f;
}

s('a stream without the internals we drive, or one that writes what zstd cannot read, gives no context and is closed', () => {
  const noHandle = fakeStream({ _handle: null, _writeState: new Uint32Array(2) });
  assert.is(ZstdContext.over(noHandle, 2), undefined);
  assert.ok(noHandle.closed);
  const noState = fakeStream({ _handle: { writeSync() {} } });
  assert.is(ZstdContext.over(noState, 2), undefined);
  assert.ok(noState.closed);
  const state = new Uint32Array(2);
  const garbage = fakeStream({
    _writeState: state,
    _handle: { writeSync(_f, _i, _io, _il, out, outOff, outLen) { out.fill(0x41, outOff, outOff + 10); state[0] = outLen - 10; state[1] = 0; } },
  });
  assert.is(ZstdContext.over(garbage, 2), undefined);
  assert.ok(garbage.closed);
});

withNativeZstd('a native handle that fails mid-frame throws instead of returning a partial frame', () => {
  const state = new Uint32Array(2);
  const real = (zlib as unknown as { createZstdCompress: (o: object) => ZstdStream }).createZstdCompress({});
  const realHandle = real._handle!;
  let fail = false;
  const stream = fakeStream({
    _writeState: state,
    _handle: {
      writeSync(flag, input, inOff, inLen, out, outOff, outLen) {
        if (fail) { stream.destroyed = true; return; }
        realHandle.writeSync(flag, input, inOff, inLen, out, outOff, outLen);
        state.set(real._writeState!.subarray(0, 2));
      },
    },
  });
  const ctx = ZstdContext.over(stream, (zlib.constants as unknown as { ZSTD_e_end: number }).ZSTD_e_end);
  assert.ok(ctx, 'a working handle passes the probe');
  fail = true;
  assert.throws(() => ctx!.compress(text(1000, 1)), /native compression context failed/);
  fail = false;
  assert.throws(() => ctx!.compress(text(1000, 1)), /failed before/, 'a failed context is never written to again');
  real.close();
});

s.run();
