/**
 * Our key partitioning against Kafka's: `java/Partitioner.java` runs the kafka-clients jar's `Utils.murmur2` and
 * `BuiltInPartitioner.partitionForKey` over thousands of keys (random bytes of every tail size, and strings that
 * Java encodes as UTF-8 itself), and every hash and partition must match ours.
 */
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { suite } from '../test/kit.js';
import { kafkaLibsDir } from './harness/index.js';
import { repoRoot } from './harness/paths.js';
import { murmur2, partitionForKey } from '../src/client/partitioner.js';
import { seededRandom } from '../src/client/backoff.js';

const javaFile = join(repoRoot, 'integration', 'java', 'Partitioner.java');
const COUNTS = [1, 2, 3, 7, 12, 100, 1000, 2147483647];

const prng = seededRandom;

type Key = { bytes: Buffer } | { text: string };

function keys(): Key[] {
  const rnd = prng(0x4b61666b);
  const out: Key[] = [];
  // Every length 0..64 several times (all 0..3 tail sizes), then longer ones.
  for (let rep = 0; rep < 40; rep++) {
    for (let len = 0; len <= 64; len++) out.push({ bytes: Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256))) });
  }
  for (let i = 0; i < 200; i++) {
    const len = 65 + Math.floor(rnd() * 2000);
    out.push({ bytes: Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256))) });
  }
  // Strings: ASCII, Latin-1, CJK and astral (surrogate pairs), mixed, lengths 0..40 code points.
  const ranges: Array<[number, number]> = [[0x20, 0x7e], [0xa0, 0xff], [0x4e00, 0x9fff], [0x1f600, 0x1f64f], [0x0, 0x1f]];
  for (let i = 0; i < 1500; i++) {
    const len = Math.floor(rnd() * 41);
    let s = '';
    for (let j = 0; j < len; j++) {
      const [lo, hi] = ranges[Math.floor(rnd() * ranges.length)]!;
      s += String.fromCodePoint(lo + Math.floor(rnd() * (hi - lo + 1)));
    }
    out.push({ text: s });
  }
  out.push({ text: 'order-42' }, { text: '' });
  return out;
}

function utf16Hex(s: string): string {
  let h = '';
  for (let i = 0; i < s.length; i++) h += s.charCodeAt(i).toString(16).padStart(4, '0');
  return h;
}

const s = suite('partitioner-java', { timeoutMs: 120_000 });

s('murmur2 and partitionForKey match Kafka\'s Java producer for thousands of keys', () => {
  const list = keys();
  const input = list.map((k) => ('bytes' in k ? `b ${k.bytes.toString('hex')}` : `s ${utf16Hex(k.text)}`)).join('\n') + '\n';
  const out = execFileSync('java', ['-cp', join(kafkaLibsDir(), '*'), javaFile, ...COUNTS.map(String)],
    { input, encoding: 'utf8', timeout: 100_000, maxBuffer: 64 << 20 });
  const lines = out.trim().split('\n');
  assert.is(lines.length, list.length);
  let checked = 0;
  list.forEach((k, i) => {
    const [hash, ...parts] = lines[i]!.split('\t').map(Number);
    const bytes = 'bytes' in k ? k.bytes : Buffer.from(k.text, 'utf8');
    const label = 'bytes' in k ? `bytes ${k.bytes.toString('hex').slice(0, 40)}` : `string ${JSON.stringify(k.text)}`;
    assert.is(murmur2(bytes), hash, `murmur2 of ${label}`);
    COUNTS.forEach((n, j) => {
      const key = 'bytes' in k ? k.bytes : k.text;
      assert.is(partitionForKey(key, n), parts[j], `partition of ${label} among ${n}`);
      checked++;
    });
  });
  assert.ok(list.length > 4000, `${list.length} keys`);
  assert.is(checked, list.length * COUNTS.length);
});

s.run();
