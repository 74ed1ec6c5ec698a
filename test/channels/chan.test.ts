import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Chan, DONE, starvationGuardStats } from '../../src/channels/chan.js';
import { ClosedError, KafkaError } from '../../src/errors.js';

const s = suite('chan', { timeoutMs: 20_000 });

/** Lets every queued microtask and one macrotask turn run, so that pending promises show their state. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(p: Promise<T>): { settled: boolean; value?: T; error?: unknown } {
  const t: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (value) => Object.assign(t, { settled: true, value }),
    (error: unknown) => Object.assign(t, { settled: true, error }),
  );
  return t;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
}

s('buffered values come out in the order they went in', async () => {
  const ch = new Chan<number>(5);
  for (let i = 0; i < 5; i++) assert.ok(ch.trySend(i));
  assert.is(ch.length, 5);
  assert.is(ch.capacity, 5);
  const got: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await ch.recv();
    assert.is(r.done, false);
    got.push(r.value!);
  }
  assert.equal(got, [0, 1, 2, 3, 4]);
  assert.is(ch.length, 0);
  assert.is(ch.tryRecv(), undefined);
});

s('the ring buffer wraps around many times without reordering', () => {
  const ch = new Chan<number>(3);
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 100; round++) {
    while (ch.trySend(next)) next++;
    const take = 1 + (round % 3);
    for (let k = 0; k < take; k++) assert.is(ch.tryRecv()?.value, expect++);
  }
  assert.ok(next > 100);
});

s('send waits while the buffer is full and resumes when a slot frees', async () => {
  const ch = new Chan<string>(2);
  await ch.send('a');
  await ch.send('b');
  assert.not.ok(ch.trySend('x'));
  const third = track(ch.send('c'));
  await settle();
  assert.is(third.settled, false);
  assert.is(ch.length, 2);
  assert.equal(await ch.recv(), { value: 'a', done: false });
  await settle();
  assert.is(third.settled, true);
  assert.is(ch.length, 2, "the waiting sender's value moved into the freed slot");
  assert.equal([ch.tryRecv()?.value, ch.tryRecv()?.value, ch.tryRecv()], ['b', 'c', undefined]);
});

s('capacity 0 is a rendezvous: a send completes only when a receiver takes the value', async () => {
  const ch = new Chan<number>();
  assert.not.ok(ch.trySend(1), 'no receiver waits');
  const sent = track(ch.send(7));
  await settle();
  assert.is(sent.settled, false);
  assert.is(ch.length, 0);
  assert.equal(ch.tryRecv(), { value: 7, done: false });
  await settle();
  assert.is(sent.settled, true);
  const pending = ch.recv();
  assert.ok(ch.trySend(8), 'a waiting receiver makes trySend succeed');
  assert.equal(await pending, { value: 8, done: false });
});

s('waiting senders are served first come, first served', async () => {
  const ch = new Chan<number>(1);
  ch.trySend(0);
  const order: number[] = [];
  const sends = [1, 2, 3, 4].map((v) => ch.send(v).then(() => order.push(v)));
  const got: number[] = [];
  for (let i = 0; i < 5; i++) got.push((await ch.recv()).value!);
  await Promise.all(sends);
  assert.equal(got, [0, 1, 2, 3, 4]);
  assert.equal(order, [1, 2, 3, 4]);
});

s('waiting receivers are served first come, first served', async () => {
  const ch = new Chan<string>();
  const receivers = [ch.recv(), ch.recv(), ch.recv()];
  for (const v of ['x', 'y', 'z']) assert.ok(ch.trySend(v));
  assert.equal((await Promise.all(receivers)).map((r) => r.value), ['x', 'y', 'z']);
});

s('close: buffered values drain first, then every receive is done', async () => {
  const ch = new Chan<number>(4);
  ch.trySend(1);
  ch.trySend(2);
  ch.close();
  assert.ok(ch.closed);
  assert.equal(await ch.recv(), { value: 1, done: false });
  assert.equal(ch.tryRecv(), { value: 2, done: false });
  assert.is(await ch.recv(), DONE);
  assert.is(ch.tryRecv(), DONE);
  assert.equal(DONE, { value: undefined, done: true });
});

s('close: waiting receivers get done, waiting senders reject with ClosedError', async () => {
  const ch = new Chan<number>();
  const r1 = ch.recv();
  const r2 = ch.recv();
  ch.close();
  assert.equal(await Promise.all([r1, r2]), [DONE, DONE]);

  const full = new Chan<number>(1);
  full.trySend(1);
  const s1 = rejection(full.send(2));
  const s2 = rejection(full.send(3));
  full.close();
  for (const err of await Promise.all([s1, s2])) {
    assert.instance(err, ClosedError);
    assert.instance(err, KafkaError);
    assert.is((err as ClosedError).code, 'ERR_KAFKA_CLOSED');
  }
  assert.equal(full.tryRecv(), { value: 1, done: false }, 'the buffered value survives the close');
  assert.is(full.tryRecv(), DONE, "the rejected senders' values were not delivered");
});

s('send, trySend and close on a closed channel fail with ClosedError', async () => {
  const ch = new Chan<number>(2);
  ch.close();
  assert.instance(await rejection(ch.send(1)), ClosedError);
  assert.throws(() => ch.trySend(1), (e: unknown) => e instanceof ClosedError);
  assert.throws(() => ch.close(), (e: unknown) => e instanceof ClosedError && /close/.test(e.message));
});

s('wait() resolves when the channel is closed (how ready/closer/closed signal)', async () => {
  const ch = new Chan<void>();
  const w1 = track(ch.wait());
  const w2 = track(ch.wait());
  const sig = ch.signal;
  await settle();
  assert.is(w1.settled, false);
  assert.is(sig.aborted, false);
  ch.close();
  await settle();
  assert.ok(w1.settled && w2.settled);
  assert.is(w1.error, undefined);
  assert.ok(sig.aborted);
  assert.instance(sig.reason, ClosedError);
  await ch.wait();
  assert.ok(ch.signal.aborted);
});

s('wait(signal) rejects with the reason on abort and resolves on close otherwise', async () => {
  const ch = new Chan<void>();
  const ac = new AbortController();
  const waiting = rejection(ch.wait(ac.signal));
  ac.abort(new Error('gave up'));
  assert.is(((await waiting) as Error).message, 'gave up');
  const pre = new AbortController();
  pre.abort('early');
  assert.is(await rejection(ch.wait(pre.signal)), 'early');
  const ok = ch.wait(new AbortController().signal);
  ch.close();
  await ok;
});

s('abort of a waiting recv rejects with the reason and the next value goes to the next receiver', async () => {
  const ch = new Chan<number>();
  const ac = new AbortController();
  const aborted = rejection(ch.recv(ac.signal));
  const next = ch.recv();
  ac.abort(new Error('stop'));
  assert.is(((await aborted) as Error).message, 'stop');
  assert.ok(ch.trySend(5));
  assert.equal(await next, { value: 5, done: false });
  assert.not.ok(ch.trySend(6), 'no receiver is left waiting');
});

s('abort of a waiting send rejects and its value is never delivered', async () => {
  const ch = new Chan<number>();
  const ac = new AbortController();
  const aborted = rejection(ch.send(1, ac.signal));
  ac.abort('cancelled');
  assert.is(await aborted, 'cancelled');
  assert.is(ch.tryRecv(), undefined);
  const pre = new AbortController();
  pre.abort('already');
  assert.is(await rejection(ch.send(2, pre.signal)), 'already');
  assert.is(await rejection(ch.recv(pre.signal)), 'already');
  assert.is(ch.tryRecv(), undefined, 'an aborted-before-call send sends nothing');
});

s('many operations waiting on one signal share a listener: no leak warning, all reject on abort', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  try {
    const ch = new Chan<number>();
    const ac = new AbortController();
    const first = ch.recv(ac.signal);
    const receivers = Array.from({ length: 30 }, () => rejection(ch.recv(ac.signal)));
    const waiters = Array.from({ length: 30 }, () => rejection(ch.wait(ac.signal)));
    assert.ok(ch.trySend(1));
    assert.equal(await first, { value: 1, done: false }, 'the first receiver was served before the abort');
    ac.abort('shutdown');
    for (const err of await Promise.all([...receivers, ...waiters])) assert.is(err, 'shutdown');
    assert.not.ok(ch.trySend(2), 'no aborted receiver is left in the queue');
    await settle();
    assert.equal(warnings.map((w) => w.name), []);
  } finally {
    process.off('warning', onWarning);
  }
});

s('an abort after completion changes nothing', async () => {
  const ch = new Chan<number>();
  const ac = new AbortController();
  const r = ch.recv(ac.signal);
  ch.trySend(9);
  ac.abort('late');
  assert.equal(await r, { value: 9, done: false });
});

s('for await receives every value and stops once closed and drained', async () => {
  const ch = new Chan<number>(3);
  const producer = (async () => {
    for (let i = 0; i < 100; i++) await ch.send(i);
    ch.close();
  })();
  const got: number[] = [];
  for await (const v of ch) got.push(v);
  await producer;
  assert.equal(got, Array.from({ length: 100 }, (_, i) => i));
});

s('breaking out of for await leaves the remaining values in the channel', async () => {
  const ch = new Chan<number>(10);
  for (let i = 0; i < 10; i++) ch.trySend(i);
  for await (const v of ch) if (v === 3) break;
  assert.is(ch.length, 6);
  assert.is(ch.tryRecv()?.value, 4);
});

s('values(signal) rejects a pending iteration step on abort', async () => {
  const ch = new Chan<number>();
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('deadline')), 5);
  const err = await (async () => {
    for await (const _ of ch.values(ac.signal)) assert.unreachable('nothing was sent');
  })().then(() => undefined, (e: unknown) => e);
  assert.is((err as Error).message, 'deadline');
});

s('drainInto moves buffered values and waiting senders, up to max', async () => {
  const ch = new Chan<number>(2);
  ch.trySend(1);
  ch.trySend(2);
  const waiting = [ch.send(3), ch.send(4)];
  const out: number[] = [];
  assert.is(ch.drainInto(out, 3), 3);
  assert.equal(out, [1, 2, 3]);
  assert.is(ch.drainInto(out), 1, "the freed slot took sender 4's value");
  assert.equal(out, [1, 2, 3, 4]);
  await Promise.all(waiting);
  assert.is(ch.drainInto(out), 0);
});

s('a negative or fractional capacity is refused', () => {
  assert.throws(() => new Chan(-1), RangeError);
  assert.throws(() => new Chan(1.5), RangeError);
});

s('two loops ping-ponging 1M values do not starve timers and immediates', async () => {
  const ping = new Chan<number>();
  const pong = new Chan<number>();
  const total = 1_000_000;
  let count = 0;
  let timerAt = -1;
  let immediateAt = -1;
  const yieldsBefore = starvationGuardStats().yields;
  setTimeout(() => (timerAt = count), 0);
  setImmediate(() => (immediateAt = count));
  const echo = (async () => {
    for (;;) {
      const r = await ping.recv();
      if (r.done) return;
      await pong.send(r.value);
    }
  })();
  for (let i = 0; i < total; i++) {
    await ping.send(i);
    const r = await pong.recv();
    if (r.value !== i) assert.unreachable(`echoed ${r.value}, expected ${i}`);
    count++;
  }
  ping.close();
  await echo;
  assert.ok(immediateAt >= 0 && immediateAt < total, `setImmediate ran after ${immediateAt} values`);
  assert.ok(timerAt >= 0 && timerAt < total, `setTimeout ran after ${timerAt} values`);
  assert.ok(starvationGuardStats().yields > yieldsBefore, 'the guard yielded');
});

s('a buffered producer/consumer pair also lets a timer run', async () => {
  const ch = new Chan<number>(1024);
  let received = 0;
  let timerAt = -1;
  setTimeout(() => (timerAt = received), 0);
  const total = 1_000_000;
  const producer = (async () => {
    for (let i = 0; i < total; i++) await ch.send(i);
    ch.close();
  })();
  for await (const _ of ch) received++;
  await producer;
  assert.is(received, total);
  assert.ok(timerAt >= 0 && timerAt < total, `setTimeout ran after ${timerAt} values`);
});

s.run();
