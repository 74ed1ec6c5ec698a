/**
 * ShareGroupDescribe (API key 77): KIP-932 share group state, members and their assignments, for admin tools.
 * Mirrors Kafka's ShareGroupDescribeRequest/ShareGroupDescribeResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const ShareGroupDescribe = defineApi({
  apiKey: 77,
  name: 'ShareGroupDescribe',
  validVersions: '1',
  flexibleVersions: '0+',
  request: {
    fields: [
      { name: 'groupIds', type: '[]string', versions: '0+' },
      { name: 'includeAuthorizedOperations', type: 'bool', versions: '0+' },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'groups', type: '[]DescribedGroup', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'groupState', type: 'string', versions: '0+' },
        { name: 'groupEpoch', type: 'int32', versions: '0+' },
        { name: 'assignmentEpoch', type: 'int32', versions: '0+' },
        { name: 'assignorName', type: 'string', versions: '0+' },
        { name: 'members', type: '[]Member', versions: '0+', fields: [
          { name: 'memberId', type: 'string', versions: '0+' },
          { name: 'rackId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
          { name: 'memberEpoch', type: 'int32', versions: '0+' },
          { name: 'clientId', type: 'string', versions: '0+' },
          { name: 'clientHost', type: 'string', versions: '0+' },
          { name: 'subscribedTopicNames', type: '[]string', versions: '0+' },
          { name: 'assignment', type: 'Assignment', versions: '0+', fields: [
            { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', fields: [
              { name: 'topicId', type: 'uuid', versions: '0+' },
              { name: 'topicName', type: 'string', versions: '0+' },
              { name: 'partitions', type: '[]int32', versions: '0+' },
            ] },
          ] },
        ] },
        { name: 'authorizedOperations', type: 'int32', versions: '0+', default: -2147483648 },
      ] },
    ],
  },
});
