/**
 * DescribeConfigs (API key 32): reads broker and topic configs.
 * Mirrors Kafka's DescribeConfigsRequest/DescribeConfigsResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const DescribeConfigs = defineApi({
  apiKey: 32,
  name: 'DescribeConfigs',
  validVersions: '1-4',
  flexibleVersions: '4+',
  request: {
    fields: [
      { name: 'resources', type: '[]DescribeConfigsResource', versions: '0+', fields: [
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        { name: 'configurationKeys', type: '[]string', versions: '0+', nullableVersions: '0+' },
      ] },
      { name: 'includeSynonyms', type: 'bool', versions: '1+', default: false },
      { name: 'includeDocumentation', type: 'bool', versions: '3+', default: false },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'results', type: '[]DescribeConfigsResult', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        { name: 'configs', type: '[]DescribeConfigsResourceResult', versions: '0+', fields: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+' },
          { name: 'readOnly', type: 'bool', versions: '0+' },
          { name: 'configSource', type: 'int8', versions: '1+', default: -1, ignorable: true },
          { name: 'isSensitive', type: 'bool', versions: '0+' },
          { name: 'synonyms', type: '[]DescribeConfigsSynonym', versions: '1+', ignorable: true, fields: [
            { name: 'name', type: 'string', versions: '1+' },
            { name: 'value', type: 'string', versions: '1+', nullableVersions: '0+' },
            { name: 'source', type: 'int8', versions: '1+' },
          ] },
          { name: 'configType', type: 'int8', versions: '3+', default: 0, ignorable: true },
          { name: 'documentation', type: 'string', versions: '3+', nullableVersions: '0+', ignorable: true },
        ] },
      ] },
    ],
  },
});
