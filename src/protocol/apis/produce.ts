/**
 * Produce (API key 0): appends record batches to partition leaders (KIP-724: magic 2 only, one batch per partition).
 * Mirrors Kafka's ProduceRequest/ProduceResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const Produce = defineApi({
  apiKey: 0,
  name: 'Produce',
  validVersions: '3-13',
  flexibleVersions: '9+',
  request: {
    fields: [
      { name: 'transactionalId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
      { name: 'acks', type: 'int16', versions: '0+' },
      { name: 'timeoutMs', type: 'int32', versions: '0+' },
      { name: 'topicData', type: '[]TopicProduceData', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0-12', ignorable: true },
        { name: 'topicId', type: 'uuid', versions: '13+', ignorable: true },
        { name: 'partitionData', type: '[]PartitionProduceData', versions: '0+', fields: [
          { name: 'index', type: 'int32', versions: '0+' },
          { name: 'records', type: 'records', versions: '0+', nullableVersions: '0+' },
        ] },
      ] },
    ],
  },
  response: {
    fields: [
      { name: 'responses', type: '[]TopicProduceResponse', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0-12', ignorable: true },
        { name: 'topicId', type: 'uuid', versions: '13+', ignorable: true },
        { name: 'partitionResponses', type: '[]PartitionProduceResponse', versions: '0+', fields: [
          { name: 'index', type: 'int32', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'baseOffset', type: 'int64', versions: '0+' },
          { name: 'logAppendTimeMs', type: 'int64', versions: '2+', default: -1n, ignorable: true },
          { name: 'logStartOffset', type: 'int64', versions: '5+', default: -1n, ignorable: true },
          { name: 'recordErrors', type: '[]BatchIndexAndErrorMessage', versions: '8+', ignorable: true, fields: [
            { name: 'batchIndex', type: 'int32', versions: '8+' },
            { name: 'batchIndexErrorMessage', type: 'string', versions: '8+', nullableVersions: '8+', default: null },
          ] },
          { name: 'errorMessage', type: 'string', versions: '8+', nullableVersions: '8+', default: null, ignorable: true },
          { name: 'currentLeader', type: 'LeaderIdAndEpoch', versions: '10+', taggedVersions: '10+', tag: 0, fields: [
            { name: 'leaderId', type: 'int32', versions: '10+', default: -1 },
            { name: 'leaderEpoch', type: 'int32', versions: '10+', default: -1 },
          ] },
        ] },
      ] },
      { name: 'throttleTimeMs', type: 'int32', versions: '1+', default: 0, ignorable: true },
      { name: 'nodeEndpoints', type: '[]NodeEndpoint', versions: '10+', taggedVersions: '10+', tag: 0, fields: [
        { name: 'nodeId', type: 'int32', versions: '10+' },
        { name: 'host', type: 'string', versions: '10+' },
        { name: 'port', type: 'int32', versions: '10+' },
        { name: 'rack', type: 'string', versions: '10+', nullableVersions: '10+', default: null },
      ] },
    ],
  },
});
