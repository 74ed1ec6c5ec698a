/**
 * Metadata (API key 3): brokers, topics, partitions and leaders; topic ids from v10 (KIP-516).
 * Mirrors Kafka's MetadataRequest/MetadataResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const Metadata = defineApi({
  apiKey: 3,
  name: 'Metadata',
  validVersions: '0-13',
  flexibleVersions: '9+',
  request: {
    fields: [
      { name: 'topics', type: '[]MetadataRequestTopic', versions: '0+', nullableVersions: '1+', fields: [
        { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
        { name: 'name', type: 'string', versions: '0+', nullableVersions: '10+' },
      ] },
      { name: 'allowAutoTopicCreation', type: 'bool', versions: '4+', default: true },
      { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: '8-10' },
      { name: 'includeTopicAuthorizedOperations', type: 'bool', versions: '8+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '3+', ignorable: true },
      { name: 'brokers', type: '[]MetadataResponseBroker', versions: '0+', fields: [
        { name: 'nodeId', type: 'int32', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'int32', versions: '0+' },
        { name: 'rack', type: 'string', versions: '1+', nullableVersions: '1+', default: null, ignorable: true },
      ] },
      { name: 'clusterId', type: 'string', versions: '2+', nullableVersions: '2+', default: null, ignorable: true },
      { name: 'controllerId', type: 'int32', versions: '1+', default: -1, ignorable: true },
      { name: 'topics', type: '[]MetadataResponseTopic', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'name', type: 'string', versions: '0+', nullableVersions: '12+' },
        { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
        { name: 'isInternal', type: 'bool', versions: '1+', default: false, ignorable: true },
        { name: 'partitions', type: '[]MetadataResponsePartition', versions: '0+', fields: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'leaderId', type: 'int32', versions: '0+' },
          { name: 'leaderEpoch', type: 'int32', versions: '7+', default: -1, ignorable: true },
          { name: 'replicaNodes', type: '[]int32', versions: '0+' },
          { name: 'isrNodes', type: '[]int32', versions: '0+' },
          { name: 'offlineReplicas', type: '[]int32', versions: '5+', ignorable: true },
        ] },
        { name: 'topicAuthorizedOperations', type: 'int32', versions: '8+', default: -2147483648 },
      ] },
      { name: 'clusterAuthorizedOperations', type: 'int32', versions: '8-10', default: -2147483648 },
      { name: 'errorCode', type: 'int16', versions: '13+', ignorable: true },
    ],
  },
});
