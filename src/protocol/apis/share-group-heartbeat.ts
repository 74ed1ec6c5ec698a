/**
 * ShareGroupHeartbeat (API key 76): KIP-932 share group membership; the broker assigns partitions (a partition may
 * go to several members at once). Mirrors Kafka's ShareGroupHeartbeatRequest/ShareGroupHeartbeatResponse message
 * definitions, every valid version (v0 was the early-access version of Kafka 4.0, removed in 4.1).
 */
import { defineApi } from '../schema-types.js';

export const ShareGroupHeartbeat = defineApi({
  apiKey: 76,
  name: 'ShareGroupHeartbeat',
  validVersions: '1',
  flexibleVersions: '0+',
  request: {
    fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'memberId', type: 'string', versions: '0+' },
      { name: 'memberEpoch', type: 'int32', versions: '0+' },
      { name: 'rackId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      { name: 'subscribedTopicNames', type: '[]string', versions: '0+', nullableVersions: '0+', default: null },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      { name: 'memberId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      { name: 'memberEpoch', type: 'int32', versions: '0+' },
      { name: 'heartbeatIntervalMs', type: 'int32', versions: '0+' },
      { name: 'assignment', type: 'Assignment', versions: '0+', nullableVersions: '0+', default: null, fields: [
        { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', fields: [
          { name: 'topicId', type: 'uuid', versions: '0+' },
          { name: 'partitions', type: '[]int32', versions: '0+' },
        ] },
      ] },
    ],
  },
});
