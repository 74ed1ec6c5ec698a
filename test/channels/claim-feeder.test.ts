import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { suite } from '../kit.js';
import { Chan } from '../../src/channels/chan.js';
import { ClaimFeeder } from '../../src/channels/claim-feeder.js';
import type { Message } from '../../src/channels/message.js';
import type { FetchedBatch } from '../../src/client/fetcher.js';
import { Claim, type GroupSession } from '../../src/group/session.js';
import type { OffsetManager } from '../../src/group/offsets.js';
import { decodeRecordBatches } from '../../src/protocol/record-batch-decoder.js';
import { encodeRecordBatch } from '../../src/protocol/record-batch-encoder.js';

const s = suite('claim feeder', { timeoutMs: 5_000 });

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A fetched run of one batch holding `values`, starting at `baseOffset`; records below `fromOffset` are skipped. */
function run(baseOffset: number, values: string[], fromOffset = baseOffset): FetchedBatch {
  const bytes = encodeRecordBatch(values.map((v) => ({ value: Buffer.from(v), timestamp: 1 })), { baseOffset });
  return { topic: 't', partition: 2, batches: decodeRecordBatches(bytes), fromOffset, nextOffset: baseOffset + values.length,
    highWatermark: 0, lastStableOffset: 0, logStartOffset: 0, bytes: bytes.length };
}

function setUp(capacity = 1, notReleasedMs?: number): { up: Chan<Message>; claim: Claim; marks: number[]; consumed: number[]; commits: number[]; feeder: ClaimFeeder; errors: unknown[] } {
  const marks: number[] = [];
  const consumed: number[] = [];
  const commits: number[] = [];
  const errors: unknown[] = [];
  const offsets = { markKey: (_k: string, next: number) => void marks.push(next) } as unknown as OffsetManager;
  const fetcher = { consumed: (_b: FetchedBatch, next: number) => void consumed.push(next) } as never;
  const claim = new Claim('t', 2, 0, fetcher, offsets);
  const session = { commit: async () => void commits.push(marks.at(-1)!) } as unknown as GroupSession;
  const up = new Chan<Message>(capacity);
  return { up, claim, marks, consumed, commits, errors, feeder: new ClaimFeeder(up, claim, session, (e) => errors.push(e), notReleasedMs) };
}

const text = (m: Message): string => m.value!.toString();

s('one message of the partition at a time, the next on release; skips records below the run start', async () => {
  const { up, claim, marks, consumed, feeder } = setUp();
  const done = feeder.start();
  claim.push(run(10, ['a', 'b', 'c'], 11));
  claim.push(run(13, ['d']));
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = up.tryRecv()!;
    assert.ok(r !== undefined && !r.done);
    assert.is(up.tryRecv(), undefined, 'nothing more until released');
    seen.push(`${text(r.value)}@${r.value.offset}`);
    r.value.mark();
    r.value.release();
  }
  assert.equal(seen, ['b@11', 'c@12', 'd@13']);
  assert.equal(marks, [12, 13, 14]);
  assert.equal(consumed, [13, 14], 'each run is handed back once its last record was released');
  claim.stop('revoked');
  await done;
  assert.equal(consumed, [13, 14]);
});

s('the run in progress is handed back when the claim ends', async () => {
  const { up, claim, consumed, feeder } = setUp();
  const done = feeder.start();
  claim.push(run(0, ['a', 'b', 'c']));
  const r1 = up.tryRecv()!;
  assert.ok(!r1.done);
  r1.value.release();
  const r2 = up.tryRecv()!;
  assert.ok(!r2.done && text(r2.value) === 'b');
  claim.stop('revoked');
  await settle();
  assert.equal(consumed, [], 'not while a message is out');
  r2.value.release();
  await done;
  assert.equal(consumed, [3]);
  assert.is(up.tryRecv(), undefined, "'c' is left for the next owner");
});

s('a taken run is no longer referenced by the claim (it pins its whole fetch response)', () => {
  const { claim } = setUp();
  const runs = [run(0, ['a']), run(1, ['b']), run(2, ['c'])];
  for (const r of runs) claim.push(r);
  const queue = (claim as unknown as { queue: unknown[] }).queue;
  assert.is(claim.takeRun(), runs[0]);
  assert.not.ok(queue.includes(runs[0]));
  claim.takeRun();
  claim.takeRun();
  assert.equal(queue.filter((x) => x !== undefined), []);
});

