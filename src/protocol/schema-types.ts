/**
 * The schema DSL: one declarative definition per Kafka API that mirrors Kafka's own JSON message definitions
 * (`clients/src/main/resources/common/message/*.json`): api key, valid and flexible versions (KIP-482), and the
 * request and response fields with their version ranges, nullability and tags. Names are camelCase; version
 * ranges keep Kafka's text form (`"0+"`, `"3-5"`, `"none"`) so a definition reads like its JSON and the drift
 * test can compare them field by field. Shared structs (Kafka's `commonStructs`) are plain constants reused by
 * reference. TypeScript types of requests and responses are inferred from a definition, never written by hand.
 */

/** Kafka's version range text: `"0+"`, `"3-5"`, `"7"` or `"none"`. */
export type VersionRange = string;

/** Primitive field types and their TypeScript values. UUIDs are Kafka's 22-character base64url text. */
export interface PrimitiveTypes {
  int8: number;
  int16: number;
  uint16: number;
  int32: number;
  uint32: number;
  int64: bigint;
  float64: number;
  bool: boolean;
  string: string;
  bytes: Buffer;
  /** Record batches stay raw: a view of the frame, decoded by record-batch.ts. */
  records: Buffer;
  uuid: string;
}
export type PrimitiveName = keyof PrimitiveTypes;

/** One field, as in Kafka's JSON. `type` is a primitive, `[]primitive`, `[]StructName` or `StructName`. */
export interface FieldDef {
  readonly name: string;
  readonly type: string;
  readonly versions: VersionRange;
  readonly nullableVersions?: VersionRange;
  readonly taggedVersions?: VersionRange;
  readonly tag?: number;
  /** Value used when the field is absent (outside its versions, or an untagged default); TS value, not text. */
  readonly default?: number | bigint | boolean | string | null;
  readonly ignorable?: boolean;
  /** Struct fields (for struct and struct-array types). */
  readonly fields?: readonly FieldDef[];
}

/** One message (request or response body). */
export interface MessageDef {
  readonly fields: readonly FieldDef[];
}

/** One API: its key, versions, and both messages. */
export interface ApiDef {
  readonly apiKey: number;
  /** Kafka's API name without the Request/Response suffix, e.g. `Metadata`. */
  readonly name: string;
  readonly validVersions: VersionRange;
  readonly flexibleVersions: VersionRange;
  /** The highest valid version is still unstable in Kafka (not advertised unless enabled): never chosen by default. */
  readonly latestVersionUnstable?: boolean;
  readonly request: MessageDef;
  readonly response: MessageDef;
}

/** A tagged field this library does not know, kept so it can be re-emitted byte for byte (KIP-482). */
export interface UnknownTaggedField {
  tag: number;
  data: Buffer;
}

/** Present on a decoded struct only when it carried unknown tagged fields. */
export interface WithUnknownTags {
  _unknownTags?: UnknownTaggedField[];
}

type Nullable<F, V> = F extends { nullableVersions: string } ? V | null : V;

type DecodedValue<F> = F extends { fields: infer S extends readonly FieldDef[] }
  ? F extends { type: `[]${string}` } ? Decoded<S>[] : Decoded<S>
  : F extends { type: `[]${infer E extends PrimitiveName}` } ? PrimitiveTypes[E][]
  : F extends { type: infer P extends PrimitiveName } ? PrimitiveTypes[P]
  : unknown;

type EncodableValue<F> = F extends { fields: infer S extends readonly FieldDef[] }
  ? F extends { type: `[]${string}` } ? readonly Encodable<S>[] : Encodable<S>
  : F extends { type: `[]${infer E extends PrimitiveName}` } ? readonly PrimitiveTypes[E][]
  : F extends { type: infer P extends PrimitiveName } ? PrimitiveTypes[P]
  : unknown;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** What a decoder returns: every field present (absent ones take their defaults). */
export type Decoded<S extends readonly FieldDef[]> = Simplify<
  { [F in S[number] as F['name']]: Nullable<F, DecodedValue<F>> } & WithUnknownTags
>;

/** A field the caller must give: in every version, no default, not tagged. Others may be omitted. */
type RequiredField<F> = F extends { versions: '0+' } ? F extends { default: unknown } | { tag: number } ? never : F : never;

/** What an encoder accepts: fields outside a version, tagged or defaulted may be omitted. */
export type Encodable<S extends readonly FieldDef[]> = Simplify<
  { [F in S[number] as F extends RequiredField<F> ? F['name'] : never]: Nullable<F, EncodableValue<F>> } &
  { [F in S[number] as F extends RequiredField<F> ? never : F['name']]?: Nullable<F, EncodableValue<F>> } &
  WithUnknownTags
>;

/** The request a client builds for API `D`. */
export type RequestOf<D extends ApiDef> = Encodable<D['request']['fields']>;
/** The response a client receives for API `D`. */
export type ResponseOf<D extends ApiDef> = Decoded<D['response']['fields']>;
/** A request as decoded (e.g. by a fake broker in tests). */
export type DecodedRequestOf<D extends ApiDef> = Decoded<D['request']['fields']>;
/** A response as given to an encoder (e.g. by a fake broker in tests). */
export type ResponseInputOf<D extends ApiDef> = Encodable<D['response']['fields']>;

/** Declares an API; the `const` type parameter keeps literal types so requests and responses can be inferred. */
export function defineApi<const D extends ApiDef>(def: D): D {
  return def;
}

/** Declares a struct's field list shared between messages (Kafka's `commonStructs`), keeping literal types. */
export function defineFields<const F extends readonly FieldDef[]>(fields: F): F {
  return fields;
}
