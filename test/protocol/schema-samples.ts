/**
 * Test helper (not a test): seeded random values for any message definition at any version, exercising every
 * field valid in that version (nulls where nullable, tagged fields at and off their defaults, empty and
 * multi-item arrays), plus the value a decoder must return (absent fields at their defaults, worked out here
 * independently of the compiler). Also a JSON form that Kafka's JsonConverter classes read.
 */
import type { FieldDef } from '../../src/protocol/schema-types.js';
import { inVersions } from '../../src/protocol/schema.js';
import { seededRandom } from '../../src/client/backoff.js';

/** The fixed-seed PRNG (mulberry32) shared with the library's backoff jitter. */
export const prng = seededRandom;

export interface SampleOptions {
  /** 'rich': non-default values and multi-item arrays; 'sparse': nulls, empties and defaults; 'mixed': random. */
  mode: 'rich' | 'sparse' | 'mixed';
}

type Rnd = () => number;
const int = (rnd: Rnd, lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
const STRINGS = ['topic-a', 'héllo wörld ✓', '', 'x'.repeat(200), '𝄞 clef', 'group.1'];

function primitive(type: string, rnd: Rnd): unknown {
  switch (type) {
    case 'int8': return int(rnd, -128, 127);
    case 'int16': return int(rnd, -32768, 32767);
    case 'uint16': return int(rnd, 0, 65535);
    case 'int32': return int(rnd, -2147483648, 2147483647);
    case 'uint32': return int(rnd, 0, 4294967295);
    case 'int64': return rnd() < 0.3 ? BigInt(int(rnd, -5, 5)) : BigInt.asIntN(64, (BigInt(int(rnd, 0, 2 ** 31)) << 33n) ^ BigInt(int(rnd, 0, 2 ** 31)));
    case 'float64': return rnd() < 0.5 ? int(rnd, -1000, 1000) / 8 : (rnd() - 0.5) * 1e12;
    case 'bool': return rnd() < 0.5;
    case 'string': return STRINGS[int(rnd, 0, STRINGS.length - 1)];
    case 'bytes':
    case 'records': return Buffer.from(Array.from({ length: int(rnd, 0, rnd() < 0.1 ? 300 : 12) }, () => int(rnd, 0, 255)));
    case 'uuid': return Buffer.from(Array.from({ length: 16 }, () => int(rnd, 0, 255))).toString('base64url');
    default: throw new Error(`no sample for ${type}`);
  }
}

/** The default of a field's value, from the definition alone (Kafka's rules: 0, '', empty, null for records). */
export function defaultOf(f: FieldDef): unknown {
  if (f.default !== undefined) return f.default;
  if (f.type.startsWith('[]')) return [];
  if (f.fields) return defaultStruct(f.fields);
  switch (f.type) {
    case 'int64': return 0n;
    case 'bool': return false;
    case 'string': return '';
    case 'bytes': return Buffer.alloc(0);
    case 'records': return null;
    case 'uuid': return 'AAAAAAAAAAAAAAAAAAAAAA';
    default: return 0;
  }
}

function defaultStruct(fields: readonly FieldDef[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) o[f.name] = defaultOf(f);
  return o;
}

function sampleField(f: FieldDef, version: number, rnd: Rnd, opts: SampleOptions, depth: number): unknown {
  const nullable = inVersions(f.nullableVersions, version);
  const sparse = opts.mode === 'sparse' || (opts.mode === 'mixed' && rnd() < 0.3);
  if (nullable && sparse && rnd() < 0.7) return null;
  if (f.tag !== undefined && sparse && rnd() < 0.5) return structuredDefault(f);
  const isArray = f.type.startsWith('[]');
  const element = isArray ? f.type.slice(2) : f.type;
  const one = (): unknown => (f.fields ? sampleStruct(f.fields, version, rnd, opts, depth + 1) : primitive(element, rnd));
  if (!isArray) return one();
  const n = sparse || depth > 3 ? int(rnd, 0, 1) : int(rnd, 2, 3);
  return Array.from({ length: n }, one);
}

function structuredDefault(f: FieldDef): unknown {
  return defaultOf(f);
}

/** A struct value with exactly the fields valid in `version`. */
export function sampleStruct(fields: readonly FieldDef[], version: number, rnd: Rnd, opts: SampleOptions, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) if (inVersions(f.versions, version)) o[f.name] = sampleField(f, version, rnd, opts, depth);
  return o;
}

/** What a decoder returns for `value`: fields absent in `version` at their defaults, recursively. */
export function expectedDecoded(fields: readonly FieldDef[], version: number, value: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) {
    if (!inVersions(f.versions, version)) {
      o[f.name] = defaultOf(f);
      continue;
    }
    const v = value[f.name];
    if (f.fields && v !== null && v !== undefined) {
      o[f.name] = Array.isArray(v)
        ? v.map((item) => expectedDecoded(f.fields!, version, item as Record<string, unknown>))
        : expectedDecoded(f.fields, version, v as Record<string, unknown>);
    } else o[f.name] = v;
  }
  return o;
}

/** JSON text Kafka's JsonConverter reads: int64 as exact JSON numbers, bytes as base64, UUIDs as Kafka text. */
export function toKafkaJson(value: unknown): string {
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const original = this[key];
    if (typeof original === 'bigint') return `__int64:${original}`;
    if (Buffer.isBuffer(original)) return original.toString('base64');
    return v;
  });
  return text.replace(/"__int64:(-?\d+)"/g, '$1');
}