s('waits for data, then delivers to a waiting reader', async () => {
  const { up, claim, feeder } = setUp();
  void feeder.start();
  const pending = up.recv();
  await settle();
  claim.push(run(0, ['x']));
  const r = await pending;
  assert.is(!r.done && text(r.value), 'x');
  claim.stop('revoked');
});

s('a full upstream queues the feeder as a sender; a claim that ends withdraws the undelivered message', async () => {
  const { up, claim, feeder } = setUp(1);
  up.trySend({ offset: -1 } as Message); // someone else's message fills the only slot
  const done = feeder.start();
  claim.push(run(5, ['p', 'q']));
  claim.stop('revoked');
  await done; // resolves although 'p' was never taken: it was withdrawn
  const first = up.tryRecv()!;
  assert.ok(!first.done && first.value.offset === -1);
  assert.is(up.tryRecv(), undefined, "the revoked partition's message is not delivered");
});

s('a full upstream delivers the queued message when a slot frees', async () => {
  const { up, claim, feeder } = setUp(1);
  up.trySend({ offset: -1 } as Message);
  void feeder.start();
  claim.push(run(5, ['p']));
  up.tryRecv();
  const r = up.tryRecv()!;
  assert.ok(!r.done && text(r.value) === 'p');
  claim.stop('revoked');
});

s('a claim that ends while a message is out finishes only when it is released', async () => {
  const { up, claim, feeder } = setUp();
  let finished = false;
  void feeder.start().then(() => { finished = true; });
  claim.push(run(0, ['m', 'n']));
  const r = up.tryRecv()!;
  claim.stop('revoked');
  await settle();
  assert.is(finished, false);
  assert.ok(!r.done);
  r.value.release();
  await settle();
  assert.is(finished, true);
  assert.is(up.tryRecv(), undefined, 'nothing after the claim ended');
});

s('upstream closed while the feeder waits as a sender: it ends', async () => {
  const { up, claim, feeder } = setUp(1);
  up.trySend({ offset: -1 } as Message);
  const done = feeder.start();
  claim.push(run(0, ['z']));
  up.close();
  await done;
});

s('commit marks then commits through the session', async () => {
  const { up, claim, commits, feeder } = setUp();
  void feeder.start();
  claim.push(run(7, ['c']));
  const r = up.tryRecv()!;
  assert.ok(!r.done);
  await r.value.commit();
  assert.equal(commits, [8]);
  r.value.release();
  claim.stop('revoked');
});

s('the seed README\'s loop (take a message, handle it, msg.Commit() and nothing else) gets every message of the partition', async () => {
  const { up, claim, commits, feeder, errors } = setUp();
  void feeder.start();
  claim.push(run(0, ['a', 'b', 'c']));
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = up.tryRecv();
    assert.ok(r !== undefined && !r.done, `message ${i} delivered after the previous one's commit alone`);
    seen.push(text(r.value));
    void r.value.commit(); // Go: msg.Commit(), fire and forget
  }
  await settle();
  assert.equal(seen, ['a', 'b', 'c']);
  assert.equal(commits, [1, 2, 3]);
  assert.equal(errors, []);
  claim.stop('revoked');
});

s('a message marked but never released is reported once on errors after notReleasedMs, with the fix in the message', async () => {
  const { up, claim, feeder, errors } = setUp(1, 50);
  void feeder.start();
  claim.push(run(0, ['a', 'b', 'c']));
  // Released within the window after its mark: never reported.
  const a = up.tryRecv()!;
  assert.ok(!a.done);
  a.value.mark();
  await new Promise((r) => setTimeout(r, 20));
  a.value.release();
  // Marked, never released: the stall the seed's loop would hit with mark() alone.
  const b = up.tryRecv()!;
  assert.ok(!b.done);
  b.value.mark();
  await new Promise((r) => setTimeout(r, 250));
  assert.is(errors.length, 1, `reported once: ${errors.map(String).join(' | ')}`);
  const e = errors[0] as Error & { code?: string };
  assert.is(e.code, 'ERR_KAFKA_MESSAGE_NOT_RELEASED');
  assert.match(e.message, /t-2 offset 1 was marked but not released after 50 ms/);
  assert.match(e.message, /release\(\)/);
  assert.is(up.tryRecv(), undefined, 'still held back (reported, not released behind the reader\'s back)');
  b.value.release();
  const c = up.tryRecv()!;
  assert.ok(!c.done && text(c.value) === 'c');
  c.value.release();
  claim.stop('revoked');
});

