import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { suite } from '../kit.js';
import { Chan } from '../../src/channels/chan.js';
import { ConsumerMessage, type Message, type MessageSession } from '../../src/channels/message.js';
import {
  shouldCommit, startBatchWorker, startHandlerWorkers, type HandlerFailure,
} from '../../src/channels/handlers.js';

const s = suite('handlers', { timeoutMs: 10_000 });

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A session that logs what happens to each message, by offset. */
function session(): MessageSession & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    mark: (m) => void log.push(`mark ${m.offset}`),
    commit: async (m) => void log.push(`commit ${m.offset}`),
    release: (m) => void log.push(`release ${m.offset}`),
    reportError: (err) => void log.push(`error ${String(err)}`),
  };
}

function msg(sess: MessageSession, offset: number): Message {
  return new ConsumerMessage(sess, 't', 0, { offset, timestamp: 0, key: null, value: Buffer.from(String(offset)), headers: [] });
}

class NoCommit extends Error {
  shouldCommit(): boolean {
    return false;
  }
}
class YesCommit extends Error {
  shouldCommit(): boolean {
    return true;
  }
}

s('shouldCommit: true unless the error is a Commiter saying false', () => {
  assert.is(shouldCommit(undefined), true);
  assert.is(shouldCommit(null), true);
  assert.is(shouldCommit('text'), true);
  assert.is(shouldCommit(new Error('x')), true);
  assert.is(shouldCommit({ shouldCommit: 'no' }), true, 'not a function: not a Commiter');
  assert.is(shouldCommit(new NoCommit()), false);
  assert.is(shouldCommit(new YesCommit()), true);
  assert.is(shouldCommit({ shouldCommit: () => false }), false);
});

s('a handled message counts as busy until its commit settles, also when many share one commit', async () => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const settled = Promise.resolve();
  let shared = true;
  const sess: MessageSession = { ...session(), commit: () => (shared ? gate : settled) };
  const up = new Chan<Message>(8);
  const w = startHandlerWorkers(up, () => undefined, { numWorkers: 2 });
  for (let i = 1; i <= 5; i++) await up.send(msg(sess, i));
  await settle();
  assert.is(w.busy, 5, 'five handled messages wait for the one commit they share');
  open();
  await w.idle();
  assert.is(w.busy, 0);
  // A session may hand out the same settled promise again: each handler still ends.
  shared = false;
  for (let i = 6; i <= 8; i++) await up.send(msg(sess, i));
  await settle();
  await settle();
  assert.is(w.busy, 0);
  up.close();
  await w.done;
});

s('a successful handler: marked before release, committed after it (commits never precede handling)', async () => {
  const sess = session();
  const up = new Chan<Message>(4);
  const seen: number[] = [];
  const w = startHandlerWorkers(up, (m) => void seen.push(m.offset), { numWorkers: 1 });
  await up.send(msg(sess, 1));
  await up.send(msg(sess, 2));
  up.close();
  await w.done;
  assert.equal(seen, [1, 2]);
  assert.equal(sess.log, ['mark 1', 'release 1', 'commit 1', 'mark 2', 'release 2', 'commit 2']);
});

s('a handler that commits itself (the seed\'s msg.Commit() moved into a handler): released once, the worker goes on', async () => {
  const sess = session();
  const up = new Chan<Message>(4);
  const releasedByCommit: boolean[] = [];
  const w = startHandlerWorkers(up, async (m) => { await m.commit(); releasedByCommit.push(m.released); }, { numWorkers: 1 });
  await up.send(msg(sess, 1));
  await up.send(msg(sess, 2));
  up.close();
  await w.done;
  assert.equal(releasedByCommit, [true, true], 'commit() released the message inside the handler');
  assert.equal(sess.log.filter((l) => l.startsWith('release')), ['release 1', 'release 2'], 'once each');
});

s('idle (what stopAndWait waits for) waits for a long handler and its commit', async () => {
  const sess = session();
  const up = new Chan<Message>(1);
  let finished = false;
  const w = startHandlerWorkers(up, async () => { await delay(150); finished = true; }, { numWorkers: 1 });
  await up.send(msg(sess, 1));
  await settle();
  assert.is(w.busy, 1);
  await w.idle();
  assert.ok(finished);
  assert.ok(sess.log.includes('commit 1'));
  up.close();
  await w.done;
});

s('a plain error still commits (dp-kafka rule) and is reported', async () => {
  const sess = session();
  const up = new Chan<Message>(4);
  const failures: HandlerFailure[] = [];
  const boom = new Error('boom');
  const w = startHandlerWorkers(up, async () => {
    throw boom;
  }, { numWorkers: 1, onError: (f) => failures.push(f) });
  await up.send(msg(sess, 7));
  up.close();
  await w.done;
  assert.equal(sess.log, ['mark 7', 'release 7', 'commit 7']);
  assert.is(failures.length, 1);
  assert.is(failures[0]!.error, boom);
  assert.is(failures[0]!.committed, true);
  assert.is(failures[0]!.workerId, 1);
  assert.equal(failures[0]!.messages.map((m) => m.offset), [7]);
});

