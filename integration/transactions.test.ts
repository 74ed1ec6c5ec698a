/**
 * Transactions on the real broker as formatted (Kafka 4.x: transaction.version 2, so protocol v2, KIP-890): see
 * transactions-kit.ts for the checks; transactions-v1.test.ts runs them with the feature downgraded to 1.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { brokers } from './harness/index.js';
import { TxnKit } from './transactions-kit.js';

const s = suite('transactions on the real broker (transaction.version as formatted)', { timeoutMs: 120_000 });
let kit: TxnKit;

s.before(async () => {
  kit = new TxnKit(await brokers(), 'tv-default');
  const tv = await kit.transactionVersion();
  console.log(`  broker transaction.version: ${tv} (protocol v${tv >= 2 ? 2 : 1})`);
  assert.ok(tv >= 2, 'Kafka 4.x formats new clusters with transaction.version 2');
});
s.after(async () => { await kit.close(); });

s('read_committed (Java console consumer and ours) sees the committed transactions only; read_uncommitted shows the aborted one was written', () => kit.checkReadCommitted());
s('Java\'s transactional producers and ours interleave on one partition; read_committed shows the committed records of both only', () => kit.checkInterleavedWithJava());
s('a zombie: a second producer with the same transactionalId fences the first, which is reported and writes nothing more', () => kit.checkZombie());

s.run();
