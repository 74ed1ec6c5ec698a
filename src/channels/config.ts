/**
 * Producer and consumer-group configuration: dp-kafka's `ProducerConfig` / `ConsumerGroupConfig` in camelCase,
 * plus what a native client adds (compression, acks, idempotence, SASL, timeouts). Durations are milliseconds.
 *
 * `resolveProducerConfig` / `resolveConsumerGroupConfig` check everything at once and throw one
 * {@link InvalidArgumentError} listing every problem (dp-kafka stops at the first), then return a new, frozen
 * object with the defaults filled in. Unlike dp-kafka's `Get()`, the caller's object is never written to.
 * Unknown keys are problems too: a typo such as `brokers` for `brokerAddrs` must not pass silently.
 */
import { InvalidArgumentError } from '../errors.js';
import { PREFETCH_DEFAULTS } from '../client/fetcher.js';
import {
  CLIENT_SETTINGS, COMPRESSION_NAMES, INT32_MAX, POSITIVE, PRODUCER_SETTINGS, checkOneOf as checkOneOfSetting, checkRange, int, timer,
  type NumberRange,
} from '../client/settings.js';
import { describeValue } from '../client/record-check.js';
import type { CompressionName } from '../protocol/compression/index.js';
import type { TlsConfig } from '../client/tls-options.js';
import { checkTransport, type Transport } from '../client/transport.js';
import type { OAuthBearerToken, SaslConfig as ClientSaslConfig } from '../client/sasl/index.js';
import { GROUP_PROTOCOLS, REMOTE_ASSIGNORS, type GroupProtocol, type RemoteAssignorName } from '../group/kip848-membership.js';

/** Where a new group starts reading a partition it has no committed offset for. dp-kafka default: oldest. */
export type OffsetReset = 'oldest' | 'newest';
/** Record batch compression (KIP-110 added zstd): 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'. */
export type Compression = CompressionName;
/** Acknowledgements the leader waits for: none, leader only, or all in-sync replicas (`'all'` = -1). */
export type Acks = 0 | 1 | -1 | 'all';
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512' | 'oauthbearer';
/** Partition assignment strategies by their protocol names. dp-kafka advertises only `roundrobin`. */
export type AssignorName = 'roundrobin' | 'range' | 'cooperative-sticky';

/** dp-kafka's `SecurityConfig`: TLS, with each PEM given inline (starting `-----BEGIN `) or as a file path. */
export interface SecurityConfig {
  /** CA certificates to trust; empty means the system roots. */
  rootCACerts?: string;
  /** Client certificate for mutual TLS (needs `clientKey`). */
  clientCert?: string;
  /** Client private key for mutual TLS (needs `clientCert`). */
  clientKey?: string;
  /** Accept any broker certificate. Tests only. */
  insecureSkipVerify?: boolean;
}

/** SASL authentication (KIP-43; SCRAM KIP-84; OAUTHBEARER KIP-255). dp-kafka has none; we do. */
export interface SaslConfig {
  mechanism: SaslMechanism;
  username?: string;
  password?: string;
  /** Called for each (re)authentication with OAUTHBEARER: the token, or `{ value, extensions }` (KIP-342). */
  oauthBearerProvider?: () => Promise<OAuthBearerToken> | OAuthBearerToken;
  /** Authorization identity (PLAIN, SCRAM, OAUTHBEARER); usually empty. */
  authzid?: string;
}