s('a Commiter error saying false is not committed, but the message is released', async () => {
  const sess = session();
  const up = new Chan<Message>(4);
  const failures: HandlerFailure[] = [];
  const w = startHandlerWorkers(up, () => {
    throw new NoCommit('retry me');
  }, { numWorkers: 1, onError: (f) => failures.push(f) });
  await up.send(msg(sess, 3));
  up.close();
  await w.done;
  assert.equal(sess.log, ['release 3']);
  assert.is(failures[0]!.committed, false);
});

s('a Commiter error saying true is committed', async () => {
  const sess = session();
  const up = new Chan<Message>(4);
  const w = startHandlerWorkers(up, () => {
    throw new YesCommit('logged only');
  }, { numWorkers: 1 });
  await up.send(msg(sess, 4));
  up.close();
  await w.done;
  assert.equal(sess.log, ['mark 4', 'release 4', 'commit 4']);
});

s('numWorkers handlers run in parallel with ids 1..n; the next message waits for a free worker', async () => {
  const sess = session();
  const up = new Chan<Message>(8);
  const gates = new Map<number, () => void>();
  const ids = new Set<number>();
  const started: number[] = [];
  const w = startHandlerWorkers(up, (m, ctx) => {
    ids.add(ctx.workerId);
    started.push(m.offset);
    return new Promise<void>((resolve) => gates.set(m.offset, resolve));
  }, { numWorkers: 3 });
  for (let i = 1; i <= 4; i++) await up.send(msg(sess, i));
  await settle();
  assert.equal(started, [1, 2, 3]);
  assert.is(w.busy, 3);
  assert.equal([...ids].sort(), [1, 2, 3]);
  gates.get(2)!();
  await settle();
  assert.equal(started, [1, 2, 3, 4]);
  assert.is(w.busy, 3);
  for (const o of [1, 3, 4]) gates.get(o)!();
  await w.idle();
  assert.is(w.busy, 0);
  up.close();
  await w.done;
});

s('abort stops taking messages; the running handler finishes; done waits for it', async () => {
  const sess = session();
  const up = new Chan<Message>(8);
  const ac = new AbortController();
  const gates: (() => void)[] = [];
  let sawAbort = false;
  const w = startHandlerWorkers(up, async (_m, ctx) => {
    await new Promise<void>((resolve) => gates.push(resolve));
    sawAbort = ctx.signal.aborted;
  }, { numWorkers: 2, signal: ac.signal });
  await up.send(msg(sess, 1));
  await up.send(msg(sess, 2)); // one per worker
  await settle();
  assert.is(gates.length, 2);
  let finished = false;
  void w.done.then(() => {
    finished = true;
  });
  ac.abort();
  await settle();
  assert.is(finished, false, 'done waits for in-flight handlers');
  await up.send(msg(sess, 3));
  for (const g of gates) g();
  await w.done;
  assert.is(sawAbort, true, 'handler saw the signal aborted');
  assert.not.ok(sess.log.includes('commit 3'), 'no message taken after abort');
  assert.is(up.length, 1, 'message 3 is still in upstream');
});

s('a throwing onError does not stop the worker', async () => {
  const sess = session();
  const up = new Chan<Message>(4);
  let calls = 0;
  const w = startHandlerWorkers(up, () => {
    calls++;
    throw new Error('x');
  }, { numWorkers: 1, onError: () => {
    throw new Error('logger broke');
  } });
  await up.send(msg(sess, 1));
  await up.send(msg(sess, 2));
  up.close();
  await w.done;
  assert.is(calls, 2);
});

s('idle resolves at once with no handler running, and rejects on abort', async () => {
  const up = new Chan<Message>(1);
  const w = startHandlerWorkers(up, () => new Promise<void>(() => undefined), { numWorkers: 1 });
  await w.idle();
  await up.send(msg(session(), 1));
  await settle();
  assert.is(w.busy, 1);
  const ac = new AbortController();
  const reason = new Error('stop waiting');
  const waiting = w.idle(ac.signal).then(() => 'resolved', (e: unknown) => e);
  await settle();
  ac.abort(reason);
  assert.is(await waiting, reason, 'rejects with exactly the signal\'s reason');
});

// --- batches ---

