/**
 * TxnOffsetCommit (API key 28): commits offsets inside a transaction (KIP-98, KIP-447).
 * Mirrors Kafka's TxnOffsetCommitRequest/TxnOffsetCommitResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const TxnOffsetCommit = defineApi({
  apiKey: 28,
  name: 'TxnOffsetCommit',
  validVersions: '0-5',
  flexibleVersions: '3+',
  request: {
    fields: [
      { name: 'transactionalId', type: 'string', versions: '0+' },
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'producerId', type: 'int64', versions: '0+' },
      { name: 'producerEpoch', type: 'int16', versions: '0+' },
      { name: 'generationId', type: 'int32', versions: '3+', default: -1 },
      { name: 'memberId', type: 'string', versions: '3+', default: '' },
      { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
      { name: 'topics', type: '[]TxnOffsetCommitRequestTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]TxnOffsetCommitRequestPartition', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'committedOffset', type: 'int64', versions: '0+' },
          { name: 'committedLeaderEpoch', type: 'int32', versions: '2+', default: -1, ignorable: true },
          { name: 'committedMetadata', type: 'string', versions: '0+', nullableVersions: '0+' },
        ] },
      ] },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'topics', type: '[]TxnOffsetCommitResponseTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]TxnOffsetCommitResponsePartition', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
        ] },
      ] },
    ],
  },
});
