import * as assert from 'uvu/assert';
import * as zlib from 'node:zlib';
import { onlyIf, suite } from '../kit.js';
import { DecodeError } from '../../src/errors.js';
import { Compression, compress, compressAsync, decompress, decompressAsync, hasNativeZstd } from '../../src/protocol/compression/index.js';
import { snappyCompressRaw, snappyDecompress } from '../../src/protocol/compression/snappy.js';
import { lz4Decompress } from '../../src/protocol/compression/lz4.js';
import { xxhash32 } from '../../src/protocol/compression/xxhash32.js';
import { xxhash64 } from '../../src/protocol/compression/xxhash64.js';
import { zstdDecompressPure, zstdFrameSpans } from '../../src/protocol/compression/zstd-decoder.js';
import { zstdStoredFrame } from '../../src/protocol/compression/zstd.js';
import { zstdCompressPure } from '../../src/protocol/compression/zstd-encoder.js';
import { JAVA_STREAMS, JAVA_STREAM_INPUTS } from './fixtures/java-record-batches.js';

const s = suite('compression');

/** Codec id of a Java stream case; "zstdc" is zstd-jni with the frame checksum on. */
function codecOf(name: string): number {
  const codec = name.split(':')[0]!;
  return codec === 'zstdc' ? Compression.zstd : Compression[codec as keyof typeof Compression];
}
const CODECS = [Compression.none, Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd];

function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
}

/** Incompressible bytes from xorshift32 (an LCG's low bits repeat too soon to be incompressible). */
function randomBytes(n: number): Buffer {
  let x = 2463534242;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x >>> 24;
  }
  return out;
}

/** Text-like bytes (compressible), random bytes, and long runs: the three shapes codecs branch on. */
function samples(): Buffer[] {
  const next = prng(7);
  const words = ['kafka', 'record', '{"id":', ' ', 'offset', 'é'];
  let text = '';
  while (text.length < 300_000) text += words[next() % words.length];
  return [
    Buffer.alloc(0), Buffer.from('x'), Buffer.from('abcabcabcabcabcabcabc'), Buffer.from(text.slice(0, 100)), Buffer.from(text.slice(0, 70_000)),
    Buffer.from(text), randomBytes(100_000), Buffer.alloc(200_000, 0x61),
  ];
}

s('every codec round-trips empty, tiny, text, random and run-length data', () => {
  for (const codec of CODECS) {
    for (const data of samples()) {
      const packed = compress(codec, data);
      assert.ok(decompress(codec, packed).equals(data), `codec ${codec}, ${data.length} bytes`);
    }
  }
});

s('async variants agree with the sync ones', async () => {
  const data = samples()[5]!;
  for (const codec of CODECS) {
    assert.ok((await decompressAsync(codec, await compressAsync(codec, data))).equals(data));
  }
});

s('gzip levels (KIP-390) change the output and still round-trip', () => {
  const data = samples()[5]!;
  const fast = compress(Compression.gzip, data, 1);
  const best = compress(Compression.gzip, data, 9);
  assert.ok(best.length < fast.length, `${best.length} vs ${fast.length}`);
  assert.ok(decompress(Compression.gzip, fast).equals(data) && decompress(Compression.gzip, best).equals(data));
});

s('streams written by Kafka\'s Java codecs decompress exactly (zstd-jni levels 1/19/-3 and RLE sequence tables, xerial snappy, Kafka LZ4)', () => {
  assert.ok(JAVA_STREAMS.length >= 8);
  for (const c of JAVA_STREAMS) {
    const codec = codecOf(c.case);
    const input = Buffer.from(JAVA_STREAM_INPUTS[c.case.split(':')[2]!]!, 'base64');
    const output = Buffer.from(c.output, 'base64');
    assert.is(input.length, c.size);
    assert.ok(decompress(codec, output).equals(input), c.case);
    if (codec === Compression.zstd) assert.ok(zstdDecompressPure(output).equals(input), `pure ${c.case}`);
  }
});

