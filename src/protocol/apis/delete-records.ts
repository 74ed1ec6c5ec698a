/**
 * DeleteRecords (API key 21): deletes records before an offset (KIP-107).
 * Mirrors Kafka's DeleteRecordsRequest/DeleteRecordsResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const DeleteRecords = defineApi({
  apiKey: 21,
  name: 'DeleteRecords',
  validVersions: '0-2',
  flexibleVersions: '2+',
  request: {
    fields: [
      { name: 'topics', type: '[]DeleteRecordsTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]DeleteRecordsPartition', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'offset', type: 'int64', versions: '0+' },
        ] },
      ] },
      { name: 'timeoutMs', type: 'int32', versions: '0+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'topics', type: '[]DeleteRecordsTopicResult', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]DeleteRecordsPartitionResult', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'lowWatermark', type: 'int64', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
        ] },
      ] },
    ],
  },
});
