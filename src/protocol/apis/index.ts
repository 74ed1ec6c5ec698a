/**
 * Every API this client speaks, by key and by name. The client layer looks definitions up here after
 * ApiVersions (KIP-35) to pick versions; tests iterate it to cover every API × version.
 */
import type { ApiDef } from '../schema-types.js';
import { ApiVersions } from './api-versions.js';
import { Metadata } from './metadata.js';
import { Produce } from './produce.js';
import { Fetch } from './fetch.js';
import { ListOffsets } from './list-offsets.js';
import { OffsetForLeaderEpoch } from './offset-for-leader-epoch.js';
import { FindCoordinator } from './find-coordinator.js';
import { JoinGroup } from './join-group.js';
import { SyncGroup } from './sync-group.js';
import { Heartbeat } from './heartbeat.js';
import { LeaveGroup } from './leave-group.js';
import { OffsetCommit } from './offset-commit.js';
import { OffsetFetch } from './offset-fetch.js';
import { DescribeGroups } from './describe-groups.js';
import { ListGroups } from './list-groups.js';
import { DeleteGroups } from './delete-groups.js';
import { ConsumerGroupHeartbeat } from './consumer-group-heartbeat.js';
import { ConsumerGroupDescribe } from './consumer-group-describe.js';
import { ShareGroupHeartbeat } from './share-group-heartbeat.js';
import { ShareGroupDescribe } from './share-group-describe.js';
import { ShareFetch } from './share-fetch.js';
import { ShareAcknowledge } from './share-acknowledge.js';
import { DescribeShareGroupOffsets } from './describe-share-group-offsets.js';
import { AlterShareGroupOffsets } from './alter-share-group-offsets.js';
import { InitProducerId } from './init-producer-id.js';
import { AddPartitionsToTxn } from './add-partitions-to-txn.js';
import { AddOffsetsToTxn } from './add-offsets-to-txn.js';
import { EndTxn } from './end-txn.js';
import { TxnOffsetCommit } from './txn-offset-commit.js';
import { SaslHandshake } from './sasl-handshake.js';
import { SaslAuthenticate } from './sasl-authenticate.js';
import { CreateTopics } from './create-topics.js';
import { DeleteTopics } from './delete-topics.js';
import { CreatePartitions } from './create-partitions.js';
import { DescribeConfigs } from './describe-configs.js';
import { IncrementalAlterConfigs } from './incremental-alter-configs.js';
import { DeleteRecords } from './delete-records.js';
import { DescribeCluster } from './describe-cluster.js';

export { ApiVersions } from './api-versions.js';
export { Metadata } from './metadata.js';
export { Produce } from './produce.js';
export { Fetch } from './fetch.js';
export { ListOffsets } from './list-offsets.js';
export { OffsetForLeaderEpoch } from './offset-for-leader-epoch.js';
export { FindCoordinator } from './find-coordinator.js';
export { JoinGroup } from './join-group.js';
export { SyncGroup } from './sync-group.js';
export { Heartbeat } from './heartbeat.js';
export { LeaveGroup } from './leave-group.js';
export { OffsetCommit } from './offset-commit.js';
export { OffsetFetch } from './offset-fetch.js';
export { DescribeGroups } from './describe-groups.js';
export { ListGroups } from './list-groups.js';
export { DeleteGroups } from './delete-groups.js';
export { ConsumerGroupHeartbeat } from './consumer-group-heartbeat.js';
export { ConsumerGroupDescribe } from './consumer-group-describe.js';
export { ShareGroupHeartbeat } from './share-group-heartbeat.js';
export { ShareGroupDescribe } from './share-group-describe.js';
export { ShareFetch } from './share-fetch.js';
export { ShareAcknowledge } from './share-acknowledge.js';
export { DescribeShareGroupOffsets } from './describe-share-group-offsets.js';
export { AlterShareGroupOffsets } from './alter-share-group-offsets.js';
export { InitProducerId } from './init-producer-id.js';
export { AddPartitionsToTxn } from './add-partitions-to-txn.js';
export { AddOffsetsToTxn } from './add-offsets-to-txn.js';
export { EndTxn } from './end-txn.js';
export { TxnOffsetCommit } from './txn-offset-commit.js';
export { SaslHandshake } from './sasl-handshake.js';
export { SaslAuthenticate } from './sasl-authenticate.js';
export { CreateTopics } from './create-topics.js';
export { DeleteTopics } from './delete-topics.js';
export { CreatePartitions } from './create-partitions.js';
export { DescribeConfigs } from './describe-configs.js';
export { IncrementalAlterConfigs } from './incremental-alter-configs.js';
export { DeleteRecords } from './delete-records.js';
export { DescribeCluster } from './describe-cluster.js';

/** All definitions, keyed by Kafka's API name. */
export const apis = {
  ApiVersions,
  Metadata,
  Produce,
  Fetch,
  ListOffsets,
  OffsetForLeaderEpoch,
  FindCoordinator,
  JoinGroup,
  SyncGroup,
  Heartbeat,
  LeaveGroup,
  OffsetCommit,
  OffsetFetch,
  DescribeGroups,
  ListGroups,
  DeleteGroups,
  ConsumerGroupHeartbeat,
  ConsumerGroupDescribe,
  ShareGroupHeartbeat,
  ShareGroupDescribe,
  ShareFetch,
  ShareAcknowledge,
  DescribeShareGroupOffsets,
  AlterShareGroupOffsets,
  InitProducerId,
  AddPartitionsToTxn,
  AddOffsetsToTxn,
  EndTxn,
  TxnOffsetCommit,
  SaslHandshake,
  SaslAuthenticate,
  CreateTopics,
  DeleteTopics,
  CreatePartitions,
  DescribeConfigs,
  IncrementalAlterConfigs,
  DeleteRecords,
  DescribeCluster,
} as const;

/** Kafka API names this client defines. */
export type ApiName = keyof typeof apis;

/** Definitions by API key. */
export const apisByKey: ReadonlyMap<number, ApiDef> = new Map(Object.values(apis).map((api) => [api.apiKey, api as ApiDef]));

/** The definition for an API key, or undefined when this client does not speak it. */
export function apiByKey(apiKey: number): ApiDef | undefined {
  return apisByKey.get(apiKey);
}
