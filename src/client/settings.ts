/**
 * The one table of the client's settings that the engine layer uses: per setting its default, its range and a line
 * of doc. The channel config (src/channels/config.ts) takes its producer and shared client settings from here
 * (names, defaults, ranges), and the produce engine fills in and checks its options from the same rows, so a
 * setting has one owner. Ranges keep every value usable: a timer within Node's 2^31-1 ms (a larger delay becomes
 * 1 ms), a size sent as an int32 within int32, a memory bound or capacity below a sane maximum.
 */
import { Compression, type CompressionName } from '../protocol/compression/index.js';
import { describeValue } from './record-check.js';

/** Node's longest timer: a larger delay (or a non-number) is turned into 1 ms with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** Largest value of a Kafka int32 field. */
export const INT32_MAX = 2 ** 31 - 1;
/** Smallest positive duration, for settings that must be above zero but may be fractional. */
export const POSITIVE = Number.MIN_VALUE;

/** A numeric setting's range: `min` … `max`, whole numbers only when `integer`. */
export interface NumberRange {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/** One row of a settings table. */
export interface Setting<T> {
  readonly default: T;
  readonly doc: string;
  /** For numbers. */
  readonly range?: NumberRange;
  /** For enumerations: every accepted value. */
  readonly values?: readonly T[];
}

/** A duration in ms from `min` to {@link MAX_TIMER_MS}. */
export const timer = (min: number): NumberRange => ({ min, max: MAX_TIMER_MS, integer: false });
/** A whole number from `min` to `max`. */
export const int = (min: number, max: number): NumberRange => ({ min, max, integer: true });

/** Compression codec names, in codec-id order (from the protocol's one list of codecs). */
export const COMPRESSION_NAMES = Object.keys(Compression) as readonly CompressionName[];

/** Settings every client has (producer and consumer group alike). Durations in ms. */
export const CLIENT_SETTINGS = {
  requestTimeoutMs: { default: 30_000, range: timer(POSITIVE), doc: 'how long a request may wait for its response (Sarama\'s and Java\'s 30 s)' },
  connectTimeoutMs: { default: 30_000, range: timer(POSITIVE), doc: 'how long opening a connection (TCP, TLS, SASL) may take' },
  retryBackoffMs: { default: 100, range: timer(1), doc: 'first pause before retrying a failed request (Sarama\'s 100 ms)' },
  metadataMaxAgeMs: { default: 300_000, range: timer(POSITIVE), doc: 'refresh topic metadata at least this often (Java\'s 5 min)' },
} as const satisfies Record<string, Setting<number>>;

/**
 * The produce engine's settings (Kafka's producer configs under our names). The channel Producer exposes all but
 * `maxBufferedBytes`, `maxInFlight` and `retryBackoffMaxMs`, which keep their defaults there.
 */
export const PRODUCER_SETTINGS = {
  acks: { default: -1 as 0 | 1 | -1, values: [0, 1, -1] as const, doc: '0 (no response), 1 (leader) or -1 (all in-sync replicas: Java\'s default since 3.0, KIP-679)' },
  idempotent: { default: true, values: [true, false], doc: 'idempotent produce (KIP-98); needs acks -1' },
  compression: { default: 'none' as CompressionName, values: COMPRESSION_NAMES, doc: 'record batch compression' },
  lingerMs: { default: 5, range: timer(0), doc: 'how long a batch may wait for more records (Java\'s 5 ms since 4.0, KIP-1030)' },
  batchBytes: { default: 16_384, range: int(1, 256 * 1024 * 1024), doc: 'target size of one partition\'s record batch (Java batch.size)' },
  maxMessageBytes: { default: 1_000_000, range: int(1, 1024 * 1024 * 1024), doc: 'largest Produce request / record (Sarama MaxMessageBytes, Java max.request.size)' },
  maxBufferedBytes: { default: 32 * 1024 * 1024, range: int(1, 16 * 1024 * 1024 * 1024), doc: 'bytes accepted and not yet written: the engine\'s memory bound (Java buffer.memory)' },
  maxInFlight: { default: 5, range: int(1, 100), doc: 'Produce requests in flight per broker (at most 5 with idempotence)' },
  deliveryTimeoutMs: { default: 120_000, range: timer(POSITIVE), doc: 'a record not written by then fails (Java delivery.timeout.ms, KIP-91)' },
  retryBackoffMaxMs: { default: 1_000, range: timer(1), doc: 'longest pause between retries of a batch (KIP-580)' },
  transactionalId: { default: undefined as string | undefined, maxBytes: 32_767, doc: 'a stable id per producer instance turns transactions on (KIP-98; Java transactional.id); implies idempotence and acks -1' },
  transactionTimeoutMs: { default: 60_000, range: int(1, INT32_MAX), doc: 'the coordinator aborts a transaction left open this long; also bounds each begin/commit/abort wait (Java transaction.timeout.ms)' },
} as const;

/** Collects one line per problem, each naming the setting. */
export type ProblemSink = (problem: string) => void;

/**
 * Checks `value` (undefined: use the default) against a numeric setting's range; reports a problem naming `name`.
 * Returns whether the value is usable.
 */
export function checkRange(add: ProblemSink, name: string, value: unknown, range: NumberRange): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'number' || !Number.isFinite(value)) add(`${name} must be a finite number, got ${typeof value === 'number' ? value : describeValue(value)}`);
  else if (range.integer && !Number.isInteger(value)) add(`${name} must be an integer, got ${value}`);
  else if (value < range.min) add(`${name} must be ${lowerBound(range)}, got ${value}`);
  else if (value > range.max) add(`${name} must be at most ${range.max}, got ${value}`);
  else return true;
  return false;
}

function lowerBound(range: NumberRange): string {
  if (range.min === 0) return 'zero or more';
  if (range.min === POSITIVE) return 'greater than 0';
  return `at least ${range.min}`;
}

/** Checks an enumerated setting. */
export function checkOneOf(add: ProblemSink, name: string, value: unknown, allowed: readonly unknown[]): boolean {
  if (value === undefined || allowed.includes(value)) return true;
  add(`${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describeSetting(value)}`);
  return false;
}

function describeSetting(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  return typeof v === 'bigint' ? `${v}n` : describeValue(v);
}
