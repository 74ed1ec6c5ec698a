/**
 * kafka-channels itself, imported from the library's sources (compiled beside the benches into bench/.build).
 */

import { Compression as Codec, compress, decompress } from '../../../src/protocol/compression/index.js';
import { crc32c } from '../../../src/protocol/crc32c.js';
import { decodeRecordBatches, encodeRecordBatch, type RecordInput } from '../../../src/protocol/record-batch.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { touch, type CodecContender, type Compression, type PlainRecord } from '../contender.js';
import type { RecordSet } from '../fixtures.js';
import { hasNativeZstd } from '../../../src/protocol/compression/index.js';

/** What the consumer does: split the fetch bytes into batches (CRC checked by default), then read each record. */
function decode(batch: Buffer, verifyCrc = true): number {
  let s = 0;
  for (const b of decodeRecordBatches(batch, { verifyCrc })) {
    for (const r of b.records()) {
      s += touch(r.key, r.value);
      if (r.offset < 0 || r.timestamp < 0) s++;
    }
  }
  return s;
}

function read(batch: Buffer): PlainRecord[] {
  return decodeRecordBatches(batch).flatMap((b) =>
    b.records().map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp, offset: r.offset })),
  );
}

export const ours: CodecContender = {
  name: 'kafka-channels',
  batch: {
    // zstd without node:zlib's zstd (Node < 22.15) writes stored frames: not a like-for-like compression.
    compressions: hasNativeZstd ? ['none', 'gzip', 'snappy', 'lz4', 'zstd'] : ['none', 'gzip', 'snappy', 'lz4'],
    prepare: (set: RecordSet): RecordInput[] => set.records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp })),
    encode: (prepared: unknown, compression: Compression) =>
      encodeRecordBatch(prepared as RecordInput[], { compression: Codec[compression] }),
    bytes: (encoded) => encoded as Buffer,
    decode: (batch: Buffer) => decode(batch),
    decodeWithoutCrc: (batch: Buffer) => decode(batch, false),
    read,
  },
  crc32c: { js: (data: Buffer) => crc32c(data) },
  codecs: Object.fromEntries(
    (hasNativeZstd ? (['gzip', 'snappy', 'lz4', 'zstd'] as const) : (['gzip', 'snappy', 'lz4'] as const)).map((c) => [
      c,
      { compress: (data: Buffer) => compress(Codec[c], data), decompress: (data: Buffer) => decompress(Codec[c], data) },
    ]),
  ),
  writeVarints: (values: Int32Array) => {
    const w = new Writer(1024);
    for (let i = 0; i < values.length; i++) w.varint(values[i]!);
    return w.finish();
  },
  readVarints: (data: Buffer, count: number) => {
    const r = new Reader(data);
    let s = 0;
    for (let i = 0; i < count; i++) s += r.varint();
    return s;
  },
};
