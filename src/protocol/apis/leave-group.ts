/**
 * LeaveGroup (API key 13): classic group: members leave (batched from v3, KIP-345).
 * Mirrors Kafka's LeaveGroupRequest/LeaveGroupResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const LeaveGroup = defineApi({
  apiKey: 13,
  name: 'LeaveGroup',
  validVersions: '0-5',
  flexibleVersions: '4+',
  request: {
    fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'memberId', type: 'string', versions: '0-2' },
      { name: 'members', type: '[]MemberIdentity', versions: '3+', fields: [
        { name: 'memberId', type: 'string', versions: '3+' },
        { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
        { name: 'reason', type: 'string', versions: '5+', nullableVersions: '5+', default: null, ignorable: true },
      ] },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'members', type: '[]MemberResponse', versions: '3+', fields: [
        { name: 'memberId', type: 'string', versions: '3+' },
        { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+' },
        { name: 'errorCode', type: 'int16', versions: '3+' },
      ] },
    ],
  },
});
