/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of RecordBatch v2 (KIP-98), computed over
 * everything after the crc field. Table-driven slicing-by-8: eight 256-entry tables let the loop consume eight
 * bytes per step, which is several times faster than the byte-at-a-time loop on large batches.
 */

const POLY = 0x82f63b78;

/** T[k*256 + b] is the CRC of byte b followed by k zero bytes. */
const T = buildTables();

function buildTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[b] = c;
  }
  for (let b = 0; b < 256; b++) {
    let c = t[b]!;
    for (let k = 1; k < 8; k++) {
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
  for (const stop = end - 8; i <= stop; i += 8) {
    const a = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
