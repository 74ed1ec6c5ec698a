import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { sizeOfUnsignedVarint, sizeOfVarint, sizeOfVarlong, sizeOfVarlongNumber } from '../../src/protocol/varint.js';
import { DecodeError } from '../../src/errors.js';

const s = suite('protocol primitives', { timeoutMs: 10_000 });
const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const written = (fn: (w: Writer) => void): string => { const w = new Writer(16); fn(w); return w.finish().toString('hex'); };
const throwsDecode = (fn: () => unknown, re?: RegExp): void => {
  try { fn(); } catch (err) {
    assert.instance(err, DecodeError);
    if (re) assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable('expected a DecodeError');
};

// Zig-zag varint vectors as given in the Kafka protocol guide / ByteUtils (hand-derived: zigzag then base-128 LE).
const varints: Array<[number, string]> = [
  [0, '00'], [-1, '01'], [1, '02'], [63, '7e'], [-64, '7f'], [64, '8001'], [-65, '8101'], [8191, 'fe7f'],
  [-8192, 'ff7f'], [8192, '808001'], [-8193, '818001'], [2147483647, 'feffffff0f'], [-2147483648, 'ffffffff0f'],
];
const varlongs: Array<[bigint, string]> = [
  [0n, '00'], [-1n, '01'], [1n, '02'], [-65n, '8101'], [1048576n, '80808001'],
  [9223372036854775807n, 'feffffffffffffffff01'], [-9223372036854775808n, 'ffffffffffffffffff01'],
];

s('zig-zag varints match hand-derived bytes both ways', () => {
  for (const [v, h] of varints) {
    assert.is(written((w) => w.varint(v)), h, `encode ${v}`);
    assert.is(new Reader(hex(h)).varint(), v, `decode ${h}`);
    assert.is(sizeOfVarint(v), h.length / 2, `size ${v}`);
  }
});

s('varlongs (bigint and number paths) match hand-derived bytes', () => {
  for (const [v, h] of varlongs) {
    assert.is(written((w) => w.varlong(v)), h, `encode ${v}`);
    assert.is(new Reader(hex(h)).varlong(), v, `decode ${h}`);
    assert.is(sizeOfVarlong(v), h.length / 2);
    if (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) {
      assert.is(written((w) => w.varlongNumber(Number(v))), h);
      assert.is(new Reader(hex(h)).varlongNumber(), Number(v));
      assert.is(sizeOfVarlongNumber(Number(v)), h.length / 2);
    } else {
      throwsDecode(() => new Reader(hex(h)).varlongNumber(), /safe/);
    }
  }
  const randoms = Array.from({ length: 2000 }, (_, i) => Math.round((Math.sin(i * 7.3) * 2 ** (i % 54))));
  for (const n of [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1e15, -123456789012, 63, -64, 64, -65, ...randoms]) {
    assert.is(sizeOfVarlongNumber(n), sizeOfVarlong(BigInt(n)), `size ${n}`);
    const b = new Writer().varlongNumber(n).finish();
    assert.is(b.toString('hex'), written((w) => w.varlong(BigInt(n))));
    assert.is(new Reader(b).varlongNumber(), n);
  }
});

s('unsigned varints: 300 is ac02 (protobuf/KIP-482 example), 5-byte max', () => {
  assert.is(written((w) => w.uvarint(300)), 'ac02');
  assert.is(written((w) => w.uvarint(0xffffffff)), 'ffffffff0f');
  assert.is(new Reader(hex('ffffffff0f')).uvarint(), 0xffffffff);
  for (const v of [0, 127, 128, 16383, 16384, 2097151, 2097152, 268435455, 268435456]) {
    const b = new Writer().uvarint(v).finish();
    assert.is(b.length, sizeOfUnsignedVarint(v));
    assert.is(new Reader(b).uvarint(), v);
  }
  throwsDecode(() => new Reader(hex('ffffffff10')).uvarint(), /32 bits/);
  throwsDecode(() => new Reader(hex('ffffffffff01')).uvarint());
  throwsDecode(() => new Reader(hex('8080')).uvarint(), /truncated/);
  throwsDecode(() => new Reader(hex('ffffffffffffffffffff01')).varlong(), /10 bytes/);
});

s('fixed-width integers, float64 and bool are big-endian', () => {
  assert.is(written((w) => w.int8(-2).int16(-2).int32(-2).uint16(65535).uint32(0xfffffffe)), 'fe' + 'fffe' + 'fffffffe' + 'ffff' + 'fffffffe');
  assert.is(written((w) => w.int64(-2n)), 'fffffffffffffffe');
  assert.is(written((w) => w.int64Number(-2)), 'fffffffffffffffe');
  assert.is(written((w) => w.int64Number(0x1234567890)), '0000001234567890');
  assert.is(written((w) => w.float64(1.5)), '3ff8000000000000');
  assert.is(written((w) => w.bool(true).bool(false)), '0100');
  const r = new Reader(hex('fe fffe fffffffe ffff fffffffe fffffffffffffffe 0000001234567890 3ff8000000000000 01 00'));
  assert.equal([r.int8(), r.int16(), r.int32(), r.uint16(), r.uint32(), r.int64(), r.int64Number(), r.float64(), r.bool(), r.bool()],
    [-2, -2, -2, 65535, 0xfffffffe, -2n, 0x1234567890, 1.5, true, false]);
  assert.is(r.remaining(), 0);
  throwsDecode(() => new Reader(hex('7fffffffffffffff')).int64Number(), /safe/);
});

s('strings: classic int16 and compact uvarint+1 prefixes, UTF-8 written in place', () => {
  assert.is(written((w) => w.string('héllo')), '0006' + Buffer.from('héllo').toString('hex'));
  assert.is(written((w) => w.nullableString(null)), 'ffff');
  assert.is(written((w) => w.compactString('ab')), '036162');
  assert.is(written((w) => w.compactNullableString(null)), '00');
  assert.is(written((w) => w.compactString('')), '01');
  const r = new Reader(hex('0002 6869 ffff 03 6162 00 01'));
  assert.equal([r.string(), r.nullableString(), r.compactString(), r.compactNullableString(), r.compactString()], ['hi', null, 'ab', null, '']);
  throwsDecode(() => new Reader(hex('ffff')).string(), /non-nullable/);
  throwsDecode(() => new Reader(hex('0005 6162')).string(), /need 5 bytes/);
  throwsDecode(() => new Reader(hex('fffe')).nullableString(), /invalid string length/);
  const long = 'x'.repeat(1000);
  assert.is(new Reader(new Writer(4).compactString(long).finish()).compactString(), long);
});

s('bytes are zero-copy views; nullable forms', () => {
  const frame = hex('00000003 010203 ffffffff 03 0405 00');
  const r = new Reader(frame);
  const b = r.bytes();
  assert.is(b.toString('hex'), '010203');
  assert.is(b.buffer, frame.buffer, 'a view into the frame, not a copy');
  assert.is(b.byteOffset, frame.byteOffset + 4);
  assert.is(r.nullableBytes(), null);
  assert.is(r.compactBytes().toString('hex'), '0405');
  assert.is(r.compactNullableBytes(), null);
  assert.is(written((w) => w.bytes(hex('0102')).nullableBytes(null).compactBytes(hex('09')).compactNullableBytes(null)), '000000020102' + 'ffffffff' + '0209' + '00');
  throwsDecode(() => new Reader(hex('7fffffff 00')).bytes(), /need 2147483647 bytes/);
});

s('UUIDs are Kafka base64url text over 16 raw bytes', () => {
  const raw = hex('000102030405060708090a0b0c0d0e0f');
  const text = raw.toString('base64url');
  assert.is(text.length, 22);
  assert.is(written((w) => w.uuid(text)), raw.toString('hex'));
  assert.is(new Reader(raw).uuid(), text);
  assert.is(written((w) => w.uuid('AAAAAAAAAAAAAAAAAAAAAA')), '00'.repeat(16));
  assert.throws(() => new Writer().uuid('not-a-uuid'));
});

s('array lengths are checked against remaining bytes before any loop', () => {
  const t0 = Date.now();
  throwsDecode(() => new Reader(hex('7fffffff 00000000000000000000')).array((r) => r.int8()), /cannot fit/);
  throwsDecode(() => new Reader(hex('ffffffff0f 00')).compactArray((r) => r.int8()), /cannot fit/);
  throwsDecode(() => new Reader(hex('00000003 0000')).arrayLength(4), /cannot fit/);
  throwsDecode(() => new Reader(hex('fffffffe')).arrayLength(), /invalid array length/);
  assert.ok(Date.now() - t0 < 100);
  assert.is(new Reader(hex('ffffffff')).arrayLength(), -1);
  assert.is(new Reader(hex('00')).compactArrayLength(), -1);
  const w = new Writer(4);
  w.array([1, 2, 3], (x, v) => x.int16(v));
  w.compactArray(['a'], (x, v) => x.compactString(v));
  assert.is(w.finish().toString('hex'), '00000003000100020003' + '02' + '0261');
  const r = new Reader(w.finish());
  assert.equal(r.array((x) => x.int16()), [1, 2, 3]);
  assert.equal(r.compactArray((x) => x.compactString()), ['a']);
});

s('a varint ending an exactly sized writer fits without growing it; one that does not fit grows it', () => {
  const cases: [number, (w: Writer) => unknown, (r: Reader) => unknown, unknown][] = [
    [1, (w) => w.uvarint(0), (r) => r.uvarint(), 0],
    [5, (w) => w.uvarint(0xffffffff), (r) => r.uvarint(), 0xffffffff],
    [1, (w) => w.varint(-1), (r) => r.varint(), -1],
    [1, (w) => w.varlongNumber(-64), (r) => r.varlongNumber(), -64],
    [8, (w) => w.varlongNumber(Number.MAX_SAFE_INTEGER), (r) => r.varlongNumber(), Number.MAX_SAFE_INTEGER],
    [1, (w) => w.varlong(1n), (r) => r.varlong(), 1n],
    [10, (w) => w.varlong(-(2n ** 63n)), (r) => r.varlong(), -(2n ** 63n)],
  ];
  for (const [size, write, read, value] of cases) {
    for (const room of [size, size - 1]) {
      const w = new Writer(16);
      w.raw(Buffer.alloc(16 - room, 0xaa));
      write(w);
      assert.is(w.buf.length, room === size ? 16 : 32, `${String(value)} with ${room} bytes left`);
      assert.is(w.offset, 16 - room + size);
      const r = new Reader(w.finish());
      r.offset = 16 - room;
      assert.is(read(r), value);
    }
  }
});

s('reserveInt32 + patchSizeFrom write a size prefix across buffer growth', () => {
  const w = new Writer(16);
  const at = w.reserveInt32();
  w.string('x'.repeat(100));
  w.patchSizeFrom(at);
  const b = w.finish();
  assert.is(b.readInt32BE(0), 102);
  assert.is(b.length, 106);
  w.reset();
  assert.is(w.finish().length, 0);
});

s('ref: large bytes are referenced, not copied; sizes, prefixes and widening count them', () => {
  const big = Buffer.alloc(10_000, 0xab);
  const w = new Writer(16);
  const size = w.reserveInt32();
  w.int16(7).ref(Buffer.from('tiny')); // below the threshold: copied
  const at = w.offset;
  w.uint8(0); // a one-byte size guess, widened below
  w.ref(big).int32(-1).ref(big);
  const inner = w.sizeFrom(at) - 1;
  assert.is(inner, 20_004);
  w.widen(at + 1, 2); // as writeSized does when the varint size needs 3 bytes
  const end = w.offset;
  w.offset = at;
  w.uvarint(inner);
  w.offset = end;
  w.patchSizeFrom(size);
  const chunks = w.finishChunks();
  assert.is(chunks.length, 4, 'head, big, the int32 between, big');
  assert.is(chunks[1], big, 'referenced as given');
  const joined = w.finish();
  assert.ok(joined.equals(Buffer.concat(chunks)));
  assert.is(joined.length, w.size);
  assert.is(joined.readInt32BE(0), joined.length - 4, 'the size prefix counts referenced bytes');
  const r = new Reader(joined.subarray(4 + 2 + 4));
  assert.is(r.uvarint(), 20_004);
  assert.ok(r.view(10_000).equals(big));
  assert.is(r.int32(), -1);
  assert.ok(r.view(10_000).equals(big));
  assert.is(r.remaining(), 0);
  w.reset();
  assert.is(w.size, 0);
  assert.equal(w.finishChunks().map((c) => c.length), [0]);
});

s('tagged fields: sizes are checked and unknown ones skipped', () => {
  // 2 tags: tag 0 size 2 (int16 7), tag 5 size 1 (unknown)
  const r = new Reader(hex('02 00 02 0007 05 01 ff 2a'));
  const seen: number[] = [];
  r.taggedFields((tag, _size, rr) => { if (tag === 0) { seen.push(rr.int16()); return true; } return false; });
  assert.equal(seen, [7]);
  assert.is(r.int8(), 42);
  throwsDecode(() => new Reader(hex('01 00 05 00')).taggedFields(() => false), /need 5 bytes/);
  throwsDecode(() => new Reader(hex('01 00 02 0007')).taggedFields((_t, _s, rr) => { rr.int8(); return true; }), /used 1 of 2/);
});

s('reader windows and offsets', () => {
  const r = new Reader(hex('0001020304'), 1, 3);
  assert.is(r.int16(), 0x0102);
  throwsDecode(() => r.int8());
  throwsDecode(() => new Reader(hex('00'), 0, 5));
  try { new Reader(hex('0000')).int32(); } catch (err) { assert.is((err as DecodeError).offset, 0); }
});

s.run();
