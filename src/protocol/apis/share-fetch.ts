/**
 * ShareFetch (API key 78): KIP-932 fetch for share groups: the broker acquires records for this member (under an
 * acquisition lock) and returns them with their delivery counts; acknowledgements may ride on the request.
 * Share sessions: epoch 0 opens, -1 closes, otherwise it increments per request. Mirrors Kafka's
 * ShareFetchRequest/ShareFetchResponse message definitions, every valid version (v2: KIP-1206 acquire mode and
 * KIP-1222 renew acknowledgements).
 */
import { defineApi, defineFields } from '../schema-types.js';

/** Kafka's AcknowledgementBatch (request), shared with ShareAcknowledge. */
export const acknowledgementBatchFields = defineFields([
  { name: 'firstOffset', type: 'int64', versions: '0+' },
  { name: 'lastOffset', type: 'int64', versions: '0+' },
  { name: 'acknowledgeTypes', type: '[]int8', versions: '0+' },
]);

/** Kafka's LeaderIdAndEpoch (response), shared with ShareAcknowledge. */
export const leaderIdAndEpochFields = defineFields([
  { name: 'leaderId', type: 'int32', versions: '0+' },
  { name: 'leaderEpoch', type: 'int32', versions: '0+' },
]);

/** Kafka's NodeEndpoint (response), shared with ShareAcknowledge. */
export const shareNodeEndpointFields = defineFields([
  { name: 'nodeId', type: 'int32', versions: '0+' },
  { name: 'host', type: 'string', versions: '0+' },
  { name: 'port', type: 'int32', versions: '0+' },
  { name: 'rack', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
]);

export const ShareFetch = defineApi({
  apiKey: 78,
  name: 'ShareFetch',
  validVersions: '1-2',
  flexibleVersions: '0+',
  request: {
    fields: [
      { name: 'groupId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      { name: 'memberId', type: 'string', versions: '0+', nullableVersions: '0+' },
      { name: 'shareSessionEpoch', type: 'int32', versions: '0+' },
      { name: 'maxWaitMs', type: 'int32', versions: '0+' },
      { name: 'minBytes', type: 'int32', versions: '0+' },
      { name: 'maxBytes', type: 'int32', versions: '0+', default: 2147483647 },
      { name: 'maxRecords', type: 'int32', versions: '1+' },
      { name: 'batchSize', type: 'int32', versions: '1+' },
      { name: 'shareAcquireMode', type: 'int8', versions: '2+', default: 0, ignorable: true },
      { name: 'isRenewAck', type: 'bool', versions: '2+', default: false },
      { name: 'topics', type: '[]FetchTopic', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]FetchPartition', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'partitionMaxBytes', type: 'int32', versions: '0' },
          { name: 'acknowledgementBatches', type: '[]AcknowledgementBatch', versions: '0+', fields: acknowledgementBatchFields },
        ] },
      ] },
      { name: 'forgottenTopicsData', type: '[]ForgottenTopic', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ] },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      { name: 'acquisitionLockTimeoutMs', type: 'int32', versions: '1+' },
      { name: 'responses', type: '[]ShareFetchableTopicResponse', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
          { name: 'acknowledgeErrorCode', type: 'int16', versions: '0+' },
          { name: 'acknowledgeErrorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
          { name: 'currentLeader', type: 'LeaderIdAndEpoch', versions: '0+', fields: leaderIdAndEpochFields },
          { name: 'records', type: 'records', versions: '0+', nullableVersions: '0' },
          { name: 'acquiredRecords', type: '[]AcquiredRecords', versions: '0+', fields: [
            { name: 'firstOffset', type: 'int64', versions: '0+' },
            { name: 'lastOffset', type: 'int64', versions: '0+' },
            { name: 'deliveryCount', type: 'int16', versions: '0+' },
          ] },
        ] },
      ] },
      { name: 'nodeEndpoints', type: '[]NodeEndpoint', versions: '0+', fields: shareNodeEndpointFields },
    ],
  },
});
