/**
 * The schema compiler: turns a declarative definition (see schema-types.ts) plus a version into an encoder and
 * a decoder made of closures, cached per message and version. No `eval`/`new Function` (edge runtimes forbid
 * them). Rules, as in Kafka's generated Java code:
 * - flexible versions (KIP-482) use compact strings/bytes/arrays and end every struct with a tagged-field section;
 * - a field outside its versions is not written, and reads back as its default;
 * - a tagged field is written only when it differs from its default; unknown tags are kept in `_unknownTags`
 *   and re-emitted in tag order;
 * - a nullable struct is preceded by an int8 marker (-1 null, 1 present);
 * - a struct that is absent (outside its versions, or a tagged field not sent) decodes as one shared, frozen
 *   default object: Fetch partitions carry three such structs, and allocating them per partition costs ~25%.
 * Decoders check every count against the bytes left (see Reader), so hostile input fails with DecodeError.
 */
import { DecodeError, InvalidArgumentError } from '../errors.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { sizeOfUnsignedVarint } from './varint.js';
import type { ApiDef, DecodedRequestOf, FieldDef, MessageDef, RequestOf, ResponseInputOf, ResponseOf, UnknownTaggedField, VersionRange } from './schema-types.js';

export * from './schema-types.js';

/** Parses Kafka's version range text into [lowest, highest] (highest is Infinity for `N+`); `none` is empty. */
export function parseVersions(range: VersionRange): [number, number] {
  if (range === 'none') return [1, 0];
  const plus = /^(\d+)\+$/.exec(range);
  if (plus) return [Number(plus[1]), Infinity];
  const span = /^(\d+)(?:-(\d+))?$/.exec(range);
  if (!span) throw new InvalidArgumentError(`invalid version range ${JSON.stringify(range)}`);
  return [Number(span[1]), Number(span[2] ?? span[1])];
}

/** Whether `version` is inside a version range (undefined means none). */
export function inVersions(range: VersionRange | undefined, version: number): boolean {
  if (range === undefined) return false;
  const [lo, hi] = parseVersions(range);
  return version >= lo && version <= hi;
}

/** A compiled codec for one value type at one version. */
interface Codec {
  encode(w: Writer, v: unknown): void;
  decode(r: Reader): unknown;
  /** Fresh default value (a new object/array each time, so results never share state). */
  defaultValue(): unknown;
  isDefault(v: unknown): boolean;
  /** Fewest bytes one encoded value takes: bounds array counts before looping. */
  minSize: number;
}

/** The encoder and decoder of one message at one version. */
export interface MessageCodec<In = unknown, Out = unknown> {
  readonly version: number;
  readonly flexible: boolean;
  encode(w: Writer, value: In): void;
  decode(r: Reader): Out;
}

// A plain empty view where the runtime has no Buffer: the package still loads there (clients refuse to start).
const EMPTY = (typeof Buffer === 'function' ? Buffer.alloc(0) : new Uint8Array(0)) as Buffer;
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

type Prim = Omit<Codec, 'defaultValue' | 'isDefault'> & { zero: unknown };

function fixed(size: number, read: (r: Reader) => unknown, write: (w: Writer, v: never) => void, zero: unknown): Prim {
  return { encode: write as (w: Writer, v: unknown) => void, decode: read, minSize: size, zero };
}

const PRIMITIVES: Record<string, Prim> = {
  int8: fixed(1, (r) => r.int8(), (w, v: number) => w.int8(v), 0),
  int16: fixed(2, (r) => r.int16(), (w, v: number) => w.int16(v), 0),
  uint16: fixed(2, (r) => r.uint16(), (w, v: number) => w.uint16(v), 0),
  int32: fixed(4, (r) => r.int32(), (w, v: number) => w.int32(v), 0),
  uint32: fixed(4, (r) => r.uint32(), (w, v: number) => w.uint32(v), 0),
  int64: fixed(8, (r) => r.int64(), (w, v: bigint) => w.int64(v), 0n),
  float64: fixed(8, (r) => r.float64(), (w, v: number) => w.float64(v), 0),
  bool: fixed(1, (r) => r.bool(), (w, v: boolean) => w.bool(v), false),
  uuid: fixed(16, (r) => r.uuid(), (w, v: string) => w.uuid(v), ZERO_UUID),
};