s('batch by size: handled as soon as it is full; all but the last marked, the last committed', async () => {
  const sess = session();
  const up = new Chan<Message>(8);
  const batches: number[][] = [];
  const releasedAtCall: boolean[][] = [];
  const w = startBatchWorker(up, (b) => {
    batches.push(b.map((m) => m.offset));
    releasedAtCall.push(b.map((m) => m.released));
  }, { batchSize: 3, batchWaitTime: 5_000 });
  for (let i = 1; i <= 7; i++) await up.send(msg(sess, i));
  await delay(20);
  assert.equal(batches, [[1, 2, 3], [4, 5, 6]], 'full batches go at once, message 7 waits');
  // dp-kafka releases each message as it is added; the one that fills the batch after handling
  assert.equal(releasedAtCall[0], [true, true, false]);
  const firstBatch = sess.log.slice(0, sess.log.indexOf('release 3') + 1);
  assert.equal(firstBatch, ['release 1', 'release 2', 'mark 1', 'mark 2', 'commit 3', 'release 3']);
  up.close();
  await w.done;
  assert.equal(batches, [[1, 2, 3], [4, 5, 6], [7]], 'the partial batch is handled when upstream closes');
});

s('batch by wait time: a partial batch is handled batchWaitTime after its first message', async () => {
  const sess = session();
  const up = new Chan<Message>(8);
  const handled: { at: number; offsets: number[] }[] = [];
  const t0 = performance.now();
  const w = startBatchWorker(up, (b) => void handled.push({ at: performance.now() - t0, offsets: b.map((m) => m.offset) }), {
    batchSize: 100, batchWaitTime: 40,
  });
  await up.send(msg(sess, 1));
  await up.send(msg(sess, 2));
  await delay(15);
  assert.equal(handled, [], 'not before the wait time');
  await delay(60);
  assert.is(handled.length, 1);
  assert.equal(handled[0]!.offsets, [1, 2]);
  assert.ok(handled[0]!.at >= 35, `handled at ${handled[0]!.at} ms`);
  assert.ok(sess.log.includes('commit 2') && sess.log.includes('mark 1'));
  up.close();
  await w.done;
  assert.is(handled.length, 1, 'nothing left to flush');
});

s('the wait time counts from the first message, not the last (bounded latency under a trickle)', async () => {
  const sess = session();
  const up = new Chan<Message>(8);
  const handled: { at: number; offsets: number[] }[] = [];
  const t0 = performance.now();
  const w = startBatchWorker(up, (b) => void handled.push({ at: performance.now() - t0, offsets: b.map((m) => m.offset) }), {
    batchSize: 100, batchWaitTime: 200,
  });
  await up.send(msg(sess, 1));
  await delay(120);
  await up.send(msg(sess, 2));
  const secondAt = performance.now() - t0;
  // dp-kafka's idle timer would flush 200 ms after the second message; ours 200 ms after the first (~80 ms later)
  await delay(150);
  assert.is(handled.length, 1, 'flushed by the first message\'s deadline');
  assert.equal(handled[0]!.offsets, [1, 2]);
  assert.ok(handled[0]!.at - secondAt < 150, `handled ${handled[0]!.at - secondAt} ms after the second message`);
  up.close();
  await w.done;
});

s('batch: a Commiter error saying false leaves the batch uncommitted and unmarked; other errors commit', async () => {
  const sess = session();
  const up = new Chan<Message>(8);
  const failures: HandlerFailure[] = [];
  let n = 0;
  const w = startBatchWorker(up, () => {
    n++;
    throw n === 1 ? new NoCommit('later') : new Error('logged');
  }, { batchSize: 2, batchWaitTime: 5_000, onError: (f) => failures.push(f) });
  for (let i = 1; i <= 4; i++) await up.send(msg(sess, i));
  up.close();
  await w.done;
  assert.not.ok(sess.log.some((l) => /^(mark|commit) [12]$/.test(l)), sess.log.join(','));
  assert.ok(sess.log.includes('mark 3') && sess.log.includes('commit 4'));
  assert.equal(failures.map((f) => f.committed), [false, true]);
  assert.equal(failures[0]!.messages.map((m) => m.offset), [1, 2]);
});

s('batch: abort drops the partial batch (uncommitted) and ends the loop', async () => {
  const sess = session();
  const up = new Chan<Message>(8);
  const ac = new AbortController();
  let calls = 0;
  const w = startBatchWorker(up, () => void calls++, { batchSize: 10, batchWaitTime: 5_000, signal: ac.signal });
  await up.send(msg(sess, 1));
  await settle();
  ac.abort();
  await w.done;
  assert.is(calls, 0);
  assert.equal(sess.log, ['release 1']);
});

s('batchWaitTime 0 handles whatever is there on the next turn', async () => {
  const sess = session();
  const up = new Chan<Message>(8);
  const batches: number[][] = [];
  const w = startBatchWorker(up, (b) => void batches.push(b.map((m) => m.offset)), { batchSize: 10, batchWaitTime: 0 });
  up.trySend(msg(sess, 1));
  up.trySend(msg(sess, 2));
  await delay(10);
  assert.equal(batches.flat(), [1, 2]);
  up.close();
  await w.done;
});

s.run();