/** The logger the library writes to; silent unless one is given. Methods match `console`'s. */
export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** Settings producers and consumer groups share. */
export interface ClientConfig {
  /** Bootstrap brokers, `host:port` (IPv6 as `[::1]:9092`). Required. */
  brokerAddrs: readonly string[];
  /** The topic produced to or consumed from. Required. */
  topic: string;
  /** Brokers that must be healthy for `checker()` to say OK. Default 2 for producers, 1 for consumer groups. 1…1000, at most the number of brokerAddrs. */
  minBrokersHealthy?: number;
  /** First pause of the cyclic retry backoff (initialisation, failed sessions). Default 200 ms; >0 … 2^31-1 ms. */
  minRetryPeriod?: number;
  /** Longest pause of the cyclic retry backoff, after which it starts over. Default 32 s; >0 … 2^31-1 ms. */
  maxRetryPeriod?: number;
  securityConfig?: SecurityConfig;
  sasl?: SaslConfig;
  /** `client.id` sent to brokers (quotas, logs). Default `kafka-channels`. */
  clientId?: string;
  /** How long a request may wait for its response. Default 30 s (Sarama's and Java's); >0 … 2^31-1 ms. */
  requestTimeoutMs?: number;
  /** How long opening a connection (TCP, TLS, SASL) may take. Default 30 s (Sarama's DialTimeout); >0 … 2^31-1 ms. */
  connectTimeoutMs?: number;
  /** Pause before retrying a failed request (not the init backoff). Default 100 ms (Sarama's); 1 … 2^31-1 ms. */
  retryBackoffMs?: number;
  /** Refresh topic metadata at least this often. Default 5 min (Java's metadata.max.age.ms); >0 … 2^31-1 ms. */
  metadataMaxAgeMs?: number;
  logger?: Logger;
  /**
   * How connections to the brokers are opened. Default: `node:net` (`node:tls` with `securityConfig`), loaded on
   * the first connection. Give one on runtimes without them (an edge worker): see {@link Transport} for an example.
   * The client hands it `securityConfig` as Node TLS options in `tls`; a transport that cannot do TLS should
   * reject such a connect with a clear error.
   */
  transport?: Transport;
}

export interface ProducerConfig extends ClientConfig {
  /** Largest Produce request, and so the largest record (Sarama MaxMessageBytes, Java max.request.size). Default 1,000,000; 1 … 1 GiB. */
  maxMessageBytes?: number;
  /** 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'. Default 'none', as dp-kafka. */
  compression?: Compression;
  /** Default 'all' (Java's default since Kafka 3.0, KIP-679; Sarama waits for the leader only). */
  acks?: Acks;
  /** Idempotent produce (KIP-98): retries cannot duplicate or reorder. Needs acks 'all'. Default true. */
  idempotent?: boolean;
  /** How long a batch may wait for more records. Default 5 ms (Java's since Kafka 4.0, KIP-1030); 0 … 2^31-1 ms. */
  lingerMs?: number;
  /** Target size of one partition's record batch. Default 16 KiB (Java batch.size); 1 … 256 MiB, whole bytes. */
  batchBytes?: number;
  /** Capacity of the `output` channel, the producer's memory bound in messages. Default 1000; 0 … 1,000,000. */
  outputCapacity?: number;
  /** Give up on a record (and report it on `errors`) this long after it was sent. Default 120 s (Java's); >0 … 2^31-1 ms. */
  deliveryTimeoutMs?: number;
  /**
   * Send dp-kafka's `request-id` trace header (one id per producer) with every message. Default true, as
   * dp-kafka; false saves its ~47 bytes per record when no consumer reads it.
   */
  traceHeader?: boolean;
  /**
   * Turns transactions on (KIP-98): a stable id per producer instance (the same id after a restart, so the new
   * instance aborts what the old one left open and fences it). Implies idempotence and acks 'all'. Then records
   * are sent inside `beginTransaction()` … `commitTransaction()` only. 1 … 32,767 bytes.
   */
  transactionalId?: string;
  /** The coordinator aborts a transaction left open this long; also bounds each begin/commit/abort wait. Default 60 s (Java's); 1 … 2^31-1 ms. */
  transactionTimeoutMs?: number;
}

