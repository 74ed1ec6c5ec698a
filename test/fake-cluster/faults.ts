/**
 * Declarative fault injection and the request log of the fake cluster.
 *
 * A fault is a rule: which requests it matches (API, broker, topic, partition, a predicate) and what happens to
 * them. Rules are tried in the order they were added; the first one that matches and has uses left fires and
 * uses one (`times`, default unlimited). Actions:
 * - `drop`: the request is never answered, and nor is any later one on that connection (a hung broker: the
 *   client's request timeout is what ends it; Kafka answers in order, so an answer skipped would be a lie);
 * - `delay`: handled normally after `ms` milliseconds, or once `until` settles (a request held until a test
 *   releases it; later requests on its connection wait behind it, as Kafka answers a connection in order);
 * - `reset`: the connection is closed on receipt;
 * - `reset-after`: handled normally (a Produce is written), then the connection is closed instead of answering:
 *   the answer is lost after the effect;
 * - `error`: answered with error `code`: on the matching partitions for partition APIs (the others are handled
 *   normally; nothing is appended for a refused Produce partition), at the top level for the others;
 * - `raw`: `bytes` (or `bytes(request)`) written to the socket verbatim instead of the answer (size prefix
 *   included: use {@link responseFrame} to build a well-formed one);
 * - `mutate`: the answer is built, then `mutate(response, request)` may change it or return a replacement.
 */
import { apis } from '../../src/protocol/apis/index.js';
import type { RequestHeader } from '../../src/protocol/headers.js';

/** A request as the fake saw it. */
export interface LoggedRequest {
  /** Date.now() on receipt. */
  at: number;
  broker: number;
  /** Connection number, unique over the cluster's life. */
  connection: number;
  apiKey: number;
  api: string;
  version: number;
  header: RequestHeader;
  /** The decoded body (field names as in src/protocol/apis). */
  body: Record<string, unknown>;
  /**
   * Topic-partitions the request concerns (Produce, Fetch, ListOffsets, Metadata, OffsetCommit, OffsetFetch); for
   * an incremental Fetch, every partition of its session too (those it does not name are fetched all the same).
   */
  partitions: { topic: string; partition: number }[];
  /** The fault action that fired on it, if any. */
  fault?: FaultAction;
}

export type FaultAction = 'drop' | 'delay' | 'reset' | 'reset-after' | 'error' | 'raw' | 'mutate';

/** One fault rule. */
export interface FaultRule {
  /** API name ('Produce') or key (0). */
  api?: string | number;
  /** Node id of the broker that receives the request. */
  broker?: number;
  /** Matches requests naming this topic (and partition); `error` then applies to those partitions only. */
  topic?: string;
  partition?: number;
  /** Any other condition. */
  when?: (req: LoggedRequest) => boolean;
  /** How many requests it fires on (default: every one). */
  times?: number;
  action: FaultAction;
  /** `delay`: milliseconds. */
  ms?: number;
  /** `delay`: hold the request until this settles (then `ms`, if given, is not waited for). */
  until?: Promise<unknown>;
  /** `error`: the Kafka error code. */
  code?: number;
  /** `raw`: what to write. */
  bytes?: Buffer | ((req: LoggedRequest) => Buffer);
  /** `mutate`: edits the decoded response in place, or returns a replacement. */
  mutate?: (response: Record<string, unknown>, req: LoggedRequest) => Record<string, unknown> | void;
}

/** A fault as registered: how often it fired and how many uses remain. */
export interface FaultHandle {
  readonly rule: FaultRule;
  fired: number;
  remaining: number;
  /** Stops it firing. */
  remove(): void;
}

/** The ordered rule list. */
export class Faults {
  private rules: FaultHandle[] = [];

  add(rule: FaultRule): FaultHandle {
    const handle: FaultHandle = { rule, fired: 0, remaining: rule.times ?? Infinity, remove: () => { this.rules = this.rules.filter((h) => h !== handle); } };
    this.rules.push(handle);
    return handle;
  }

  clear(): void {
    this.rules = [];
  }

  /** The first rule matching `req` with uses left; one use is consumed. */
  take(req: LoggedRequest): FaultHandle | undefined {
    for (const h of this.rules) {
      if (h.remaining <= 0 || !matches(h.rule, req)) continue;
      h.remaining--;
      h.fired++;
      if (h.remaining <= 0) this.rules = this.rules.filter((x) => x !== h);
      return h;
    }
    return undefined;
  }
}

