/**
 * DescribeShareGroupOffsets (API key 90): a share group's start offset per partition (KIP-932), with its lag
 * from v1 (KIP-1226). Mirrors Kafka's DescribeShareGroupOffsetsRequest/Response message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const DescribeShareGroupOffsets = defineApi({
  apiKey: 90,
  name: 'DescribeShareGroupOffsets',
  validVersions: '0-1',
  flexibleVersions: '0+',
  request: {
    fields: [
      { name: 'groups', type: '[]DescribeShareGroupOffsetsRequestGroup', versions: '0+', fields: [
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'topics', type: '[]DescribeShareGroupOffsetsRequestTopic', versions: '0+', nullableVersions: '0+', fields: [
          { name: 'topicName', type: 'string', versions: '0+' },
          { name: 'partitions', type: '[]int32', versions: '0+' },
        ] },
      ] },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'groups', type: '[]DescribeShareGroupOffsetsResponseGroup', versions: '0+', fields: [
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'topics', type: '[]DescribeShareGroupOffsetsResponseTopic', versions: '0+', fields: [
          { name: 'topicName', type: 'string', versions: '0+' },
          { name: 'topicId', type: 'uuid', versions: '0+' },
          { name: 'partitions', type: '[]DescribeShareGroupOffsetsResponsePartition', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'startOffset', type: 'int64', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '0+' },
            { name: 'lag', type: 'int64', versions: '1+', ignorable: true, default: -1n },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
          ] },
        ] },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      ] },
    ],
  },
});