s('snappy: hand-assembled raw block (literal + 1- and 2-byte-offset copies) and both framings', () => {
  // uvarint 14 | literal "abcd" (tag (4-1)<<2) | copy1 len 4 off 4 | copy2 len 6 off 8 (overlap-free)
  const raw = Buffer.from([14, 3 << 2, 0x61, 0x62, 0x63, 0x64, 0x01 | (0 << 2), 4, 0x02 | (5 << 2), 8, 0]);
  assert.is(snappyDecompress(raw).toString(), 'abcdabcdabcdab');
  const framed = Buffer.concat([Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, raw.length]), raw]);
  assert.is(snappyDecompress(framed).toString(), 'abcdabcdabcdab');
  const data = samples()[5]!;
  assert.ok(snappyDecompress(snappyCompressRaw(data)).equals(data));
  assert.ok(compress(Compression.snappy, data).subarray(0, 8).equals(framed.subarray(0, 8)), 'we write the xerial header');
});

s('xxhash32 known vectors', () => {
  assert.is(xxhash32(Buffer.alloc(0)), 0x02cc5d05);
  assert.is(xxhash32(Buffer.from('a')), 0x550d7456);
  assert.is(xxhash32(Buffer.from('abc')), 0x32d153ff);
  assert.is(xxhash32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
});

s('xxhash64 known vectors (checked against lz4-java\'s XXHash64) and zstd content checksums', () => {
  const hex = ([h, l]: [number, number]): string => h.toString(16).padStart(8, '0') + l.toString(16).padStart(8, '0');
  assert.is(hex(xxhash64(Buffer.alloc(0))), 'ef46db3751d8e999');
  assert.is(hex(xxhash64(Buffer.from('a'))), 'd24ec4f1a98c6e5b');
  assert.is(hex(xxhash64(Buffer.from('abc'))), '44bc2cf5ad770999');
  assert.is(hex(xxhash64(Buffer.from('Nobody inspects the spammish repetition'))), 'fbcea83c8a378bf1');
  assert.is(hex(xxhash64(Buffer.from('x'.repeat(100)))), '92f0de5a88a3c094');
  const withSum = JAVA_STREAMS.find((c) => c.case.startsWith('zstdc:'))!;
  const frame = Buffer.from(withSum.output, 'base64');
  assert.ok(frame[4]! & 4, 'the Java frame carries a checksum');
  frame[frame.length - 1] ^= 1;
  assert.throws(() => zstdDecompressPure(frame), (e: unknown) => e instanceof DecodeError && /content checksum/.test((e as Error).message));
});

s('lz4: a hand-built frame with a stored (uncompressed-flag) block; a bad header checksum is refused', () => {
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0]);
  header[6] = (xxhash32(header, 4, 6) >>> 8) & 0xff;
  const block = Buffer.from('hello kafka');
  const size = Buffer.alloc(4);
  size.writeUInt32LE((block.length | 0x80000000) >>> 0);
  const frame = Buffer.concat([header, size, block, Buffer.alloc(4)]);
  assert.is(lz4Decompress(frame).toString(), 'hello kafka');
  frame[6] ^= 1;
  assert.throws(() => lz4Decompress(frame), (e: unknown) => e instanceof DecodeError && /header checksum/.test((e as Error).message));
});