export interface ConsumerGroupConfig extends ClientConfig {
  /** The consumer group id. Required. */
  groupName: string;
  /** Start of a partition the group has no offset for. Default 'oldest' (dp-kafka; Sarama and Java say newest). */
  offset?: OffsetReset;
  /** Parallel handler workers for `registerHandler`. Default 1; 1 … 10,000. */
  numWorkers?: number;
  /** Messages per batch for `registerBatchHandler`. Default 1; 1 … 100,000. */
  batchSize?: number;
  /** Handle a partial batch this long after its first message. Default 200 ms; 0 … 2^31-1 ms. */
  batchWaitTime?: number;
  /** Group session timeout: a member silent this long is removed. Default 10 s (dp-kafka); >0 … 2^31-1 ms. */
  messageConsumeTimeout?: number;
  /** Heartbeat period; must be below the session timeout. Default 3 s; >0 … 2^31-1 ms. */
  heartbeatIntervalMs?: number;
  /** How long members get to re-join during a rebalance. Default 60 s; >0 … 2^31-1 ms. */
  rebalanceTimeoutMs?: number;
  /** Commit marked offsets this often (Sarama auto-commit, which commits `mark()`ed offsets). Default 1 s; >0 … 2^31-1 ms. */
  autoCommitIntervalMs?: number;
  /** Assignors offered to the group, preferred first. Default ['roundrobin'] so Go dp-kafka members can share the group. */
  assignors?: readonly AssignorName[];
  /** Static membership (KIP-345): a stable id per instance avoids rebalances on restart. */
  groupInstanceId?: string;
  /** Skip records of aborted transactions (KIP-98). Default 'read_uncommitted', as Sarama and Java. */
  isolationLevel?: 'read_uncommitted' | 'read_committed';
  /** Longest a fetch waits on the broker for data. Default 50 ms (dp-kafka's MaxWaitTime); 0 … 2^31-1 ms. */
  fetchMaxWaitMs?: number;
  /** Most bytes one fetch response may carry. Default 50 MiB (Java fetch.max.bytes); 1 … 2^31-1 (int32). */
  fetchMaxBytes?: number;
  /** Most bytes per partition in one fetch. Default 1 MiB (Java max.partition.fetch.bytes); 1 … 2^31-1 (int32). */
  maxPartitionFetchBytes?: number;
  /**
   * The consumer's memory bound: fetched bytes held before delivery, all partitions together. Default 64 MiB; 1 … 16 GiB.
   * It also caps one record batch's decompressed size: a batch that would inflate past it (a decompression
   * bomb) is refused with a DecodeError before memory passes it.
   */
  maxBufferedBytes?: number;
  /** The same bound per partition. Default 2 MiB: one fetched run being delivered and the next one ready; 1 … 16 GiB. */
  maxPartitionBufferedBytes?: number;
  /** Capacity of the `errors` channel. Default 20 (dp-kafka's ErrorChanBufferSize); 0 … 1,000,000. */
  errorsCapacity?: number;
  /**
   * The group protocol: 'classic' (JoinGroup/SyncGroup, client-side `assignors`; the default until Kafka makes
   * the switch) or 'consumer' (KIP-848: ConsumerGroupHeartbeat, the broker assigns and sets the heartbeat
   * interval; Kafka 4.0+). With 'consumer', `assignors` and `heartbeatIntervalMs` are refused: the broker owns them.
   */
  groupProtocol?: GroupProtocol;
  /** With groupProtocol 'consumer': the broker's assignor, 'uniform' or 'range' (unset: the broker's default, uniform). */
  groupRemoteAssignor?: RemoteAssignorName;
}

type Resolved<T> = Readonly<Required<Omit<T, 'securityConfig' | 'sasl' | 'logger' | 'groupInstanceId' | 'groupRemoteAssignor' | 'transport'>>> &
  Readonly<Pick<T, Extract<keyof T, 'securityConfig' | 'sasl' | 'logger' | 'groupInstanceId' | 'groupRemoteAssignor' | 'transport'>>>;

/** A producer config with every default filled in and acks as a number. */
export type ResolvedProducerConfig = Omit<Resolved<ProducerConfig>, 'acks' | 'transactionalId'> & { readonly acks: 0 | 1 | -1; readonly transactionalId?: string };
/** A consumer-group config with every default filled in. */
export type ResolvedConsumerGroupConfig = Resolved<ConsumerGroupConfig>;

/** Shared defaults: the channel layer's own, and the client layer's from its settings table (client/settings.ts). */
const CLIENT_DEFAULTS = {
  minRetryPeriod: 200,
  maxRetryPeriod: 32_000,
  clientId: 'kafka-channels',
  requestTimeoutMs: CLIENT_SETTINGS.requestTimeoutMs.default,
  connectTimeoutMs: CLIENT_SETTINGS.connectTimeoutMs.default,
  retryBackoffMs: CLIENT_SETTINGS.retryBackoffMs.default,
  metadataMaxAgeMs: CLIENT_SETTINGS.metadataMaxAgeMs.default,
} as const;

