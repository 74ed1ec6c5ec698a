/**
 * Our DEFLATE coder and gzip container (inflate.ts, deflate.ts, gzip-pure.ts), used where node:zlib is absent.
 * node:zlib is the reference: every stream it writes (all levels and strategies, fixed and dynamic blocks,
 * stored blocks, multi-member) must inflate to the same bytes; what we write must gunzip in node:zlib; corrupt
 * input gives a DecodeError, never a loop or another error; the decompression cap holds.
 */
import * as assert from 'uvu/assert';
import * as zlib from 'node:zlib';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DecodeError } from '../../src/errors.js';
import { Compression, compress, decompress } from '../../src/protocol/compression/index.js';
import { crc32, gunzipPure, gzipPure } from '../../src/protocol/compression/gzip-pure.js';
import { useGzipPure } from '../../src/protocol/compression/gzip.js';
import { seededRandom } from '../../src/client/backoff.js';
import { repoRoot } from '../../integration/harness/paths.js';
import { suite } from '../kit.js';

const s = suite('inflate / deflate (pure gzip)', { timeoutMs: 60_000 });
const MAX = 256 << 20;

function randomBytes(rand: () => number, n: number, alphabet = 256): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * alphabet);
  return b;
}

/** Text-like data with repeats near and far (matches of every length and distance). */
function textLike(rand: () => number, n: number): Buffer {
  const words = ['kafka', 'record', 'batch', 'offset', 'partition', ' ', ', ', '\n', '{"key":', '"value":', '0123456789'];
  const parts: string[] = [];
  let len = 0;
  while (len < n) {
    const w = rand() < 0.05 && parts.length > 50 ? parts.slice(-50 + Math.floor(rand() * 40)).join('').slice(0, 300) : words[Math.floor(rand() * words.length)]!;
    parts.push(w);
    len += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

/** Real files of the repository: source text and compiled JS. */
function realFiles(): Buffer[] {
  const dir = join(repoRoot, 'src', 'protocol', 'compression');
  return readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(dir, f)));
}