s('lz4: frames with block checksums, content size and content checksum (flags other writers set) decode and are checked', () => {
  const body = Buffer.from('checksummed lz4 frame body');
  const header = Buffer.alloc(15);
  header.writeUInt32LE(0x184d2204, 0);
  header[4] = 0x7c; // version 1, independent blocks, block checksum, content size, content checksum
  header[5] = 0x40;
  header.writeBigUInt64LE(BigInt(body.length), 6);
  header[14] = (xxhash32(header, 4, 14) >>> 8) & 0xff;
  const size = Buffer.alloc(4);
  size.writeUInt32LE((body.length | 0x80000000) >>> 0);
  const sum = (b: Buffer): Buffer => {
    const out = Buffer.alloc(4);
    out.writeUInt32LE(xxhash32(b));
    return out;
  };
  const frame = Buffer.concat([header, size, body, sum(body), Buffer.alloc(4), sum(body)]);
  assert.ok(lz4Decompress(frame).equals(body));
  const badBlock = Buffer.from(frame);
  badBlock[15 + 4 + body.length] ^= 1;
  assert.throws(() => lz4Decompress(badBlock), (e: unknown) => e instanceof DecodeError && /block checksum/.test((e as Error).message));
  const badSize = Buffer.from(frame);
  badSize[6] += 1;
  badSize[14] = (xxhash32(badSize, 4, 14) >>> 8) & 0xff;
  assert.throws(() => lz4Decompress(badSize), (e: unknown) => e instanceof DecodeError && /header said 27/.test((e as Error).message));
  const badContent = Buffer.from(frame);
  badContent[badContent.length - 1] ^= 1;
  assert.throws(() => lz4Decompress(badContent), (e: unknown) => e instanceof DecodeError && /content checksum/.test((e as Error).message));
});

s('zstd: our pure-TS compressor shrinks text and round-trips through our decoder (Java reads it in the interop suite)', () => {
  samples().forEach((data, k) => {
    const packed = zstdCompressPure(data);
    assert.ok(zstdDecompressPure(packed).equals(data), `${data.length} bytes`);
    const random = k === 6;
    if (data.length >= 70_000) assert.ok(random ? packed.length <= data.length + 32 : packed.length < data.length * 0.8, `${packed.length} of ${data.length}`);
  });
  const text = samples()[5]!;
  assert.ok(zstdCompressPure(text).length < text.length / 2);
});

s('every codec round-trips literal runs and matches of many lengths (each length code and its extra bits)', () => {
  const noise = randomBytes(140_000);
  const lengths = [...Array.from({ length: 140 }, (_, k) => k), 255, 256, 1000, 4095, 4096, 4097, 65535, 65536, 70_000];
  let x = 5;
  const pick = (): number => lengths[(x = (Math.imul(x, 1103515245) + 12345) >>> 0) % lengths.length]!;
  for (let iter = 0; iter < 60; iter++) {
    const literals = pick();
    const match = Math.max(4, pick());
    const head = noise.subarray(0, 64);
    const input = Buffer.concat([head, noise.subarray(1000, 1000 + literals), Buffer.alloc(match, 0x5a), head, noise.subarray(500, 500 + (iter % 9))]);
    for (const codec of [Compression.snappy, Compression.lz4, Compression.zstd]) {
      assert.ok(decompress(codec, compress(codec, input)).equals(input), `codec ${codec}, literals ${literals}, match ${match}`);
    }
  }
});

s('snappy and lz4: overlapping matches (every period 1-70, long and short) and literals of every length round-trip', () => {
  const noise = randomBytes(4096);
  for (let period = 1; period <= 70; period++) {
    for (const repeat of [1, 2, 3, 5, 17, 200]) {
      const unit = noise.subarray(period * 13, period * 14);
      const input = Buffer.concat([noise.subarray(0, period + 3), ...Array(repeat).fill(unit), noise.subarray(2000, 2000 + (period % 11)), unit, unit]);
      for (const codec of [Compression.snappy, Compression.lz4]) {
        assert.ok(decompress(codec, compress(codec, input)).equals(input), `codec ${codec}, period ${period}, repeat ${repeat}`);
      }
    }
  }
  // Hand-built snappy copies, so the decoder sees exactly these (offset, length) pairs whatever our encoder picks.
  for (let offset = 1; offset <= 70; offset++) {
    for (const len of [1, 2, 3, 4, 5, 7, 8, 11, 15, 16, 31, 32, 33, 63, 64]) {
      const head = noise.subarray(100, 100 + offset);
      const total = offset + len; // uvarint, then the literal (tag 60 and a length byte past 60 bytes)
      const size = total < 128 ? [total] : [(total & 0x7f) | 0x80, total >>> 7];
      const literal = offset <= 60 ? [(offset - 1) << 2] : [60 << 2, offset - 1];
      const raw = Buffer.from([...size, ...literal, ...head, 2 | ((len - 1) << 2), offset & 0xff, offset >>> 8]);
      const expected = Buffer.alloc(offset + len);
      head.copy(expected);
      for (let k = offset; k < offset + len; k++) expected[k] = expected[k - offset]!;
      assert.ok(snappyDecompress(raw).equals(expected), `offset ${offset}, length ${len}`);
    }
  }
});

