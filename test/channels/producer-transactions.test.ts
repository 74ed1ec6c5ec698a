/**
 * The transactional Producer (src/channels/producer-transactions.ts, src/client/transaction-manager.ts) on the fake
 * cluster's transactions (test/fake-cluster/transactions.ts). Unhappy paths first: a careless caller, a coordinator
 * that is not available or moves, CONCURRENT_TRANSACTIONS, fencing, abortable errors, close mid-transaction; then
 * the paths that work, under transaction protocol v1 and v2 (KIP-890), with a group's offsets (KIP-447).
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../kit.js';
import { Producer } from '../../src/channels/producer.js';
import type { ProducerConfig } from '../../src/channels/config.js';
import { InvalidArgumentError, KafkaError, ProducerError, ProducerFencedError, TransactionError, TransactionStateError } from '../../src/errors.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';
import { transactionsOf } from '../fake-cluster/transactions.js';

let c: FakeCluster;
let producers: Producer[] = [];
const s = suite('transactional Producer on the fake cluster', { timeoutMs: 20_000 });
s.before.each(async () => { c = await FakeCluster.start({ brokers: 3, topics: { t: 3 } }); });
s.after.each(async () => {
  await Promise.allSettled(producers.map((p) => p.close({ signal: AbortSignal.timeout(2_000) })));
  producers = [];
  await c.close();
});

function producer(config: Partial<ProducerConfig> = {}): Producer {
  const p = new Producer({
    brokerAddrs: c.bootstrap, topic: 't', minRetryPeriod: 20, maxRetryPeriod: 200, retryBackoffMs: 20, requestTimeoutMs: 2_000,
    transactionalId: 'tx-1', transactionTimeoutMs: 5_000, traceHeader: false, ...config,
  });
  producers.push(p);
  return p;
}

function drainErrors(p: Producer): Error[] {
  const out: Error[] = [];
  for (let r; (r = p.channels.errors.tryRecv()) !== undefined && !r.done;) out.push(r.value);
  return out;
}

async function rejects(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, got a resolution');
}

const txns = (): ReturnType<typeof transactionsOf> => transactionsOf(c.state);

/** Waits until transactional producers have written `n` records (committed or not). */
async function written(n: number): Promise<void> {
  await eventually(`${n} records written`, () => txns().writes.reduce((sum, w) => sum + w.records, 0) >= n);
}

s('config: transactionalId needs idempotence and acks all, and is a non-empty string', () => {
  for (const bad of [{ idempotent: false }, { acks: 1 as const, idempotent: false }, { transactionalId: '' }, { transactionTimeoutMs: 0 }, { transactionalId: 7 as unknown as string }]) {
    assert.throws(() => new Producer({ brokerAddrs: ['127.0.0.1:1'], topic: 't', transactionalId: 'x', ...bad }), (e: unknown) => e instanceof InvalidArgumentError, JSON.stringify(bad));
  }
});

s('a careless caller: commit, abort or offsets without begin, begin twice, sends outside a transaction, a producer without transactionalId', async () => {
  const p = producer();
  assert.instance(await rejects(p.commitTransaction()), TransactionStateError);
  assert.instance(await rejects(p.abortTransaction()), TransactionStateError);
  assert.instance(await rejects(p.send('outside')), TransactionStateError);
  assert.instance(await rejects(p.sendOffsetsToTransaction([{ topic: 't', partition: 0, offset: 1 }], { groupId: 'g', generationId: -1, memberId: '' })), TransactionStateError);
  await p.beginTransaction();
  assert.instance(await rejects(p.beginTransaction()), TransactionStateError);
  assert.instance(await rejects(p.sendOffsetsToTransaction('no' as never, { groupId: '' } as never)), InvalidArgumentError);
  await p.send('inside');
  await p.commitTransaction();
  assert.instance(await rejects(p.commitTransaction()), TransactionStateError, 'commit twice');
  // Written to `output` directly outside a transaction: refused and reported, never written.
  await p.channels.output.send({ value: 'direct-outside' });
  let err: Error | undefined;
  await eventually('the refusal on errors', () => (err = drainErrors(p)[0]) !== undefined);
  assert.instance(err, ProducerError);
  assert.instance((err as ProducerError).cause, TransactionStateError);
  assert.is(txns().committedRecords(), 1);
  const plain = producer({ transactionalId: undefined });
  assert.instance(await rejects(plain.beginTransaction()), TransactionStateError);
  assert.instance(await rejects(p.transaction(42 as never)), InvalidArgumentError);
});

