/**
 * @platformatic/kafka through the protocol functions its package root exports (dist/protocol/records.js):
 * `createRecordsBatch` (what its producer calls per partition) and `readRecordsBatch` (what its Fetch decoder
 * calls). It needs Node >= 22, so it is loaded only there. Its CRC-32C is native (@node-rs/crc32, an optional
 * dependency installed by default) with a WebAssembly fallback; both are reported.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { CodecContender, Compression, PlainRecord } from '../contender.js';
import { touch } from '../contender.js';
import type { RecordSet } from '../fixtures.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const require = createRequire(import.meta.url);

/** Whether this Node can run @platformatic/kafka (its engines field asks for >= 22). */
export function platformaticSupported(): boolean {
  return Number(process.versions.node.split('.')[0]) >= 22;
}

/** Loads the adapter, or returns undefined on a Node too old for the library. */
export async function loadPlatformatic(): Promise<CodecContender | undefined> {
  if (!platformaticSupported()) return undefined;
  const plt: any = await import('@platformatic/kafka' as string);
  const wasm: any = await import('@platformatic/wasm-utils' as string);
  // The exports map hides package.json; read it from the resolved entry point instead.
  const entry = require.resolve('@platformatic/kafka' as string);
  const version: string = JSON.parse(readFileSync(new URL('../package.json', pathToFileURL(entry)), 'utf8')).version;
  const { createRecordsBatch, readRecordsBatch, Reader, Writer, crc32c, jsCRC32C } = plt;
  const zstd = typeof ((await import('node:zlib')) as any).zstdCompressSync === 'function';

  const decode = (batch: Buffer): number => {
    const decoded = readRecordsBatch(Reader.from(batch));
    let s = 0;
    for (const r of decoded.records) {
      s += touch(r.key, r.value);
      if (r.offsetDelta < 0 || r.timestampDelta < 0n) s++;
    }
    return s;
  };

  const read = (batch: Buffer): PlainRecord[] => {
    const decoded = readRecordsBatch(Reader.from(batch));
    return decoded.records.map((r: any) => ({
      key: r.key,
      value: r.value,
      timestamp: Number(decoded.firstTimestamp + r.timestampDelta),
      offset: Number(decoded.firstOffset) + r.offsetDelta,
    }));
  };

  return {
    name: `@platformatic/kafka ${version}`,
    batch: {
      compressions: zstd ? ['none', 'gzip', 'snappy', 'lz4', 'zstd'] : ['none', 'gzip', 'snappy', 'lz4'],
      // Its producer hands createRecordsBatch messages with a topic and bigint timestamps.
      prepare: (set: RecordSet) =>
        set.records.map((r) => ({ key: r.key, value: r.value, topic: 'bench', partition: 0, timestamp: BigInt(r.timestamp) })),
      // Ends at the Writer (a list of chunks) its Produce request appends as is: no concatenation is charged.
      encode: (prepared: unknown, compression: Compression) =>
        createRecordsBatch(prepared as unknown[], { compression, producerId: -1n, producerEpoch: 0 }),
      bytes: (encoded) => (encoded as any).buffer as Buffer,
      decode,
      read,
    },
    codecs: Object.fromEntries(
      (zstd ? ['gzip', 'snappy', 'lz4', 'zstd'] : ['gzip', 'snappy', 'lz4']).map((c) => [
        c,
        {
          compress: (data: Buffer) => plt.compressionsAlgorithms[c].compressSync(data),
          decompress: (data: Buffer) => plt.compressionsAlgorithms[c].decompressSync(data),
        },
      ]),
    ),
    crc32c: {
      [plt.loadNativeCRC32C() ? 'native (@node-rs/crc32, default)' : 'default']: (data: Buffer) => crc32c(data),
      wasm: (data: Buffer) => wasm.crc32c(data),
      js: (data: Buffer) => jsCRC32C(data),
    },
    writeVarints: (values: Int32Array) => {
      const w = Writer.create();
      for (let i = 0; i < values.length; i++) w.appendVarInt(values[i]);
      return w.buffer;
    },
    readVarints: (data: Buffer, count: number) => {
      const r = Reader.from(data);
      let s = 0;
      for (let i = 0; i < count; i++) s += r.readVarInt();
      return s;
    },
  };
}