const zstdText = (n: number) => Buffer.from(Array.from({ length: Math.ceil(n / 40) }, (_, i) => `{"id":${i},"user":"u${(i * 7919) % 1000}"}`).join('\n')).subarray(0, n);
const zstdSizes = [0, 1, 1000, 70_000, 131_072, 262_144, 262_145, 600_000];

s('zstd: every size round-trips through both decoders, across the 256 KiB edge of the sized window', () => {
  for (const n of zstdSizes) {
    const data = zstdText(n);
    const packed = compress(Compression.zstd, data);
    assert.ok(zstdDecompressPure(packed).equals(data), `${n} bytes: our decoder`);
    assert.ok(decompress(Compression.zstd, packed).equals(data), `${n} bytes`);
    if (n >= 1000) assert.ok(packed.length < data.length / 2, `${n} bytes: compressed to ${packed.length}`);
  }
});

// Node 20 (CI's runtime) has no zstd in node:zlib; the runner repeats this file on a Node that has it and fails the
// run if no test tagged native-zstd ran there (test/run.ts).
const withNativeZstd = onlyIf(s, hasNativeZstd, `node ${process.version} has no zstd in node:zlib`, 'native-zstd');

withNativeZstd('zstd on node:zlib: the sized window writes the same bytes as its default window; levels apply', () => {
  const plain = (zlib as unknown as { zstdCompressSync?: (d: Uint8Array) => Buffer }).zstdCompressSync;
  assert.type(plain, 'function');
  for (const n of zstdSizes) {
    const data = zstdText(n);
    assert.ok(compress(Compression.zstd, data).equals(plain!(data)), `${n} bytes: the sized window writes what the default one writes`);
  }
  const data = zstdText(131_072);
  assert.ok(compress(Compression.zstd, data, 19).length < compress(Compression.zstd, data, -5).length, 'the level still applies');
});

s('zstd: stored-block frames, RLE blocks, skippable frames and our compressor\'s output read back', () => {
  const data = samples()[5]!;
  assert.ok(zstdDecompressPure(zstdStoredFrame(data)).equals(data));
  // Single segment, 1-byte content size 10, one last RLE block of 10 x 'z'.
  const rle = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 10, 0x01 | (1 << 1) | (10 << 3), 0, 0, 0x7a]);
  assert.is(zstdDecompressPure(rle).toString(), 'zzzzzzzzzz');
  const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9]);
  assert.is(zstdDecompressPure(Buffer.concat([skippable, rle, rle])).toString(), 'z'.repeat(20));
});

s('outputs are capped: bombs fail with DecodeError at the limit', () => {
  const zeros = Buffer.alloc(4 << 20);
  for (const codec of [Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd]) {
    const packed = compress(codec, zeros);
    assert.throws(() => decompress(codec, packed, 1 << 20), (e: unknown) => e instanceof DecodeError, `codec ${codec}`);
    assert.is(decompress(codec, packed, 4 << 20).length, zeros.length);
  }
  // 200 RLE blocks of 128 KiB each (4 bytes apiece): 25 MiB from 806 bytes.
  const rleBomb = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x48, ...Array(199).fill([0x02, 0x00, 0x10, 0]).flat(), 0x03, 0x00, 0x10, 0]);
  assert.is(zstdDecompressPure(rleBomb, 32 << 20).length, 200 * 131072);
  assert.throws(() => zstdDecompressPure(rleBomb, 1 << 20), (e: unknown) => e instanceof DecodeError && /limit/.test((e as Error).message));
  // A header claiming 200 MB of content over a 1-byte block: refused without allocating what it claims.
  const liar = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0x80, 0x0b, 0x01 | (1 << 3), 0, 0, 0x41]);
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(() => zstdDecompressPure(liar), (e: unknown) => e instanceof DecodeError && /header said 192937984/.test((e as Error).message));
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20);
});

