/**
 * Drift between our API definitions and Kafka's: reads `common/message/<Name>{Request,Response}.json` from the
 * kafka-clients jar the harness fetched (so the check follows the Kafka version the suites run) and compares,
 * for every API we define: api key, valid and flexible versions, unstable latest version, and every field
 * (camelCased name, type, versions, nullableVersions, taggedVersions, tag, default, ignorable), with Kafka's
 * commonStructs resolved. Any difference is a failure that names the field.
 */
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from '../test/kit.js';
import { kafkaLibsDir } from './harness/index.js';
import { apis } from '../src/protocol/apis/index.js';
import type { ApiDef, FieldDef } from '../src/protocol/schema-types.js';

const s = suite('protocol definitions match kafka-clients JSON', { timeoutMs: 60_000 });

interface JsonField {
  name: string; type: string; versions: string; nullableVersions?: string; taggedVersions?: string; tag?: number;
  default?: string | number | boolean; ignorable?: boolean; fields?: JsonField[];
}
interface JsonMessage {
  apiKey: number; type: string; name: string; validVersions: string; flexibleVersions: string;
  latestVersionUnstable?: boolean; fields: JsonField[]; commonStructs?: Array<{ name: string; fields: JsonField[] }>;
}

let jar: string;
function readMessage(file: string): JsonMessage {
  const text = execFileSync('unzip', ['-p', jar, `common/message/${file}`]).toString('utf8');
  // Kafka's JSON files carry // comments (license header, version history).
  return JSON.parse(text.replace(/^\s*\/\/.*$/gm, '')) as JsonMessage;
}

const camel = (name: string): string => name[0]!.toLowerCase() + name.slice(1);

function kafkaDefault(f: JsonField): unknown {
  if (f.default === undefined) return undefined;
  const d = String(f.default);
  if (d === 'null') return null;
  if (f.type === 'int64') return BigInt(d);
  if (f.type === 'bool') return d === 'true';
  if (['int8', 'int16', 'uint16', 'int32', 'uint32', 'float64'].includes(f.type)) return Number(d);
  return d;
}

/** Differences between Kafka's fields and ours, as readable lines. */
function compareFields(path: string, theirs: JsonField[], ours: readonly FieldDef[], common: Map<string, JsonField[]>): string[] {
  const diffs: string[] = [];
  const names = (list: { name: string }[]): string[] => list.map((f) => f.name);
  const expectedNames = theirs.map((f) => camel(f.name));
  if (JSON.stringify(expectedNames) !== JSON.stringify(names([...ours]))) {
    diffs.push(`${path}: fields ${JSON.stringify(names([...ours]))} but Kafka has ${JSON.stringify(expectedNames)}`);
    return diffs;
  }
  theirs.forEach((t, i) => {
    const o = ours[i]!;
    const at = `${path}.${o.name}`;
    const check = (what: string, a: unknown, b: unknown): void => {
      if (a !== b) diffs.push(`${at}: ${what} is ${String(b)} but Kafka says ${String(a)}`);
    };
    check('type', t.type, o.type);
    check('versions', t.versions, o.versions);
    check('nullableVersions', t.nullableVersions, o.nullableVersions);
    check('taggedVersions', t.taggedVersions, o.taggedVersions);
    check('tag', t.tag, o.tag);
    check('default', kafkaDefault(t), o.default);
    check('ignorable', t.ignorable || undefined, o.ignorable || undefined);
    const sub = t.fields ?? common.get(t.type.replace('[]', ''));
    if (sub || o.fields) {
      if (!sub || !o.fields) diffs.push(`${at}: struct fields present on one side only`);
      else diffs.push(...compareFields(at, sub, o.fields, common));
    }
  });
  return diffs;
}

s.before(() => {
  const libs = kafkaLibsDir();
  const name = readdirSync(libs).find((f) => /^kafka-clients-[\d.]+\.jar$/.test(f));
  if (!name) throw new Error(`no kafka-clients jar in ${libs}`);
  jar = join(libs, name);
});

for (const api of Object.values(apis) as ApiDef[]) {
  s(`${api.name} matches ${api.name}Request.json and ${api.name}Response.json`, () => {
    for (const kind of ['request', 'response'] as const) {
      const json = readMessage(`${api.name}${kind === 'request' ? 'Request' : 'Response'}.json`);
      assert.is(json.type, kind);
      assert.is(json.apiKey, api.apiKey, `${api.name} ${kind} api key`);
      assert.is(json.validVersions, api.validVersions, `${api.name} ${kind} validVersions`);
      assert.is(json.flexibleVersions, api.flexibleVersions, `${api.name} ${kind} flexibleVersions`);
      if (kind === 'request') assert.is(json.latestVersionUnstable ?? false, api.latestVersionUnstable ?? false, `${api.name} latestVersionUnstable`);
      const common = new Map((json.commonStructs ?? []).map((c) => [c.name, c.fields]));
      assert.equal(compareFields(`${api.name}${kind === 'request' ? 'Request' : 'Response'}`, json.fields, api[kind].fields, common), []);
    }
  });
}

s.run();
