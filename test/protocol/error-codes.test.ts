import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { allErrors, brokerError, errorByCode, errorCodes } from '../../src/protocol/error-codes.js';
import { BrokerError, KafkaError } from '../../src/errors.js';

const s = suite('error-codes');

s('codes are unique, names are unique, and the table runs from -1 without gaps', () => {
  const all = allErrors();
  const codes = all.map((e) => e.code);
  assert.is(new Set(codes).size, codes.length);
  assert.is(new Set(all.map((e) => e.name)).size, all.length);
  const sorted = [...codes].sort((a, b) => a - b);
  assert.is(sorted[0], -1);
  sorted.forEach((c, i) => assert.is(c, i - 1, `gap before ${c}`));
  // Kafka 4.3 ends at SHARE_SESSION_LIMIT_REACHED (133).
  assert.ok(all.length >= 135, `only ${all.length} entries`);
});

s('named constants match the table', () => {
  // Typed as literals: these lines would not compile if a constant's type were plain number or wrong.
  const six: 6 = errorCodes.NOT_LEADER_OR_FOLLOWER;
  const minusOne: -1 = errorCodes.UNKNOWN_SERVER_ERROR;
  assert.is(six + minusOne, 5);
  assert.is(errorCodes.NONE, 0);
  assert.is(errorCodes.UNKNOWN_SERVER_ERROR, -1);
  assert.is(errorCodes.NOT_LEADER_OR_FOLLOWER, 6);
  assert.is(errorCodes.COORDINATOR_LOAD_IN_PROGRESS, 14);
  assert.is(errorCodes.REBALANCE_IN_PROGRESS, 27);
  assert.is(errorCodes.SHARE_SESSION_LIMIT_REACHED, 133);
  for (const e of allErrors()) assert.is((errorCodes as Record<string, number>)[e.name], e.code);
});

s('retriable flags follow Kafka (spot checks, the Java test checks them all)', () => {
  const retriable = ['CORRUPT_MESSAGE', 'NOT_LEADER_OR_FOLLOWER', 'REQUEST_TIMED_OUT', 'NOT_ENOUGH_REPLICAS', 'CONCURRENT_TRANSACTIONS', 'UNKNOWN_TOPIC_ID'];
  const fatal = ['UNKNOWN_SERVER_ERROR', 'BROKER_NOT_AVAILABLE', 'MESSAGE_TOO_LARGE', 'REBALANCE_IN_PROGRESS', 'SASL_AUTHENTICATION_FAILED', 'OUT_OF_ORDER_SEQUENCE_NUMBER'];
  for (const n of retriable) assert.ok(errorByCode((errorCodes as Record<string, number>)[n]!).retriable, n);
  for (const n of fatal) assert.not.ok(errorByCode((errorCodes as Record<string, number>)[n]!).retriable, n);
});

s('routing flags: metadata refresh and coordinator lookup', () => {
  for (const c of [3, 5, 6, 74, 78, 100]) assert.ok(errorByCode(c).refreshMetadata, String(c));
  for (const c of [0, 7, 19, 75, 14, 16]) assert.not.ok(errorByCode(c).refreshMetadata, String(c));
  assert.equal(allErrors().filter((e) => e.findCoordinator).map((e) => e.name), ['COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR']);
  assert.not.ok(errorByCode(errorCodes.COORDINATOR_LOAD_IN_PROGRESS).findCoordinator);
});

s('an unknown code gets a synthetic entry, not a crash', () => {
  const e = errorByCode(9999);
  assert.is(e.code, 9999);
  assert.is(e.name, 'UNKNOWN_ERROR_CODE_9999');
  assert.is(e.retriable, false);
  assert.is(errorByCode(-7).name, 'UNKNOWN_ERROR_CODE_-7');
});

s('brokerError builds a typed BrokerError with context', () => {
  const err = brokerError(6, { api: 'Produce', topic: 't', partition: 3, brokerMessage: 'moved' });
  assert.instance(err, BrokerError);
  assert.instance(err, KafkaError);
  assert.is(err.errorCode, 6);
  assert.is(err.errorName, 'NOT_LEADER_OR_FOLLOWER');
  assert.is(err.retriable, true);
  assert.is(err.code, 'ERR_KAFKA_BROKER');
  assert.is(err.topic, 't');
  assert.is(err.partition, 3);
  assert.match(err.message, /^NOT_LEADER_OR_FOLLOWER \(6\) \[Produce t 3\]: .*: moved$/);
  const unknown = brokerError(4242);
  assert.is(unknown.errorName, 'UNKNOWN_ERROR_CODE_4242');
  assert.is(unknown.retriable, false);
});

s.run();