/** Producer defaults: dp-kafka's where it has one; the produce settings' from their one table (client/settings.ts). */
export const PRODUCER_DEFAULTS = Object.freeze({
  ...CLIENT_DEFAULTS,
  minBrokersHealthy: 2,
  maxMessageBytes: PRODUCER_SETTINGS.maxMessageBytes.default,
  compression: PRODUCER_SETTINGS.compression.default,
  acks: PRODUCER_SETTINGS.acks.default as -1,
  idempotent: PRODUCER_SETTINGS.idempotent.default,
  lingerMs: PRODUCER_SETTINGS.lingerMs.default,
  batchBytes: PRODUCER_SETTINGS.batchBytes.default,
  outputCapacity: 1000,
  deliveryTimeoutMs: PRODUCER_SETTINGS.deliveryTimeoutMs.default,
  traceHeader: true,
  transactionTimeoutMs: PRODUCER_SETTINGS.transactionTimeoutMs.default,
});

/**
 * The range of every numeric setting, by its config name: the client layer's rows for the settings it owns, the
 * channel layer's own below. Documented on each config field; checked by {@link checkNumbers}.
 */
export const SETTING_RANGES: Readonly<Record<string, NumberRange>> = Object.freeze({
  // client layer (client/settings.ts)
  requestTimeoutMs: CLIENT_SETTINGS.requestTimeoutMs.range,
  connectTimeoutMs: CLIENT_SETTINGS.connectTimeoutMs.range,
  retryBackoffMs: CLIENT_SETTINGS.retryBackoffMs.range,
  metadataMaxAgeMs: CLIENT_SETTINGS.metadataMaxAgeMs.range,
  lingerMs: PRODUCER_SETTINGS.lingerMs.range,
  batchBytes: PRODUCER_SETTINGS.batchBytes.range,
  maxMessageBytes: PRODUCER_SETTINGS.maxMessageBytes.range,
  deliveryTimeoutMs: PRODUCER_SETTINGS.deliveryTimeoutMs.range,
  transactionTimeoutMs: PRODUCER_SETTINGS.transactionTimeoutMs.range,
  // channel layer
  minRetryPeriod: timer(POSITIVE),
  maxRetryPeriod: timer(POSITIVE),
  minBrokersHealthy: int(1, 1000),
  outputCapacity: int(0, 1_000_000),
  numWorkers: int(1, 10_000),
  batchSize: int(1, 100_000),
  batchWaitTime: timer(0),
  messageConsumeTimeout: timer(POSITIVE),
  heartbeatIntervalMs: timer(POSITIVE),
  rebalanceTimeoutMs: timer(POSITIVE),
  autoCommitIntervalMs: timer(POSITIVE),
  fetchMaxWaitMs: timer(0),
  fetchMaxBytes: int(1, INT32_MAX),
  maxPartitionFetchBytes: int(1, INT32_MAX),
  maxBufferedBytes: int(1, 2 ** 34),
  maxPartitionBufferedBytes: int(1, 2 ** 34),
  errorsCapacity: int(0, 1_000_000),
});

/** Consumer-group defaults (dp-kafka's where it has one). */
export const CONSUMER_GROUP_DEFAULTS = Object.freeze({
  ...CLIENT_DEFAULTS,
  minBrokersHealthy: 1,
  offset: 'oldest' as OffsetReset,
  numWorkers: 1,
  batchSize: 1,
  batchWaitTime: 200,
  messageConsumeTimeout: 10_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 60_000,
  autoCommitIntervalMs: 1_000,
  assignors: Object.freeze(['roundrobin']) as readonly AssignorName[],
  isolationLevel: 'read_uncommitted' as const,
  fetchMaxWaitMs: 50,
  fetchMaxBytes: 52_428_800,
  maxPartitionFetchBytes: 1_048_576,
  maxBufferedBytes: PREFETCH_DEFAULTS.maxBufferedBytes,
  maxPartitionBufferedBytes: PREFETCH_DEFAULTS.maxPartitionBufferedBytes,
  errorsCapacity: 20,
  groupProtocol: 'classic' as GroupProtocol,
});