/** Strings, bytes and records: classic or compact, nullable or not. */
function variable(field: FieldDef, type: string, flexible: boolean, nullable: boolean): Prim {
  const zero = type === 'string' ? '' : type === 'records' ? null : EMPTY;
  const notNull = (v: unknown): void => {
    if (v === null || v === undefined) throw new InvalidArgumentError(`field ${field.name} is not nullable in this version`);
  };
  if (type === 'string') {
    if (flexible) return nullable ? fixed(1, (r) => r.compactNullableString(), (w, v: string | null) => w.compactNullableString(v), zero)
      : fixed(1, (r) => r.compactString(), (w, v: string) => (notNull(v), w.compactString(v)), zero);
    return nullable ? fixed(2, (r) => r.nullableString(), (w, v: string | null) => w.nullableString(v), zero)
      : fixed(2, (r) => r.string(), (w, v: string) => (notNull(v), w.string(v)), zero);
  }
  if (type === 'records') {
    // Record batches are referenced, not copied, so a Produce request reaches the socket as a vectored write.
    const encodeRecords = (w: Writer, v: Buffer | null): void => {
      if (v === null || v === undefined) {
        if (!nullable) notNull(v);
        if (flexible) w.uvarint(0);
        else w.int32(-1);
        return;
      }
      if (flexible) w.uvarint(v.length + 1);
      else w.int32(v.length);
      w.ref(v);
    };
    const decodeRecords = flexible
      ? (nullable ? (r: Reader) => r.compactNullableBytes() : (r: Reader) => r.compactBytes())
      : (nullable ? (r: Reader) => r.nullableBytes() : (r: Reader) => r.bytes());
    return fixed(flexible ? 1 : 4, decodeRecords, encodeRecords, zero);
  }
  if (flexible) return nullable ? fixed(1, (r) => r.compactNullableBytes(), (w, v: Buffer | null) => w.compactNullableBytes(v), zero)
    : fixed(1, (r) => r.compactBytes(), (w, v: Buffer) => (notNull(v), w.compactBytes(v)), zero);
  return nullable ? fixed(4, (r) => r.nullableBytes(), (w, v: Buffer | null) => w.nullableBytes(v), zero)
    : fixed(4, (r) => r.bytes(), (w, v: Buffer) => (notNull(v), w.bytes(v)), zero);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return false;
}

/** Compiles the codec of a field's value (ignoring whether the field itself is tagged). */
function valueCodec(field: FieldDef, version: number, flexible: boolean): Codec {
  const nullable = inVersions(field.nullableVersions, version);
  const isArray = field.type.startsWith('[]');
  const elementType = isArray ? field.type.slice(2) : field.type;
  let element: Codec;
  if (field.fields) element = structCodec(field.fields, version, flexible);
  else {
    const p = PRIMITIVES[elementType] ?? (['string', 'bytes', 'records'].includes(elementType) ? variable(field, elementType, flexible, nullable && !isArray) : undefined);
    if (!p) throw new InvalidArgumentError(`field ${field.name}: unknown type ${field.type}`);
    const zero = field.default !== undefined && !isArray ? field.default : p.zero;
    element = { ...p, defaultValue: () => (zero === EMPTY ? EMPTY : zero), isDefault: (v) => sameValue(v, zero) };
  }
  if (isArray) return arrayCodec(field, element, flexible, nullable);
  if (field.fields) return nullable ? nullableStruct(field, element) : element;
  return element;
}

function arrayCodec(field: FieldDef, element: Codec, flexible: boolean, nullable: boolean): Codec {
  const defaultNull = field.default === null;
  const { encode: encodeItem, decode: decodeItem, minSize } = element;
  return {
    minSize: flexible ? 1 : 4,
    defaultValue: () => (defaultNull ? null : []),
    isDefault: (v) => (defaultNull ? v === null : Array.isArray(v) && v.length === 0),
    encode(w, v) {
      if (v === null || v === undefined) {
        if (!nullable) throw new InvalidArgumentError(`field ${field.name} is not nullable in this version`);
        if (flexible) w.uvarint(0);
        else w.int32(-1);
        return;
      }
      const items = v as readonly unknown[];
      if (flexible) w.uvarint(items.length + 1);
      else w.int32(items.length);
      for (let i = 0; i < items.length; i++) encodeItem(w, items[i]);
    },
    decode(r) {
      const n = flexible ? r.compactArrayLength(minSize) : r.arrayLength(minSize);
      if (n < 0) {
        if (!nullable) throw r.error(`null array for non-nullable field ${field.name}`);
        return null;
      }
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = decodeItem(r);
      return out;
    },
  };
}

