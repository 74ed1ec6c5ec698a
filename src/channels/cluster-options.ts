/**
 * From a validated producer / consumer-group config to the client layer's cluster options: TLS material read
 * (inline PEM or file paths, dp-kafka's rule), SASL mapped to a mechanism, timeouts carried over.
 */
import type { ClusterOptions } from '../client/cluster.js';
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
  };
}
