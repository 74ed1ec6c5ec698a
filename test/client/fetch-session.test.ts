import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { FetchSession, type SessionPartition } from '../../src/client/fetch-session.js';
import { errorCodes } from '../../src/protocol/error-codes.js';

const s = suite('fetch-session (KIP-227 bookkeeping)');

function part(partition: number, fetchOffset: number, extra: Partial<SessionPartition> = {}): SessionPartition {
  return { topic: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partition, fetchOffset, currentLeaderEpoch: 3, lastFetchedEpoch: 3, partitionMaxBytes: 1024, ...extra };
}
const ids = (list: SessionPartition[]) => list.map((p) => p.partition).sort((a, b) => a - b);

s('the first request is full with id 0 / epoch 0; a session id makes the next one incremental at epoch 1', () => {
  const f = new FetchSession();
  const r1 = f.build([part(0, 10), part(1, 20)]);
  assert.equal([r1.sessionId, r1.sessionEpoch, r1.full], [0, 0, true]);
  assert.equal(ids(r1.partitions), [0, 1]);
  assert.ok(f.handleResponse(0, 77));
  const r2 = f.build([part(0, 10), part(1, 20)]);
  assert.equal([r2.sessionId, r2.sessionEpoch, r2.full], [77, 1, false]);
  assert.equal(r2.partitions, [], 'nothing changed: nothing sent');
  assert.equal(r2.forgotten, []);
});

s('incremental requests carry only changed and new partitions, and forget removed ones; epoch counts up', () => {
  const f = new FetchSession();
  f.build([part(0, 10), part(1, 20), part(2, 30)]);
  f.handleResponse(0, 5);
  const r = f.build([part(0, 15), part(1, 20), part(3, 0)]);
  assert.equal(ids(r.partitions), [0, 3]);
  assert.equal(ids(r.forgotten), [2]);
  assert.is(r.sessionEpoch, 1);
  f.handleResponse(0, 5);
  const r3 = f.build([part(0, 15), part(1, 20, { currentLeaderEpoch: 4 }), part(3, 0, { partitionMaxBytes: 10 })]);
  assert.equal(ids(r3.partitions), [1, 3], 'epoch and size changes count as changes');
  assert.is(r3.sessionEpoch, 2);
  assert.is(f.size, 3);
});

s('FETCH_SESSION_ID_NOT_FOUND restarts from id 0; INVALID_FETCH_SESSION_EPOCH closes the session (id X, epoch 0)', () => {
  const f = new FetchSession();
  f.build([part(0, 1)]);
  f.handleResponse(0, 9);
  f.build([part(0, 2)]);
  assert.not.ok(f.handleResponse(errorCodes.FETCH_SESSION_ID_NOT_FOUND, 0));
  let r = f.build([part(0, 2)]);
  assert.equal([r.sessionId, r.sessionEpoch, r.full], [0, 0, true]);
  f.handleResponse(0, 11);
  f.build([part(0, 3)]);
  assert.not.ok(f.handleResponse(errorCodes.INVALID_FETCH_SESSION_EPOCH, 0));
  r = f.build([part(0, 3), part(1, 0)]);
  assert.equal([r.sessionId, r.sessionEpoch, r.full], [11, 0, true]);
  assert.equal(ids(r.partitions), [0, 1]);
});

s('a failed request makes the next one full and closes the old session', () => {
  const f = new FetchSession();
  f.build([part(0, 1)]);
  f.handleResponse(0, 21);
  f.build([part(0, 2)]);
  f.handleRequestError();
  const r = f.build([part(0, 2)]);
  assert.equal([r.sessionId, r.sessionEpoch, r.full], [21, 0, true]);
  f.handleResponse(0, 22);
  assert.equal([f.id, f.epoch], [22, 1]);
});

s('a broker that declines a session (id 0) keeps getting full requests', () => {
  const f = new FetchSession();
  f.build([part(0, 1)]);
  f.handleResponse(0, 0);
  const r = f.build([part(0, 1)]);
  assert.ok(r.full);
  assert.equal([r.sessionId, r.sessionEpoch], [0, 0]);
});

s('brokers without sessions get epoch -1 (FINAL) every time', () => {
  const f = new FetchSession(false);
  const r = f.build([part(0, 1)]);
  assert.equal([r.sessionId, r.sessionEpoch, r.full], [0, -1, true]);
  f.handleResponse(0, 0);
  assert.equal(f.build([part(0, 1)]).sessionEpoch, -1);
});

s('the epoch wraps from 2^31-1 to 1, never to 0 (which would mean "new session")', () => {
  const f = new FetchSession();
  f.build([part(0, 1)]);
  f.handleResponse(0, 3);
  f.epoch = 0x7fffffff;
  f.build([part(0, 1)]);
  f.handleResponse(0, 3);
  assert.is(f.epoch, 1);
});

s('a change of only lastFetchedEpoch, or only the topic id, is sent in an incremental request', () => {
  const f = new FetchSession();
  f.build([part(0, 10), part(1, 20), part(2, 30)]);
  f.handleResponse(0, 5);
  const r = f.build([part(0, 10, { lastFetchedEpoch: 4 }), part(1, 20), part(2, 30, { topicId: 'AAAAAAAAAAAAAAAAAAAAAg' })]);
  assert.not.ok(r.full);
  assert.equal(ids(r.partitions), [0, 2]);
  assert.is(r.partitions.find((p) => p.partition === 0)!.lastFetchedEpoch, 4);
  f.handleResponse(0, 5);
  assert.equal(f.build([part(0, 10, { lastFetchedEpoch: 4 }), part(1, 20), part(2, 30, { topicId: 'AAAAAAAAAAAAAAAAAAAAAg' })]).partitions, [],
    'once the broker has it, the same epoch is not sent again');
});

s('FETCH_SESSION_TOPIC_ID_ERROR is session loss: not a partition failure, the next request is full and closes the session', () => {
  const f = new FetchSession();
  f.build([part(0, 1), part(1, 1)]);
  f.handleResponse(0, 31);
  f.build([part(0, 2), part(1, 1)]);
  assert.not.ok(f.handleResponse(errorCodes.FETCH_SESSION_TOPIC_ID_ERROR, 0), 'the caller resends at once');
  const r = f.build([part(0, 2), part(1, 1)]);
  assert.equal([r.sessionId, r.sessionEpoch, r.full], [31, 0, true]);
  assert.equal(ids(r.partitions), [0, 1]);
});

s('any other top-level error fails the request (true) and makes the next one full, closing the session', () => {
  const f = new FetchSession();
  f.build([part(0, 1)]);
  f.handleResponse(0, 41);
  f.build([part(0, 2)]);
  assert.ok(f.handleResponse(errorCodes.UNKNOWN_SERVER_ERROR, 0));
  const r = f.build([part(0, 2)]);
  assert.equal([r.sessionId, r.sessionEpoch, r.full], [41, 0, true]);
});

s.run();
