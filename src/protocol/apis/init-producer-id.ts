/**
 * InitProducerId (API key 22): producer id and epoch for idempotence and transactions (KIP-98, KIP-360).
 * Mirrors Kafka's InitProducerIdRequest/InitProducerIdResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const InitProducerId = defineApi({
  apiKey: 22,
  name: 'InitProducerId',
  validVersions: '0-6',
  flexibleVersions: '2+',
  latestVersionUnstable: true,
  request: {
    fields: [
      { name: 'transactionalId', type: 'string', versions: '0+', nullableVersions: '0+' },
      { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
      { name: 'producerId', type: 'int64', versions: '3+', default: -1n },
      { name: 'producerEpoch', type: 'int16', versions: '3+', default: -1 },
      { name: 'enable2Pc', type: 'bool', versions: '6+', default: false },
      { name: 'keepPreparedTxn', type: 'bool', versions: '6+', default: false },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+', ignorable: true },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'producerId', type: 'int64', versions: '0+', default: -1n },
      { name: 'producerEpoch', type: 'int16', versions: '0+' },
      { name: 'ongoingTxnProducerId', type: 'int64', versions: '6+', default: -1n },
      { name: 'ongoingTxnProducerEpoch', type: 'int16', versions: '6+', default: -1 },
    ],
  },
});
