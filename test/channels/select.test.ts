import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { Chan, starvationGuardStats } from '../../src/channels/chan.js';
import { select, trySelect } from '../../src/channels/select.js';
import { ClosedError } from '../../src/errors.js';

const s = suite('select', { timeoutMs: 20_000 });

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
}

s('performs the one ready case and leaves the other channel alone', async () => {
  const a = new Chan<number>(1);
  const b = new Chan<number>(1);
  b.trySend(42);
  const r = await select([{ recv: a }, { recv: b }]);
  assert.equal(r, { index: 1, value: 42, done: false });
  assert.is(b.length, 0);
  a.trySend(1);
  assert.is(a.length, 1);
});

s('chooses among ready cases uniformly at random', () => {
  const chans = [new Chan<number>(1), new Chan<number>(1), new Chan<number>(1)];
  const wins = [0, 0, 0];
  const rounds = 3000;
  for (let i = 0; i < rounds; i++) {
    for (const ch of chans) if (ch.length === 0) ch.trySend(i);
    wins[trySelect(chans.map((ch) => ({ recv: ch })))!.index]!++;
  }
  // Each expects 1000 (sd ≈ 26); 850..1150 fails only on a broken choice, not by chance.
  for (const w of wins) assert.ok(w > 850 && w < 1150, `wins ${wins.join(', ')}`);
});

s('a waiting select takes a value from exactly one channel; the losing case takes nothing', async () => {
  const a = new Chan<string>();
  const b = new Chan<string>();
  const pending = select([{ recv: a }, { recv: b }]);
  await settle();
  assert.ok(a.trySend('from a'), 'the select waits on a');
  assert.not.ok(b.trySend('from b'), 'after a won, nobody waits on b any more');
  assert.equal(await pending, { index: 0, value: 'from a', done: false });
  const later = b.recv();
  assert.ok(b.trySend('for the next receiver'));
  assert.is((await later).value, 'for the next receiver');
});

s('no value is lost or duplicated when selects race with producers, aborts and closes', async () => {
  const perProducer = 3000;
  const a = new Chan<number>(2);
  const b = new Chan<number>();
  const produce = async (ch: Chan<number>, from: number): Promise<void> => {
    for (let i = 0; i < perProducer; i++) {
      await ch.send(from + i);
      if (i % 7 === 0) await settle(); // let consumers run dry and block in select
    }
    ch.close();
  };
  const producers = [produce(a, 0), produce(b, perProducer)];
  const seen: number[] = [];
  // Two competing consumers; some selects are abandoned (aborted) while waiting, some are non-blocking.
  const consumer = async (id: number): Promise<void> => {
    const cases = [{ recv: a as Chan<number> | null }, { recv: b as Chan<number> | null }];
    for (let n = 0, open = 2; open > 0; n++) {
      let r;
      if (n % 5 === id) {
        r = trySelect(cases);
        if (r === undefined) continue;
      } else if (n % 3 === id) {
        const ac = new AbortController();
        setImmediate(() => ac.abort('abandoned'));
        r = await select(cases, ac.signal).catch((e: unknown) => (e === 'abandoned' ? undefined : Promise.reject(e)));
        if (r === undefined) continue;
      } else r = await select(cases);
      if (r.done) {
        cases[r.index]!.recv = null;
        open--;
      } else seen.push(r.value!);
    }
  };
  await Promise.all([consumer(0), consumer(1), ...producers]);
  assert.is(seen.length, 2 * perProducer, 'every value received once');
  assert.is(new Set(seen).size, 2 * perProducer, 'no duplicates');
});

s('per channel, values arrive through select in the order they were sent', async () => {
  const a = new Chan<number>(4);
  const b = new Chan<number>();
  (async () => { for (let i = 0; i < 500; i++) await a.send(i); a.close(); })();
  (async () => { for (let i = 0; i < 500; i++) await b.send(i); b.close(); })();
  const last = [-1, -1];
  const cases = [{ recv: a as Chan<number> | null }, { recv: b as Chan<number> | null }];
  let open = 2;
  while (open > 0) {
    const r = await select(cases);
    if (r.done) {
      cases[r.index]!.recv = null;
      open--;
      continue;
    }
    assert.is(r.value, last[r.index]! + 1);
    last[r.index] = r.value!;
  }
  assert.equal(last, [499, 499]);
});

s('the default case is taken when nothing is ready, and nothing is consumed', async () => {
  const a = new Chan<number>(1);
  const b = new Chan<number>();
  const waitingSender = b.send(5);
  const none = await select([{ recv: a }, { default: true }]);
  assert.equal(none, { index: 1, value: undefined, done: false });
  const ready = await select([{ default: true }, { recv: b }]);
  assert.equal(ready, { index: 1, value: 5, done: false }, 'a ready case beats the default');
  await waitingSender;
  assert.is(trySelect([{ recv: a }, { recv: b }]), undefined, 'trySelect without a default');
  assert.is(trySelect([{ recv: a }, { default: true }])!.index, 1);
});

