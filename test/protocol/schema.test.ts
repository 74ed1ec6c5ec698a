import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { defineApi, requestCodec, responseCodec, parseVersions, inVersions, type RequestOf, type ResponseOf } from '../../src/protocol/schema.js';
import { headerVersions, readRequestHeader, readResponseHeader, writeRequestHeader, writeResponseHeader } from '../../src/protocol/headers.js';
import { chooseVersion, supportedVersions } from '../../src/protocol/versions.js';
import { ApiVersions, Fetch, InitProducerId, Metadata, Produce, SaslHandshake } from '../../src/protocol/apis/index.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { DecodeError, InvalidArgumentError, UnsupportedVersionError } from '../../src/errors.js';

const s = suite('protocol schema compiler, headers, versions', { timeoutMs: 10_000 });
const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

/** A small definition exercising each DSL feature; bytes below are derived by hand from the protocol guide. */
const Demo = defineApi({
  apiKey: 9999,
  name: 'Demo',
  validVersions: '0-2',
  flexibleVersions: '2+',
  request: {
    fields: [
      { name: 'id', type: 'int32', versions: '0+' },
      { name: 'name', type: 'string', versions: '0+', nullableVersions: '1+' },
      { name: 'extra', type: 'int16', versions: '1+', default: 7 },
      { name: 'items', type: '[]Item', versions: '0+', fields: [{ name: 'k', type: 'int8', versions: '0+' }] },
      { name: 'note', type: 'string', versions: '2+', nullableVersions: '2+', taggedVersions: '2+', tag: 0, default: null },
      { name: 'blob', type: 'bytes', versions: '2+', taggedVersions: '2+', tag: 3 },
    ],
  },
  response: {
    fields: [
      { name: 'offset', type: 'int64', versions: '0+', default: -1n },
      { name: 'topicId', type: 'uuid', versions: '1+' },
      { name: 'ids', type: '[]int32', versions: '0+', nullableVersions: '2+' },
      { name: 'leader', type: 'Leader', versions: '2+', nullableVersions: '2+', default: null, fields: [
        { name: 'leaderId', type: 'int32', versions: '2+' },
      ] },
    ],
  },
});

const enc = (fn: (w: Writer) => void): string => { const w = new Writer(8); fn(w); return w.finish().toString('hex'); };

s('classic versions: int16 strings, int32 arrays, version-gated fields', () => {
  const v = { id: 1, name: 'ab', items: [{ k: 5 }] };
  assert.is(enc((w) => requestCodec(Demo, 0).encode(w, v)), '00000001' + '00026162' + '00000001' + '05');
  assert.is(enc((w) => requestCodec(Demo, 1).encode(w, v)), '00000001' + '00026162' + '0007' + '00000001' + '05');
  assert.is(enc((w) => requestCodec(Demo, 1).encode(w, { ...v, name: null, extra: -2 })), '00000001' + 'ffff' + 'fffe' + '00000001' + '05');
  const d = requestCodec(Demo, 0).decode(new Reader(hex('00000002 0001 7a 00000000')));
  assert.equal(d, { id: 2, name: 'z', extra: 7, items: [], note: null, blob: Buffer.alloc(0) });
  assert.throws(() => requestCodec(Demo, 0).encode(new Writer(), { ...v, name: null }), /field name is not nullable/);
  assert.throws(() => requestCodec(Demo, 0).encode(new Writer(), { ...v, items: [null as never] }), /expected a struct/);
});

s('flexible versions: compact forms, struct tag sections, tagged fields only when not default', () => {
  const v = { id: 1, name: 'ab', items: [{ k: 5 }] };
  const base = '00000001' + '036162' + '0007' + '02' + '05' + '00';
  assert.is(enc((w) => requestCodec(Demo, 2).encode(w, v)), base + '00');
  assert.is(enc((w) => requestCodec(Demo, 2).encode(w, { ...v, note: 'hi' })), base + '01' + '00' + '03' + '036869');
  // A 200-byte tagged value: its size (202) needs a 2-byte varint, so the encoder shifts what it wrote.
  const blob = Buffer.alloc(200, 0xab);
  const bytes = enc((w) => requestCodec(Demo, 2).encode(w, { ...v, note: 'hi', blob }));
  assert.is(bytes, base + '02' + '00' + '03' + '036869' + '03' + 'ca01' + 'c901' + blob.toString('hex'));
  const back = requestCodec(Demo, 2).decode(new Reader(hex(bytes)));
  assert.equal(back, { ...v, extra: 7, items: [{ k: 5 }], note: 'hi', blob });
});

