/**
 * OffsetForLeaderEpoch (API key 23): end offset of a leader epoch, to detect log truncation (KIP-320).
 * Mirrors Kafka's OffsetForLeaderEpochRequest/OffsetForLeaderEpochResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const OffsetForLeaderEpoch = defineApi({
  apiKey: 23,
  name: 'OffsetForLeaderEpoch',
  validVersions: '2-4',
  flexibleVersions: '4+',
  request: {
    fields: [
      { name: 'replicaId', type: 'int32', versions: '3+', default: -2, ignorable: true },
      { name: 'topics', type: '[]OffsetForLeaderTopic', versions: '0+', fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]OffsetForLeaderPartition', versions: '0+', fields: [
          { name: 'partition', type: 'int32', versions: '0+' },
          { name: 'currentLeaderEpoch', type: 'int32', versions: '2+', default: -1, ignorable: true },
          { name: 'leaderEpoch', type: 'int32', versions: '0+' },
        ] },
      ] },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '2+', ignorable: true },
      { name: 'topics', type: '[]OffsetForLeaderTopicResult', versions: '0+', fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]EpochEndOffset', versions: '0+', fields: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'partition', type: 'int32', versions: '0+' },
          { name: 'leaderEpoch', type: 'int32', versions: '1+', default: -1, ignorable: true },
          { name: 'endOffset', type: 'int64', versions: '0+', default: -1n },
        ] },
      ] },
    ],
  },
});
