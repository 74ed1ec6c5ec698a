/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of RecordBatch v2 (KIP-98), computed over
 * everything after the crc field. Every produced batch is checksummed and, like Kafka's Java consumer
 * (`check.crcs=true`), every fetched one, so this loop bounds codec throughput on large records.
 *
 * Table-driven slicing-by-32: 32 tables of 256 entries (32 KiB, fits in L1) let one step fold 32 bytes, read as
 * eight little-endian 32-bit words through an `Int32Array` view of the aligned middle of the input (a word load
 * is much cheaper than four byte loads and shifts). The unaligned head and the tail go a byte at a time.
 * Measured on Node 20/22 x64: ~1.7 GB/s for slicing-by-8 with byte loads, ~2.6 for slicing-by-16 with word
 * loads, ~3.1 for this.
 */

const POLY = 0x82f63b78;
const SLICES = 32;
/** Below this many bytes, creating a word view costs more than it saves. */
const MIN_WORDS_LENGTH = 128;
/** Word loads read the platform's byte order; CRC-32C is defined little-endian. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** T[k*256 + b] is the CRC of byte b followed by k zero bytes. */
const T = buildTables();

function buildTables(): Int32Array {
  const t = new Int32Array(SLICES * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[b] = c;
  }
  for (let b = 0; b < 256; b++) {
    let c = t[b]!;
    for (let k = 1; k < SLICES; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + b] = c;
    }
  }
  return t;
}

/**
 * Continues a CRC-32C over `data[start, end)`. Pass the previous result as `crc` to checksum in pieces
 * (start with 0). Returns an unsigned 32-bit number.
 */
export function crc32c(data: Uint8Array, start = 0, end = data.length, crc = 0): number {
  let c = ~crc;
  let i = start;
  const t = T;
  if (end - start >= MIN_WORDS_LENGTH && LITTLE_ENDIAN) {
    for (const aligned = i + ((4 - ((data.byteOffset + i) & 3)) & 3); i < aligned; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    const words = new Int32Array(data.buffer, data.byteOffset + i, (end - i) >>> 2);
    const done = words.length & ~7;
    c = foldWords(words, done, c);
    i += done << 2;
  }
  for (; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Folds `w[0, n)` (n a multiple of 8) into the running (inverted) CRC, 32 bytes per step. */
function foldWords(w: Int32Array, n: number, crc: number): number {
  const t = T;
  let c = crc;
  for (let j = 0; j < n; j += 8) {
    const a = c ^ w[j]!;
    const b = w[j + 1]!;
    const d = w[j + 2]!;
    const e = w[j + 3]!;
    const f = w[j + 4]!;
    const g = w[j + 5]!;
    const h = w[j + 6]!;
    const k = w[j + 7]!;
    c =
      t[7936 + (a & 0xff)]! ^ t[7680 + ((a >>> 8) & 0xff)]! ^ t[7424 + ((a >>> 16) & 0xff)]! ^ t[7168 + (a >>> 24)]! ^
      t[6912 + (b & 0xff)]! ^ t[6656 + ((b >>> 8) & 0xff)]! ^ t[6400 + ((b >>> 16) & 0xff)]! ^ t[6144 + (b >>> 24)]! ^
      t[5888 + (d & 0xff)]! ^ t[5632 + ((d >>> 8) & 0xff)]! ^ t[5376 + ((d >>> 16) & 0xff)]! ^ t[5120 + (d >>> 24)]! ^
      t[4864 + (e & 0xff)]! ^ t[4608 + ((e >>> 8) & 0xff)]! ^ t[4352 + ((e >>> 16) & 0xff)]! ^ t[4096 + (e >>> 24)]! ^
      t[3840 + (f & 0xff)]! ^ t[3584 + ((f >>> 8) & 0xff)]! ^ t[3328 + ((f >>> 16) & 0xff)]! ^ t[3072 + (f >>> 24)]! ^
      t[2816 + (g & 0xff)]! ^ t[2560 + ((g >>> 8) & 0xff)]! ^ t[2304 + ((g >>> 16) & 0xff)]! ^ t[2048 + (g >>> 24)]! ^
      t[1792 + (h & 0xff)]! ^ t[1536 + ((h >>> 8) & 0xff)]! ^ t[1280 + ((h >>> 16) & 0xff)]! ^ t[1024 + (h >>> 24)]! ^
      t[768 + (k & 0xff)]! ^ t[512 + ((k >>> 8) & 0xff)]! ^ t[256 + ((k >>> 16) & 0xff)]! ^ t[k >>> 24]!;
  }
  return c;
}
