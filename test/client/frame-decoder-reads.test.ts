/**
 * The frame decoder driven as a socket with `onread` drives it: each read writes into `readTarget()` and reports
 * through `onRead(n)`. Against the 'data' path (push) in seeded random read sizes; frames handed out are views the
 * caller keeps, so later reads must never write over them; large frames are read straight into their buffer.
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { DIRECT_READ_MIN, FrameDecoder, SCRATCH_BYTES } from '../../src/client/frame-decoder.js';
import { DecodeError } from '../../src/errors.js';
import { seededRandom } from '../../src/client/backoff.js';
import { assertSame, feed, stream } from './frame-streams.js';

const prng = seededRandom;

function frameOf(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let j = 0; j < size; j++) b[j] = (seed * 31 + j * 7) & 0xff;
  return b;
}

/** Sizes around the thresholds that matter (direct read minimum, scratch size), plus small and large ones. */
function payloads(rand: () => number, count: number): Buffer[] {
  const fixed = [0, 1, 5, DIRECT_READ_MIN - 1, DIRECT_READ_MIN, DIRECT_READ_MIN + 3, SCRATCH_BYTES - 4, SCRATCH_BYTES, 300_000];
  return Array.from({ length: count }, (_, i) => {
    const pick = rand();
    const size = i < fixed.length ? fixed[i]! : pick < 0.6 ? Math.floor(rand() * 2000) : pick < 0.9 ? Math.floor(rand() * 40_000) : Math.floor(rand() * 200_000);
    return frameOf(size, i);
  });
}

/** A kernel: each read writes min(target, a random read size, what is left) bytes of `bytes` into the target. */
function readAll(bytes: Buffer, nextReadSize: () => number, decoder = new FrameDecoder(), out: Buffer[] = []): Buffer[] {
  for (let at = 0; at < bytes.length;) {
    const target = decoder.readTarget();
    assert.ok(target.length > 0, 'a target is never empty');
    const n = Math.min(target.length, nextReadSize(), bytes.length - at);
    target.set(bytes.subarray(at, at + n));
    at += n;
    decoder.onRead(n, (f) => out.push(f)); // views kept as handed out: no copy
  }
  return out;
}

const s = suite('frame-decoder-reads');

s('random read sizes (seeded) give exactly the frames the data path gives, and the views stay intact', () => {
  for (let seed = 1; seed <= 120; seed++) {
    const rand = prng(seed);
    const frames = payloads(rand, 30);
    const bytes = stream(frames);
    const maxStep = [3, 100, 4096, 20_000, 70_000, 1 << 20][seed % 6]!;
    const readSize = (): number => 1 + Math.floor(rand() * maxStep);
    const cuts: number[] = [];
    for (let at = 0; ;) {
      at += readSize();
      if (at >= bytes.length) break;
      cuts.push(at);
    }
    const viaData = feed(bytes, cuts);
    assertSame(viaData, frames, `seed ${seed}, data path`);
    // The views are checked after the whole stream is read: a later read that wrote over one shows here.
    assertSame(readAll(bytes, readSize), viaData, `seed ${seed}, read path`);
  }
});

s('frame views handed out from the scratch are never written over by later reads', () => {
  // Many small frames per read: every read's scratch holds views. Then lots of other bytes.
  const kept: Buffer[] = [];
  const want: Buffer[] = [];
  const d = new FrameDecoder();
  const rand = prng(7);
  for (let round = 0; round < 200; round++) {
    const frames = Array.from({ length: 1 + Math.floor(rand() * 20) }, (_, i) => frameOf(1 + Math.floor(rand() * 500), round * 100 + i));
    want.push(...frames);
    readAll(stream(frames), () => 1 + Math.floor(rand() * 3000), d, kept);
  }
  assertSame(kept, want, 'views after 200 rounds of reads');
  // The same holds when the later reads carry bytes that differ from everything before.
  const before = kept.map((v) => Buffer.from(v));
  readAll(stream(Array.from({ length: 500 }, () => Buffer.alloc(300, 0xee))), () => 4096, d);
  assertSame(kept, before, 'views after reads of 0xee frames');
});