/** Runs `fn`, recording the largest Buffer allocation it asks for (Buffer.alloc, allocUnsafe, allocUnsafeSlow). */
function largestAllocation(fn: () => void): number {
  const saved = { alloc: Buffer.alloc, allocUnsafe: Buffer.allocUnsafe, allocUnsafeSlow: Buffer.allocUnsafeSlow };
  let largest = 0;
  const spy = <F extends (size: number, ...rest: never[]) => Buffer>(f: F): F => ((size: number, ...rest: never[]) => {
    largest = Math.max(largest, size);
    return f(size, ...rest);
  }) as F;
  Buffer.alloc = spy(saved.alloc);
  Buffer.allocUnsafe = spy(saved.allocUnsafe);
  Buffer.allocUnsafeSlow = spy(saved.allocUnsafeSlow);
  try {
    fn();
  } finally {
    Object.assign(Buffer, saved);
  }
  return largest;
}

const isDecodeError = (pattern: RegExp) => (e: unknown): boolean => e instanceof DecodeError && pattern.test((e as Error).message);

s('snappy: a block claiming a huge length over tiny input fails fast with DecodeError, without allocating the claim', () => {
  const xerial = (...chunks: Buffer[]): Buffer => Buffer.concat([Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]), ...chunks.flatMap((c) => {
    const n = Buffer.alloc(4);
    n.writeUInt32BE(c.length);
    return [n, c];
  })]);
  const uvarint = (v: number): number[] => {
    const out: number[] = [];
    for (; v >= 0x80; v = Math.floor(v / 128)) out.push((v % 128) | 0x80);
    return [...out, v];
  };
  const literal = [4 << 2, 1, 2, 3, 4, 5];
  const arrays = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  for (const claim of [200 << 20, 300 << 20, 2 ** 32 - 1]) {
    const raw = Buffer.from([...uvarint(claim), ...literal]);
    for (const input of [raw, xerial(raw), xerial(Buffer.from([5, ...literal]), raw)]) {
      const largest = largestAllocation(() => assert.throws(() => snappyDecompress(input), isDecodeError(/impossible|limit/), `claim ${claim}`));
      assert.ok(largest < 1024, `asked for ${largest} bytes on a ${claim}-byte claim`);
    }
  }
  assert.ok(performance.now() - t0 < 50, `took ${performance.now() - t0} ms`);
  assert.ok(process.memoryUsage().arrayBuffers - arrays < 16 << 20);

  // Claims that the input could back, but over the cap: refused before allocating, alone or summed over chunks.
  const literals = (n: number): number[] => Array.from({ length: n }, (_, k) => [60 << 2, 63, ...randomBytes(64)]).flat();
  const big = Buffer.from([...uvarint(600_000), ...literals(400)]); // 26 KB of input may expand to 832 KB
  assert.throws(() => snappyDecompress(big, 500_000), isDecodeError(/500000-byte limit/));
  const largest = largestAllocation(() => assert.throws(() => snappyDecompress(xerial(big, big), 1 << 20), isDecodeError(/1048576-byte limit/)));
  assert.ok(largest < 64 << 10, `asked for ${largest} bytes`);
  // A plausible claim the block does not fill is refused too: the output never carries unwritten bytes.
  assert.throws(() => snappyDecompress(Buffer.from([...uvarint(100), ...literal])), isDecodeError(/produced 5 of 100/));
  assert.throws(() => snappyDecompress(xerial(Buffer.from([5, ...literal]), Buffer.from([6, ...literal]))), isDecodeError(/produced 5 of 6/));
  assert.is(snappyDecompress(xerial(Buffer.from([5, ...literal]), Buffer.from([5, ...literal]))).toString('hex'), '01020304050102030405');
});

