/**
 * Transactions on the real broker (issue 20): what our transactional Producer commits is read by Kafka's Java
 * console consumer and by our fetcher with `read_committed`, and what it aborts never is (though read_uncommitted
 * shows it was written); a zombie with the same transactionalId is fenced, reported, and writes nothing more.
 * The broker's transaction protocol (KIP-890 v1 or v2) is logged; transactions-v1.test.ts runs the same checks
 * on a broker without transaction.version 2.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin, OffsetSpec } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { Fetcher, fetchedRecords } from '../src/client/fetcher.js';
import { Producer } from '../src/channels/producer.js';
import type { ProducerConfig } from '../src/channels/config.js';
import { ProducerFencedError } from '../src/errors.js';
import { ApiVersions } from '../src/protocol/apis/api-versions.js';
import { brokers, runKafkaTool, tools } from './harness/index.js';

const s = suite('transactions on the real broker', { timeoutMs: 120_000 });
const stamp = Date.now();
let bootstrap: string[];
let cl: Cluster;
let admin: Admin;

s.before(async () => {
  bootstrap = await brokers();
  cl = new Cluster({ bootstrap });
  admin = new Admin(cl);
  const b = await cl.anyBroker();
  const res = await b.request(ApiVersions, { clientSoftwareName: 'kafka-channels-test', clientSoftwareVersion: '1' });
  const tv = res.finalizedFeatures?.find((f) => f.name === 'transaction.version')?.maxVersionLevel ?? 0;
  console.log(`  broker transaction.version: ${tv} (protocol v${tv >= 2 ? 2 : 1})`);
});
s.after(async () => { await cl.close(); });

async function topicOf(name: string, partitions = 2): Promise<string> {
  const topic = `${name}-${stamp}`;
  await admin.createTopics([{ name: topic, numPartitions: partitions, replicationFactor: 1 }]);
  return topic;
}

function producer(topic: string, transactionalId: string, extra: Partial<ProducerConfig> = {}): Producer {
  return new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1, transactionalId, traceHeader: false, lingerMs: 0, ...extra });
}

/** Sum of the partitions' end offsets (records and transaction markers). */
async function endOffsets(topic: string): Promise<number> {
  const ends = await admin.listOffsets(topic, OffsetSpec.latest);
  return [...ends.values()].reduce((a, b) => a + Number(b), 0);
}

async function waitForEnd(topic: string, atLeast: number): Promise<void> {
  const t0 = Date.now();
  while (await endOffsets(topic) < atLeast) {
    if (Date.now() - t0 > 20_000) throw new Error(`${topic}: end offsets stayed below ${atLeast}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every value our fetcher reads from `topic` with `isolation`, up to the end offsets now. */
async function readOurs(topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
  const ends = await admin.listOffsets(topic, OffsetSpec.latest);
  const f = new Fetcher(cl, { autoOffsetReset: 'earliest', isolation, maxWaitMs: 100 });
  const values: string[] = [];
  try {
    f.assign([...ends.keys()].map((partition) => ({ topic, partition })));
    const t0 = Date.now();
    // fetchPosition runs ahead of what next() handed out: done once it reached the ends and nothing is left buffered.
    const behind = (): boolean => [...ends].some(([p, end]) => !(f.fetchPosition({ topic, partition: p }) >= Number(end)));
    for (;;) {
      if (Date.now() - t0 > 30_000) throw new Error(`${isolation} fetch did not reach the end`);
      let b;
      try { b = await f.next(AbortSignal.timeout(1_000)); } catch {
        if (!behind()) break;
        continue;
      }
      for (const r of fetchedRecords(b)) values.push(r.value!.toString());
      f.consumed(b, b.nextOffset);
    }
  } finally {
    await f.close();
  }
  return values;
}

/** Java's console consumer: every value it reads with `isolation` within a few seconds. */
async function readJava(topic: string, isolation: 'read_committed' | 'read_uncommitted', max: number): Promise<string[]> {
  const out = await runKafkaTool(tools.consoleConsumer, ['--bootstrap-server', bootstrap[0]!, '--topic', topic, '--from-beginning',
    '--isolation-level', isolation, '--max-messages', String(max), '--timeout-ms', '8000'], { timeoutMs: 90_000 }).catch((err: Error) => err.message);
  return out.split('\n').filter((l) => /^(c|a|z|n)-/.test(l));
}

s('read_committed (Java console consumer and ours) sees the committed transactions only; read_uncommitted shows the aborted one was written', async () => {
  const topic = await topicOf('txn-rc');
  const p = producer(topic, `txn-rc-${stamp}`);
  try {
    await p.transaction(async (tx) => { for (let i = 0; i < 6; i++) await tx.send({ key: `k${i}`, value: `c-${i}` }); });
    const before = await endOffsets(topic);
    await p.beginTransaction();
    for (let i = 0; i < 6; i++) await p.send({ key: `k${i}`, value: `a-${i}` });
    await waitForEnd(topic, before + 6); // written to the log: only the abort marker hides them
    await p.abortTransaction();
    await p.transaction(async (tx) => { for (let i = 6; i < 10; i++) await tx.send({ key: `k${i}`, value: `c-${i}` }); });
  } finally {
    await p.close();
  }
  const expected = Array.from({ length: 10 }, (_, i) => `c-${i}`);
  const ours = await readOurs(topic, 'read_committed');
  assert.equal([...ours].sort(), [...expected].sort(), 'ours, read_committed');
  const all = await readOurs(topic, 'read_uncommitted');
  assert.is(all.filter((v) => v.startsWith('a-')).length, 6, 'the aborted records were written');
  const java = await readJava(topic, 'read_committed', 16);
  assert.equal([...java].sort(), [...expected].sort(), 'Java console consumer, read_committed');
  const javaAll = await readJava(topic, 'read_uncommitted', 16);
  assert.is(javaAll.length, 16);
  console.log(`  committed ${ours.length}, aborted 6 hidden; Java read_committed ${java.length}, read_uncommitted ${javaAll.length}`);
});

s('a zombie: a second producer with the same transactionalId fences the first, which is reported and writes nothing more', async () => {
  const topic = await topicOf('txn-zombie', 1);
  const id = `txn-zombie-${stamp}`;
  const old = producer(topic, id);
  const fresh = producer(topic, id);
  try {
    await old.beginTransaction();
    await old.send({ value: 'z-1' });
    await waitForEnd(topic, 1);
    await fresh.beginTransaction(); // InitProducerId: aborts the zombie's transaction, bumps the epoch
    await fresh.send({ value: 'n-1' });
    const err = await old.commitTransaction().then(() => undefined, (e: unknown) => e);
    assert.instance(err, ProducerFencedError);
    const reported: Error[] = [];
    for (let r; (r = old.channels.errors.tryRecv()) !== undefined && !r.done;) reported.push(r.value);
    assert.ok(reported.some((e) => e instanceof ProducerFencedError), 'fencing reported on errors');
    const again = await old.send({ value: 'z-2' }).then(() => undefined, (e: unknown) => e);
    assert.instance(again, ProducerFencedError, 'the zombie cannot send');
    await fresh.commitTransaction();
  } finally {
    await Promise.allSettled([old.close({ signal: AbortSignal.timeout(10_000) }), fresh.close()]);
  }
  const ours = await readOurs(topic, 'read_committed');
  assert.equal(ours, ['n-1']);
  const all = await readOurs(topic, 'read_uncommitted');
  assert.ok(!all.includes('z-2'), 'nothing more from the zombie');
});

s.run();