function nullableStruct(field: FieldDef, struct: Codec): Codec {
  const defaultNull = field.default === null;
  return {
    minSize: 1,
    defaultValue: () => (defaultNull ? null : struct.defaultValue()),
    isDefault: (v) => (defaultNull ? v === null : v !== null && struct.isDefault(v)),
    encode(w, v) {
      if (v === null || v === undefined) {
        w.int8(-1);
        return;
      }
      w.int8(1);
      struct.encode(w, v);
    },
    decode: (r) => (r.int8() < 0 ? null : struct.decode(r)),
  };
}

/** A field prepared for one version. */
interface Slot {
  name: string;
  codec: Codec;
  present: boolean;
  tag: number; // -1 when not tagged in this version
}

function slotsFor(fields: readonly FieldDef[], version: number, flexible: boolean): Slot[] {
  return fields.map((f) => {
    const present = inVersions(f.versions, version);
    const tagged = present && flexible && f.tag !== undefined && inVersions(f.taggedVersions, version);
    // Outside its versions a field still needs a default, built from its latest shape.
    const codecVersion = present ? version : Math.max(parseVersions(f.versions)[0], 0);
    return { name: f.name, codec: valueCodec(f, codecVersion, present ? flexible : false), present, tag: tagged ? f.tag! : -1 };
  });
}

function structCodec(fields: readonly FieldDef[], version: number, flexible: boolean): Codec {
  const slots = slotsFor(fields, version, flexible);
  const regular = slots.filter((s) => s.present && s.tag < 0);
  const tagged = slots.filter((s) => s.tag >= 0).sort((a, b) => a.tag - b.tag);
  const minSize = regular.reduce((n, s) => n + s.codec.minSize, flexible ? 1 : 0);
  let shared: Record<string, unknown> | undefined;
  // Absent structs (e.g. Fetch's untagged CurrentLeader) share one frozen default: no allocation per decode.
  const defaultValue = (): Record<string, unknown> => {
    if (shared) return shared;
    const o: Record<string, unknown> = {};
    for (const s of slots) o[s.name] = s.codec.defaultValue();
    return (shared = Object.freeze(o));
  };
  const isDefault = (v: unknown): boolean => {
    const o = v as Record<string, unknown>;
    for (const s of slots) if (s.present && o[s.name] !== undefined && !s.codec.isDefault(o[s.name])) return false;
    return !(o._unknownTags as unknown[] | undefined)?.length;
  };
  return {
    minSize,
    defaultValue,
    isDefault,
    encode(w, v) {
      if (v === null || typeof v !== 'object') throw new InvalidArgumentError(`expected a struct with fields ${fields.map((f) => f.name).join(', ')}, got ${String(v)}`);
      const o = v as Record<string, unknown>;
      for (let i = 0; i < regular.length; i++) {
        const s = regular[i]!;
        const value = o[s.name];
        s.codec.encode(w, value === undefined ? s.codec.defaultValue() : value);
      }
      if (flexible) writeTaggedSection(w, tagged, o);
    },
    decode(r) {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i]!;
        o[s.name] = s.present && s.tag < 0 ? s.codec.decode(r) : s.codec.defaultValue();
      }
      if (flexible) readTaggedSection(r, tagged, o);
      return o;
    },
  };
}

