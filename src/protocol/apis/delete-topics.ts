/**
 * DeleteTopics (API key 20): deletes topics, by name or id (KIP-516).
 * Mirrors Kafka's DeleteTopicsRequest/DeleteTopicsResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const DeleteTopics = defineApi({
  apiKey: 20,
  name: 'DeleteTopics',
  validVersions: '1-6',
  flexibleVersions: '4+',
  request: {
    fields: [
      { name: 'topics', type: '[]DeleteTopicState', versions: '6+', fields: [
        { name: 'name', type: 'string', versions: '6+', nullableVersions: '6+', default: null },
        { name: 'topicId', type: 'uuid', versions: '6+' },
      ] },
      { name: 'topicNames', type: '[]string', versions: '0-5', ignorable: true },
      { name: 'timeoutMs', type: 'int32', versions: '0+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
      { name: 'responses', type: '[]DeletableTopicResult', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+', nullableVersions: '6+' },
        { name: 'topicId', type: 'uuid', versions: '6+', ignorable: true },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '5+', nullableVersions: '5+', default: null, ignorable: true },
      ] },
    ],
  },
});
