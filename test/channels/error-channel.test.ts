import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Chan } from '../../src/channels/chan.js';
import { pushError } from '../../src/channels/error-channel.js';

const s = suite('error-channel', { timeoutMs: 5_000 });

s('buffers errors without blocking; a full channel drops its oldest', () => {
  const ch = new Chan<Error>(2);
  const [a, b, c] = [new Error('a'), new Error('b'), new Error('c')];
  assert.ok(pushError(ch, a));
  assert.ok(pushError(ch, b));
  assert.ok(pushError(ch, c));
  assert.equal([ch.tryRecv()!.value, ch.tryRecv()!.value], [b, c]);
});

s('hands an error to a waiting reader, even unbuffered', async () => {
  const ch = new Chan<Error>(0);
  const e = new Error('x');
  assert.not.ok(pushError(ch, e), 'no reader: not delivered, not blocked');
  const r = ch.recv();
  assert.ok(pushError(ch, e));
  assert.is((await r).value, e);
});

s('a closed channel refuses without throwing', () => {
  const ch = new Chan<Error>(1);
  ch.close();
  assert.not.ok(pushError(ch, new Error('late')));
});

s.run();
