/**
 * OffsetCommit (API key 8): commits consumed offsets; member epoch from v9 (KIP-848), topic ids from v10.
 * Mirrors Kafka's OffsetCommitRequest/OffsetCommitResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const OffsetCommit = defineApi({
  apiKey: 8,
  name: 'OffsetCommit',
  validVersions: '2-10',
  flexibleVersions: '8+',
  request: {
    fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'generationIdOrMemberEpoch', type: 'int32', versions: '1+', default: -1, ignorable: true },
      { name: 'memberId', type: 'string', versions: '1+', ignorable: true },
      { name: 'groupInstanceId', type: 'string', versions: '7+', nullableVersions: '7+', default: null },
      { name: 'retentionTimeMs', type: 'int64', versions: '2-4', default: -1n, ignorable: true },
      { name: 'topics', type: '[]OffsetCommitRequestTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0-9', ignorable: true },
        { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
        { name: 'partitions', type: '[]OffsetCommitRequestPartition', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'committedOffset', type: 'int64', versions: '0+' },
          { name: 'committedLeaderEpoch', type: 'int32', versions: '6+', default: -1, ignorable: true },
          { name: 'committedMetadata', type: 'string', versions: '0+', nullableVersions: '0+' },
        ] },
      ] },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '3+', ignorable: true },
      { name: 'topics', type: '[]OffsetCommitResponseTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0-9', ignorable: true },
        { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
        { name: 'partitions', type: '[]OffsetCommitResponsePartition', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
        ] },
      ] },
    ],
  },
});