s('unknown tagged fields are kept and re-emitted in tag order', () => {
  const base = '00000001' + '036162' + '0007' + '01';
  const frame = hex(base + '03' + '00' + '03' + '036869' + '01' + '02' + 'beef' + '05' + '00');
  const d = requestCodec(Demo, 2).decode(new Reader(frame));
  assert.is(d.note, 'hi');
  assert.equal(d._unknownTags?.map((t) => [t.tag, t.data.toString('hex')]), [[1, 'beef'], [5, '']]);
  assert.is(enc((w) => requestCodec(Demo, 2).encode(w, d)), frame.toString('hex'));
});

s('nullable structs carry an int8 marker; int64, uuid and nullable primitive arrays', () => {
  const id = Buffer.alloc(16, 1).toString('base64url');
  const r2 = responseCodec(Demo, 2);
  assert.is(enc((w) => r2.encode(w, { offset: 5n, topicId: id, ids: null, leader: null })), '0000000000000005' + '01'.repeat(16) + '00' + 'ff' + '00');
  assert.is(enc((w) => r2.encode(w, { ids: [3], leader: { leaderId: 9 } })), 'ffffffffffffffff' + '00'.repeat(16) + '02' + '00000003' + '01' + '00000009' + '00' + '00');
  assert.equal(r2.decode(new Reader(hex('ffffffffffffffff' + '00'.repeat(16) + '00' + '01' + '00000009' + '00' + '00'))),
    { offset: -1n, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', ids: null, leader: { leaderId: 9 } });
  assert.equal(responseCodec(Demo, 0).decode(new Reader(hex('0000000000000001 00000000'))),
    { offset: 1n, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', ids: [], leader: null });
});

s('codecs are cached per version and reject versions the API lacks', () => {
  assert.is(requestCodec(Metadata, 12), requestCodec(Metadata, 12));
  assert.is.not(requestCodec(Metadata, 12), requestCodec(Metadata, 11));
  assert.throws(() => requestCodec(Metadata, 14), (e: unknown) => e instanceof InvalidArgumentError);
  assert.throws(() => requestCodec(Produce, 2), (e: unknown) => e instanceof InvalidArgumentError);
  assert.equal(parseVersions('3-5'), [3, 5]);
  assert.equal(parseVersions('4+'), [4, Infinity]);
  assert.ok(!inVersions('none', 0) && inVersions('7', 7) && !inVersions('7', 8) && !inVersions(undefined, 0));
});

s('request and response types are inferred from the definition', () => {
  const req: RequestOf<typeof Metadata> = { topics: [{ name: 'orders' }], allowAutoTopicCreation: false };
  // @ts-expect-error topics is required (versions 0+, no default)
  const missing: RequestOf<typeof Metadata> = { allowAutoTopicCreation: false };
  // @ts-expect-error a topic name is a string
  const wrong: RequestOf<typeof Metadata> = { topics: [{ name: 42 }] };
  void missing; void wrong;
  const bytes = new Writer();
  requestCodec(Metadata, 12).encode(bytes, req);
  const decoded = requestCodec(Metadata, 12).decode(new Reader(bytes.finish()));
  const names: (string | null)[] = decoded.topics!.map((t) => t.name);
  assert.equal(names, ['orders']);
  const res = responseCodec(ApiVersions, 3).decode(new Reader(hex('0000 02 0012 0000 0004 00 00000000 00')));
  const maxVersion: number = res.apiKeys[0]!.maxVersion;
  const epoch: bigint = res.finalizedFeaturesEpoch;
  assert.is(maxVersion, 4);
  assert.is(epoch, -1n);
  type FetchRecords = ResponseOf<typeof Fetch>['responses'][number]['partitions'][number]['records'];
  const records: FetchRecords = null;
  assert.is(records, null);
});

s('decoders turn truncated and hostile input into DecodeError', () => {
  assert.throws(() => requestCodec(Demo, 0).decode(new Reader(hex('00000001 0002 61'))), (e: unknown) => e instanceof DecodeError);
  assert.throws(() => requestCodec(Demo, 0).decode(new Reader(hex('00000001 0000 7fffffff 00'))), (e: unknown) => e instanceof DecodeError);
  assert.throws(() => requestCodec(Demo, 0).decode(new Reader(hex('00000001 ffff 00000000'))), (e: unknown) => e instanceof DecodeError);
  // a known tagged field whose declared size disagrees with its content
  assert.throws(() => requestCodec(Demo, 2).decode(new Reader(hex('00000001 036162 0007 01 01 00 04 036869 00'))), /used 3 of 4/);
});

s('headers: request v1/v2, response v0/v1, ApiVersions response always v0 (KIP-511)', () => {
  assert.equal(headerVersions(Metadata, 8), [1, 0]);
  assert.equal(headerVersions(Metadata, 9), [2, 1]);
  assert.equal(headerVersions(ApiVersions, 3), [2, 0]);
  assert.equal(headerVersions(ApiVersions, 2), [1, 0]);
  assert.equal(headerVersions(SaslHandshake, 1), [1, 0]);
  const h = { apiKey: 3, apiVersion: 1, correlationId: 7, clientId: 'c' };
  assert.is(enc((w) => writeRequestHeader(w, 1, h)), '0003' + '0001' + '00000007' + '000163');
  assert.is(enc((w) => writeRequestHeader(w, 2, { ...h, clientId: null })), '0003' + '0001' + '00000007' + 'ffff' + '00');
  assert.equal(readRequestHeader(new Reader(hex('0003000100000007000163')), 1), h);
  assert.is(enc((w) => writeResponseHeader(w, 0, { correlationId: 7 })), '00000007');
  assert.is(enc((w) => writeResponseHeader(w, 1, { correlationId: 7 })), '0000000700');
  assert.equal(readResponseHeader(new Reader(hex('0000000700')), 1), { correlationId: 7 });
  const tagged = readResponseHeader(new Reader(hex('00000007 01 02 01 ff')), 1);
  assert.equal(tagged._unknownTags?.map((t) => [t.tag, t.data.toString('hex')]), [[2, 'ff']]);
  assert.is(enc((w) => writeResponseHeader(w, 1, tagged)), '0000000701020' + '1ff');
});

s('chooseVersion: min(our max, broker max, pin), checked against both minimums', () => {
  assert.is(chooseVersion(Metadata, 0, 13), 13);
  assert.is(chooseVersion(Metadata, 0, 13, 5), 5);
  assert.is(chooseVersion(Metadata, 0, 8), 8);
  assert.is(chooseVersion(Metadata, 0, 99), 13);
  assert.throws(() => chooseVersion(Metadata, 14, 15), (e: unknown) => e instanceof UnsupportedVersionError);
  assert.throws(() => chooseVersion(Metadata, 4, 13, 3), (e: unknown) => e instanceof UnsupportedVersionError);
  assert.throws(() => chooseVersion(Fetch, 0, 3), (e: unknown) => e instanceof UnsupportedVersionError);
  // KAFKA-18659: a 4.x broker advertises Produce from 0 but rejects v0-2.
  assert.is(chooseVersion(Produce, 0, 13), 13);
  assert.throws(() => chooseVersion(Produce, 0, 13, 2), (e: unknown) => e instanceof UnsupportedVersionError);
  // InitProducerId v6 is unstable in Kafka 4.3 (latestVersionUnstable): not chosen.
  assert.equal(supportedVersions(InitProducerId), [0, 5]);
  assert.is(chooseVersion(InitProducerId, 0, 6), 5);
});

s.run();
