import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { choosePartition, murmur2, partitionForKey, StickyPartitioner, toPositive } from '../../src/client/partitioner.js';
import { InvalidArgumentError } from '../../src/errors.js';

const s = suite('partitioner');

// Recorded from Kafka 4.3.1's Utils.murmur2 / BuiltInPartitioner.partitionForKey with integration/java/Partitioner.java
// (`b <hex>` byte keys, `s <utf-16 hex>` string keys UTF-8 encoded by Java), partition counts 1, 3, 7, 100.
const VECTORS: Array<[key: string | Buffer, murmur2: number, partitions: [number, number, number, number]]> = [
  [Buffer.alloc(0), 275646681, [0, 0, 2, 81]],
  [Buffer.from('00', 'hex'), 375494588, [0, 2, 0, 88]],
  [Buffer.from('0102', 'hex'), -1935140722, [0, 1, 5, 26]],
  [Buffer.from('abc'), 479470107, [0, 0, 4, 7]],
  [Buffer.from('abcd'), -1323649548, [0, 2, 5, 0]],
  [Buffer.from('abcde'), 461995741, [0, 1, 4, 41]],
  [Buffer.from('ffffffffffffff', 'hex'), -71293549, [0, 1, 4, 99]],
  ['hello', 2132663229, [0, 0, 4, 29]],
  ['\u00e9\u{1f600}', 1501228757, [0, 2, 0, 57]],
];

s('murmur2 and partitionForKey give the values Kafka\'s Java producer gave', () => {
  for (const [key, hash, parts] of VECTORS) {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    assert.is(murmur2(bytes), hash, `murmur2 ${bytes.toString('hex')}`);
    [1, 3, 7, 100].forEach((n, i) => assert.is(partitionForKey(key, n), parts[i], `${bytes.toString('hex')} among ${n}`));
  }
});

s('string keys hash as their UTF-8 bytes, including long ones that grow the scratch buffer', () => {
  const long = '\u4e2d'.repeat(5000) + 'x';
  assert.is(partitionForKey(long, 997), toPositive(murmur2(Buffer.from(long, 'utf8'))) % 997);
  assert.is(partitionForKey('hello', 100), 29); // still right after growing
  // Short strings take the JS encoder: it must agree with Buffer's UTF-8, lone surrogates included.
  for (const k of ['a\u0080\u07ff\u0800\uffff', '\ud800', 'x\udc00y', '\ud83d\ude00\ud83d', '\u00e9'.repeat(64)]) {
    assert.is(partitionForKey(k, 1000003), toPositive(murmur2(Buffer.from(k, 'utf8'))) % 1000003, JSON.stringify(k));
  }
  // murmur2 over a prefix equals murmur2 over the subarray.
  const buf = Buffer.from('abcdefghij');
  for (let n = 0; n <= buf.length; n++) assert.is(murmur2(buf, n), murmur2(buf.subarray(0, n)));
});

s('toPositive clears the sign bit like Java, unlike Math.abs', () => {
  assert.is(toPositive(-2147483648), 0);
  assert.is(toPositive(-1), 2147483647);
  assert.is(toPositive(5), 5);
});

/** Replays the given floats as the random source. */
function scripted(values: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error('random called more often than scripted');
    return values[i++]!;
  };
}

s('a null key sticks to one partition until a new batch is opened for it', () => {
  const p = new StickyPartitioner(scripted([0.5, 0.0, 0.99]));
  assert.is(p.partition('t', 6), 3);
  for (let i = 0; i < 100; i++) assert.is(p.partition('t', 6), 3);
  p.onNewBatch('t', 3);
  // 0.0 over the 5 partitions other than 3 gives 0
  assert.is(p.partition('t', 6), 0);
  assert.is(p.partition('t', 6), 0);
  p.onNewBatch('t', 4); // not the sticky one: no switch
  assert.is(p.partition('t', 6), 0);
  p.onNewBatch('t', 0);
  // 0.99 over the other 5 gives index 4, which skips past the partition just left -> 5
  assert.is(p.partition('t', 6), 5);
});

s('after a new batch the next partition is never the one just left', () => {
  let seed = 1;
  const rnd = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const p = new StickyPartitioner(rnd);
  let prev = p.partition('t', 4);
  const seen = new Set<number>([prev]);
  for (let i = 0; i < 500; i++) {
    p.onNewBatch('t', prev);
    const next = p.partition('t', 4);
    assert.is.not(next, prev);
    assert.ok(next >= 0 && next < 4);
    seen.add(next);
    prev = next;
  }
  assert.is(seen.size, 4);
});

s('topics stick independently; a single partition and shrinking counts are handled', () => {
  const p = new StickyPartitioner(scripted([0.9, 0.1, 0.2, 0.0]));
  assert.is(p.partition('a', 10), 9);
  assert.is(p.partition('b', 10), 1);
  assert.is(p.partition('a', 10), 9);
  assert.is(p.partition('a', 5), 1); // partition 9 no longer exists: choose again (0.2 * 5)
  p.onNewBatch('c', 0);
  assert.is(p.partition('one', 1), 0);
  p.onNewBatch('one', 0);
  assert.is(p.partition('one', 1), 0); // nowhere else to go
});

s('sticky choice is made among available partitions when given', () => {
  const p = new StickyPartitioner(scripted([0.0, 0.0, 0.7]));
  assert.is(p.partition('t', 8, [2, 5, 7]), 2);
  p.onNewBatch('t', 2);
  assert.is(p.partition('t', 8, [2, 5, 7]), 5); // random picked 2 again, the one just left: moved on
  p.onNewBatch('t', 5);
  assert.is(p.partition('t', 8, [2, 5, 7]), 7);
});

s('choosePartition: explicit partition, then key, then sticky', () => {
  const sticky = new StickyPartitioner(scripted([0.25]));
  assert.is(choosePartition({ partition: 2, key: 'hello' }, 't', 3, sticky), 2);
  assert.is(choosePartition({ key: 'hello' }, 't', 100, sticky), 29);
  assert.is(choosePartition({ key: Buffer.alloc(0) }, 't', 100, sticky), 81); // empty key is hashed, not sticky
  assert.is(choosePartition({ key: null }, 't', 4, sticky), 1);
  assert.is(choosePartition({}, 't', 4, sticky), 1);
  assert.throws(() => choosePartition({ partition: 3 }, 't', 3, sticky), (e: unknown) => e instanceof InvalidArgumentError);
  assert.throws(() => choosePartition({ partition: -1 }, 't', 3, sticky), (e: unknown) => e instanceof InvalidArgumentError);
  assert.throws(() => choosePartition({ key: 'x' }, 't', 0, sticky), (e: unknown) => e instanceof InvalidArgumentError);
});

s.run();
