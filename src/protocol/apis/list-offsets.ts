/**
 * ListOffsets (API key 2): offsets by timestamp, earliest, latest (and max timestamp, KIP-734).
 * Mirrors Kafka's ListOffsetsRequest/ListOffsetsResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const ListOffsets = defineApi({
  apiKey: 2,
  name: 'ListOffsets',
  validVersions: '1-11',
  flexibleVersions: '6+',
  request: {
    fields: [
      { name: 'replicaId', type: 'int32', versions: '0+' },
      { name: 'isolationLevel', type: 'int8', versions: '2+' },
      { name: 'topics', type: '[]ListOffsetsTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]ListOffsetsPartition', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'currentLeaderEpoch', type: 'int32', versions: '4+', default: -1, ignorable: true },
          { name: 'timestamp', type: 'int64', versions: '0+' },
        ] },
      ] },
      { name: 'timeoutMs', type: 'int32', versions: '10+', ignorable: true },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '2+', ignorable: true },
      { name: 'topics', type: '[]ListOffsetsTopicResponse', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]ListOffsetsPartitionResponse', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'timestamp', type: 'int64', versions: '1+', default: -1n },
          { name: 'offset', type: 'int64', versions: '1+', default: -1n },
          { name: 'leaderEpoch', type: 'int32', versions: '4+', default: -1 },
        ] },
      ] },
    ],
  },
});
