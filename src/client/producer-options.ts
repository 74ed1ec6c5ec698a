/**
 * Options of the produce engine, with Kafka's producer defaults (linger.ms 5 per KIP-1030, batch.size 16 KiB,
 * buffer.memory 32 MiB, max.request.size 1 MiB, delivery.timeout.ms 120 s per KIP-91, retry backoff 100 ms to
 * 1 s per KIP-580), validated all at once, and the delivery timeout's error.
 */
import { InvalidArgumentError, KafkaError, DeliveryTimeoutError } from '../errors.js';
import type { CompressionCodec } from '../protocol/compression/index.js';
import type { Broker } from './broker.js';
import type { StickyPartitioner } from './partitioner.js';

/** What the engine needs of the cluster (src/client/cluster.ts `Cluster` provides it). */
export interface ProducerCluster {
  topic(name: string): Promise<{ name: string; topicId: string; partitions: ReadonlyArray<{ partition: number; leaderId: number }> }>;
  broker(nodeId: number): Pick<Broker, 'request'>;
  anyBroker(): Promise<Pick<Broker, 'request'>>;
  invalidate(topic?: string): void;
}

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
  batchSize?: number;
  /** Kafka's buffer.memory: `send` returns false past it (default 32 MiB). */
  maxBufferedBytes?: number;
  /** Kafka's max.request.size (default 1 MiB). */
  maxRequestBytes?: number;
  /** Produce requests in flight per broker (default 5, at most 5 with idempotence). */
  maxInFlight?: number;
  /** Broker-side ack timeout and our wait for the response (default 30 s). */
  requestTimeoutMs?: number;
  /** Kafka's delivery.timeout.ms: a record not written by then fails with DeliveryTimeoutError (default 120 s). */
  deliveryTimeoutMs?: number;
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  partitioner?: StickyPartitioner;
}

/** Defined with every other error class in src/errors.ts; re-exported where it is raised. */
export { DeliveryTimeoutError };

/** Options with every default filled in. */
export type ResolvedProducerOptions = Required<Omit<ProducerEngineOptions, 'cluster' | 'partitioner' | 'idempotent' | 'compression'>> & {
  idempotent: boolean;
  compression: number;
};

/** Fills in defaults and checks the combination; every problem is listed in one InvalidArgumentError. */
export function resolveOptions(o: ProducerEngineOptions): ResolvedProducerOptions {
  const acks = o.acks ?? -1;
  const r = {
    acks, idempotent: o.idempotent ?? acks === -1, compression: o.compression ?? 0, lingerMs: o.lingerMs ?? 5,
    batchSize: o.batchSize ?? 16_384, maxBufferedBytes: o.maxBufferedBytes ?? 32 * 1024 * 1024,
    maxRequestBytes: o.maxRequestBytes ?? 1024 * 1024, maxInFlight: o.maxInFlight ?? 5, requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    deliveryTimeoutMs: o.deliveryTimeoutMs ?? 120_000, retryBackoffMs: o.retryBackoffMs ?? 100, retryBackoffMaxMs: o.retryBackoffMaxMs ?? 1_000,
  };
  const problems: string[] = [];
  if (![0, 1, -1].includes(r.acks)) problems.push(`acks must be 0, 1 or -1 (all), not ${r.acks}`);
  if (r.idempotent && r.acks !== -1) problems.push('idempotence needs acks=-1 (all)');
  if (r.idempotent && r.maxInFlight > 5) problems.push('idempotence allows at most 5 requests in flight per broker');
  if (!(r.maxInFlight >= 1)) problems.push('maxInFlight must be at least 1');
  if (!(r.batchSize >= 1)) problems.push('batchSize must be positive');
  if (!(r.lingerMs >= 0)) problems.push('lingerMs must be 0 or more');
  if (![0, 1, 2, 3, 4].includes(r.compression)) problems.push(`unknown compression codec ${r.compression}`);
  if (problems.length > 0) throw new InvalidArgumentError(problems);
  return r;
}

