import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { suite } from '../kit.js';
import { createMessage, isMockMessage, MockMessage } from '../../src/testing/index.js';

const s = suite('testing-message', { timeoutMs: 5_000 });

s('createMessage carries data, offset and headers (list or object)', () => {
  const m = createMessage('hello', 12, { headers: { 'request-id': 'r1' }, key: 'k', partition: 2, topic: 'x' });
  assert.is(m.value!.toString(), 'hello');
  assert.is(m.offset, 12);
  assert.is(m.partition, 2);
  assert.is(m.topic, 'x');
  assert.is(m.key!.toString(), 'k');
  assert.is(m.getHeader('request-id'), 'r1');
  const l = createMessage(Buffer.from([1, 2]), 0, { headers: [{ key: 'a', value: 'x' }, { key: 'a', value: 'y' }, { key: 'n', value: null }] });
  assert.equal([...l.value!], [1, 2]);
  assert.is(l.getHeader('a'), 'x');
  assert.is(l.getHeader('n'), '');
  assert.is(l.headers.length, 3);
  assert.ok(isMockMessage(l));
});

s('records mark, commit and release', async () => {
  const m = createMessage('v', 1);
  assert.equal([m.isMarked(), m.isCommitted(), m.isReleased()], [false, false, false]);
  m.mark();
  assert.equal([m.isMarked(), m.isCommitted()], [true, false]);
  await m.commit();
  assert.is(m.isCommitted(), true);
  assert.is(m.isReleased(), true, "commit releases (the seed's Commit)");
  m.release();
  m.release();
  assert.is(m.isReleased(), true);
  assert.is(m.releaseCalls(), 3, 'repeats (and the release inside commit) are counted but harmless');
});

s('commitAndRelease commits then releases', async () => {
  const m = new MockMessage('v', 3);
  await m.commitAndRelease();
  assert.equal([m.isMarked(), m.isCommitted(), m.isReleased()], [true, true, true]);
});

s('a configured commit error is reported, not thrown, and leaves the message uncommitted', async () => {
  const boom = new Error('rebalanced');
  const m = createMessage('v', 3, { commitError: boom });
  await m.commit();
  assert.is(m.isCommitted(), false);
  assert.equal(m.commitErrors(), [boom]);
});

s.run();