function matches(rule: FaultRule, req: LoggedRequest): boolean {
  if (rule.api !== undefined && rule.api !== req.api && rule.api !== req.apiKey) return false;
  if (rule.broker !== undefined && rule.broker !== req.broker) return false;
  if (rule.topic !== undefined || rule.partition !== undefined) {
    if (!req.partitions.some((tp) => targets(rule, tp.topic, tp.partition))) return false;
  }
  return !rule.when || rule.when(req);
}

/** Whether an `error` rule covers this topic-partition. */
export function targets(rule: FaultRule, topic: string, partition: number): boolean {
  return (rule.topic === undefined || rule.topic === topic) && (rule.partition === undefined || rule.partition === partition);
}

/** A request frame as it came off the socket, before the broker got to it (a connection is answered in order). */
export interface Arrival {
  at: number;
  broker: number;
  connection: number;
  apiKey: number;
  version: number;
  /** Requests of the same connection received before this one and not answered yet at that moment. */
  unanswered: number;
}

/** The log of every request (bodies kept for the last `limit`), with counters and rates per API. */
export class RequestLog {
  /** The most recent requests, oldest first (at most `limit`). */
  readonly entries: LoggedRequest[] = [];
  /** Request frames as they arrived (the last `limit`): what a client had written, and how deep it pipelined. */
  readonly arrivals: Arrival[] = [];
  /** Every request's time, API key and broker, for counts and rates (never trimmed). */
  private readonly stamps: { at: number; apiKey: number; broker: number }[] = [];
  private readonly limit: number;

  constructor(limit = 20_000) {
    this.limit = limit;
  }

  arrive(a: Arrival): void {
    this.arrivals.push(a);
    if (this.arrivals.length > this.limit) this.arrivals.splice(0, this.arrivals.length - this.limit);
  }

  push(req: LoggedRequest): void {
    this.entries.push(req);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    this.stamps.push({ at: req.at, apiKey: req.apiKey, broker: req.broker });
  }

  /** Requests of an API (name or key; all when omitted), optionally to one broker and since a time. */
  count(api?: string | number, filter: { broker?: number; since?: number } = {}): number {
    const key = api === undefined ? undefined : apiKeyOf(api);
    let n = 0;
    for (const s of this.stamps) {
      if ((key === undefined || s.apiKey === key) && (filter.broker === undefined || s.broker === filter.broker) && (filter.since === undefined || s.at >= filter.since)) n++;
    }
    return n;
  }

  /** Requests per second of an API over the last `windowMs` (default 1 s), or between `from` and `to`. */
  rate(api?: string | number, options: { windowMs?: number; broker?: number; from?: number; to?: number } = {}): number {
    const to = options.to ?? Date.now();
    const from = options.from ?? to - (options.windowMs ?? 1_000);
    const n = this.count(api, { broker: options.broker, since: from }) - this.count(api, { broker: options.broker, since: to + 1 });
    return (n * 1000) / Math.max(1, to - from);
  }

  /** The highest number of requests of an API seen in any window of `windowMs` (default 1 s). */
  peakRate(api?: string | number, windowMs = 1_000, broker?: number): number {
    const key = api === undefined ? undefined : apiKeyOf(api);
    const times = this.stamps.filter((s) => (key === undefined || s.apiKey === key) && (broker === undefined || s.broker === broker)).map((s) => s.at);
    let peak = 0;
    let lo = 0;
    for (let hi = 0; hi < times.length; hi++) {
      while (times[hi]! - times[lo]! >= windowMs) lo++;
      peak = Math.max(peak, hi - lo + 1);
    }
    return (peak * 1000) / windowMs;
  }

  /** Logged requests of an API (within the kept window). */
  of(api: string | number): LoggedRequest[] {
    const key = apiKeyOf(api);
    return this.entries.filter((e) => e.apiKey === key);
  }
}

/** The API key of a name or key. */
export function apiKeyOf(api: string | number): number {
  if (typeof api === 'number') return api;
  const def = (apis as Record<string, { apiKey: number } | undefined>)[api];
  if (def === undefined) throw new Error(`fake cluster: unknown API ${api}`);
  return def.apiKey;
}
