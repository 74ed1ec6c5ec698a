/**
 * Transactions on a broker whose transaction.version is 1 (downgraded with Kafka's FeatureCommand for this suite,
 * upgraded back after): our producer uses protocol v1 (AddPartitionsToTxn, Produce v11, EndTxn v4). The checks
 * are transactions-kit.ts's, as in transactions.test.ts (protocol v2).
 */
import * as assert from 'uvu/assert';
import { onlyIf, suite } from '../test/kit.js';
import { brokers } from './harness/index.js';
import { TxnKit } from './transactions-kit.js';

const s = suite('transactions on the real broker (transaction.version 1)', { timeoutMs: 120_000 });
// An external cluster (KAFKA_BROKERS) is not ours to downgrade.
const own = onlyIf(s, !process.env.KAFKA_BROKERS, 'KAFKA_BROKERS names an external cluster, whose features this suite does not change');
let kit: TxnKit | undefined;
let before = 0;

s.before(async () => {
  if (process.env.KAFKA_BROKERS) return;
  kit = new TxnKit(await brokers(), 'tv1');
  before = await kit.transactionVersion();
  await kit.setTransactionVersion(1);
  assert.is(await kit.transactionVersion(), 1);
});
s.after(async () => {
  if (kit === undefined) return;
  try { if (before > 1) await kit.setTransactionVersion(before); } finally { await kit.close(); }
});

own('v1: read_committed (Java console consumer and ours) sees the committed transactions only', () => kit!.checkReadCommitted());
own('v1: a zombie with the same transactionalId is fenced, reported, and writes nothing more', () => kit!.checkZombie());

s.run();