s('lz4: output sized from the frame (content size, block bounds); lying or oversized frames fail before allocating', () => {
  const frameWith = (flg: number, bd: number, blocks: Buffer[], contentSize?: number): Buffer => {
    const header = Buffer.alloc(contentSize === undefined ? 7 : 15);
    header.writeUInt32LE(0x184d2204, 0);
    header[4] = flg | (contentSize === undefined ? 0 : 0x08);
    header[5] = bd;
    if (contentSize !== undefined) header.writeBigUInt64LE(BigInt(contentSize), 6);
    header[header.length - 1] = (xxhash32(header, 4, header.length - 1) >>> 8) & 0xff;
    return Buffer.concat([header, ...blocks, Buffer.alloc(4)]);
  };
  const stored = (b: Buffer): Buffer => {
    const size = Buffer.alloc(4);
    size.writeUInt32LE((b.length | 0x80000000) >>> 0);
    return Buffer.concat([size, b]);
  };
  const body = Buffer.from('sized by its header');
  // A content size over the cap, or a stored block over the input, is refused without a large allocation.
  let largest = largestAllocation(() => assert.throws(() => lz4Decompress(frameWith(0x60, 0x70, [stored(body)], 200 << 20), 1 << 20), isDecodeError(/limit/)));
  assert.ok(largest < 64 << 10, `asked for ${largest} bytes`);
  const liar = Buffer.concat([frameWith(0x60, 0x70, [stored(body)]).subarray(0, 7), Buffer.from([0xff, 0xff, 0xff, 0xff]), body]);
  largest = largestAllocation(() => assert.throws(() => lz4Decompress(liar), isDecodeError(/overruns/)));
  assert.ok(largest < 64 << 10, `asked for ${largest} bytes`);
  // A content size smaller than the blocks is refused at the block that passes it.
  assert.throws(() => lz4Decompress(frameWith(0x60, 0x40, [stored(body), stored(body)], body.length + 3)), isDecodeError(/more than the 22 bytes/));
  assert.ok(lz4Decompress(frameWith(0x60, 0x40, [stored(body), stored(body)], 2 * body.length)).equals(Buffer.concat([body, body])));

  // 4 MiB blocks: a small batch decodes under a cap far below the block maximum, into a buffer of its own size.
  const data = samples()[3]!;
  const packed = Buffer.from(compress(Compression.lz4, data));
  packed[5] = 0x70;
  packed[6] = (xxhash32(packed, 4, 6) >>> 8) & 0xff;
  const out = lz4Decompress(packed, data.length);
  assert.ok(out.equals(data));
  // A small output may be a view of Node's shared slab, whose size is the runtime's (8 KiB to Node 22, 64 KiB on 24,
  // 64 KiB and 64 bytes on 26): measured, not Buffer.poolSize. What must never happen is pinning a 4 MiB block.
  const slab = Buffer.allocUnsafe(1).buffer.byteLength;
  assert.ok(out.buffer.byteLength <= Math.max(slab, 4 * data.length), `the output pins ${out.buffer.byteLength} bytes (slab ${slab})`);
  assert.throws(() => lz4Decompress(packed, data.length - 1), (e: unknown) => e instanceof DecodeError);
  // Multi-block frames (Kafka's 64 KiB blocks) decode exactly at the cap, and concatenated frames too.
  const text = samples()[5]!;
  const framed = compress(Compression.lz4, text);
  assert.ok(lz4Decompress(framed, text.length).equals(text));
  assert.ok(lz4Decompress(Buffer.concat([framed, framed]), 2 * text.length).equals(Buffer.concat([text, text])));
});