s('v1: partitions are added before their first Produce; commit and abort end with EndTxn; the aborted records are not committed', async () => {
  const p = producer();
  await p.beginTransaction();
  for (let i = 0; i < 10; i++) await p.send({ key: `k${i}`, value: `c${i}` });
  await p.commitTransaction();
  const adds = c.log.of('AddPartitionsToTxn');
  const produces = c.log.of('Produce');
  assert.ok(adds.length >= 1 && produces.length >= 1);
  assert.ok(adds[0]!.at <= produces[0]!.at, 'AddPartitionsToTxn first');
  assert.ok(produces.every((r) => r.version <= 11 && r.body.transactionalId === 'tx-1'), 'Produce v11 at most, with the transactional id');
  assert.ok(c.log.of('EndTxn').every((r) => r.version <= 4));
  await p.beginTransaction();
  for (let i = 0; i < 5; i++) await p.send({ key: `k${i}`, value: `a${i}` });
  await written(15); // the aborted records reached the log: read_committed readers must skip them
  await p.abortTransaction();
  assert.equal(txns().ended.map((e) => e.committed), [true, false]);
  assert.is(txns().committedRecords(), 10);
  assert.equal(drainErrors(p), [], 'an abort the caller chose reports nothing');
  // The next transaction goes on normally.
  await p.transaction(async (tx) => { await tx.send('after'); });
  assert.is(txns().committedRecords(), 11);
});

s('transaction(fn) commits on return and aborts on throw, rethrowing', async () => {
  const p = producer();
  const r = await p.transaction(async (tx) => { await tx.send('one'); return 7; });
  assert.is(r, 7);
  const boom = new Error('boom');
  const err = await rejects(p.transaction(async (tx) => { await tx.send('two'); await new Promise((res) => setTimeout(res, 50)); throw boom; }));
  assert.is(err, boom);
  assert.is(txns().committedRecords(), 1);
  assert.is(txns().ended.at(-1)?.committed ?? false, false);
  await p.transaction(async (tx) => { await tx.send('three'); });
  assert.is(txns().committedRecords(), 2);
});

s('coordinator not available: begin retries with backoff and succeeds; persistently, it rejects in time and the stall is reported', async () => {
  c.fault({ api: 'FindCoordinator', action: 'error', code: errorCodes.COORDINATOR_NOT_AVAILABLE, times: 3 });
  const p = producer();
  await p.beginTransaction();
  await p.send('x');
  await p.commitTransaction();
  assert.is(txns().committedRecords(), 1);

  c.fault({ api: 'FindCoordinator', action: 'error', code: errorCodes.COORDINATOR_NOT_AVAILABLE });
  const q = producer({ transactionalId: 'tx-2', transactionTimeoutMs: 1_500 });
  const t0 = Date.now();
  const since = Date.now();
  const err = await rejects(q.beginTransaction());
  const took = Date.now() - t0;
  assert.instance(err, KafkaError);
  assert.ok((err as KafkaError).retriable, 'a timeout: the caller may try again');
  assert.ok(took < 5_000, `rejected after ${took} ms`);
  const finds = c.log.count('FindCoordinator', { since });
  assert.ok(finds <= 30, `${finds} FindCoordinator in ${took} ms`);
  assert.ok(drainErrors(q).some((e) => (e as KafkaError).code === 'ERR_KAFKA_COORDINATOR_STALLED'), 'the stall is on errors');
});

