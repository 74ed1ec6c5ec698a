/**
 * AlterShareGroupOffsets (API key 91): sets a share group's start offset per partition (KIP-932's offset reset;
 * the group must have no members). Mirrors Kafka's AlterShareGroupOffsetsRequest/Response message definitions.
 */
import { defineApi } from '../schema-types.js';

export const AlterShareGroupOffsets = defineApi({
  apiKey: 91,
  name: 'AlterShareGroupOffsets',
  validVersions: '0',
  flexibleVersions: '0+',
  request: {
    fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'topics', type: '[]AlterShareGroupOffsetsRequestTopic', versions: '0+', fields: [
        { name: 'topicName', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]AlterShareGroupOffsetsRequestPartition', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'startOffset', type: 'int64', versions: '0+' },
        ] },
      ] },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      { name: 'responses', type: '[]AlterShareGroupOffsetsResponseTopic', versions: '0+', fields: [
        { name: 'topicName', type: 'string', versions: '0+' },
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]AlterShareGroupOffsetsResponsePartition', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
        ] },
      ] },
    ],
  },
});
