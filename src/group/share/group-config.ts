/**
 * The delivery limit of a share group (KIP-932): how many times a record is delivered before the broker archives
 * it. The group's own `share.delivery.count.limit` (a group config, KIP-848's DescribeConfigs resource type 32)
 * wins; without it, the broker's `group.share.delivery.count.limit` applies.
 */
import type { Cluster } from '../../client/cluster.js';
import { DescribeConfigs } from '../../protocol/apis/describe-configs.js';

/** DescribeConfigs resource types. */
const GROUP_RESOURCE = 32;
const BROKER_RESOURCE = 4;

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
