/**
 * FindCoordinator (API key 10): locates group and transaction coordinators; batched keys from v4 (KIP-699).
 * Mirrors Kafka's FindCoordinatorRequest/FindCoordinatorResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const FindCoordinator = defineApi({
  apiKey: 10,
  name: 'FindCoordinator',
  validVersions: '0-6',
  flexibleVersions: '3+',
  request: {
    fields: [
      { name: 'key', type: 'string', versions: '0-3' },
      { name: 'keyType', type: 'int8', versions: '1+', default: 0 },
      { name: 'coordinatorKeys', type: '[]string', versions: '4+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
      { name: 'errorCode', type: 'int16', versions: '0-3' },
      { name: 'errorMessage', type: 'string', versions: '1-3', nullableVersions: '1-3', ignorable: true },
      { name: 'nodeId', type: 'int32', versions: '0-3' },
      { name: 'host', type: 'string', versions: '0-3' },
      { name: 'port', type: 'int32', versions: '0-3' },
      { name: 'coordinators', type: '[]Coordinator', versions: '4+', fields: [
        { name: 'key', type: 'string', versions: '4+' },
        { name: 'nodeId', type: 'int32', versions: '4+' },
        { name: 'host', type: 'string', versions: '4+' },
        { name: 'port', type: 'int32', versions: '4+' },
        { name: 'errorCode', type: 'int16', versions: '4+' },
        { name: 'errorMessage', type: 'string', versions: '4+', nullableVersions: '4+', ignorable: true },
      ] },
    ],
  },
});
