/**
 * OffsetFetch (API key 9): reads committed offsets; several groups from v8 (KIP-709).
 * Mirrors Kafka's OffsetFetchRequest/OffsetFetchResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const OffsetFetch = defineApi({
  apiKey: 9,
  name: 'OffsetFetch',
  validVersions: '1-10',
  flexibleVersions: '6+',
  request: {
    fields: [
      { name: 'groupId', type: 'string', versions: '0-7' },
      { name: 'topics', type: '[]OffsetFetchRequestTopic', versions: '0-7', nullableVersions: '2-7', fields: [
        { name: 'name', type: 'string', versions: '0-7' },
        { name: 'partitionIndexes', type: '[]int32', versions: '0-7' },
      ] },
      { name: 'groups', type: '[]OffsetFetchRequestGroup', versions: '8+', fields: [
        { name: 'groupId', type: 'string', versions: '8+' },
        { name: 'memberId', type: 'string', versions: '9+', nullableVersions: '9+', default: null, ignorable: true },
        { name: 'memberEpoch', type: 'int32', versions: '9+', default: -1, ignorable: true },
        { name: 'topics', type: '[]OffsetFetchRequestTopics', versions: '8+', nullableVersions: '8+', fields: [
          { name: 'name', type: 'string', versions: '8-9', ignorable: true },
          { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
          { name: 'partitionIndexes', type: '[]int32', versions: '8+' },
        ] },
      ] },
      { name: 'requireStable', type: 'bool', versions: '7+', default: false },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '3+', ignorable: true },
      { name: 'topics', type: '[]OffsetFetchResponseTopic', versions: '0-7', fields: [
        { name: 'name', type: 'string', versions: '0-7' },
        { name: 'partitions', type: '[]OffsetFetchResponsePartition', versions: '0-7', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0-7' },
          { name: 'committedOffset', type: 'int64', versions: '0-7' },
          { name: 'committedLeaderEpoch', type: 'int32', versions: '5-7', default: -1, ignorable: true },
          { name: 'metadata', type: 'string', versions: '0-7', nullableVersions: '0-7' },
          { name: 'errorCode', type: 'int16', versions: '0-7' },
        ] },
      ] },
      { name: 'errorCode', type: 'int16', versions: '2-7', default: 0, ignorable: true },
      { name: 'groups', type: '[]OffsetFetchResponseGroup', versions: '8+', fields: [
        { name: 'groupId', type: 'string', versions: '8+' },
        { name: 'topics', type: '[]OffsetFetchResponseTopics', versions: '8+', fields: [
          { name: 'name', type: 'string', versions: '8-9', ignorable: true },
          { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
          { name: 'partitions', type: '[]OffsetFetchResponsePartitions', versions: '8+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '8+' },
            { name: 'committedOffset', type: 'int64', versions: '8+' },
            { name: 'committedLeaderEpoch', type: 'int32', versions: '8+', default: -1, ignorable: true },
            { name: 'metadata', type: 'string', versions: '8+', nullableVersions: '8+' },
            { name: 'errorCode', type: 'int16', versions: '8+' },
          ] },
        ] },
        { name: 'errorCode', type: 'int16', versions: '8+', default: 0 },
      ] },
    ],
  },
});
