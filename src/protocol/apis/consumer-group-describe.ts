/**
 * ConsumerGroupDescribe (API key 69): describes KIP-848 consumer groups.
 * Mirrors Kafka's ConsumerGroupDescribeRequest/ConsumerGroupDescribeResponse message definitions, every valid version.
 */
import { defineApi, defineFields } from '../schema-types.js';

/** Kafka's common struct TopicPartitions (response). */
const topicPartitionsFields = defineFields([
  { name: 'topicId', type: 'uuid', versions: '0+' },
  { name: 'topicName', type: 'string', versions: '0+' },
  { name: 'partitions', type: '[]int32', versions: '0+' },
]);

/** Kafka's common struct Assignment (response). */
const assignmentFields = defineFields([
  { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', fields: topicPartitionsFields },
]);

export const ConsumerGroupDescribe = defineApi({
  apiKey: 69,
  name: 'ConsumerGroupDescribe',
  validVersions: '0-1',
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
          { name: 'instanceId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
          { name: 'rackId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
          { name: 'memberEpoch', type: 'int32', versions: '0+' },
          { name: 'clientId', type: 'string', versions: '0+' },
          { name: 'clientHost', type: 'string', versions: '0+' },
          { name: 'subscribedTopicNames', type: '[]string', versions: '0+' },
          { name: 'subscribedTopicRegex', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
          { name: 'assignment', type: 'Assignment', versions: '0+', fields: assignmentFields },
          { name: 'targetAssignment', type: 'Assignment', versions: '0+', fields: assignmentFields },
          { name: 'memberType', type: 'int8', versions: '1+', default: -1, ignorable: true },
        ] },
        { name: 'authorizedOperations', type: 'int32', versions: '0+', default: -2147483648 },
      ] },
    ],
  },
});
