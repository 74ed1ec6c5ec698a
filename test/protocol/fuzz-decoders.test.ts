import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { apis } from '../../src/protocol/apis/index.js';
import { inVersions, messageCodec, parseVersions, type MessageCodec } from '../../src/protocol/schema.js';
import type { ApiDef } from '../../src/protocol/schema-types.js';
import { readRequestHeader, readResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { DecodeError } from '../../src/errors.js';
import { prng, sampleStruct } from './schema-samples.js';

const s = suite('protocol fuzz: decoders throw only DecodeError, fast', { timeoutMs: 10_000 });

type Rnd = () => number;
const int = (rnd: Rnd, n: number): number => Math.floor(rnd() * n);

/** Decodes `bytes`; anything thrown other than a DecodeError fails with the input in the message. */
function survive(label: string, decode: (r: Reader) => unknown, bytes: Buffer): 'ok' | 'rejected' {
  try {
    decode(new Reader(bytes));
    return 'ok';
  } catch (err) {
    if (err instanceof DecodeError) return 'rejected';
    assert.unreachable(`${label}: ${String(err)} on ${bytes.toString('hex').slice(0, 400)}`);
    return 'rejected';
  }
}

function mutate(valid: Buffer, rnd: Rnd): Buffer {
  const b = Buffer.from(valid);
  switch (int(rnd, 5)) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + int(rnd, 4); i < n && b.length; i++) b[int(rnd, b.length)] = int(rnd, 256);
      return b;
    case 1: // a huge int32 length somewhere
      if (b.length >= 4) b.writeInt32BE(0x7fffffff, int(rnd, b.length - 3));
      return b;
    case 2: // a 5-byte maximal uvarint somewhere
      if (b.length >= 5) b.set([0xff, 0xff, 0xff, 0xff, 0x0f], int(rnd, b.length - 4));
      return b;
    case 3: // truncate
      return b.subarray(0, int(rnd, b.length));
    default: // insert random bytes
      {
        const at = int(rnd, b.length + 1);
        const extra = Buffer.from(Array.from({ length: 1 + int(rnd, 8) }, () => int(rnd, 256)));
        return Buffer.concat([b.subarray(0, at), extra, b.subarray(at)]);
      }
  }
}

const combos: Array<{ label: string; codec: MessageCodec; api: ApiDef; kind: 'request' | 'response'; version: number }> = [];
for (const api of Object.values(apis) as ApiDef[]) {
  const [lo, hi] = parseVersions(api.validVersions);
  for (let version = lo; version <= hi; version++) {
    for (const kind of ['request', 'response'] as const) {
      combos.push({ label: `${api.name} v${version} ${kind}`, codec: messageCodec(api[kind], version, inVersions(api.flexibleVersions, version)), api, kind, version });
    }
  }
}

s('random bytes into every decoder of every API × version', () => {
  const rnd = prng(0xf022);
  const t0 = Date.now();
  let rejected = 0;
  for (const c of combos) {
    for (let i = 0; i < 12; i++) {
      const bytes = Buffer.from(Array.from({ length: int(rnd, 80) }, () => int(rnd, 256)));
      if (survive(c.label, (r) => c.codec.decode(r), bytes) === 'rejected') rejected++;
    }
  }
  assert.ok(rejected > combos.length, `most random inputs are rejected (${rejected})`);
  assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
});

s('mutated valid frames into every decoder of every API × version', () => {
  const rnd = prng(0xbadf00d);
  const t0 = Date.now();
  const outcomes = { ok: 0, rejected: 0 };
  for (const c of combos) {
    const value = sampleStruct(c.api[c.kind].fields, c.version, prng(c.version * 7 + c.api.apiKey), { mode: 'rich' });
    const w = new Writer();
    c.codec.encode(w, value);
    const valid = Buffer.from(w.finish());
    for (let i = 0; i < 16; i++) outcomes[survive(c.label, (r) => c.codec.decode(r), mutate(valid, rnd))]++;
  }
  assert.ok(outcomes.rejected > 0 && outcomes.ok > 0, JSON.stringify(outcomes));
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
});

s('a 2^31 element count with 10 bytes left fails at once, for classic and compact arrays', () => {
  const t0 = Date.now();
  const metadataV0 = messageCodec(apis.Metadata.response, 0, false);
  assert.throws(() => metadataV0.decode(new Reader(Buffer.from('7fffffff' + '00'.repeat(10), 'hex'))), /cannot fit/);
  const metadataV12 = messageCodec(apis.Metadata.response, 12, true);
  assert.throws(() => metadataV12.decode(new Reader(Buffer.from('00000000' + 'ffffffff07' + '00'.repeat(10), 'hex'))), /cannot fit/);
  const fetchV4 = messageCodec(apis.Fetch.response, 4, false);
  assert.throws(() => fetchV4.decode(new Reader(Buffer.from('00000000' + '7fffffff' + '00'.repeat(10), 'hex'))), /cannot fit/);
  const memory = process.memoryUsage().heapUsed;
  for (let i = 0; i < 1000; i++) {
    try { metadataV0.decode(new Reader(Buffer.from('7fffffff' + '00'.repeat(10), 'hex'))); } catch { /* expected */ }
  }
  assert.ok(process.memoryUsage().heapUsed - memory < 50 * 1024 * 1024, 'no large allocations');
  assert.ok(Date.now() - t0 < 200, `took ${Date.now() - t0} ms`);
});

s('header readers survive random bytes', () => {
  const rnd = prng(7);
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.from(Array.from({ length: int(rnd, 16) }, () => int(rnd, 256)));
    survive('request header v1', (r) => readRequestHeader(r, 1), bytes);
    survive('request header v2', (r) => readRequestHeader(r, 2), bytes);
    survive('response header v1', (r) => readResponseHeader(r, 1), bytes);
  }
});

s.run();