s('CONCURRENT_TRANSACTIONS is retried with backoff, bounded by the transaction timeout', async () => {
  c.fault({ api: 'AddPartitionsToTxn', action: 'error', code: errorCodes.CONCURRENT_TRANSACTIONS, times: 3 });
  const p = producer();
  await p.beginTransaction();
  await p.send({ key: 'a', value: 'x' });
  await p.commitTransaction();
  assert.is(c.log.count('AddPartitionsToTxn'), 4);
  const at = c.log.of('AddPartitionsToTxn').map((r) => r.at);
  assert.ok(at[3]! - at[0]! >= 40, `three pauses of at least ~20 ms, got ${at[3]! - at[0]!} ms`);
  assert.is(txns().committedRecords(), 1);

  // Forever: the commit gives up within the transaction timeout, having sent a bounded number of requests.
  const q = producer({ transactionalId: 'tx-3', transactionTimeoutMs: 1_500 });
  await q.beginTransaction();
  await q.send('y');
  c.fault({ api: 'EndTxn', action: 'error', code: errorCodes.CONCURRENT_TRANSACTIONS });
  const since = Date.now();
  const err = await rejects(q.commitTransaction());
  assert.instance(err, KafkaError);
  assert.is((err as KafkaError).code, 'ERR_KAFKA_TXN_TIMEOUT');
  const ends = c.log.count('EndTxn', { since });
  assert.ok(ends >= 2 && ends <= 20, `${ends} EndTxn in ${Date.now() - since} ms`);
});

s('the coordinator moves: NOT_COORDINATOR sends the client to find it again, and the transaction commits', async () => {
  const p = producer();
  await p.beginTransaction();
  await p.send({ key: 'a', value: 'x' });
  await written(1); // the partition is in the transaction: the next coordinator request is the EndTxn
  const now = c.coordinatorOf('tx-1');
  c.moveCoordinator('tx-1', now === 1 ? 2 : 1);
  await p.commitTransaction();
  assert.ok(c.log.of('EndTxn').some((r) => r.broker === now), 'asked the old coordinator first');
  assert.is(txns().ended.at(-1)?.committed, true);
});

s('fencing: a second producer with the same id takes over; the first is told on errors, fails its commit and writes nothing more', async () => {
  const old = producer();
  await old.beginTransaction();
  await old.send({ key: 'a', value: 'zombie-1' });
  await eventually('the zombie\'s write', () => txns().writes.length === 1);
  const fresh = producer();
  await fresh.beginTransaction(); // InitProducerId: aborts the old transaction, bumps the epoch
  await fresh.send({ key: 'a', value: 'fresh' });
  const err = await rejects(old.commitTransaction());
  assert.instance(err, ProducerFencedError);
  assert.is((err as TransactionError).abortable, false);
  assert.ok(drainErrors(old).some((e) => e instanceof ProducerFencedError), 'reported on errors');
  assert.instance(await rejects(old.beginTransaction()), ProducerFencedError);
  assert.instance(await rejects(old.send('more')), ProducerFencedError);
  await fresh.commitTransaction();
  assert.equal(txns().ended.map((e) => e.committed), [false, true]);
  assert.is(txns().committedRecords(), 1);
});

s('TRANSACTION_ABORTABLE on Produce: commit fails abortably, abort succeeds, the next transaction commits', async () => {
  c.fault({ api: 'Produce', action: 'error', code: errorCodes.TRANSACTION_ABORTABLE, times: 1 });
  const p = producer();
  await p.beginTransaction();
  await p.send({ key: 'a', value: 'lost' });
  const err = await rejects(p.commitTransaction());
  assert.instance(err, TransactionError);
  assert.is((err as TransactionError).abortable, true);
  assert.instance(await rejects(p.beginTransaction()), TransactionStateError, 'begin before the abort');
  await p.abortTransaction();
  // v1: the failed batch may have left a sequence gap, so the abort ends with an epoch bump of the same id (KIP-360).
  const inits = c.log.of('InitProducerId');
  assert.is(inits.length, 2);
  assert.ok((inits[1]!.body.producerId as bigint) >= 0n && inits[1]!.body.producerEpoch === 0, 'the bump names the current id and epoch');
  await p.transaction(async (tx) => { await tx.send({ key: 'a', value: 'ok' }); });
  assert.is(txns().committedRecords(), 1);
  assert.equal(txns().ended.map((e) => e.committed), [false, true]);
});

