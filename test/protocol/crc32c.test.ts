import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { crc32c } from '../../src/protocol/crc32c.js';

const s = suite('crc32c');

/** Bit-at-a-time CRC-32C straight from the definition: the oracle for the table-driven code. */
function reference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

s('RFC 3720 appendix B.4 test vectors', () => {
  assert.is(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.is(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.is(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.is(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  const pdu = Buffer.from(
    '01c000000000000000000000000000001400000000000400000000140000001828000000000000000200000000000000',
    'hex',
  );
  assert.is(crc32c(pdu), 0xd9963a56);
});

s('known strings', () => {
  assert.is(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.is(crc32c(Buffer.alloc(0)), 0);
  assert.is(crc32c(Buffer.from('a')), 0xc1d04330);
});

s('matches the bit-wise definition at every length and alignment, and continues across pieces', () => {
  let x = 12345;
  const data = Uint8Array.from({ length: 300 }, () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24);
  for (let start = 0; start < 9; start++) {
    for (let end = start; end <= data.length; end += 7) {
      assert.is(crc32c(data, start, end), reference(data.subarray(start, end)), `[${start}, ${end})`);
    }
  }
  for (let cut = 0; cut <= data.length; cut += 13) {
    assert.is(crc32c(data, cut, data.length, crc32c(data, 0, cut)), reference(data));
  }
});

s('word-at-a-time path: views at every byte offset of their buffer, long inputs, pieces of any size', () => {
  let x = 777;
  const backing = Uint8Array.from({ length: 5000 }, () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24);
  for (let off = 0; off < 8; off++) {
    const view = backing.subarray(off, off + 4500);
    const expected = reference(view);
    assert.is(crc32c(view), expected, `byteOffset ${off}`);
    assert.is(crc32c(Buffer.from(view.buffer, view.byteOffset, view.length)), expected, `Buffer at byteOffset ${off}`);
    for (const cut of [1, 31, 32, 127, 128, 129, 1000, 4499]) {
      assert.is(crc32c(view, cut, view.length, crc32c(view, 0, cut)), expected, `byteOffset ${off}, cut ${cut}`);
    }
  }
});

s.run();
