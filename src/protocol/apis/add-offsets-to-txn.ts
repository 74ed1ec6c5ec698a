/**
 * AddOffsetsToTxn (API key 25): adds a group's offsets to a transaction (KIP-98).
 * Mirrors Kafka's AddOffsetsToTxnRequest/AddOffsetsToTxnResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const AddOffsetsToTxn = defineApi({
  apiKey: 25,
  name: 'AddOffsetsToTxn',
  validVersions: '0-4',
  flexibleVersions: '3+',
  request: {
    fields: [
      { name: 'transactionalId', type: 'string', versions: '0+' },
      { name: 'producerId', type: 'int64', versions: '0+' },
      { name: 'producerEpoch', type: 'int16', versions: '0+' },
      { name: 'groupId', type: 'string', versions: '0+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
    ],
  },
});
