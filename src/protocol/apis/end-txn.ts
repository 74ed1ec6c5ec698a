/**
 * EndTxn (API key 26): commits or aborts a transaction (KIP-98; epoch bump in v5, KIP-890).
 * Mirrors Kafka's EndTxnRequest/EndTxnResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const EndTxn = defineApi({
  apiKey: 26,
  name: 'EndTxn',
  validVersions: '0-5',
  flexibleVersions: '3+',
  request: {
    fields: [
      { name: 'transactionalId', type: 'string', versions: '0+' },
      { name: 'producerId', type: 'int64', versions: '0+' },
      { name: 'producerEpoch', type: 'int16', versions: '0+' },
      { name: 'committed', type: 'bool', versions: '0+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'producerId', type: 'int64', versions: '5+', default: -1n, ignorable: true },
      { name: 'producerEpoch', type: 'int16', versions: '5+', default: -1, ignorable: true },
    ],
  },
});
