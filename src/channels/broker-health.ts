/**
 * The health view both producer and consumer group hand to `checker()`: each configured broker is asked, on its
 * own connection, for the topic's metadata (as dp-kafka does per broker): unreachable, or reachable without the
 * topic, counts against it.
 *
 * The probe connects as the client does (TLS, mTLS, SASL from the same config: a secured cluster must not look
 * unreachable) and answers within the client's `requestTimeoutMs` whatever the brokers do: a broker that accepts
 * TCP and never answers counts as unreachable once that time is up (connect, handshake and request included).
 */
import { Broker, type BrokerOptions } from '../client/broker.js';
import { parseBootstrap } from '../client/cluster.js';
import { Metadata } from '../protocol/apis/metadata.js';
import { clusterOptionsFor } from './cluster-options.js';
import type { ResolvedConsumerGroupConfig, ResolvedProducerConfig } from './config.js';
import type { BrokerHealth } from './health.js';

/** How the probe reaches the brokers: everything a connection needs but the address, resolved when first used. */
export type ProbeConnectionOptions = Omit<BrokerOptions, 'host' | 'port'>;

export class BrokerHealthProbe {
  private readonly addresses: { host: string; port: number }[];
  private brokers: Promise<Broker[]> | undefined;
  private closed = false;

  /**
   * @param options connection options, or a function giving them (TLS files are read on first use, not here).
   * @param timeoutMs the deadline of one broker's whole check (connect, handshake, Metadata).
   */
  constructor(addresses: readonly string[], private readonly topic: string,
    private readonly options: ProbeConnectionOptions | (() => Promise<ProbeConnectionOptions>), readonly timeoutMs = 5_000) {
    this.addresses = parseBootstrap(addresses);
  }

  private connections(): Promise<Broker[]> {
    this.brokers ??= (async () => {
      const o = typeof this.options === 'function' ? await this.options() : this.options;
      return this.addresses.map((a) => new Broker({
        ...o, host: a.host, port: a.port,
        connectTimeoutMs: Math.min(o.connectTimeoutMs ?? this.timeoutMs, this.timeoutMs), requestTimeoutMs: this.timeoutMs,
      }));
    })();
    this.brokers.catch(() => { this.brokers = undefined; }); // a TLS file that could not be read: try again next time
    return this.brokers;
  }

  /** One Metadata request per broker, in parallel, each bounded by `timeoutMs`; never throws for a broker's sake. */
  async check(): Promise<BrokerHealth[]> {
    const brokers = await this.connections();
    return Promise.all(brokers.map(async (b) => {
      const unreachable = { address: b.address, reachable: false, hasTopic: false };
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<BrokerHealth>((resolve) => { timer = setTimeout(() => resolve(unreachable), this.timeoutMs); });
      const asked = (async (): Promise<BrokerHealth> => {
        try {
          const res = await b.request(Metadata, { topics: [{ name: this.topic }], allowAutoTopicCreation: false }, { timeoutMs: this.timeoutMs });
          return { address: b.address, reachable: true, hasTopic: hasTopic(res.topics, this.topic) };
        } catch {
          return unreachable;
        }
      })();
      try {
        return await Promise.race([asked, late]);
      } finally {
        clearTimeout(timer);
      }
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const brokers = await this.brokers?.catch(() => []);
    await Promise.allSettled((brokers ?? []).map((b) => b.close()));
  }
}

/** dp-kafka v5's rule: the topic is listed, without an error, with at least one partition. */
export function hasTopic(topics: readonly { name: string | null; errorCode: number; partitions: readonly unknown[] }[], topic: string): boolean {
  const t = topics.find((x) => x.name === topic);
  return t !== undefined && t.errorCode === 0 && t.partitions.length > 0;
}

/** The probe of a producer's or consumer group's config: its brokers, its security settings, its request timeout. */
export function healthProbeFor(config: ResolvedProducerConfig | ResolvedConsumerGroupConfig): BrokerHealthProbe {
  return new BrokerHealthProbe(config.brokerAddrs, config.topic, async () => {
    const o = await clusterOptionsFor(config);
    return { clientId: o.clientId, tls: o.tls, sasl: o.sasl, transport: o.transport, connectTimeoutMs: o.connectTimeoutMs };
  }, config.requestTimeoutMs);
}
