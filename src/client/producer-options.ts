/**
 * Options of the produce engine: defaults and ranges from the one settings table (settings.ts: Kafka's producer
 * defaults, linger.ms 5 per KIP-1030, batch.size 16 KiB, buffer.memory 32 MiB, delivery.timeout.ms 120 s per KIP-91,
 * retry backoff 100 ms to 1 s per KIP-580), validated all at once, and the delivery timeout's error.
 */
import { InvalidArgumentError, KafkaError, DeliveryTimeoutError } from '../errors.js';
import type { CompressionCodec } from '../protocol/compression/index.js';
import type { Broker } from './broker.js';
import type { StickyPartitioner } from './partitioner.js';
import type { TransactionManager } from './transaction-manager.js';
import { CLIENT_SETTINGS, COMPRESSION_NAMES, PRODUCER_SETTINGS, checkOneOf, checkRange } from './settings.js';

/** What the engine needs of the cluster (src/client/cluster.ts `Cluster` provides it). */
export interface ProducerCluster {
  topic(name: string): Promise<{ name: string; topicId: string; partitions: ReadonlyArray<{ partition: number; leaderId: number }> }>;
  broker(nodeId: number): Pick<Broker, 'request'>;
  anyBroker(): Promise<Pick<Broker, 'request'>>;
  invalidate(topic?: string): void;
}

/**
 * The engine's options. Absent values take their default from {@link PRODUCER_SETTINGS} / {@link CLIENT_SETTINGS}
 * (src/client/settings.ts, the one owner of each setting's name, default and range); the channel Producer passes
 * every value resolved.
 */
export interface ProducerEngineOptions {
  cluster: ProducerCluster;
  /** 0 (no response), 1 (leader) or -1 (all in-sync replicas, default). */
  acks?: 0 | 1 | -1;
  /** Default: true with acks=-1, false otherwise (idempotence needs acks=all). */
  idempotent?: boolean;
  compression?: CompressionCodec;
  /** Kafka's linger.ms (default 5, KIP-1030). */
  lingerMs?: number;
  /** Kafka's batch.size in bytes (default 16384). */
  batchBytes?: number;
  /** Kafka's buffer.memory: `send` returns false past it (default 32 MiB). */
  maxBufferedBytes?: number;
  /** Largest request (and so record), Kafka's max.request.size (default 1,000,000, Sarama's MaxMessageBytes). */
  maxMessageBytes?: number;
  /** Produce requests in flight per broker (default 5, at most 5 with idempotence). */
  maxInFlight?: number;
  /** Broker-side ack timeout and our wait for the response (default 30 s). */
  requestTimeoutMs?: number;
  /** Kafka's delivery.timeout.ms: a record not written by then fails with DeliveryTimeoutError (default 120 s). */
  deliveryTimeoutMs?: number;
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  partitioner?: StickyPartitioner;
  /** Makes the producer transactional (transaction-manager.ts); needs idempotence. */
  transactions?: TransactionManager;
}

/** Defined with every other error class in src/errors.ts; re-exported where it is raised. */
export { DeliveryTimeoutError };

/** Options with every default filled in. */
export type ResolvedProducerOptions = Required<Omit<ProducerEngineOptions, 'cluster' | 'partitioner' | 'idempotent' | 'compression' | 'transactions'>> & {
  idempotent: boolean;
  compression: number;
};

const NUMERIC = ['lingerMs', 'batchBytes', 'maxBufferedBytes', 'maxMessageBytes', 'maxInFlight', 'deliveryTimeoutMs', 'retryBackoffMaxMs'] as const;
const CLIENT_NUMERIC = ['requestTimeoutMs', 'retryBackoffMs'] as const;

/** Fills in defaults from the settings table and checks ranges and the combination; every problem in one InvalidArgumentError. */
export function resolveOptions(o: ProducerEngineOptions): ResolvedProducerOptions {
  const P = PRODUCER_SETTINGS;
  const problems: string[] = [];
  const add = (p: string): void => void problems.push(p);
  const acks = o.acks ?? P.acks.default;
  checkOneOf(add, 'acks', acks, P.acks.values);
  const r = { acks, idempotent: o.idempotent ?? acks === -1, compression: o.compression ?? 0 } as ResolvedProducerOptions;
  for (const k of NUMERIC) if (checkRange(add, k, o[k], P[k].range)) r[k] = o[k] ?? P[k].default;
  for (const k of CLIENT_NUMERIC) if (checkRange(add, k, o[k], CLIENT_SETTINGS[k].range)) r[k] = o[k] ?? CLIENT_SETTINGS[k].default;
  if (r.idempotent && r.acks !== -1) problems.push('idempotence needs acks=-1 (all)');
  if (o.transactions !== undefined && !r.idempotent) problems.push('a transactional producer needs idempotence (acks -1)');
  if (r.idempotent && r.maxInFlight > 5) problems.push('idempotence allows at most 5 requests in flight per broker');
  if (!Number.isInteger(r.compression) || r.compression < 0 || r.compression >= COMPRESSION_NAMES.length) problems.push(`unknown compression codec ${String(r.compression)}`);
  if (problems.length > 0) throw new InvalidArgumentError(problems);
  return r;
}