const OPTIONAL_KEYS = ['securityConfig', 'sasl', 'logger', 'transport', 'groupInstanceId'] as const;
const REQUIRED_CLIENT_KEYS = ['brokerAddrs', 'topic'] as const;
const PRODUCER_KEYS = new Set<string>([...REQUIRED_CLIENT_KEYS, ...OPTIONAL_KEYS.slice(0, 4), 'transactionalId', ...Object.keys(PRODUCER_DEFAULTS)]);
const CONSUMER_KEYS = new Set<string>([...REQUIRED_CLIENT_KEYS, 'groupName', ...OPTIONAL_KEYS, 'groupRemoteAssignor', ...Object.keys(CONSUMER_GROUP_DEFAULTS)]);

const MECHANISMS: readonly string[] = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'];
const ASSIGNORS: readonly string[] = ['roundrobin', 'range', 'cooperative-sticky'];
/** Kafka's legal topic names (org.apache.kafka.common.internals.Topic): 1-249 of [a-zA-Z0-9._-], not "." or "..". */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const BROKER_ADDR = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/;

/** Collects problems; each check adds a line naming the option. */
class Problems {
  readonly list: string[] = [];
  readonly add = (problem: string): void => {
    this.list.push(problem);
  };
  throwIfAny(what: string): void {
    if (this.list.length > 0) throw new InvalidArgumentError(this.list.map((p) => `${what}: ${p}`));
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks each named numeric setting against its range in {@link SETTING_RANGES}; undefined means "use default". */
function checkNumbers(p: Problems, cfg: Record<string, unknown>, names: readonly string[]): void {
  for (const name of names) checkRange(p.add, name, cfg[name], SETTING_RANGES[name]!);
}

function checkString(p: Problems, name: string, v: unknown, required: boolean): v is string {
  if (v === undefined && !required) return false;
  if (typeof v !== 'string' || v.length === 0) {
    p.add(v === undefined ? `${name} is required` : `${name} must be a non-empty string`);
    return false;
  }
  return true;
}

function checkOneOf(p: Problems, name: string, v: unknown, allowed: readonly unknown[]): void {
  checkOneOfSetting(p.add, name, v, allowed);
}

function checkUnknownKeys(p: Problems, cfg: Record<string, unknown>, known: Set<string>): void {
  for (const key of Object.keys(cfg)) if (!known.has(key) && cfg[key] !== undefined) p.add(`unknown option ${JSON.stringify(key)}`);
}

function checkBrokers(p: Problems, v: unknown): number {
  if (v === undefined) {
    p.add('brokerAddrs is required');
    return 0;
  }
  if (!Array.isArray(v) || v.length === 0) {
    p.add('brokerAddrs must be a non-empty array of "host:port" strings');
    return 0;
  }
  v.forEach((addr: unknown, i) => {
    const m = typeof addr === 'string' ? BROKER_ADDR.exec(addr) : null;
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65_535) p.add(`brokerAddrs[${i}] must be "host:port" with a port from 1 to 65535, got ${typeof addr === 'string' ? JSON.stringify(addr) : describeValue(addr)}`);
  });
  return v.length;
}

function checkTopic(p: Problems, v: unknown): void {
  if (!checkString(p, 'topic', v, true)) return;
  if (!TOPIC_NAME.test(v) || v === '.' || v === '..') {
    p.add(`topic ${JSON.stringify(v)} is not a legal Kafka topic name (1-249 characters of a-z A-Z 0-9 . _ -, not "." or "..")`);
  }
}

function checkSecurity(p: Problems, v: unknown): void {
  if (v === undefined) return;
  if (!isObject(v)) return p.add('securityConfig must be an object');
  for (const k of ['rootCACerts', 'clientCert', 'clientKey'] as const) {
    if (v[k] !== undefined && typeof v[k] !== 'string') p.add(`securityConfig.${k} must be a string (PEM or a file path)`);
  }
  if (v.insecureSkipVerify !== undefined && typeof v.insecureSkipVerify !== 'boolean') p.add('securityConfig.insecureSkipVerify must be a boolean');
  // dp-kafka silently drops a half-given client certificate; a missing mTLS identity should fail loudly instead.
  if (Boolean(v.clientCert) !== Boolean(v.clientKey)) p.add('securityConfig.clientCert and securityConfig.clientKey must be given together');
  checkUnknownKeys(p, v, new Set(['rootCACerts', 'clientCert', 'clientKey', 'insecureSkipVerify']));
}

function checkSasl(p: Problems, v: unknown): void {
  if (v === undefined) return;
  if (!isObject(v)) return p.add('sasl must be an object');
  if (v.mechanism === undefined) p.add('sasl.mechanism is required');
  else checkOneOf(p, 'sasl.mechanism', v.mechanism, MECHANISMS);
  if (v.mechanism === 'oauthbearer') {
    if (typeof v.oauthBearerProvider !== 'function') p.add('sasl.oauthBearerProvider (a function) is required for oauthbearer');
  } else if (typeof v.mechanism === 'string' && MECHANISMS.includes(v.mechanism)) {
    checkString(p, 'sasl.username', v.username, true);
    if (typeof v.password !== 'string') p.add('sasl.password is required');
  }
  if (v.authzid !== undefined && typeof v.authzid !== 'string') p.add('sasl.authzid must be a string');
  checkUnknownKeys(p, v, new Set(['mechanism', 'username', 'password', 'oauthBearerProvider', 'authzid']));
}

function checkLogger(p: Problems, v: unknown): void {
  if (v === undefined) return;
  if (!isObject(v) || !['debug', 'info', 'warn', 'error'].every((m) => typeof v[m] === 'function')) {
    p.add('logger must have debug, info, warn and error methods');
  }
}

/** Checks shared by both clients; returns the number of brokers given (0 if unusable). */
function checkClient(p: Problems, cfg: Record<string, unknown>): number {
  const brokers = checkBrokers(p, cfg.brokerAddrs);
  checkTopic(p, cfg.topic);
  checkNumbers(p, cfg, ['minRetryPeriod', 'maxRetryPeriod', 'minBrokersHealthy', 'requestTimeoutMs', 'connectTimeoutMs', 'metadataMaxAgeMs', 'retryBackoffMs']);
  const min = (cfg.minRetryPeriod ?? CLIENT_DEFAULTS.minRetryPeriod) as number;
  const max = (cfg.maxRetryPeriod ?? CLIENT_DEFAULTS.maxRetryPeriod) as number;
  if (typeof min === 'number' && typeof max === 'number' && min > 0 && max > 0 && min > max) {
    p.add(`minRetryPeriod (${min}) must not be greater than maxRetryPeriod (${max})`);
  }
  checkString(p, 'clientId', cfg.clientId, false);
  checkSecurity(p, cfg.securityConfig);
  checkSasl(p, cfg.sasl);
  checkLogger(p, cfg.logger);
  checkTransport(p.add, 'transport', cfg.transport);
  return brokers;
}

/** dp-kafka's rule: more healthy brokers required than there are brokers can never be OK. */
function checkMinBrokers(p: Problems, value: number, brokers: number, explicit: boolean): void {
  if (brokers > 0 && Number.isInteger(value) && value > brokers) {
    p.add(`minBrokersHealthy (${value}${explicit ? '' : ', the default'}) must not exceed the number of brokerAddrs (${brokers})`);
  }
}

function withDefaults<D extends object, T extends object>(defaults: D, cfg: T): D & T {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(cfg)) if (v !== undefined) out[k] = v;
  return out as D & T;
}

