/**
 * Request and response headers. Request header v1 = api key, api version, correlation id, nullable client id;
 * v2 (flexible versions, KIP-482) adds a tagged-field section. Response header v0 = correlation id; v1 adds a
 * tagged-field section. The ApiVersions response always uses header v0, even in flexible versions (KIP-511):
 * a client must be able to read it before it knows which versions the broker speaks.
 * (Request header v0, without client id, belonged to the ControlledShutdown v0 era and is not used.)
 */
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { isFlexible } from './schema.js';
import type { ApiDef, UnknownTaggedField } from './schema-types.js';

const API_VERSIONS_KEY = 18;

/** A request header as written on the wire. */
export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** Tagged fields of header v2 (none are defined for clients today). */
  _unknownTags?: UnknownTaggedField[];
}

/** A response header: the correlation id that pairs it with its request. */
export interface ResponseHeader {
  correlationId: number;
  _unknownTags?: UnknownTaggedField[];
}

/** Header versions for a request of `api` at `version`: [request header, response header]. */
export function headerVersions(api: ApiDef, version: number): [requestHeader: 1 | 2, responseHeader: 0 | 1] {
  const flexible = isFlexible(api, version);
  return [flexible ? 2 : 1, flexible && api.apiKey !== API_VERSIONS_KEY ? 1 : 0];
}

/** Writes a request header of version 1 or 2. */
export function writeRequestHeader(w: Writer, headerVersion: 1 | 2, h: RequestHeader): void {
  w.int16(h.apiKey).int16(h.apiVersion).int32(h.correlationId).nullableString(h.clientId);
  if (headerVersion >= 2) writeTags(w, h._unknownTags);
}

/** Reads a request header of version 1 or 2 (a fake broker in tests, or a proxy, needs this). */
export function readRequestHeader(r: Reader, headerVersion: 1 | 2): RequestHeader {
  const h: RequestHeader = { apiKey: r.int16(), apiVersion: r.int16(), correlationId: r.int32(), clientId: r.nullableString() };
  if (headerVersion >= 2) readTags(r, h);
  return h;
}

/** Writes a response header of version 0 or 1. */
export function writeResponseHeader(w: Writer, headerVersion: 0 | 1, h: ResponseHeader): void {
  w.int32(h.correlationId);
  if (headerVersion >= 1) writeTags(w, h._unknownTags);
}

/** Reads a response header of version 0 or 1. */
export function readResponseHeader(r: Reader, headerVersion: 0 | 1): ResponseHeader {
  const h: ResponseHeader = { correlationId: r.int32() };
  if (headerVersion >= 1) readTags(r, h);
  return h;
}

function writeTags(w: Writer, tags: UnknownTaggedField[] | undefined): void {
  if (!tags || tags.length === 0) {
    w.uvarint(0);
    return;
  }
  w.uvarint(tags.length);
  for (const t of [...tags].sort((a, b) => a.tag - b.tag)) w.uvarint(t.tag).uvarint(t.data.length).raw(t.data);
}

function readTags(r: Reader, h: { _unknownTags?: UnknownTaggedField[] }): void {
  r.taggedFields((tag, size, rr) => {
    (h._unknownTags ??= []).push({ tag, data: rr.view(size) });
    return true;
  });
}

/**
 * Writes a whole request frame: int32 size, header (v1 or v2 as the API version requires) and body. Returns a
 * view of the writer's bytes (valid until the writer is reused).
 */
export function writeRequestFrame<In>(
  w: Writer, api: ApiDef, codec: { version: number; encode(w: Writer, v: In): void },
  header: { correlationId: number; clientId: string | null }, body: In,
): Buffer {
  const start = w.offset;
  const size = w.reserveInt32();
  const [requestHeader] = headerVersions(api, codec.version);
  writeRequestHeader(w, requestHeader, { apiKey: api.apiKey, apiVersion: codec.version, ...header });
  codec.encode(w, body);
  w.patchSizeFrom(size);
  return w.buf.subarray(start, w.offset);
}

/** The correlation id of a response frame (without its size prefix): the first 4 bytes of every header version. */
export function peekCorrelationId(frame: Buffer): number {
  return new Reader(frame).int32();
}

/**
 * Reads a response frame (without its size prefix) for `api` at the version the request used: the header
 * (v0 or v1, see {@link headerVersions}) then the body. Trailing bytes are ignored, as Kafka's Java client does.
 */
export function readResponseFrame<Out>(frame: Buffer, api: ApiDef, codec: { version: number; decode(r: Reader): Out }): { header: ResponseHeader; body: Out } {
  const r = new Reader(frame);
  const header = readResponseHeader(r, headerVersions(api, codec.version)[1]);
  return { header, body: codec.decode(r) };
}
