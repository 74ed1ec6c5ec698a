/**
 * ListGroups (API key 16): lists groups, filtered by state (KIP-518) and type (KIP-848).
 * Mirrors Kafka's ListGroupsRequest/ListGroupsResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const ListGroups = defineApi({
  apiKey: 16,
  name: 'ListGroups',
  validVersions: '0-5',
  flexibleVersions: '3+',
  request: {
    fields: [
      { name: 'statesFilter', type: '[]string', versions: '4+' },
      { name: 'typesFilter', type: '[]string', versions: '5+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'groups', type: '[]ListedGroup', versions: '0+', fields: [
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'protocolType', type: 'string', versions: '0+' },
        { name: 'groupState', type: 'string', versions: '4+', ignorable: true },
        { name: 'groupType', type: 'string', versions: '5+', ignorable: true },
      ] },
    ],
  },
});
