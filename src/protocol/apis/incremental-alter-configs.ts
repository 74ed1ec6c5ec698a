/**
 * IncrementalAlterConfigs (API key 44): changes configs key by key (KIP-339).
 * Mirrors Kafka's IncrementalAlterConfigsRequest/IncrementalAlterConfigsResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const IncrementalAlterConfigs = defineApi({
  apiKey: 44,
  name: 'IncrementalAlterConfigs',
  validVersions: '0-1',
  flexibleVersions: '1+',
  request: {
    fields: [
      { name: 'resources', type: '[]AlterConfigsResource', versions: '0+', fields: [
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        { name: 'configs', type: '[]AlterableConfig', versions: '0+', fields: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'configOperation', type: 'int8', versions: '0+' },
          { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+' },
        ] },
      ] },
      { name: 'validateOnly', type: 'bool', versions: '0+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'responses', type: '[]AlterConfigsResourceResponse', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
      ] },
    ],
  },
});
