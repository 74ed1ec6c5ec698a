/**
 * Header encoding: request and response headers with tagged fields, whole request and response frames (the header
 * version each API version takes), and record headers in a RecordBatch (UTF-8 keys, leading headers).
 * Expected bytes are written out by hand from the protocol guide (KIP-482 tagged fields, KIP-511 ApiVersions).
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { readRequestHeader, readResponseFrame, readResponseHeader, writeRequestFrame, writeRequestHeader, writeResponseHeader } from '../../src/protocol/headers.js';
import { requestCodec, responseCodec } from '../../src/protocol/schema.js';
import { ApiVersions, Metadata } from '../../src/protocol/apis/index.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/protocol/record-batch.js';

const s = suite('headers: request, response and record headers');
const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const enc = (fn: (w: Writer) => void): string => { const w = new Writer(8); fn(w); return w.finish().toString('hex'); };
const tags = (h: { _unknownTags?: { tag: number; data: Buffer }[] }): [number, string][] | undefined =>
  h._unknownTags?.map((t) => [t.tag, t.data.toString('hex')]);

s('tagged fields are written in ascending tag order whatever order they are given in, and read back', () => {
  const given = [{ tag: 5, data: hex('bbcc') }, { tag: 1, data: hex('aa') }];
  const request = enc((w) => writeRequestHeader(w, 2, { apiKey: 3, apiVersion: 12, correlationId: 7, clientId: 'c', _unknownTags: given }));
  assert.is(request, '0003 000c 00000007 0001 63 02 01 01 aa 05 02 bbcc'.replace(/ /g, ''));
  assert.equal(tags(readRequestHeader(new Reader(hex(request)), 2)), [[1, 'aa'], [5, 'bbcc']]);
  const response = enc((w) => writeResponseHeader(w, 1, { correlationId: 9, _unknownTags: given }));
  assert.is(response, '00000009 02 01 01 aa 05 02 bbcc'.replace(/ /g, ''));
  assert.equal(tags(readResponseHeader(new Reader(hex(response)), 1)), [[1, 'aa'], [5, 'bbcc']]);
  assert.equal(given.map((t) => t.tag), [5, 1], "the caller's list is left as it was");
});

s('a request frame: size prefix, header v1 below the flexible versions, v2 (with its empty tag section) from them', () => {
  const frame = (version: number, body: object): string => {
    const w = new Writer(16);
    return writeRequestFrame(w, ApiVersions, requestCodec(ApiVersions, version), { correlationId: 0x01020304, clientId: 'id' }, body as never).toString('hex');
  };
  assert.is(frame(2, {}), '0000000c 0012 0002 01020304 0002 6964'.replace(/ /g, ''));
  // v3: header v2 ends with 00 (no tags); the body is two compact strings and its own empty tag section.
  assert.is(frame(3, { clientSoftwareName: 'n', clientSoftwareVersion: 'v' }),
    '00000012 0012 0003 01020304 0002 6964 00 026e 0276 00'.replace(/ /g, ''));
});

s('a response frame is read with the header its API version takes: v1 for flexible versions, v0 for ApiVersions always', () => {
  const api = { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }], throttleTimeMs: 5 };
  const body = (version: number): Buffer => { const w = new Writer(64); responseCodec(ApiVersions, version).encode(w, api as never); return w.finish(); };
  // ApiVersions v3 is flexible but its response header stays v0: the body follows the correlation id at once.
  const v3 = Buffer.concat([hex('0000002a'), body(3)]);
  const read = readResponseFrame(v3, ApiVersions, responseCodec(ApiVersions, 3));
  assert.is(read.header.correlationId, 42);
  assert.equal(read.body.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]), [[18, 0, 4]]);
  assert.is(read.body.throttleTimeMs, 5);
  // Metadata v9 (flexible): header v1, a tag section after the correlation id, here carrying one unknown tag.
  const w = new Writer(64);
  responseCodec(Metadata, 9).encode(w, { throttleTimeMs: 1, brokers: [], clusterId: null, controllerId: 2, topics: [], clusterAuthorizedOperations: -1 } as never);
  const metadata = Buffer.concat([hex('0000002b 01 07 01 ee'), w.finish()]);
  const m = readResponseFrame(metadata, Metadata, responseCodec(Metadata, 9));
  assert.is(m.header.correlationId, 43);
  assert.equal(tags(m.header), [[7, 'ee']]);
  assert.equal([m.body.throttleTimeMs, m.body.controllerId], [1, 2]);
});

s('record headers: keys are written as UTF-8 bytes (not UTF-16 units); leading headers come first and are counted', () => {
  const lead = [{ key: 'trace-ü', value: 'abc' }];
  const records = [
    { value: 'a', headers: [{ key: 'ключ', value: 'значение' }, { key: '\u{1f600}', value: null }] },
    { value: 'b' },
  ];
  const [batch, ...rest] = decodeRecordBatches(encodeRecordBatch(records, { baseOffset: 10, leadingHeaders: lead }));
  assert.is(rest.length, 0);
  const got = batch!.records().map((r) => r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('utf8')]));
  assert.equal(got, [
    [['trace-ü', 'abc'], ['ключ', 'значение'], ['\u{1f600}', null]],
    [['trace-ü', 'abc']],
  ]);
  // The key's length prefix is its UTF-8 byte count: 'ü' is 2 bytes, so 'trace-ü' is 8 (zigzag varint 0x10).
  const one = encodeRecordBatch([{ value: null, headers: [{ key: 'ü', value: null }] }], { baseTimestamp: 0 });
  assert.ok(one.includes(hex('02 04 c3bc 01')), 'one header, key length 2 (zigzag 04), the UTF-8 bytes, null value (zigzag -1 = 01)');
});

s.run();