s('a closed channel is ready: its receive case reports done', async () => {
  const a = new Chan<number>();
  const b = new Chan<number>();
  b.close();
  assert.equal(await select([{ recv: a }, { recv: b }]), { index: 1, value: undefined, done: true });
  const pending = select([{ recv: a }]);
  a.close();
  assert.equal(await pending, { index: 0, value: undefined, done: true });
});

s('send cases: performed when a receiver waits, or later when one comes', async () => {
  const out = new Chan<number>();
  const receiver = out.recv();
  assert.equal(await select([{ send: out, value: 1 }]), { index: 0, value: undefined, done: false });
  assert.equal(await receiver, { value: 1, done: false });

  const full = new Chan<number>(1);
  full.trySend(0);
  const pending = select([{ send: full, value: 2 }, { recv: new Chan<number>() }]);
  await settle();
  assert.equal(full.tryRecv(), { value: 0, done: false });
  assert.equal(await pending, { index: 0, value: undefined, done: false });
  assert.equal(full.tryRecv(), { value: 2, done: false });
});

s('a losing send case sends nothing', async () => {
  const out = new Chan<string>();
  const inbox = new Chan<string>();
  const pending = select([{ send: out, value: 'never' }, { recv: inbox }]);
  await settle();
  assert.ok(inbox.trySend('hello'));
  assert.equal(await pending, { index: 1, value: 'hello', done: false });
  assert.is(out.tryRecv(), undefined, 'no sender waits on out');
});

s('a send case on a closed channel rejects with ClosedError, at once or on close', async () => {
  const closed = new Chan<number>();
  closed.close();
  assert.instance(await rejection(select([{ send: closed, value: 1 }])), ClosedError);
  assert.throws(() => trySelect([{ send: closed, value: 1 }]), (e: unknown) => e instanceof ClosedError);

  const out = new Chan<number>();
  const other = new Chan<number>();
  const pending = rejection(select([{ send: out, value: 1 }, { recv: other }]));
  out.close();
  assert.instance(await pending, ClosedError);
  assert.not.ok(other.trySend(3), 'the failed select no longer waits on the other channel');
});

s('abort rejects with the reason and unhooks every case', async () => {
  const a = new Chan<number>();
  const b = new Chan<number>();
  const ac = new AbortController();
  const pending = rejection(select([{ recv: a }, { send: b, value: 1 }], ac.signal));
  await settle();
  ac.abort(new Error('enough'));
  assert.is(((await pending) as Error).message, 'enough');
  assert.not.ok(a.trySend(1));
  assert.is(b.tryRecv(), undefined);
  const pre = new AbortController();
  pre.abort('before');
  a.close();
  assert.is(await rejection(select([{ recv: a }], pre.signal)), 'before');
});

s('a null channel is never ready; a select over only null cases waits until aborted', async () => {
  const a = new Chan<number>(1);
  a.trySend(1);
  assert.equal(await select([{ recv: null }, { recv: a }, { send: undefined, value: 0 }]), { index: 1, value: 1, done: false });
  const ac = new AbortController();
  setTimeout(() => ac.abort('timeout'), 5);
  assert.is(await rejection(select([{ recv: null }], ac.signal)), 'timeout');
});

s('the same channel in two cases fires one case only', async () => {
  const a = new Chan<number>();
  const pending = select([{ recv: a }, { recv: a }]);
  await settle();
  assert.ok(a.trySend(1));
  assert.not.ok(a.trySend(2));
  assert.is((await pending).value, 1);
});

s('loops ping-ponging through select do not starve a timer', async () => {
  const ping = new Chan<number>();
  const pong = new Chan<number>();
  const quit = new Chan<void>();
  const total = 300_000;
  let count = 0;
  let timerAt = -1;
  const yieldsBefore = starvationGuardStats().yields;
  setTimeout(() => (timerAt = count), 0);
  const echo = (async () => {
    for (;;) {
      const r = await select([{ recv: ping }, { recv: quit }]);
      if (r.index === 1) return;
      await select([{ send: pong, value: r.value }]);
    }
  })();
  for (let i = 0; i < total; i++) {
    await select([{ send: ping, value: i }]);
    const r = await select([{ recv: pong }]);
    assert.is(r.value, i);
    count++;
  }
  quit.close();
  await echo;
  assert.ok(timerAt >= 0 && timerAt < total, `setTimeout ran after ${timerAt} values`);
  assert.ok(starvationGuardStats().yields > yieldsBefore, 'the guard yielded');
});

s.run();
