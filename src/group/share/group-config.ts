/**
 * The group configs a share group member reads or sets (KIP-932 group configs, DescribeConfigs and
 * IncrementalAlterConfigs on resource type 32):
 *
 * - the delivery limit: how many times a record is delivered before the broker archives it. The group's own
 *   `share.delivery.count.limit` wins; without it, the broker's `group.share.delivery.count.limit` applies;
 * - where a new share group starts (`share.auto.offset.reset`: Kafka's default is `latest`, so records written
 *   before the group first fetched are never delivered unless the group says `earliest`).
 */
import type { Cluster } from '../../client/cluster.js';
import { brokerError } from '../../protocol/error-codes.js';
import { DescribeConfigs } from '../../protocol/apis/describe-configs.js';
import { IncrementalAlterConfigs } from '../../protocol/apis/incremental-alter-configs.js';

/** DescribeConfigs / IncrementalAlterConfigs resource types. */
const GROUP_RESOURCE = 32;
const BROKER_RESOURCE = 4;
/** IncrementalAlterConfigs operation SET. */
const SET = 0;

/** The limit, or undefined when neither config could be read. Any request failure rejects. */
export async function readDeliveryLimit(cluster: Cluster, groupId: string, timeoutMs: number): Promise<number | undefined> {
  const broker = await cluster.anyBroker();
  const res = await broker.request(DescribeConfigs, {
    resources: [
      { resourceType: GROUP_RESOURCE, resourceName: groupId, configurationKeys: ['share.delivery.count.limit'] },
      { resourceType: BROKER_RESOURCE, resourceName: String(broker.nodeId), configurationKeys: ['group.share.delivery.count.limit'] },
    ],
    includeSynonyms: false, includeDocumentation: false,
  }, { timeoutMs });
  const valueOf = (type: number, name: string): number | undefined => {
    const r = res.results.find((x) => x.resourceType === type && x.errorCode === 0);
    const v = Number(r?.configs.find((c) => c.name === name)?.value ?? NaN);
    return Number.isInteger(v) && v > 0 ? v : undefined;
  };
  return valueOf(GROUP_RESOURCE, 'share.delivery.count.limit') ?? valueOf(BROKER_RESOURCE, 'group.share.delivery.count.limit');
}

/** Sets the group's `share.auto.offset.reset` (where the group starts on partitions it has no state for). */
export async function setAutoOffsetReset(cluster: Cluster, groupId: string, reset: 'earliest' | 'latest', timeoutMs: number): Promise<void> {
  const broker = await cluster.anyBroker();
  const res = await broker.request(IncrementalAlterConfigs, {
    resources: [{ resourceType: GROUP_RESOURCE, resourceName: groupId, configs: [{ name: 'share.auto.offset.reset', configOperation: SET, value: reset }] }],
    validateOnly: false,
  }, { timeoutMs });
  const r = res.responses[0];
  if (r !== undefined && r.errorCode !== 0) throw brokerError(r.errorCode, { api: 'IncrementalAlterConfigs', groupId, brokerMessage: r.errorMessage ?? undefined });
}