s('INVALID_TXN_STATE from the coordinator is fatal and reported', async () => {
  const p = producer();
  await p.beginTransaction();
  await p.send('x');
  c.fault({ api: 'EndTxn', action: 'error', code: errorCodes.INVALID_TXN_STATE, times: 1 });
  const err = await rejects(p.commitTransaction());
  assert.instance(err, TransactionError);
  assert.is((err as TransactionError).abortable, false);
  assert.ok(drainErrors(p).some((e) => e === err));
  assert.instance(await rejects(p.beginTransaction()), TransactionError);
});

s('close mid-transaction aborts the transaction and says so on errors', async () => {
  const p = producer();
  await p.beginTransaction();
  await p.send({ key: 'a', value: 'never' });
  await written(1);
  const errors: Error[] = [];
  const reading = (async () => { for await (const e of p.channels.errors) errors.push(e); })();
  await p.close();
  await reading;
  assert.is(txns().ended.at(-1)?.committed, false);
  assert.is(txns().committedRecords(), 0);
  assert.ok(errors.some((e) => e instanceof TransactionStateError && /closed inside a transaction/.test(e.message)));
});

s('v2 (KIP-890): no AddPartitionsToTxn, Produce v12+, EndTxn v5 and a new epoch after each end', async () => {
  txns().version = 2;
  const p = producer();
  await p.transaction(async (tx) => { for (let i = 0; i < 5; i++) await tx.send({ key: `k${i}`, value: `v${i}` }); });
  await p.transaction(async (tx) => { await tx.send('second'); });
  await p.beginTransaction();
  await p.send('aborted');
  await written(7);
  await p.abortTransaction();
  await p.transaction(async (tx) => { await tx.send('third'); });
  assert.is(c.log.count('AddPartitionsToTxn'), 0);
  assert.ok(c.log.of('Produce').every((r) => r.version >= 12));
  assert.ok(c.log.of('EndTxn').every((r) => r.version === 5));
  assert.equal(txns().ended.map((e) => e.committed), [true, true, false, true]);
  assert.equal(txns().ended.map((e) => e.epoch), [0, 1, 2, 3], 'every end bumps the epoch');
  assert.is(txns().committedRecords(), 7);
});

for (const version of [1, 2]) {
  s(`offsets in the transaction (v${version}): the group's offsets move only when the transaction commits`, async () => {
    txns().version = version;
    const p = producer();
    const group = { groupId: 'g', generationId: -1, memberId: '' };
    await p.beginTransaction();
    await p.send('r1');
    await p.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 5 }], group);
    await p.abortTransaction();
    assert.is(c.state.groups.get('g').offsets.get('in:0'), undefined, 'aborted: not committed');
    await p.transaction(async (tx) => {
      await tx.send('r2');
      await tx.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 7 }, { topic: 'in', partition: 1, offset: 3 }], group);
    });
    assert.is(c.state.groups.get('g').offsets.get('in:0')?.offset, 7);
    assert.is(c.state.groups.get('g').offsets.get('in:1')?.offset, 3);
    assert.is(c.log.count('AddOffsetsToTxn'), version === 1 ? 2 : 0);
    // A member of a generation the group left behind is refused: the transaction must be aborted.
    c.state.groups.get('g').generation = 4;
    await p.beginTransaction();
    const err = await rejects(p.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 9 }], { groupId: 'g', generationId: 3, memberId: 'm' }));
    assert.instance(err, TransactionError);
    assert.is((err as TransactionError).abortable, true);
    await p.abortTransaction();
  });
}

s.run();
