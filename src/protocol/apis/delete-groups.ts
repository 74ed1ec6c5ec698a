/**
 * DeleteGroups (API key 42): deletes empty groups.
 * Mirrors Kafka's DeleteGroupsRequest/DeleteGroupsResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const DeleteGroups = defineApi({
  apiKey: 42,
  name: 'DeleteGroups',
  validVersions: '0-2',
  flexibleVersions: '2+',
  request: {
    fields: [
      { name: 'groupsNames', type: '[]string', versions: '0+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'results', type: '[]DeletableGroupResult', versions: '0+', fields: [
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
      ] },
    ],
  },
});
