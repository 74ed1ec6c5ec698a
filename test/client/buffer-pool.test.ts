import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { BufferPool } from '../../src/client/buffer-pool.js';

const s = suite('buffer pool');

s('a given-back buffer serves the next take of its class, whichever view of it was given', () => {
  const pool = new BufferPool(1 << 20);
  const a = pool.take(100_000);
  assert.ok(a.length >= 100_000 && a.length % 16_384 === 0, `class size ${a.length}`);
  pool.give(a.subarray(0, 100_000));
  assert.is(pool.pooledBytes, a.length);
  const b = pool.take(99_000);
  assert.is(b.buffer, a.buffer, 'same memory');
  assert.is(b.length, a.length, 'the whole buffer, not the view');
  assert.is(pool.pooledBytes, 0);
  assert.is.not(pool.take(100_000).buffer, a.buffer, 'taken memory is never handed out twice');
});

s('small, oversized and slab buffers are never pooled; the bound holds', () => {
  const pool = new BufferPool(64 * 1024, 48 * 1024);
  pool.give(Buffer.allocUnsafe(100)); // a view of Node's shared slab
  pool.give(Buffer.allocUnsafe(8 * 1024));
  pool.give(pool.take(60 * 1024)); // over maxBuffer
  pool.give(Buffer.allocUnsafe(20_000)); // not a class size
  assert.is(pool.pooledBytes, 0);
  for (let i = 0; i < 5; i++) pool.give(pool.take(32 * 1024 - i)); // one buffer, reused
  const held = [pool.take(32 * 1024), pool.take(32 * 1024), pool.take(32 * 1024)];
  for (const b of held) pool.give(b);
  assert.is(pool.pooledBytes, 64 * 1024, 'at most maxBytes kept');
  pool.clear();
  assert.is(pool.pooledBytes, 0);
});

s('memory the pool did not hand out is never taken back: a view of a 64 KiB slab (Node 24+ small allocations)', () => {
  // From Node 24 Buffer.poolSize is 64 KiB, a class size: recycling a small batch's slab would give the next batch
  // the bytes of every other buffer cut from it.
  const pool = new BufferPool(1 << 20);
  const slab = Buffer.allocUnsafeSlow(64 * 1024);
  const neighbour = slab.subarray(5000, 5100).fill(7);
  pool.give(slab.subarray(0, 5000));
  pool.give(pool.take(5000));
  assert.is(pool.pooledBytes, 0);
  pool.take(64 * 1024).fill(0);
  assert.ok(neighbour.every((b) => b === 7), 'the neighbour is untouched');
});

s.run();
