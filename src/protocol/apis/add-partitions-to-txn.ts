/**
 * AddPartitionsToTxn (API key 24): adds partitions to a transaction; batched for brokers from v4 (KIP-890).
 * Mirrors Kafka's AddPartitionsToTxnRequest/AddPartitionsToTxnResponse message definitions, every valid version.
 */
import { defineApi, defineFields } from '../schema-types.js';

/** Kafka's common struct AddPartitionsToTxnTopic (request). */
const addPartitionsToTxnTopicFields = defineFields([
  { name: 'name', type: 'string', versions: '0+' },
  { name: 'partitions', type: '[]int32', versions: '0+' },
]);

/** Kafka's common struct AddPartitionsToTxnPartitionResult (response). */
const addPartitionsToTxnPartitionResultFields = defineFields([
  { name: 'partitionIndex', type: 'int32', versions: '0+' },
  { name: 'partitionErrorCode', type: 'int16', versions: '0+' },
]);

/** Kafka's common struct AddPartitionsToTxnTopicResult (response). */
const addPartitionsToTxnTopicResultFields = defineFields([
  { name: 'name', type: 'string', versions: '0+' },
  { name: 'resultsByPartition', type: '[]AddPartitionsToTxnPartitionResult', versions: '0+', fields: addPartitionsToTxnPartitionResultFields },
]);

export const AddPartitionsToTxn = defineApi({
  apiKey: 24,
  name: 'AddPartitionsToTxn',
  validVersions: '0-5',
  flexibleVersions: '3+',
  request: {
    fields: [
      { name: 'transactions', type: '[]AddPartitionsToTxnTransaction', versions: '4+', fields: [
        { name: 'transactionalId', type: 'string', versions: '4+' },
        { name: 'producerId', type: 'int64', versions: '4+' },
        { name: 'producerEpoch', type: 'int16', versions: '4+' },
        { name: 'verifyOnly', type: 'bool', versions: '4+', default: false },
        { name: 'topics', type: '[]AddPartitionsToTxnTopic', versions: '4+', fields: addPartitionsToTxnTopicFields },
      ] },
      { name: 'v3AndBelowTransactionalId', type: 'string', versions: '0-3' },
      { name: 'v3AndBelowProducerId', type: 'int64', versions: '0-3' },
      { name: 'v3AndBelowProducerEpoch', type: 'int16', versions: '0-3' },
      { name: 'v3AndBelowTopics', type: '[]AddPartitionsToTxnTopic', versions: '0-3', fields: addPartitionsToTxnTopicFields },
    ],
  },
  response: {
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '4+', ignorable: true },
      { name: 'resultsByTransaction', type: '[]AddPartitionsToTxnResult', versions: '4+', fields: [
        { name: 'transactionalId', type: 'string', versions: '4+' },
        { name: 'topicResults', type: '[]AddPartitionsToTxnTopicResult', versions: '4+', fields: addPartitionsToTxnTopicResultFields },
      ] },
      { name: 'resultsByTopicV3AndBelow', type: '[]AddPartitionsToTxnTopicResult', versions: '0-3', fields: addPartitionsToTxnTopicResultFields },
    ],
  },
});
