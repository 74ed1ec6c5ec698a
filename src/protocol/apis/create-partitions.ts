/**
 * CreatePartitions (API key 37): adds partitions to topics (KIP-195).
 * Mirrors Kafka's CreatePartitionsRequest/CreatePartitionsResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const CreatePartitions = defineApi({
  apiKey: 37,
  name: 'CreatePartitions',
  validVersions: '0-3',
  flexibleVersions: '2+',
  request: {
    fields: [
      { name: 'topics', type: '[]CreatePartitionsTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'count', type: 'int32', versions: '0+' },
        { name: 'assignments', type: '[]CreatePartitionsAssignment', versions: '0+', nullableVersions: '0+', fields: [
          { name: 'brokerIds', type: '[]int32', versions: '0+' },
        ] },
      ] },
      { name: 'timeoutMs', type: 'int32', versions: '0+' },
      { name: 'validateOnly', type: 'bool', versions: '0+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'results', type: '[]CreatePartitionsTopicResult', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      ] },
    ],
  },
});
