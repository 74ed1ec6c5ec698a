/**
 * Golden bytes from Kafka's own generated message classes: for every API × version × request/response, a set of
 * seeded values goes through `<Api><Kind>DataJsonConverter.read` + `Message.write` in one Java process
 * (java/MessageCodec.java); our encoder must produce the same bytes, and our decoder must read Java's bytes back
 * to the same value. Java also decodes its own bytes back (a check that the case was meaningful).
 */
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { suite } from '../test/kit.js';
import { kafkaLibsDir } from './harness/index.js';
import { repoRoot } from './harness/paths.js';
import { apis } from '../src/protocol/apis/index.js';
import { inVersions, messageCodec, parseVersions } from '../src/protocol/schema.js';
import type { ApiDef } from '../src/protocol/schema-types.js';
import { Reader } from '../src/protocol/reader.js';
import { Writer } from '../src/protocol/writer.js';
import { expectedDecoded, prng, sampleStruct, toKafkaJson, type SampleOptions } from '../test/protocol/schema-samples.js';

const s = suite('protocol golden bytes from Kafka Java classes', { timeoutMs: 180_000 });
const MODES: SampleOptions['mode'][] = ['rich', 'sparse', 'mixed', 'mixed'];

interface Case { id: number; api: ApiDef; kind: 'request' | 'response'; version: number; value: Record<string, unknown>; ours: Buffer }
interface JavaResult { id: number; hex?: string; error?: string }

function buildCases(): Case[] {
  const cases: Case[] = [];
  for (const api of Object.values(apis) as ApiDef[]) {
    const [lo, hi] = parseVersions(api.validVersions);
    for (let version = lo; version <= hi; version++) {
      const flexible = inVersions(api.flexibleVersions, version);
      for (const kind of ['request', 'response'] as const) {
        MODES.forEach((mode, i) => {
          const value = sampleStruct(api[kind].fields, version, prng(0x6a617661 ^ (api.apiKey * 4099 + version * 31 + i)), { mode });
          const w = new Writer(64);
          messageCodec(api[kind], version, flexible).encode(w, value);
          cases.push({ id: cases.length, api, kind, version, value, ours: Buffer.from(w.finish()) });
        });
      }
    }
  }
  return cases;
}

const cases = buildCases();
let results: Map<number, JavaResult>;

s.before(() => {
  const input = cases.map((c) => `{"id":${c.id},"api":"${c.api.name}","kind":"${c.kind}","version":${c.version},"json":${toKafkaJson(c.value)}}`).join('\n');
  const out = execFileSync('java', ['-cp', join(kafkaLibsDir(), '*'), join(repoRoot, 'integration', 'java', 'MessageCodec.java')],
    { input, maxBuffer: 256 * 1024 * 1024, timeout: 170_000 }).toString('utf8');
  results = new Map(out.trim().split('\n').map((line) => JSON.parse(line) as JavaResult).map((r) => [r.id, r]));
});

s('Java answered every case', () => {
  assert.is(results.size, cases.length);
  const errors = [...results.values()].filter((r) => r.error).map((r) => `${describe(cases[r.id]!)}: ${r.error}`);
  assert.equal(errors.slice(0, 20), [], `${errors.length} Java errors`);
});

function describe(c: Case): string {
  return `${c.api.name} v${c.version} ${c.kind} #${c.id}`;
}

for (const api of Object.values(apis) as ApiDef[]) {
  s(`${api.name}: our bytes equal Java's, and we decode Java's bytes, every version`, () => {
    const mine = cases.filter((c) => c.api === api);
    assert.ok(mine.length >= 8);
    for (const c of mine) {
      const java = results.get(c.id);
      assert.ok(java?.hex !== undefined, `${describe(c)}: ${java?.error}`);
      assert.is(c.ours.toString('hex'), java.hex, `${describe(c)}: encoded bytes`);
      const r = new Reader(Buffer.from(java.hex, 'hex'));
      const decoded = messageCodec(api[c.kind], c.version, inVersions(api.flexibleVersions, c.version)).decode(r);
      assert.is(r.remaining(), 0);
      assert.equal(decoded, expectedDecoded(api[c.kind].fields, c.version, c.value), `${describe(c)}: decoded value`);
    }
  });
}

s.run();