/** Writes the KIP-482 tagged-field section: known non-default fields and unknown ones, in tag order. */
function writeTaggedSection(w: Writer, tagged: Slot[], o: Record<string, unknown>): void {
  const unknown = o._unknownTags as UnknownTaggedField[] | undefined;
  let count = unknown ? unknown.length : 0;
  for (let i = 0; i < tagged.length; i++) {
    const v = o[tagged[i]!.name];
    if (v !== undefined && !tagged[i]!.codec.isDefault(v)) count++;
  }
  w.uvarint(count);
  if (count === 0) return;
  let u = 0;
  const sortedUnknown = unknown && unknown.length > 1 ? [...unknown].sort((a, b) => a.tag - b.tag) : unknown;
  for (let i = 0; i < tagged.length; i++) {
    const s = tagged[i]!;
    while (sortedUnknown && u < sortedUnknown.length && sortedUnknown[u]!.tag < s.tag) writeRawTag(w, sortedUnknown[u++]!);
    const v = o[s.name];
    if (v === undefined || s.codec.isDefault(v)) continue;
    w.uvarint(s.tag);
    writeSized(w, s.codec, v);
  }
  while (sortedUnknown && u < sortedUnknown.length) writeRawTag(w, sortedUnknown[u++]!);
}

function writeRawTag(w: Writer, t: UnknownTaggedField): void {
  w.uvarint(t.tag).uvarint(t.data.length).raw(t.data);
}

/** Writes `uvarint(size) value` without a temporary buffer: guess a 1-byte size, shift the bytes if longer. */
function writeSized(w: Writer, codec: Codec, v: unknown): void {
  const at = w.offset;
  w.uint8(0);
  codec.encode(w, v);
  const size = w.sizeFrom(at) - 1;
  const extra = sizeOfUnsignedVarint(size) - 1;
  if (extra > 0) w.widen(at + 1, extra);
  const end = w.offset;
  w.offset = at;
  w.uvarint(size);
  w.offset = end;
}

function readTaggedSection(r: Reader, tagged: Slot[], o: Record<string, unknown>): void {
  const count = r.uvarint();
  if (count > r.remaining()) throw r.error(`${count} tagged fields cannot fit`);
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    const size = r.uvarint();
    r.need(size);
    const stop = r.offset + size;
    let slot: Slot | undefined;
    for (let j = 0; j < tagged.length; j++) if (tagged[j]!.tag === tag) slot = tagged[j];
    if (slot) {
      const sub = new Reader(r.buf, r.offset, stop);
      o[slot.name] = slot.codec.decode(sub);
      if (sub.offset !== stop) throw new DecodeError(`tagged field ${tag} (${slot.name}) used ${sub.offset - r.offset} of ${size} bytes`, sub.offset);
    } else {
      ((o._unknownTags ??= []) as UnknownTaggedField[]).push({ tag, data: r.buf.subarray(r.offset, stop) });
    }
    r.offset = stop;
  }
}

const cache = new WeakMap<MessageDef, Map<number, MessageCodec>>();

/** The (cached) codec of a message at a version; `flexible` comes from the API's flexibleVersions. */
export function messageCodec(message: MessageDef, version: number, flexible: boolean): MessageCodec {
  let byVersion = cache.get(message);
  if (!byVersion) cache.set(message, (byVersion = new Map()));
  let codec = byVersion.get(version);
  if (!codec) {
    const struct = structCodec(message.fields, version, flexible);
    codec = { version, flexible, encode: struct.encode, decode: struct.decode };
    byVersion.set(version, codec);
  }
  return codec;
}

function checkVersion(api: ApiDef, version: number): boolean {
  if (!Number.isInteger(version) || !inVersions(api.validVersions, version)) {
    throw new InvalidArgumentError(`${api.name} has no version ${version} (valid: ${api.validVersions})`);
  }
  return inVersions(api.flexibleVersions, version);
}

/** The request codec of `api` at `version`, typed from the definition. */
export function requestCodec<D extends ApiDef>(api: D, version: number): MessageCodec<RequestOf<D>, DecodedRequestOf<D>> {
  return messageCodec(api.request, version, checkVersion(api, version)) as never;
}

/** The response codec of `api` at `version`, typed from the definition. */
export function responseCodec<D extends ApiDef>(api: D, version: number): MessageCodec<ResponseInputOf<D>, ResponseOf<D>> {
  return messageCodec(api.response, version, checkVersion(api, version)) as never;
}

/** Whether `version` of `api` is flexible (KIP-482: compact encodings, tagged fields, header v2/v1). */
export function isFlexible(api: ApiDef, version: number): boolean {
  return inVersions(api.flexibleVersions, version);
}