/**
 * Validates a producer config and fills in the defaults. Throws one {@link InvalidArgumentError} listing every
 * problem. Note dp-kafka's default `minBrokersHealthy` of 2: with one broker address, set it to 1.
 */
export function resolveProducerConfig(config: ProducerConfig): ResolvedProducerConfig {
  return readSafely('producer', () => resolveProducer(config));
}

/**
 * Runs a resolver so that a config whose reading throws (a getter, a proxy) gives an InvalidArgumentError too,
 * never another error out of a constructor.
 */
function readSafely<T>(what: string, resolve: () => T): T {
  try {
    return resolve();
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`${what} config could not be read: ${err instanceof Error ? err.message : describeValue(err)}`, { cause: err });
  }
}

/** KIP-98: a transactional producer is idempotent with acks 'all'; its id is a non-empty string (a Kafka string: 32,767 bytes). */
function checkTransactionalId(p: Problems, cfg: Record<string, unknown>): void {
  const id = cfg.transactionalId;
  if (typeof id !== 'string' || id.length === 0) p.add('transactionalId must be a non-empty string');
  else if (new TextEncoder().encode(id).length > PRODUCER_SETTINGS.transactionalId.maxBytes) p.add(`transactionalId must be at most ${PRODUCER_SETTINGS.transactionalId.maxBytes} bytes`);
  if (cfg.idempotent === false) p.add('transactionalId needs idempotence (idempotent: false was given)');
  if (cfg.acks !== undefined && cfg.acks !== 'all' && cfg.acks !== -1) p.add(`transactionalId needs acks 'all', got ${describeValue(cfg.acks)}`);
}