s('a message held without mark (a long handler) is not reported', async () => {
  const { up, claim, feeder, errors } = setUp(1, 30);
  void feeder.start();
  claim.push(run(0, ['a']));
  const a = up.tryRecv()!;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(errors, []);
  assert.ok(!a.done);
  a.value.release();
  claim.stop('revoked');
});

s('paused, the feeder hands out nothing new; resume goes on from the next record; a paused claim still ends', async () => {
  const { up, claim, feeder } = setUp(4);
  const done = feeder.start();
  claim.push(run(0, ['a', 'b', 'c']));
  const a = up.tryRecv()!;
  assert.ok(!a.done && text(a.value) === 'a');
  feeder.pause();
  a.value.release();
  await settle();
  assert.is(up.tryRecv(), undefined, 'nothing while paused');
  feeder.resume();
  const b = up.tryRecv()!;
  assert.ok(!b.done && text(b.value) === 'b');
  feeder.pause();
  b.value.release();
  assert.ok(feeder.active);
  claim.stop('revoked');
  await done;
  assert.not.ok(feeder.active);
  assert.is(up.tryRecv(), undefined);
});

s('a batch that cannot be decoded rejects done (the session reports it)', async () => {
  const { claim, feeder } = setUp();
  const done = feeder.start();
  const bad = run(0, ['ok']);
  bad.batches = [{ lastOffset: 0, partitionLeaderEpoch: 0, recordReader: () => { throw new Error('corrupt'); } } as never];
  claim.push(bad);
  try {
    await done;
    assert.unreachable('should reject');
  } catch (err) {
    assert.match(String(err), /corrupt/);
  }
});

s('a reader draining with tryRecv still lets the event loop turn: the feeder waits for the starvation guard', async () => {
  const { up, claim, feeder } = setUp();
  const done = feeder.start();
  const values = Array.from({ length: 200 }, (_, i) => `v${i}`);
  for (let k = 0; k < 1000; k++) claim.push(run(k * 200, values));
  let turned = false;
  setImmediate(() => { turned = true; });
  let read = 0;
  let readBeforeTurn = -1;
  while (read < 200_000) {
    const r = up.tryRecv() ?? await up.recv();
    assert.ok(!r.done);
    if (turned && readBeforeTurn < 0) readBeforeTurn = read;
    r.value.release();
    read++;
  }
  // Without the guard, release() hands over the next message synchronously and the loop never awaits: all
  // 200,000 messages would be read before the event loop's next turn.
  assert.ok(readBeforeTurn > 0 && readBeforeTurn < 200_000, `event loop turned after ${readBeforeTurn} messages`);
  claim.stop('revoked');
  await done;
});

s('releasing an already released message again does not hand out the next one while another is out', async () => {
  const { up, claim, feeder } = setUp(4);
  const done = feeder.start();
  claim.push(run(0, ['a', 'b', 'c']));
  const a = up.tryRecv()!;
  assert.ok(!a.done && text(a.value) === 'a');
  a.value.release();
  const b = up.tryRecv()!;
  assert.ok(!b.done && text(b.value) === 'b');
  // The session call itself, not Message.release() (which ignores a second call): a stale or foreign message
  // released to the feeder must not free the partition while 'b' is still being handled.
  feeder.release(a.value);
  await settle();
  assert.is(up.tryRecv(), undefined, "'c' waits for 'b' to be released");
  b.value.release();
  const c = up.tryRecv()!;
  assert.ok(!c.done && text(c.value) === 'c', "'c' comes once 'b' is released");
  c.value.release();
  claim.stop('revoked');
  await done;
});

s.run();
