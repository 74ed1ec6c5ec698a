/**
 * DescribeGroups (API key 15): classic groups: state, protocol and members.
 * Mirrors Kafka's DescribeGroupsRequest/DescribeGroupsResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const DescribeGroups = defineApi({
  apiKey: 15,
  name: 'DescribeGroups',
  validVersions: '0-6',
  flexibleVersions: '5+',
  request: {
    fields: [
      { name: 'groups', type: '[]string', versions: '0+' },
      { name: 'includeAuthorizedOperations', type: 'bool', versions: '3+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
      { name: 'groups', type: '[]DescribedGroup', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '6+', nullableVersions: '6+', default: null },
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'groupState', type: 'string', versions: '0+' },
        { name: 'protocolType', type: 'string', versions: '0+' },
        { name: 'protocolData', type: 'string', versions: '0+' },
        { name: 'members', type: '[]DescribedGroupMember', versions: '0+', fields: [
          { name: 'memberId', type: 'string', versions: '0+' },
          { name: 'groupInstanceId', type: 'string', versions: '4+', nullableVersions: '4+', default: null, ignorable: true },
          { name: 'clientId', type: 'string', versions: '0+' },
          { name: 'clientHost', type: 'string', versions: '0+' },
          { name: 'memberMetadata', type: 'bytes', versions: '0+' },
          { name: 'memberAssignment', type: 'bytes', versions: '0+' },
        ] },
        { name: 'authorizedOperations', type: 'int32', versions: '3+', default: -2147483648 },
      ] },
    ],
  },
});
