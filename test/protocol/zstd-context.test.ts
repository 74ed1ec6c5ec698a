import * as assert from 'uvu/assert';
import * as zlib from 'node:zlib';
import { onlyIf, suite } from '../kit.js';
import { hasNativeZstd, zstdCompress, zstdCompressOneShot } from '../../src/protocol/compression/zstd.js';
import { allowContexts, contextCount, retireContexts, ZstdContext, type ZstdStream } from '../../src/protocol/compression/zstd-context.js';

const s = suite('zstd reused contexts');
const native = zlib as unknown as { zstdDecompressSync?: (d: Uint8Array) => Buffer; createZstdCompress?: unknown };
// Node 20 (CI's runtime) has no zstd in node:zlib; the runner repeats this file on a Node that has it (test/run.ts).
const canReuse = hasNativeZstd && typeof native.createZstdCompress === 'function';
const withNativeZstd = onlyIf(s, canReuse, `node ${process.version} has no zstd in node:zlib`);

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
  assert.ok(contextCount() > 0, 'contexts were reused, not just the one-shot path');
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
  assert.ok(contextCount() > 0);
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
  real.close();
});

s.run();
