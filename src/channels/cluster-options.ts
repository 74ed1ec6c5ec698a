/**
 * From a validated producer / consumer-group config to the client layer's cluster options: TLS material read
 * (inline PEM or file paths, dp-kafka's rule), SASL mapped to a mechanism, timeouts carried over.
 */
import { Cluster, type ClusterOptions } from '../client/cluster.js';
import { resolveTlsOptions } from '../client/tls-options.js';
import { toClientSaslConfig, toTlsConfig, type ResolvedConsumerGroupConfig, type ResolvedProducerConfig } from './config.js';

/** Builds `ClusterOptions`; async only because TLS files may need reading. */
export async function clusterOptionsFor(config: ResolvedProducerConfig | ResolvedConsumerGroupConfig): Promise<ClusterOptions> {
  return {
    bootstrap: config.brokerAddrs,
    clientId: config.clientId,
    requestTimeoutMs: config.requestTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    metadataMaxAgeMs: config.metadataMaxAgeMs,
    retryMinMs: config.retryBackoffMs,
    tls: config.securityConfig ? await resolveTlsOptions(toTlsConfig(config.securityConfig)) : undefined,
    sasl: config.sasl ? toClientSaslConfig(config.sasl) : undefined,
    transport: config.transport,
  };
}

/**
 * A new `Cluster` from `options` that knows `topic`'s metadata: what producers and consumer groups do to connect.
 * When `stop` aborts during the attempt the cluster is closed at once, its unanswered requests failed rather
 * than waited for (nothing they could bring is wanted any more), instead of being left to the lookup deadline,
 * which kept the process alive after close() had resolved; the attempt then rejects with `closed()`. Any
 * failure closes the cluster before rejecting.
 */
export async function connectForTopic(options: ClusterOptions, topic: string, stop: AbortSignal, closed: () => Error): Promise<Cluster> {
  const cluster = new Cluster(options);
  const onStop = (): void => void cluster.close({ timeoutMs: 0 });
  stop.addEventListener('abort', onStop, { once: true });
  try {
    if (stop.aborted) throw closed();
    await cluster.topic(topic);
  } catch (err) {
    await cluster.close(stop.aborted ? { timeoutMs: 0 } : {});
    throw stop.aborted ? closed() : err;
  } finally {
    stop.removeEventListener('abort', onStop);
  }
  if (stop.aborted) { await cluster.close({ timeoutMs: 0 }); throw closed(); }
  return cluster;
}
