/**
 * kafka-channels itself, imported from the library's sources (compiled beside the benches into bench/.build).
 */

import { crc32c } from '../../../src/protocol/crc32c.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import type { CodecContender } from '../contender.js';

export const ours: CodecContender = {
  name: 'kafka-channels',
  crc32c: { js: (data: Buffer) => crc32c(data) },
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
