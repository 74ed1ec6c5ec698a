/**
 * Exactly-once consume-transform-produce on the real broker (issue 20, KIP-447): examples/consume-transform-produce.ts
 * runs as a child process reading `in` and writing the upper-cased values to `out`, each batch in a transaction
 * with its offsets; it is killed with SIGKILL mid-stream, EOS_KILLS times, and restarted with the same
 * transactionalId. The output read `read_committed` must hold each input record exactly once.
 *
 * CI: 10,000 records and 2 kills. The long run (issue 20's evidence), once by hand:
 *   EOS_RECORDS=100000 EOS_KILLS=3 EOS_TIMEOUT_MS=900000 TEST_FILTER=integration/transactions-eos node .build/test/run.js integration
 */
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from '../test/kit.js';
import { Fetcher, fetchedRecords } from '../src/client/fetcher.js';
import { Producer } from '../src/channels/producer.js';
import { brokers } from './harness/index.js';
import { TxnKit } from './transactions-kit.js';

const RECORDS = Number(process.env.EOS_RECORDS ?? 10_000);
const KILLS = Number(process.env.EOS_KILLS ?? 2);
const s = suite('exactly-once consume-transform-produce, killed -9 and restarted', { timeoutMs: Number(process.env.EOS_TIMEOUT_MS ?? 150_000) });
const pipelineJs = fileURLToPath(new URL('../examples/consume-transform-produce.js', import.meta.url));

s(`${RECORDS} records, the pipeline killed -9 ${KILLS} times: the read_committed output holds each input exactly once`, async () => {
  const kit = new TxnKit(await brokers(), 'eos');
  const children: ChildProcess[] = [];
  const reader = new Fetcher(kit.cl, { autoOffsetReset: 'earliest', isolation: 'read_committed', maxWaitMs: 100 });
  try {
    const input = await kit.topic('eos-in', 3);
    const output = await kit.topic('eos-out', 3);
    const p = new Producer({ brokerAddrs: kit.bootstrap, topic: input, minBrokersHealthy: 1, traceHeader: false });
    for (let i = 0; i < RECORDS; i++) await p.send({ key: `k${i}`, value: `r-${i}` });
    await p.close();

    const env = { ...process.env, KAFKA_BROKERS: kit.bootstrap.join(','), KAFKA_INPUT: input, KAFKA_OUTPUT: output,
      TRANSACTIONAL_ID: `eos-${kit.stamp}`, KAFKA_GROUP: `eos-${kit.stamp}`, BATCH_SIZE: '200', HANDLER_DELAY_MS: '150' };
    const start = (): ChildProcess => {
      const child = spawn(process.execPath, [pipelineJs], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(child);
      return child;
    };

    // The output as a read_committed reader sees it, read all along.
    const seen: string[] = [];
    reader.assign([0, 1, 2].map((partition) => ({ topic: output, partition })));
    let reading = true;
    const readLoop = (async () => {
      while (reading) {
        let b;
        try { b = await reader.next(AbortSignal.timeout(500)); } catch { continue; }
        for (const r of fetchedRecords(b)) seen.push(r.value!.toString());
        reader.consumed(b, b.nextOffset);
      }
    })();
    const waitFor = async (n: number, ms: number): Promise<void> => {
      const t0 = Date.now();
      while (new Set(seen).size < n) {
        if (Date.now() - t0 > ms) throw new Error(`read_committed output reached ${new Set(seen).size} of ${n} distinct records in ${ms} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    let child = start();
    const t0 = Date.now();
    for (let k = 1; k <= KILLS; k++) {
      await waitFor(Math.floor((k * RECORDS) / (KILLS + 1)), 120_000);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      console.log(`  kill -9 #${k} at ${new Set(seen).size} committed records (${Date.now() - t0} ms)`);
      child = start();
    }
    await waitFor(RECORDS, 300_000);
    await new Promise((r) => setTimeout(r, 2_000)); // a duplicate would show up now
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    reading = false;
    await readLoop;

    const counts = new Map<string, number>();
    for (const v of seen) counts.set(v, (counts.get(v) ?? 0) + 1);
    const dups = [...counts].filter(([, n]) => n > 1);
    const missing = Array.from({ length: RECORDS }, (_, i) => `R-${i}`).filter((v) => !counts.has(v));
    assert.equal(dups.slice(0, 5), [], `duplicates in the committed output (${dups.length})`);
    assert.equal(missing.slice(0, 5), [], `missing from the committed output (${missing.length})`);
    assert.is(seen.length, RECORDS);
    // And read again from the start, after the pipeline is gone.
    const again = await kit.readOurs(output, 'read_committed');
    assert.is(again.length, RECORDS);
    assert.is(new Set(again).size, RECORDS);
    const all = await kit.readOurs(output, 'read_uncommitted');
    assert.ok(all.length > RECORDS, 'a kill left an aborted transaction\'s records in the log (so read_committed had something to hide)');
    console.log(`  ${RECORDS} records, ${KILLS} kills: read_committed ${again.length} distinct and exactly once; read_uncommitted ${all.length} (aborted writes of the killed instances included); ${Date.now() - t0} ms`);
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await reader.close();
    await kit.close();
  }
});

s.run();