s('crc32 matches zlib.crc32 / the known check value', () => {
  assert.is(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.is(crc32(Buffer.alloc(0)), 0);
});

s('inflates what node:zlib writes: every level and strategy, random, text-like and real data', () => {
  const rand = seededRandom(19);
  const inputs: Buffer[] = [Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(100_000, 7), randomBytes(rand, 70_000), randomBytes(rand, 50_000, 4),
    textLike(rand, 300_000), ...realFiles()];
  let checked = 0;
  for (const data of inputs) {
    for (const level of [0, 1, 6, 9]) {
      for (const strategy of [zlib.constants.Z_DEFAULT_STRATEGY, zlib.constants.Z_FIXED, zlib.constants.Z_HUFFMAN_ONLY, zlib.constants.Z_RLE]) {
        const gz = zlib.gzipSync(data, { level, strategy });
        assert.ok(gunzipPure(gz, MAX).equals(data), `level ${level} strategy ${strategy} ${data.length} bytes`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 40);
});

s('inflates multi-member gzip (as zlib does) and streams with a name, comment and extra field', () => {
  const a = Buffer.from('first member '), b = Buffer.from('second member');
  assert.ok(gunzipPure(Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]), MAX).equals(Buffer.concat([a, b])));
  // A header with FEXTRA, FNAME, FCOMMENT and FHCRC, built by hand around zlib's raw deflate.
  const body = zlib.deflateRawSync(a);
  const header = Buffer.from([0x1f, 0x8b, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3, 2, 0, 0x41, 0x42, ...Buffer.from('name\0comment\0'), 0, 0]);
  header.writeUInt16LE(crc32(header, 0, header.length - 2) & 0xffff, header.length - 2);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(a), 0);
  trailer.writeUInt32LE(a.length, 4);
  const gz = Buffer.concat([header, body, trailer]);
  assert.ok(zlib.gunzipSync(gz).equals(a), 'the hand-built stream is valid gzip');
  assert.ok(gunzipPure(gz, MAX).equals(a));
  gz[header.length - 1]! ^= 1; // the header CRC no longer matches
  assert.throws(() => zlib.gunzipSync(gz));
  assert.throws(() => gunzipPure(gz, MAX), (e: unknown) => e instanceof DecodeError && /header crc/.test((e as Error).message));
});

s('what we write gunzips in node:zlib, and in our inflate', () => {
  const rand = seededRandom(7);
  for (const data of [Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(300_000, 1), randomBytes(rand, 200_000), textLike(rand, 500_000), ...realFiles()]) {
    const gz = gzipPure(data);
    assert.ok(zlib.gunzipSync(gz).equals(data), `zlib reads our ${data.length} bytes`);
    assert.ok(gunzipPure(gz, MAX).equals(data));
    if (data.length > 1000) assert.ok(gz.length <= data.length + 5 * Math.ceil(data.length / 65535) + 18, 'never much larger than stored');
  }
  const text = textLike(rand, 100_000);
  assert.ok(gzipPure(text).length < text.length / 2, `text compresses: ${gzipPure(text).length} of ${text.length}`);
});

s('corrupt input: a DecodeError every time, never a hang or another error', () => {
  const rand = seededRandom(1234);
  const originals = [zlib.gzipSync(textLike(rand, 20_000)), zlib.gzipSync(randomBytes(rand, 5_000), { level: 1 }), gzipPure(textLike(rand, 20_000)),
    zlib.gzipSync(textLike(rand, 5_000), { strategy: zlib.constants.Z_FIXED }), zlib.gzipSync(randomBytes(rand, 3_000), { level: 0 })];
  let decodeErrors = 0, survived = 0;
  const started = Date.now();
  for (const gz of originals) {
    for (let round = 0; round < 400; round++) {
      const bad = Buffer.from(gz);
      const kind = round % 4;
      if (kind === 0) bad[Math.floor(rand() * bad.length)] ^= 1 << Math.floor(rand() * 8); // one bit flipped
      else if (kind === 1) for (let k = 0; k < 8; k++) bad[10 + Math.floor(rand() * (bad.length - 10))] = Math.floor(rand() * 256);
      const input = kind === 2 ? bad.subarray(0, Math.floor(rand() * bad.length)) // truncated
        : kind === 3 ? Buffer.concat([bad.subarray(0, 10), randomBytes(rand, 1 + Math.floor(rand() * 2000))]) : bad; // header + noise
      try {
        gunzipPure(input, 1 << 20);
        survived++; // a flip in an unused header byte (MTIME, OS) still decodes, as in zlib
      } catch (err) {
        if (!(err instanceof DecodeError)) throw new Error(`not a DecodeError: ${String(err)}`, { cause: err });
        decodeErrors++;
      }
    }
  }
  assert.ok(decodeErrors > 1500, `${decodeErrors} DecodeErrors, ${survived} decoded`);
  assert.ok(Date.now() - started < 30_000, 'fast');
  for (const junk of [Buffer.alloc(0), Buffer.from([0x1f]), Buffer.from([0x1f, 0x8b, 8, 0xe0, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('not gzip at all')]) {
    assert.throws(() => gunzipPure(junk, MAX), (e: unknown) => e instanceof DecodeError);
  }
});

s('hand-made hostile streams: invalid codes, distances too far, bad stored lengths, endless zero padding', () => {
  const wrap = (raw: number[]): Buffer => Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.from(raw), Buffer.alloc(8)]);
  const cases: [string, number[]][] = [
    ['block type 3', [0x07]],
    ['stored length vs complement', [0x01, 0x05, 0x00, 0x00, 0x00]],
    ['a distance before the start (fixed block: length 3, distance 1 as first symbol)', [0x03, 0x02, 0x00]],
    ['a dynamic block header cut short', [0x05, 0xe0, 0xff, 0xff, 0xff]],
    ['an empty non-final stored block, then zeros (a stored header whose lengths disagree)', [0x00, 0x00, 0x00, 0xff, 0xff]],
  ];
  for (const [name, raw] of cases) {
    assert.throws(() => gunzipPure(wrap(raw), MAX), (e: unknown) => e instanceof DecodeError, name);
    assert.throws(() => zlib.gunzipSync(wrap(raw)), undefined, `zlib also refuses: ${name}`);
  }
});

s('the decompression cap holds: a bomb stops at the cap with a DecodeError, a stream just within it passes', () => {
  const zeros = Buffer.alloc(4 << 20);
  const gz = zlib.gzipSync(zeros, { level: 9 });
  assert.throws(() => gunzipPure(gz, 1 << 20), (e: unknown) => e instanceof DecodeError && /limit/.test((e as Error).message));
  assert.is(gunzipPure(gz, 4 << 20).length, 4 << 20);
  // Members together past the cap.
  const members = Buffer.concat(Array(8).fill(zlib.gzipSync(Buffer.alloc(1 << 20))));
  assert.throws(() => gunzipPure(members, 5 << 20), (e: unknown) => e instanceof DecodeError);
});

s('the codec table runs the pure coder when asked (as on a runtime without node:zlib)', () => {
  const data = textLike(seededRandom(3), 50_000);
  useGzipPure(true);
  try {
    const ours = compress(Compression.gzip, data);
    assert.ok(zlib.gunzipSync(ours).equals(data));
    assert.ok(decompress(Compression.gzip, zlib.gzipSync(data)).equals(data));
    assert.throws(() => decompress(Compression.gzip, Buffer.from('junk')), (e: unknown) => e instanceof DecodeError);
  } finally {
    useGzipPure(false);
  }
  assert.ok(!compress(Compression.gzip, data).equals(gzipPure(data)), 'back on node:zlib');
});

s.run();
