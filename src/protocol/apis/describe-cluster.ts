/**
 * DescribeCluster (API key 60): cluster id, controller and brokers (KIP-700).
 * Mirrors Kafka's DescribeClusterRequest/DescribeClusterResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const DescribeCluster = defineApi({
  apiKey: 60,
  name: 'DescribeCluster',
  validVersions: '0-2',
  flexibleVersions: '0+',
  request: {
    fields: [
      { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: '0+' },
      { name: 'endpointType', type: 'int8', versions: '1+', default: 1 },
      { name: 'includeFencedBrokers', type: 'bool', versions: '2+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      { name: 'endpointType', type: 'int8', versions: '1+', default: 1 },
      { name: 'clusterId', type: 'string', versions: '0+' },
      { name: 'controllerId', type: 'int32', versions: '0+', default: -1 },
      { name: 'brokers', type: '[]DescribeClusterBroker', versions: '0+', fields: [
        { name: 'brokerId', type: 'int32', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'int32', versions: '0+' },
        { name: 'rack', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
        { name: 'isFenced', type: 'bool', versions: '2+' },
      ] },
      { name: 'clusterAuthorizedOperations', type: 'int32', versions: '0+', default: -2147483648 },
    ],
  },
});
