/**
 * KafkaJS 2.x through its internal protocol modules, called the way its Produce v3+ request and Fetch response
 * decoders call them (kafkajs/src/protocol/requests/produce/v3/request.js, .../recordBatch/v0/decoder.js).
 * KafkaJS ships only gzip; snappy, lz4 and zstd need third-party codec plugins, so they are not benchmarked.
 */

import { createRequire } from 'node:module';
import type { CodecContender, Compression, PlainRecord } from '../contender.js';
import { touch } from '../contender.js';
import type { RecordSet } from '../fixtures.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const require = createRequire(import.meta.url);
const Record: any = require('kafkajs/src/protocol/recordBatch/record/v0');
const { RecordBatch }: any = require('kafkajs/src/protocol/recordBatch/v0');
const decodeBatch: any = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const crc32C: any = require('kafkajs/src/protocol/recordBatch/crc32C');
const Encoder: any = require('kafkajs/src/protocol/encoder');
const Decoder: any = require('kafkajs/src/protocol/decoder');
const { Types }: any = require('kafkajs/src/protocol/message/compression');
const kafkajsVersion: string = require('kafkajs/package.json').version;

const CODES: Partial<Record<Compression, number>> = { none: Types.None, gzip: Types.GZIP };

interface Prepared {
  messages: { key: Buffer; value: Buffer; timestamp: number }[];
}

/** Mirrors produce/v3/request.js: Record per message, then one RecordBatch. */
async function encode(prepared: unknown, compression: Compression): Promise<any> {
  const { messages } = prepared as Prepared;
  const firstTimestamp = messages[0]!.timestamp;
  let maxTimestamp = firstTimestamp;
  for (const m of messages) if (m.timestamp > maxTimestamp) maxTimestamp = m.timestamp;
  const records = messages.map((m, i) =>
    Record({ ...m, offsetDelta: i, timestampDelta: m.timestamp - firstTimestamp }),
  );
  return RecordBatch({
    compression: CODES[compression],
    records,
    firstTimestamp,
    maxTimestamp,
    lastOffsetDelta: records.length - 1,
  });
}

async function decode(batch: Buffer): Promise<number> {
  const decoded = await decodeBatch(new Decoder(batch));
  let s = 0;
  for (const r of decoded.records) {
    s += touch(r.key, r.value);
    if (r.offset.length === 0 || r.timestamp.length === 0) s++;
  }
  return s;
}

async function read(batch: Buffer): Promise<PlainRecord[]> {
  const decoded = await decodeBatch(new Decoder(batch));
  return decoded.records.map((r: any) => ({
    key: r.key,
    value: r.value,
    timestamp: Number(r.timestamp),
    offset: Number(r.offset),
  }));
}

/** KafkaJS writes varints through Encoder.writeVarInt and reads them with Decoder.readVarInt. */
function writeVarints(values: Int32Array): unknown {
  const e = new Encoder();
  for (let i = 0; i < values.length; i++) e.writeVarInt(values[i]);
  return e.buffer;
}

function readVarints(data: Buffer, count: number): number {
  const d = new Decoder(data);
  let s = 0;
  for (let i = 0; i < count; i++) s += d.readVarInt();
  return s;
}

export const kafkajs: CodecContender = {
  name: `kafkajs ${kafkajsVersion}`,
  batch: {
    compressions: ['none', 'gzip'],
    prepare: (set: RecordSet) => ({
      messages: set.records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp })),
    }),
    encode,
    bytes: (encoded) => Buffer.from((encoded as any).buffer),
    decode,
    read,
  },
  crc32c: { js: (data: Buffer) => crc32C(data) },
  writeVarints,
  readVarints,
};
