/**
 * ShareAcknowledge (API key 79): KIP-932 acknowledgement of acquired records without fetching more (accept,
 * release, reject, renew per offset). Mirrors Kafka's ShareAcknowledgeRequest/ShareAcknowledgeResponse message
 * definitions, every valid version (v2: KIP-1222 renew acknowledgements).
 */
import { defineApi } from '../schema-types.js';
import { acknowledgementBatchFields, leaderIdAndEpochFields, shareNodeEndpointFields } from './share-fetch.js';

export const ShareAcknowledge = defineApi({
  apiKey: 79,
  name: 'ShareAcknowledge',
  validVersions: '1-2',
  flexibleVersions: '0+',
  request: {
    fields: [
      { name: 'groupId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      { name: 'memberId', type: 'string', versions: '0+', nullableVersions: '0+' },
      { name: 'shareSessionEpoch', type: 'int32', versions: '0+' },
      { name: 'isRenewAck', type: 'bool', versions: '2+', default: false },
      { name: 'topics', type: '[]AcknowledgeTopic', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]AcknowledgePartition', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'acknowledgementBatches', type: '[]AcknowledgementBatch', versions: '0+', fields: acknowledgementBatchFields },
        ] },
      ] },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      { name: 'acquisitionLockTimeoutMs', type: 'int32', versions: '2+', ignorable: true },
      { name: 'responses', type: '[]ShareAcknowledgeTopicResponse', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
          { name: 'currentLeader', type: 'LeaderIdAndEpoch', versions: '0+', fields: leaderIdAndEpochFields },
        ] },
      ] },
      { name: 'nodeEndpoints', type: '[]NodeEndpoint', versions: '0+', fields: shareNodeEndpointFields },
    ],
  },
});
