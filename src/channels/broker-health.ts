/**
 * The health view both producer and consumer group hand to `checker()`: each configured broker is asked, on its
 * own connection, for the topic's metadata (as dp-kafka does per broker): unreachable, or reachable without the
 * topic, counts against it.
 */
import { Broker, type BrokerOptions } from '../client/broker.js';
import { parseBootstrap } from '../client/cluster.js';
import { Metadata } from '../protocol/apis/metadata.js';
import type { BrokerHealth } from './health.js';

export class BrokerHealthProbe {
  private readonly brokers: Broker[];

  constructor(addresses: readonly string[], private readonly topic: string, options: Omit<BrokerOptions, 'host' | 'port'>,
    private readonly timeoutMs = 5_000) {
    this.brokers = parseBootstrap(addresses).map((a) => new Broker({ ...options, host: a.host, port: a.port, connectTimeoutMs: timeoutMs }));
  }

  /** One Metadata request per broker, in parallel; never throws. */
  async check(): Promise<BrokerHealth[]> {
    return Promise.all(this.brokers.map(async (b) => {
      try {
        const res = await b.request(Metadata, { topics: [{ name: this.topic }], allowAutoTopicCreation: false }, { timeoutMs: this.timeoutMs });
        const t = res.topics.find((x) => x.name === this.topic);
        return { address: b.address, reachable: true, hasTopic: t !== undefined && t.errorCode === 0 };
      } catch {
        return { address: b.address, reachable: false, hasTopic: false };
      }
    }));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.brokers.map((b) => b.close()));
  }
}
