/**
 * ConsumerGroups on the fake cluster with the timings the channel tests share (fast retries, heartbeats, commits
 * and fetch waits, so a rebalance or a retry takes tens of milliseconds), and their clean-up after each test.
 */
import { ConsumerGroup } from '../../src/channels/consumer-group.js';
import type { ConsumerGroupConfig } from '../../src/channels/config.js';
import type { FakeCluster } from '../fake-cluster/fake-cluster.js';

/** Makes groups on one fake cluster (topic `t`, group `g` unless `config` says otherwise) and closes them all. */
export class FakeGroups {
  private groups: ConsumerGroup[] = [];

  constructor(private readonly cluster: () => FakeCluster) {}

  make(config: Partial<ConsumerGroupConfig> = {}): ConsumerGroup {
    const g = new ConsumerGroup({
      brokerAddrs: this.cluster().bootstrap, topic: 't', groupName: 'g', minRetryPeriod: 20, maxRetryPeriod: 200, retryBackoffMs: 20,
      heartbeatIntervalMs: 100, messageConsumeTimeout: 1_000, rebalanceTimeoutMs: 2_000, autoCommitIntervalMs: 100,
      fetchMaxWaitMs: 50, requestTimeoutMs: 3_000, ...config,
    });
    this.groups.push(g);
    return g;
  }

  /** Closes every group made since the last call (each bounded by 3 s). */
  async closeAll(): Promise<void> {
    const all = this.groups.splice(0);
    await Promise.allSettled(all.map((g) => g.close({ signal: AbortSignal.timeout(3_000) })));
  }
}
