/**
 * Heartbeat (API key 12): classic group liveness.
 * Mirrors Kafka's HeartbeatRequest/HeartbeatResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const Heartbeat = defineApi({
  apiKey: 12,
  name: 'Heartbeat',
  validVersions: '0-4',
  flexibleVersions: '4+',
  request: {
    fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'generationId', type: 'int32', versions: '0+' },
      { name: 'memberId', type: 'string', versions: '0+' },
      { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
      { name: 'errorCode', type: 'int16', versions: '0+' },
    ],
  },
});
