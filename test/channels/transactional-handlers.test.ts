/**
 * Consume-transform-produce on the fake cluster (src/channels/transactional-handlers.ts, KIP-447): with
 * `{ transactionalProducer }`, a handler's records and the consumed offsets commit in one transaction (TxnOffsetCommit
 * with the group's generation and member id) and the group sends no OffsetCommit of its own; a handler that throws
 * aborts its transaction; a transaction that fails stops all further commits (nothing is skipped).
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../kit.js';
import { Producer } from '../../src/channels/producer.js';
import type { Message } from '../../src/channels/message.js';
import { InvalidArgumentError, TransactionalHandlingError } from '../../src/errors.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';
import { transactionsOf } from '../fake-cluster/transactions.js';
import { FakeGroups } from './fake-group.js';

let c: FakeCluster;
let producers: Producer[] = [];
const groups = new FakeGroups(() => c);
const s = suite('consume-transform-produce with a transactional producer (fake cluster)', { timeoutMs: 30_000 });
s.before.each(async () => { c = await FakeCluster.start({ brokers: 2, topics: { in: 2, out: 2 } }); });
s.after.each(async () => {
  await groups.closeAll();
  await Promise.allSettled(producers.map((p) => p.close({ signal: AbortSignal.timeout(2_000) })));
  producers = [];
  await c.close();
});

function producer(): Producer {
  const p = new Producer({ brokerAddrs: c.bootstrap, topic: 'out', minRetryPeriod: 20, maxRetryPeriod: 200, retryBackoffMs: 20, requestTimeoutMs: 2_000,
    transactionalId: 'pipeline-1', transactionTimeoutMs: 3_000, traceHeader: false });
  producers.push(p);
  return p;
}

async function fill(n: number): Promise<void> {
  for (const p of [0, 1]) await c.append('in', p, Array.from({ length: n }, (_, i) => `v${p}-${i}`));
}

const committed = (partition: number): number | undefined => c.state.groups.get('g').offsets.get(`in:${partition}`)?.offset;

for (const kind of ['batch', 'single'] as const) {
  s(`${kind} handler: output and offsets commit together, with the group's generation; no OffsetCommit of the group's own`, async () => {
    await fill(20);
    const p = producer();
    const g = groups.make({ topic: 'in', batchSize: 7, batchWaitTime: 20, numWorkers: 2 });
    const transform = async (m: Message): Promise<void> => { await p.send({ key: m.key, value: m.value!.toString().toUpperCase() }); };
    if (kind === 'batch') g.registerBatchHandler(async (batch) => { for (const m of batch) await transform(m); }, { transactionalProducer: p });
    else g.registerHandler(transform, { transactionalProducer: p });
    g.start();
    await eventually('every offset committed', () => committed(0) === 20 && committed(1) === 20, 15_000);
    assert.is(transactionsOf(c.state).committedRecords(), 40, 'each input once in committed output');
    assert.is(c.log.count('OffsetCommit'), 0, 'the group did not commit on its own');
    const commits = c.log.of('TxnOffsetCommit');
    assert.ok(commits.length > 0 && commits.every((r) => (r.body.generationId as number) >= 1 && r.body.memberId !== ''), 'the generation and member id go with the offsets');
  });
}

s('a handler that throws aborts its transaction; a failed transaction stops every later commit', async () => {
  await fill(10);
  const p = producer();
  const g = groups.make({ topic: 'in' });
  const failures: unknown[] = [];
  let n = 0;
  g.registerHandler(async (m) => {
    await p.send({ value: `out-${m.partition}-${m.offset}` });
    if (m.partition === 0 && m.offset === 3) throw new Error('bad record');
    // An abortable failure: the producer goes on, so without the stop later transactions would commit past this message.
    if (++n === 12) c.fault({ api: 'Produce', topic: 'out', action: 'error', code: errorCodes.TRANSACTION_ABORTABLE, times: 1 });
  }, { transactionalProducer: p });
  (g as unknown as { onHandlerFailure: (f: { error: unknown }) => void }).onHandlerFailure = (f) => failures.push(f.error);
  g.start();
  await eventually('the failed transaction', () => failures.some((e) => e instanceof TransactionalHandlingError), 15_000);
  const t = transactionsOf(c.state);
  // One record per handler run: a committed transaction holding two would mean the thrower's record was not aborted.
  assert.is(t.committedRecords(), t.ended.filter((e) => e.committed).length, 'the throwing handler\'s record was not committed');
  const before = [committed(0), committed(1)];
  await new Promise((r) => setTimeout(r, 500));
  assert.equal([committed(0), committed(1)], before, 'nothing committed after the failed transaction');
  assert.ok((before[0] ?? 0) + (before[1] ?? 0) < 20, 'not everything was committed');
  assert.ok(failures.some((e) => e instanceof Error && e.message === 'bad record'));
});

s('the option is checked at registration', () => {
  const g = groups.make({ topic: 'in' });
  assert.throws(() => g.registerHandler(() => undefined, { transactionalProducer: {} as never }), (e: unknown) => e instanceof InvalidArgumentError);
  assert.throws(() => g.registerBatchHandler(() => undefined, { transactionalProducer: 'p' as never }), (e: unknown) => e instanceof InvalidArgumentError);
});

s.run();
