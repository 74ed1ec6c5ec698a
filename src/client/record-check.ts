/**
 * The one shape check of a record before it is queued for produce: the boundary between what a caller hands
 * over and what the accumulator and the RecordBatch encoder may assume. Used by the engine (`ProducerEngine.send`)
 * and by the channel Producer (`send` and the loop that drains `output`), so a bad record is refused where it
 * enters, with a message naming the field and the fix, and never reaches a timer or the encoder.
 *
 * Cheap on the hot path: a handful of `typeof` tests per record, no allocation unless a record is refused.
 */

/** Largest partition index Kafka can have (an int32). */
export const MAX_PARTITION = 2 ** 31 - 1;
/** Timestamps are ms since the epoch: 0 … 2^53-1 (a JavaScript number holds no larger integer exactly). */
export const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER;

/** Options of {@link recordProblem}. */
export interface RecordCheckOptions {
  /** The channel API's messages must say `value` (null for a tombstone); the engine's records may leave it out. */
  valueRequired?: boolean;
  /** The engine checks each record's `topic` when the send call names none. */
  topicRequired?: boolean;
}

/**
 * What is wrong with `record` as a record to produce, or undefined when it is fine. Reading a field that throws (a
 * hostile getter or proxy) is reported as a problem too; this function never throws.
 */
export function recordProblem(record: unknown, options: RecordCheckOptions = {}): string | undefined {
  try {
    return check(record, options);
  } catch (err) {
    return `the message could not be read: ${err instanceof Error ? err.message : 'a field threw'}`;
  }
}

function check(record: unknown, options: RecordCheckOptions): string | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record) || record instanceof Uint8Array) {
    return `a message must be an object such as { value: 'text', key: 'k' }, got ${describeValue(record)}`;
  }
  const r = record as Record<string, unknown>;
  const value = r.value;
  if (value === undefined && options.valueRequired) return 'value is missing: give a string, Buffer or Uint8Array (null for a tombstone)';
  let p = dataProblem('value', value, 'use String(v) for text, or sendJSON() to send an object as JSON');
  if (p !== undefined) return p;
  p = dataProblem('key', r.key, 'use String(k) for a number key');
  if (p !== undefined) return p;
  if (r.headers !== undefined) {
    p = headersProblem(r.headers);
    if (p !== undefined) return p;
  }
  const partition = r.partition;
  if (partition !== undefined && partition !== null && !(Number.isInteger(partition) && (partition as number) >= 0 && (partition as number) <= MAX_PARTITION)) {
    return `partition must be an integer from 0 to ${MAX_PARTITION} (or left out), got ${describeValue(partition)}`;
  }
  const ts = r.timestamp;
  if (ts !== undefined && ts !== null && !(Number.isSafeInteger(ts) && (ts as number) >= 0)) {
    return `timestamp must be an integer number of ms since the epoch, 0 to ${MAX_TIMESTAMP} (e.g. Date.now() or date.getTime()), got ${describeValue(ts)}`;
  }
  if (options.topicRequired && (typeof r.topic !== 'string' || r.topic.length === 0)) return `a record needs a topic (a non-empty string), got ${describeValue(r.topic)}`;
  return undefined;
}

function dataProblem(field: string, v: unknown, fix: string): string | undefined {
  if (v === undefined || v === null || typeof v === 'string' || v instanceof Uint8Array) return undefined;
  return `${field} must be a string, Buffer or Uint8Array (or null), got ${describeValue(v)}: ${fix}`;
}

function headersProblem(headers: unknown): string | undefined {
  if (!Array.isArray(headers)) {
    return `headers must be an array of { key: string, value: string | Buffer | Uint8Array | null }, got ${describeValue(headers)}`;
  }
  for (let i = 0; i < headers.length; i++) {
    const h: unknown = headers[i];
    if (typeof h !== 'object' || h === null) return `headers[${i}] must be an object { key, value }, got ${describeValue(h)}`;
    const { key, value } = h as Record<string, unknown>;
    if (typeof key !== 'string') return `headers[${i}].key must be a string, got ${describeValue(key)}: use String(k)`;
    const p = dataProblem(`headers[${i}].value`, value, 'use String(v) for a number');
    if (p !== undefined) return p;
  }
  return undefined;
}

/** A short, safe description of a value for an error message (never calls the value's own methods). */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'string': return v.length > 40 ? `string ${JSON.stringify(v.slice(0, 40))}…` : `string ${JSON.stringify(v)}`;
    case 'number': case 'boolean': return `${typeof v} ${String(v)}`;
    case 'bigint': return `bigint ${String(v)}n`;
    case 'undefined': return 'undefined';
    case 'symbol': return 'a symbol';
    case 'function': return 'a function';
    default:
      if (v === null) return 'null';
      if (Array.isArray(v)) return 'an array';
      return 'an object';
  }
}