function resolveProducer(config: ProducerConfig): ResolvedProducerConfig {
  const p = new Problems();
  if (!isObject(config)) throw new InvalidArgumentError('producer config must be an object');
  const cfg = config as unknown as Record<string, unknown>;
  checkUnknownKeys(p, cfg, PRODUCER_KEYS);
  const brokers = checkClient(p, cfg);
  checkNumbers(p, cfg, ['maxMessageBytes', 'lingerMs', 'batchBytes', 'outputCapacity', 'deliveryTimeoutMs', 'transactionTimeoutMs']);
  if (cfg.transactionalId !== undefined) checkTransactionalId(p, cfg);
  checkOneOf(p, 'compression', cfg.compression, COMPRESSION_NAMES);
  checkOneOf(p, 'acks', cfg.acks, [0, 1, -1, 'all']);
  if (cfg.idempotent !== undefined && typeof cfg.idempotent !== 'boolean') p.add('idempotent must be a boolean');
  if (cfg.traceHeader !== undefined && typeof cfg.traceHeader !== 'boolean') p.add('traceHeader must be a boolean');
  const acks = cfg.acks === 'all' || cfg.acks === undefined ? -1 : cfg.acks;
  // KIP-98 / Java's ConfigException: idempotence needs every in-sync replica to acknowledge.
  if (cfg.idempotent !== false && (acks === 0 || acks === 1)) {
    p.add(`acks ${acks} needs idempotent: false (idempotent produce requires acks 'all')`);
  }
  const minBrokers = (cfg.minBrokersHealthy ?? PRODUCER_DEFAULTS.minBrokersHealthy) as number;
  checkMinBrokers(p, minBrokers, brokers, cfg.minBrokersHealthy !== undefined);
  p.throwIfAny('invalid producer config');
  const out = withDefaults(PRODUCER_DEFAULTS, config);
  return Object.freeze({ ...out, acks, brokerAddrs: Object.freeze([...config.brokerAddrs]) }) as ResolvedProducerConfig;
}

/**
 * Validates a consumer-group config and fills in the defaults. Throws one {@link InvalidArgumentError} listing
 * every problem.
 */
export function resolveConsumerGroupConfig(config: ConsumerGroupConfig): ResolvedConsumerGroupConfig {
  return readSafely('consumer group', () => resolveConsumerGroup(config));
}