s('no read target overlaps memory of a frame handed out', () => {
  const d = new FrameDecoder();
  const handed: Buffer[] = [];
  const rand = prng(11);
  const bytes = stream(payloads(rand, 200));
  for (let at = 0; at < bytes.length;) {
    const t = d.readTarget();
    for (const f of handed) {
      if (f.buffer !== t.buffer || f.length === 0) continue;
      const apart = t.byteOffset >= f.byteOffset + f.length || t.byteOffset + t.length <= f.byteOffset;
      assert.ok(apart, `target [${t.byteOffset}, +${t.length}) overlaps a frame at [${f.byteOffset}, +${f.length})`);
    }
    const n = Math.min(t.length, 1 + Math.floor(rand() * 30_000), bytes.length - at);
    t.set(bytes.subarray(at, at + n));
    at += n;
    d.onRead(n, (f) => handed.push(f));
  }
});

s('the rest of a large frame is read straight into the frame buffer', () => {
  const frame = frameOf(1 << 20, 3);
  const bytes = stream([frame, Buffer.from('tail')]);
  const d = new FrameDecoder();
  const out: Buffer[] = [];
  const targets: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const t = d.readTarget();
    targets.push(t);
    const n = Math.min(t.length, 50_000, bytes.length - at);
    t.set(bytes.subarray(at, at + n));
    at += n;
    d.onRead(n, (f) => out.push(f));
  }
  assert.is(out.length, 2);
  assert.ok(out[0]!.equals(frame));
  assert.is(out[0]!.length, frame.length, 'the frame buffer is exactly the frame');
  const direct = targets.filter((t) => t.buffer === out[0]!.buffer);
  assert.ok(direct.length >= 20, `most reads went into the frame itself (${direct.length} of ${targets.length})`);
  assert.is(out[1]!.toString(), 'tail');
});

s('a scratch read from which nothing was handed out is read into again (no fresh allocation)', () => {
  const d = new FrameDecoder();
  const bytes = stream([frameOf(10_000, 1)]); // under DIRECT_READ_MIN: its rest is read into the scratch too
  const first = d.readTarget();
  first.set(bytes.subarray(0, 1000)); // a size prefix and the start of a frame: copied out, nothing handed out
  d.onRead(1000, () => assert.unreachable('no frame yet'));
  const second = d.readTarget();
  assert.is(second.buffer, first.buffer, 'the same scratch');
  assert.is(second.byteOffset, first.byteOffset, 'from the same place');
  const d2 = new FrameDecoder();
  const small = stream([Buffer.from('abc'), Buffer.from('de')]);
  const t = d2.readTarget();
  t.set(small.subarray(0, 8)); // one whole frame (a view) and the first byte of the next size prefix
  const views: Buffer[] = [];
  d2.onRead(8, (f) => views.push(f));
  const next = d2.readTarget();
  assert.is(views.length, 1);
  assert.is(next.buffer, views[0]!.buffer, 'the scratch tail is still used');
  assert.ok(next.byteOffset >= views[0]!.byteOffset + views[0]!.length, 'the next read lands after the view');
});

s('bad sizes through the read path: DecodeError, the decoder stays failed, readTarget still answers', () => {
  const d = new FrameDecoder(1024);
  const t = d.readTarget();
  t.set([0, 0, 4, 1]); // 1025 > limit
  assert.throws(() => d.onRead(4, () => {}), (e: unknown) => e instanceof DecodeError && /exceeds/.test((e as Error).message));
  assert.ok(d.readTarget().length > 0);
  assert.throws(() => d.onRead(1, () => {}), (e: unknown) => e instanceof DecodeError);
  const neg = new FrameDecoder();
  const tn = neg.readTarget();
  tn.set([0xff, 0xff, 0xff, 0xfe, 1, 2]);
  assert.throws(() => neg.onRead(6, () => {}), (e: unknown) => e instanceof DecodeError && /negative/.test((e as Error).message));
});

s('random garbage through the read path never hangs: frames or a DecodeError', () => {
  const rand = prng(99);
  for (let i = 0; i < 300; i++) {
    const junk = Buffer.alloc(1 + Math.floor(rand() * 64));
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rand() * 256);
    const d = new FrameDecoder(1 << 16);
    try {
      readAll(junk, () => 1 + Math.floor(rand() * 16), d);
      assert.ok(d.pendingBytes <= junk.length);
    } catch (e) {
      assert.instance(e, DecodeError);
    }
  }
});

s.run();
