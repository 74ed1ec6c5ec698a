/**
 * The frame decoder against hand-built streams: fed a byte at a time, in seeded random chunkings, and in one
 * piece, it yields the same frames; frames inside one chunk are views (no copy); bad sizes are DecodeErrors.
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { FrameDecoder } from '../../src/client/frame-decoder.js';
import { DecodeError } from '../../src/errors.js';
import { seededRandom } from '../../src/client/backoff.js';
import { assertSame, feed, stream } from './frame-streams.js';

const prng = seededRandom;

/** Frames of assorted sizes (0, tiny, across typical chunk sizes) with recognisable contents. */
function payloads(rand: () => number, count: number): Buffer[] {
  const sizes = [0, 1, 3, 4, 5, 17, 1024, 65_537];
  return Array.from({ length: count }, (_, i) => {
    const size = i < sizes.length ? sizes[i]! : Math.floor(rand() * 5000);
    const b = Buffer.alloc(size);
    for (let j = 0; j < size; j++) b[j] = (i * 31 + j) & 0xff;
    return b;
  });
}

const s = suite('frame-decoder');

s('one chunk holding many frames yields each as a view of that chunk (no copy)', () => {
  const frames = payloads(prng(1), 12);
  const bytes = stream(frames);
  const views: Buffer[] = [];
  new FrameDecoder().push(bytes, (f) => views.push(f));
  assertSame(views.map((v) => Buffer.from(v)), frames, 'single chunk');
  for (const v of views) assert.is(v.buffer, bytes.buffer, 'frame shares the chunk memory');
});

s('one byte at a time', () => {
  const frames = payloads(prng(2), 10).slice(0, 7); // keep the 64 KiB frame: 70k single-byte pushes
  const bytes = stream(frames);
  const cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
  assertSame(feed(bytes, cuts), frames, 'byte by byte');
});

s('random chunkings (seeded) give the same frames', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rand = prng(seed);
    const frames = payloads(rand, 20);
    const bytes = stream(frames);
    const cuts: number[] = [];
    const maxStep = [2, 7, 100, 4096, 70_000][seed % 5]!;
    for (let at = 0; ;) {
      at += 1 + Math.floor(rand() * maxStep);
      if (at >= bytes.length) break;
      cuts.push(at);
    }
    assertSame(feed(bytes, cuts), frames, `seed ${seed}`);
  }
});

s('a size prefix split across three chunks', () => {
  const frames = [Buffer.from('hello'), Buffer.from('world!')];
  const bytes = stream(frames);
  assertSame(feed(bytes, [1, 2, 3, 6, 10]), frames, 'split prefix');
});

s('a frame spanning chunks is copied once, into a buffer of exactly that frame', () => {
  const frame = Buffer.alloc(1000, 7);
  const bytes = Buffer.from(new Uint8Array(stream([frame, Buffer.from('next')])).buffer); // own memory, not the pool
  const out: Buffer[] = [];
  const d = new FrameDecoder();
  d.push(bytes.subarray(0, 300), (f) => out.push(f));
  d.push(bytes.subarray(300, 700), (f) => out.push(f));
  assert.is(out.length, 0);
  assert.is(d.pendingBytes, 700);
  d.push(bytes.subarray(700), (f) => out.push(f));
  assert.is(out.length, 2);
  assert.ok(out[0]!.equals(frame));
  assert.ok(out[0]!.buffer !== bytes.buffer, 'a spanning frame is a copy');
  assert.is(out[1]!.toString(), 'next');
  assert.is(out[1]!.buffer, bytes.buffer, 'the trailing frame is a view of the last chunk');
  assert.is(d.pendingBytes, 0);
});

s('a spanning frame copies each chunk when it arrives and keeps no reference to it', () => {
  const frame = Buffer.alloc(5000);
  for (let i = 0; i < frame.length; i++) frame[i] = i & 0xff;
  const bytes = stream([frame, Buffer.from('tail')]);
  const out: Buffer[] = [];
  const d = new FrameDecoder();
  for (const [from, to] of [[0, 2], [2, 1500], [1500, 3000], [3000, bytes.length]] as const) {
    const chunk = Buffer.from(bytes.subarray(from, to)); // the socket's own buffer
    d.push(chunk, (f) => out.push(f));
    chunk.fill(0xee); // whatever the chunk's memory holds later must not show up in the frame
  }
  assert.is(out.length, 2);
  assert.ok(out[0]!.equals(frame), 'the frame holds the bytes as they arrived');
});

s('negative size: DecodeError, and the decoder stays failed', () => {
  const d = new FrameDecoder();
  const bad = Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2]);
  assert.throws(() => d.push(bad, () => assert.unreachable('no frame')), (e: unknown) => e instanceof DecodeError && /negative/.test((e as Error).message));
  assert.throws(() => d.push(stream([Buffer.from('ok')]), () => {}), (e: unknown) => e instanceof DecodeError);
});

s('size over the limit: DecodeError before the bytes arrive', () => {
  const d = new FrameDecoder(1024);
  const head = Buffer.alloc(4);
  head.writeInt32BE(1025, 0);
  assert.throws(() => d.push(head.subarray(0, 2), () => {}) ?? d.push(head.subarray(2), () => {}), (e: unknown) => e instanceof DecodeError && /exceeds/.test((e as Error).message));
  const ok = new FrameDecoder(1024);
  const got: Buffer[] = [];
  ok.push(stream([Buffer.alloc(1024, 1)]), (f) => got.push(f));
  assert.is(got.length, 1, 'a frame of exactly the limit passes');
});

s('random garbage never hangs: it gives frames or a DecodeError', () => {
  const rand = prng(99);
  for (let i = 0; i < 500; i++) {
    const junk = Buffer.alloc(1 + Math.floor(rand() * 64));
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rand() * 256);
    const d = new FrameDecoder(1 << 16);
    try {
      d.push(junk, () => {});
      assert.ok(d.pendingBytes <= junk.length);
    } catch (e) {
      assert.instance(e, DecodeError);
    }
  }
});

s.run();