function resolveConsumerGroup(config: ConsumerGroupConfig): ResolvedConsumerGroupConfig {
  const p = new Problems();
  if (!isObject(config)) throw new InvalidArgumentError('consumer group config must be an object');
  const cfg = config as unknown as Record<string, unknown>;
  checkUnknownKeys(p, cfg, CONSUMER_KEYS);
  const brokers = checkClient(p, cfg);
  checkString(p, 'groupName', cfg.groupName, true);
  checkOneOf(p, 'offset', cfg.offset, ['oldest', 'newest']);
  checkNumbers(p, cfg, ['numWorkers', 'batchSize', 'batchWaitTime', 'messageConsumeTimeout', 'heartbeatIntervalMs', 'rebalanceTimeoutMs', 'autoCommitIntervalMs']);
  const session = (cfg.messageConsumeTimeout ?? CONSUMER_GROUP_DEFAULTS.messageConsumeTimeout) as number;
  const heartbeat = (cfg.heartbeatIntervalMs ?? CONSUMER_GROUP_DEFAULTS.heartbeatIntervalMs) as number;
  if (cfg.groupProtocol !== 'consumer' && typeof session === 'number' && typeof heartbeat === 'number' && session > 0 && heartbeat >= session) {
    p.add(`heartbeatIntervalMs (${heartbeat}) must be less than messageConsumeTimeout (${session}), the session timeout`);
  }
  checkAssignors(p, cfg.assignors);
  checkGroupProtocol(p, cfg);
  checkString(p, 'groupInstanceId', cfg.groupInstanceId, false);
  checkOneOf(p, 'isolationLevel', cfg.isolationLevel, ['read_uncommitted', 'read_committed']);
  checkNumbers(p, cfg, ['fetchMaxWaitMs', 'fetchMaxBytes', 'maxPartitionFetchBytes', 'maxBufferedBytes', 'maxPartitionBufferedBytes', 'errorsCapacity']);
  const minBrokers = (cfg.minBrokersHealthy ?? CONSUMER_GROUP_DEFAULTS.minBrokersHealthy) as number;
  checkMinBrokers(p, minBrokers, brokers, cfg.minBrokersHealthy !== undefined);
  p.throwIfAny('invalid consumer group config');
  const out = withDefaults(CONSUMER_GROUP_DEFAULTS, config);
  return Object.freeze({ ...out, brokerAddrs: Object.freeze([...config.brokerAddrs]), assignors: Object.freeze([...out.assignors]) });
}

function checkAssignors(p: Problems, v: unknown): void {
  if (v === undefined) return;
  if (!Array.isArray(v) || v.length === 0) return p.add('assignors must be a non-empty array');
  for (const a of v) checkOneOf(p, 'assignors[]', a, ASSIGNORS);
  if (new Set(v).size !== v.length) p.add('assignors must not repeat a name');
}

/** KIP-848's settings, and what the 'consumer' protocol leaves to the broker (as Java's consumer refuses them too). */
function checkGroupProtocol(p: Problems, cfg: Record<string, unknown>): void {
  checkOneOf(p, 'groupProtocol', cfg.groupProtocol, GROUP_PROTOCOLS);
  checkOneOf(p, 'groupRemoteAssignor', cfg.groupRemoteAssignor, REMOTE_ASSIGNORS);
  if (cfg.groupProtocol === 'consumer') {
    if (cfg.assignors !== undefined) p.add(`assignors are the classic protocol's client-side assignors; with groupProtocol 'consumer' the broker assigns: use groupRemoteAssignor`);
    if (cfg.heartbeatIntervalMs !== undefined) p.add(`heartbeatIntervalMs is set by the broker with groupProtocol 'consumer' (group.consumer.heartbeat.interval.ms)`);
  } else if (cfg.groupRemoteAssignor !== undefined) {
    p.add(`groupRemoteAssignor needs groupProtocol 'consumer' (the classic protocol assigns on the client: use assignors)`);
  }
}

/** The capacity of a consumer group's `upstream` channel: max(numWorkers, batchSize), as dp-kafka sizes it. */
export function upstreamCapacity(config: Pick<ResolvedConsumerGroupConfig, 'numWorkers' | 'batchSize'>): number {
  return Math.max(config.numWorkers, config.batchSize);
}

/** Maps dp-kafka's `SecurityConfig` onto the connection layer's TLS settings. */
export function toTlsConfig(security: SecurityConfig): TlsConfig {
  const tls: TlsConfig = {};
  if (security.rootCACerts) tls.ca = security.rootCACerts;
  if (security.clientCert) tls.cert = security.clientCert;
  if (security.clientKey) tls.key = security.clientKey;
  if (security.insecureSkipVerify) tls.insecureSkipVerify = true;
  return tls;
}

/** Maps our validated SASL settings onto the connection layer's mechanism settings. */
export function toClientSaslConfig(sasl: SaslConfig): ClientSaslConfig {
  const authzid = sasl.authzid;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'PLAIN', username: sasl.username!, password: sasl.password!, authzid };
    case 'scram-sha-256':
    case 'scram-sha-512':
      return { mechanism: sasl.mechanism === 'scram-sha-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512', username: sasl.username!, password: sasl.password!, authzid };
    case 'oauthbearer':
      return { mechanism: 'OAUTHBEARER', token: sasl.oauthBearerProvider!, authzid };
  }
}