s('zstd: a truncated frame is a DecodeError on every path, never short output (node:zlib alone returns what it has)', () => {
  const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => `{"id":${i},"v":"${(i * 7919) % 1000}"}`).join('\n'));
  const frames = [compress(Compression.zstd, data), zstdCompressPure(data), zstdStoredFrame(data)];
  for (const c of JAVA_STREAMS) if (codecOf(c.case) === Compression.zstd) frames.push(Buffer.from(c.output, 'base64'));
  for (const frame of frames) {
    assert.equal(zstdFrameSpans(frame).slice(0, 2), [0, frame.length]);
    for (const cut of [1, 2, 3, 4, 5, 17, frame.length >> 1, frame.length - 5]) {
      if (cut >= frame.length) continue;
      const short = frame.subarray(0, frame.length - cut);
      for (const [name, f] of [['decompress', () => decompress(Compression.zstd, short)], ['framing', () => zstdFrameSpans(short)]] as const) {
        assert.throws(f, (e: unknown) => e instanceof DecodeError, `${name}: ${frame.length} bytes cut by ${cut}`);
      }
    }
  }
});

s('zstd: several frames and skippable ones decode whole on every path (node:zlib alone stops after the first)', () => {
  const rle = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x0a, 0x53, 0x00, 0x00, 0x7a]); // single segment, one RLE block of 10 'z'
  const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 0x03, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03]);
  const text = Buffer.from('kafka-channels '.repeat(400));
  const packed = compress(Compression.zstd, text);
  const input = Buffer.concat([skippable, rle, packed, skippable, rle]);
  assert.equal(zstdFrameSpans(input), [11, 21, 10, 21, 21 + packed.length, zstdFrameSpans(packed)[2]!, 32 + packed.length, 42 + packed.length, 10]);
  const expected = Buffer.concat([Buffer.from('z'.repeat(10)), text, Buffer.from('z'.repeat(10))]);
  assert.ok(decompress(Compression.zstd, input).equals(expected), 'sync');
  assert.ok(zstdDecompressPure(input).equals(expected), 'our decoder');
  assert.throws(() => decompress(Compression.zstd, input, expected.length - 1), (e: unknown) => e instanceof DecodeError, 'the limit counts all frames');
  assert.is(decompress(Compression.zstd, input, expected.length).length, expected.length);
});

s('zstd: several frames through the async path too', async () => {
  const rle = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x0a, 0x53, 0x00, 0x00, 0x7a]);
  assert.is((await decompressAsync(Compression.zstd, Buffer.concat([rle, rle]))).toString(), 'z'.repeat(20));
});

s('fixed-seed fuzz: mutated and random input only ever raises DecodeError', () => {
  const next = prng(42);
  const text = samples()[4]!.subarray(0, 5000);
  const valid: [number, Buffer][] = [];
  for (const codec of [Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd]) valid.push([codec, compress(codec, text)]);
  for (const c of JAVA_STREAMS) valid.push([codecOf(c.case), Buffer.from(c.output, 'base64')]);
  let decoded = 0;
  let rejected = 0;
  for (let iter = 0; iter < 3000; iter++) {
    const [codec, base] = valid[iter % valid.length]!;
    let input: Buffer;
    const mode = next() % 4;
    if (mode === 0) input = base.subarray(0, next() % (base.length + 1));
    else if (mode === 3) input = Buffer.from(Array.from({ length: next() % 64 }, () => next() & 0xff));
    else {
      input = Buffer.from(base);
      for (let k = 1 + (next() % 4); k > 0; k--) input[next() % input.length] = next() & 0xff;
    }
    try {
      decompress(codec, input, 1 << 20);
      if (codec === Compression.zstd) zstdDecompressPure(input, 1 << 20);
      decoded++;
    } catch (err) {
      if (!(err instanceof DecodeError)) throw new Error(`codec ${codec} iteration ${iter} threw ${String(err)}`);
      rejected++;
    }
  }
  assert.ok(rejected > 1000, `only ${rejected} rejected`);
  assert.ok(decoded > 0);
});

s('gzip matches node:zlib both ways (the Java client writes plain gzip streams)', () => {
  const data = samples()[5]!;
  assert.ok(decompress(Compression.gzip, zlib.gzipSync(data)).equals(data));
  assert.ok(zlib.gunzipSync(compress(Compression.gzip, data)).equals(data));
});

s.run();
