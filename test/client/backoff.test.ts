import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Backoff, backoffCycleLength, retryDelay, retryForever, seededRandom, sleep } from '../../src/client/backoff.js';

const s = suite('backoff', { timeoutMs: 10_000 });

const noJitter = (): number => 0.5; // floor(0.5 * 50) - 25 = 0 %
const lowest = (): number => 0; // -25 %
const highest = (): number => 0.999999; // +24 %

s('cycle length: doublings of min that stay within max, plus one', () => {
  assert.is(backoffCycleLength(200, 32_000), 8); // 160 → log2 7.32 → 7 + 1
  assert.is(backoffCycleLength(200, 25_600), 8); // exactly 128
  assert.is(backoffCycleLength(200, 25_599), 7);
  assert.is(backoffCycleLength(1000, 1000), 1);
  assert.is(backoffCycleLength(1000, 1999), 1);
  assert.is(backoffCycleLength(1000, 500), 1); // nonsense input still gives a usable cycle
});

s('defaults double from 200 ms to 25.6 s, then start again at 200 ms', () => {
  const got = Array.from({ length: 18 }, (_, i) => retryDelay(i + 1, 200, 32_000, noJitter));
  assert.equal(got, [200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 200, 400]);
});

s('attempt 0, negative or fractional counts as the first attempt / whole attempt', () => {
  assert.is(retryDelay(0, 200, 32_000, noJitter), 200);
  assert.is(retryDelay(-3, 200, 32_000, noJitter), 200);
  assert.is(retryDelay(Number.NaN, 200, 32_000, noJitter), 200);
  assert.is(retryDelay(2.9, 200, 32_000, noJitter), 400);
});

s('jitter is -25 % .. +24 % of the minimum period, not of the pause', () => {
  assert.is(retryDelay(1, 200, 32_000, lowest), 150);
  assert.is(retryDelay(1, 200, 32_000, highest), 248);
  assert.is(retryDelay(8, 200, 32_000, lowest), 25_600 - 50);
  assert.is(retryDelay(8, 200, 32_000, highest), 25_600 + 48);
  // truncated toward zero as Go's integer division: -25 % of 30 ms is -7.5 → -7
  assert.is(retryDelay(1, 30, 1000, lowest), 23);
});

s('the pause never exceeds the maximum, jitter included', () => {
  // min 1000, max 2100: cycle is 2 (1000, 2000); 2000 + 240 would pass the cap
  assert.is(retryDelay(2, 1000, 2100, highest), 2100);
  assert.is(retryDelay(2, 1000, 2100, lowest), 1750);
  assert.is(retryDelay(1, 1000, 1000, highest), 1000);
});

s('with a seeded jitter every delay of many cycles stays in its band, and the sequence is reproducible', () => {
  const min = 200;
  const max = 32_000;
  const a = seededRandom(42);
  const b = seededRandom(42);
  const seen = new Set<number>();
  for (let attempt = 1; attempt <= 80; attempt++) {
    const d = retryDelay(attempt, min, max, a);
    assert.is(d, retryDelay(attempt, min, max, b));
    const base = 2 ** ((attempt - 1) % 8) * min;
    assert.ok(d >= base - 50 && d <= Math.min(max, base + 48), `attempt ${attempt}: ${d} outside band of ${base}`);
    assert.ok(Number.isInteger(d));
    if (base === 200) seen.add(d);
  }
  assert.ok(seen.size > 3, 'jitter varies between cycles');
  const other = seededRandom(7);
  const x = Array.from({ length: 10 }, (_, i) => retryDelay(i + 1, min, max, seededRandom(42)));
  const y = Array.from({ length: 10 }, (_, i) => retryDelay(i + 1, min, max, other));
  assert.not.equal(x, y);
});

s('seededRandom stays in [0, 1)', () => {
  const r = seededRandom(123);
  for (let i = 0; i < 10_000; i++) {
    const v = r();
    assert.ok(v >= 0 && v < 1);
  }
});

s('Backoff counts attempts and reset starts the cycle over', () => {
  const b = new Backoff({ minRetryPeriod: 10, maxRetryPeriod: 100, random: noJitter });
  assert.equal([b.next(), b.next(), b.next(), b.next(), b.next()], [10, 20, 40, 80, 10]);
  assert.is(b.attempt, 5);
  b.next();
  b.reset();
  assert.is(b.attempt, 0);
  assert.is(b.next(), 10);
});

s('sleep resolves after the pause', async () => {
  const t0 = performance.now();
  await sleep(30);
  assert.ok(performance.now() - t0 >= 28);
});

s('sleep rejects with the signal reason on abort, before the pause ends', async () => {
  const ac = new AbortController();
  const t0 = performance.now();
  const p = sleep(5_000, ac.signal);
  setTimeout(() => ac.abort(new Error('stop')), 10);
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.instance(err, Error);
  assert.is((err as Error).message, 'stop');
  assert.ok(performance.now() - t0 < 1000);
  const pre = await sleep(10, AbortSignal.abort('already')).then(() => undefined, (e: unknown) => e);
  assert.is(pre, 'already');
});

s('retryForever retries with growing pauses until fn succeeds', async () => {
  const calls: number[] = [];
  const retries: [number, number][] = [];
  const result = await retryForever(
    (attempt) => {
      calls.push(attempt);
      if (attempt < 4) throw new Error(`fail ${attempt}`);
      return 'ok';
    },
    { minRetryPeriod: 4, maxRetryPeriod: 20, random: noJitter, onRetry: (_e, attempt, delay) => retries.push([attempt, delay]) },
  );
  assert.is(result, 'ok');
  assert.equal(calls, [1, 2, 3, 4]);
  assert.equal(retries, [[1, 4], [2, 8], [3, 16]]);
});

s('retryForever stops on abort with the signal reason, and on an error isRetriable refuses', async () => {
  const ac = new AbortController();
  let calls = 0;
  const p = retryForever(async () => {
    calls++;
    throw new Error('down');
  }, { minRetryPeriod: 5, maxRetryPeriod: 10, signal: ac.signal });
  setTimeout(() => ac.abort(new Error('closed')), 40);
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.is((err as Error).message, 'closed');
  assert.ok(calls >= 2, `retried ${calls} times`);
  const after = calls;
  await sleep(30);
  assert.is(calls, after, 'no attempt after abort');

  const fatal = new Error('bad credentials');
  let n = 0;
  const e2 = await retryForever(() => {
    n++;
    throw fatal;
  }, { minRetryPeriod: 5, maxRetryPeriod: 10, isRetriable: (e) => e !== fatal }).then(() => undefined, (e: unknown) => e);
  assert.is(e2, fatal);
  assert.is(n, 1);
});

s.run();
