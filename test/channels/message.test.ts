import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { suite } from '../kit.js';
import { ConsumerMessage, type Message, type MessageRecord, type MessageSession } from '../../src/channels/message.js';

const s = suite('message', { timeoutMs: 5_000 });

const message = (rec: MessageRecord, session: MessageSession): ConsumerMessage => new ConsumerMessage(session, rec.topic, rec.partition, rec);

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Recorder extends MessageSession {
  log: string[];
  errors: unknown[];
  failCommit?: unknown;
  throwCommit?: unknown;
  commitGate?: Promise<void>;
}

function recorder(): Recorder {
  const r: Recorder = {
    log: [],
    errors: [],
    mark: (m: Message) => void r.log.push(`mark ${m.offset}`),
    commit: (m: Message) => {
      if (r.throwCommit !== undefined) throw r.throwCommit;
      r.log.push(`commit ${m.offset}`);
      if (r.failCommit !== undefined) return Promise.reject(r.failCommit);
      return r.commitGate ?? Promise.resolve();
    },
    release: (m: Message) => void r.log.push(`release ${m.offset}`),
    reportError: (err: unknown) => void r.errors.push(err),
  };
  return r;
}

const record = (over: Partial<MessageRecord> = {}): MessageRecord => ({
  topic: 't',
  partition: 3,
  offset: 41,
  timestamp: 1_700_000_000_000,
  key: Buffer.from('k'),
  value: Buffer.from('{"a":1}'),
  headers: [
    { key: 'request-id', value: Buffer.from('abc') },
    { key: 'dup', value: Buffer.from('first') },
    { key: 'dup', value: Buffer.from('second') },
    { key: 'empty', value: null },
  ],
  ...over,
});

s('exposes the record fields', () => {
  const m = message(record(), recorder());
  assert.is(m.topic, 't');
  assert.is(m.partition, 3);
  assert.is(m.offset, 41);
  assert.is(m.timestamp, 1_700_000_000_000);
  assert.is(m.key!.toString(), 'k');
  assert.equal(JSON.parse(m.value!.toString()), { a: 1 });
  assert.is(m.headers.length, 4);
  assert.is(m.released, false);
});

s('getHeader returns the first match as UTF-8, "" for a null value, undefined when absent', () => {
  const m = message(record(), recorder());
  assert.is(m.getHeader('request-id'), 'abc');
  assert.is(m.getHeader('dup'), 'first');
  assert.is(m.getHeader('empty'), '');
  assert.is(m.getHeader('missing'), undefined);
  assert.is(m.getHeader('Request-Id'), undefined, 'keys are case-sensitive');
});

s('mark and commit go to the session; commit releases, as the seed README says of dp-kafka\'s Commit()', async () => {
  const r = recorder();
  const m = message(record(), r);
  m.mark();
  assert.is(m.released, false, 'mark alone does not release');
  await m.commit();
  assert.equal(r.log, ['mark 41', 'commit 41', 'release 41']);
  assert.is(m.released, true);
  assert.equal(r.errors, []);
});

s('commit releases at once, before the commit round trip finished (the partition need not wait for the broker)', async () => {
  const r = recorder();
  let open!: () => void;
  r.commitGate = new Promise<void>((resolve) => (open = resolve));
  const m = message(record(), r);
  let settled = false;
  const p = m.commit().then(() => { settled = true; });
  assert.is(m.released, true);
  await m.upstreamDone();
  await settle();
  assert.is(settled, false, 'the commit itself is still in flight');
  open();
  await p;
  assert.equal(r.log, ['commit 41', 'release 41']);
});

s('release after commit (dp-kafka v4 code: Commit then Release) tells the session once', async () => {
  const r = recorder();
  const m = message(record(), r);
  await m.commit();
  m.release();
  assert.equal(r.log, ['commit 41', 'release 41']);
});

s('messages sharing one session commit share one quiet promise and report its failure once', async () => {
  const r = recorder();
  let fail!: (err: unknown) => void;
  r.commitGate = new Promise<void>((_resolve, reject) => (fail = reject));
  const ms = [41, 42, 43].map((offset) => message(record({ offset }), r));
  const quiet = ms.map((m) => m.commit());
  assert.ok(quiet[0] === quiet[1] && quiet[1] === quiet[2], 'one promise for one commit');
  const boom = new Error('not coordinator');
  fail(boom);
  await Promise.all(quiet);
  assert.equal(r.errors, [boom], 'one report for one failed commit, not one per message');
});

s('a failed commit never rejects: it is reported to the session', async () => {
  const r = recorder();
  const boom = new Error('coordinator moved');
  r.failCommit = boom;
  const m = message(record(), r);
  await m.commit(); // would throw if the rejection escaped
  assert.equal(r.errors, [boom]);
  const r2 = recorder();
  r2.throwCommit = boom;
  await message(record(), r2).commit();
  assert.equal(r2.errors, [boom], 'a synchronous throw is reported too');
});

s('release is idempotent and tells the session once', () => {
  const r = recorder();
  const m = message(record(), r);
  m.release();
  m.release();
  assert.equal(r.log, ['release 41']);
  assert.is(m.released, true);
});

s('upstreamDone resolves on release, and at once after it', async () => {
  const m = message(record(), recorder());
  let done = false;
  const p = m.upstreamDone().then(() => {
    done = true;
  });
  const q = m.upstreamDone();
  await settle();
  assert.is(done, false);
  m.release();
  await p;
  await q;
  assert.is(done, true);
  await m.upstreamDone();
});

s('commitAndRelease (dp-kafka v4) is commit: commits, releases at once, resolves when the commit finished', async () => {
  const r = recorder();
  let open!: () => void;
  r.commitGate = new Promise<void>((resolve) => (open = resolve));
  const m = message(record(), r);
  let settled = false;
  const p = m.commitAndRelease().then(() => { settled = true; });
  assert.equal(r.log, ['commit 41', 'release 41']);
  await settle();
  assert.is(settled, false);
  open();
  await p;
  assert.equal(r.log, ['commit 41', 'release 41']);
});

s('commit and commitAndRelease still release when the commit fails or throws', async () => {
  for (const how of ['reject', 'throw'] as const) {
    const r = recorder();
    if (how === 'reject') r.failCommit = new Error('x');
    else r.throwCommit = new Error('y');
    const m = message(record(), r);
    await m.commit();
    assert.is(m.released, true, how);
    assert.is(r.errors.length, 1, how);
  }
});

s('commitAndRelease still releases when the commit fails', async () => {
  const r = recorder();
  r.failCommit = new Error('x');
  const m = message(record(), r);
  await m.commitAndRelease();
  assert.is(m.released, true);
  assert.is(r.errors.length, 1);
});

s.run();
