/**
 * The checks of the transactions suites on the real broker (issue 20), shared by transactions.test.ts (the broker
 * as formatted: transaction.version 2 on Kafka 4.x, protocol v2, KIP-890) and transactions-v1.test.ts (the same
 * broker with the feature downgraded to 1: protocol v1, AddPartitionsToTxn before each partition's first produce):
 * - what our transactional Producer commits is read by Kafka's Java console consumer and by our fetcher with
 *   `read_committed`, and what it aborts never is (read_uncommitted shows it was written);
 * - a zombie with the same transactionalId is fenced, reported on `errors`, and writes nothing more;
 * - Java's transactional producers (integration/java/TxnProducer.java) and ours interleave on one partition.
 */
import * as assert from 'uvu/assert';
import { Admin, OffsetSpec } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { Fetcher, fetchedRecords } from '../src/client/fetcher.js';
import { Producer } from '../src/channels/producer.js';
import type { ProducerConfig } from '../src/channels/config.js';
import { ProducerFencedError } from '../src/errors.js';
import { ApiVersions } from '../src/protocol/apis/api-versions.js';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { kafkaLibsDir, runKafkaTool, tools } from './harness/index.js';
import { repoRoot } from './harness/paths.js';

const FEATURE_COMMAND = 'org.apache.kafka.tools.FeatureCommand';

/** One suite's connection to the broker, and the checks. */
export class TxnKit {
  readonly stamp = Date.now();
  readonly cl: Cluster;
  readonly admin: Admin;

  constructor(readonly bootstrap: string[], readonly label: string) {
    this.cl = new Cluster({ bootstrap });
    this.admin = new Admin(this.cl);
  }

  /** The cluster's finalized transaction.version (0 when absent). */
  async transactionVersion(): Promise<number> {
    const b = await this.cl.anyBroker();
    const res = await b.request(ApiVersions, { clientSoftwareName: 'kafka-channels-test', clientSoftwareVersion: '1' });
    return res.finalizedFeatures?.find((f) => f.name === 'transaction.version')?.maxVersionLevel ?? 0;
  }

  /** Sets the finalized transaction.version with Kafka's FeatureCommand, and waits until ApiVersions shows it. */
  async setTransactionVersion(level: number): Promise<void> {
    const now = await this.transactionVersion();
    if (now === level) return;
    await runKafkaTool(FEATURE_COMMAND, ['--bootstrap-server', this.bootstrap[0]!, level < now ? 'downgrade' : 'upgrade', '--feature', `transaction.version=${level}`], { timeoutMs: 60_000 });
    const t0 = Date.now();
    while (await this.transactionVersion() !== level) {
      if (Date.now() - t0 > 20_000) throw new Error(`transaction.version did not become ${level}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async close(): Promise<void> {
    await this.cl.close();
  }

  async topic(name: string, partitions = 2): Promise<string> {
    const topic = `${name}-${this.label}-${this.stamp}`;
    await this.admin.createTopics([{ name: topic, numPartitions: partitions, replicationFactor: 1 }]);
    return topic;
  }

  producer(topic: string, transactionalId: string, extra: Partial<ProducerConfig> = {}): Producer {
    return new Producer({ brokerAddrs: this.bootstrap, topic, minBrokersHealthy: 1, transactionalId, traceHeader: false, lingerMs: 0, ...extra });
  }

  /** Sum of the partitions' end offsets (records and transaction markers). */
  async endOffsets(topic: string): Promise<number> {
    const ends = await this.admin.listOffsets(topic, OffsetSpec.latest);
    return [...ends.values()].reduce((a, b) => a + Number(b), 0);
  }

  async waitForEnd(topic: string, atLeast: number): Promise<void> {
    const t0 = Date.now();
    while (await this.endOffsets(topic) < atLeast) {
      if (Date.now() - t0 > 20_000) throw new Error(`${topic}: end offsets stayed below ${atLeast}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Every value our fetcher reads from `topic` with `isolation`, up to the end offsets now. */
  async readOurs(topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
    const ends = await this.admin.listOffsets(topic, OffsetSpec.latest);
    const f = new Fetcher(this.cl, { autoOffsetReset: 'earliest', isolation, maxWaitMs: 100 });
    const values: string[] = [];
    try {
      f.assign([...ends.keys()].map((partition) => ({ topic, partition })));
      const t0 = Date.now();
      // fetchPosition runs ahead of what next() handed out: done once it reached the ends and nothing is left buffered.
      const behind = (): boolean => [...ends].some(([p, end]) => !(f.fetchPosition({ topic, partition: p }) >= Number(end)));
      for (;;) {
        if (Date.now() - t0 > 60_000) throw new Error(`${isolation} fetch did not reach the end`);
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

  /** Java's console consumer: every value (starting with `prefix`) it reads with `isolation` within a few seconds. */
  async readJava(topic: string, isolation: 'read_committed' | 'read_uncommitted', max: number, prefix = /^[a-z]-/): Promise<string[]> {
    const out = await runKafkaTool(tools.consoleConsumer, ['--bootstrap-server', this.bootstrap[0]!, '--topic', topic, '--from-beginning',
      '--isolation-level', isolation, '--max-messages', String(max), '--timeout-ms', '8000'], { timeoutMs: 90_000 }).catch((err: Error) => err.message);
    return out.split('\n').filter((l) => prefix.test(l));
  }

  /** Commits 6, aborts 6 (after they reached the log), commits 4: both readers see exactly the 10 committed. */
  async checkReadCommitted(): Promise<void> {
    const topic = await this.topic('txn-rc');
    const p = this.producer(topic, `txn-rc-${this.label}-${this.stamp}`);
    try {
      await p.transaction(async (tx) => { for (let i = 0; i < 6; i++) await tx.send({ key: `k${i}`, value: `c-${i}` }); });
      // The protocol the producer chose from the broker's finalized transaction.version (a look inside, for the evidence).
      const v2 = (p as unknown as { txns: { managerOf: { v2: boolean } } }).txns.managerOf.v2;
      assert.is(v2, (await this.transactionVersion()) >= 2, 'protocol v2 exactly when the broker has transaction.version 2');
      const before = await this.endOffsets(topic);
      await p.beginTransaction();
      for (let i = 0; i < 6; i++) await p.send({ key: `k${i}`, value: `a-${i}` });
      await this.waitForEnd(topic, before + 6); // written to the log: only the abort marker hides them
      await p.abortTransaction();
      await p.transaction(async (tx) => { for (let i = 6; i < 10; i++) await tx.send({ key: `k${i}`, value: `c-${i}` }); });
    } finally {
      await p.close();
    }
    const expected = Array.from({ length: 10 }, (_, i) => `c-${i}`).sort();
    const ours = await this.readOurs(topic, 'read_committed');
    assert.equal([...ours].sort(), expected, 'ours, read_committed');
    const all = await this.readOurs(topic, 'read_uncommitted');
    assert.is(all.filter((v) => v.startsWith('a-')).length, 6, 'the aborted records were written');
    const java = await this.readJava(topic, 'read_committed', 16);
    assert.equal([...java].sort(), expected, 'Java console consumer, read_committed');
    const javaAll = await this.readJava(topic, 'read_uncommitted', 16);
    assert.is(javaAll.length, 16, 'Java console consumer, read_uncommitted');
    console.log(`  ${this.label}: committed ${ours.length}, aborted 6 hidden; Java read_committed ${java.length}, read_uncommitted ${javaAll.length}`);
  }

  /**
   * Java's two transactional producers (TxnProducer.java: committed and aborted rounds) and ours write partition 0
   * at the same time: read_committed (ours and Java's console consumer) shows every committed record of both, in
   * each producer's order, and no aborted one.
   */
  async checkInterleavedWithJava(): Promise<void> {
    const topic = await this.topic('txn-mixed', 1);
    const javaDone = new Promise<number>((resolve, reject) => {
      execFile('java', ['-cp', join(kafkaLibsDir(), '*'), join(repoRoot, 'integration', 'java', 'TxnProducer.java'), this.bootstrap[0]!, topic, '8', '20'],
        { timeout: 120_000 }, (err, stdout) => (err ? reject(err) : resolve(Number(stdout.trim().split('\n').pop()))));
    });
    const p = this.producer(topic, `txn-mixed-${this.label}-${this.stamp}`);
    const mine: string[] = [];
    try {
      for (let r = 0; r < 8; r++) {
        const abort = r % 3 === 1;
        await p.beginTransaction();
        for (let i = 0; i < 20; i++) await p.send({ partition: 0, value: `o-r${r}-${i}-${abort ? 'abort' : 'commit'}` });
        if (abort) await p.abortTransaction();
        else {
          await p.commitTransaction();
          for (let i = 0; i < 20; i++) mine.push(`o-r${r}-${i}-commit`);
        }
        await new Promise((res) => setTimeout(res, 100)); // spread over Java's run
      }
    } finally {
      await p.close();
    }
    const javaCommitted = await javaDone;
    const ours = await this.readOurs(topic, 'read_committed');
    assert.ok(ours.every((v) => v.endsWith('-commit')), 'no aborted record, ours or Java\'s');
    assert.equal(ours.filter((v) => v.startsWith('o-')), mine, 'ours: every committed record, in order');
    assert.is(ours.filter((v) => /^p[12]-/.test(v)).length, javaCommitted, 'Java\'s committed records');
    const java = await this.readJava(topic, 'read_committed', mine.length + javaCommitted, /^(o|p[12])-/);
    assert.equal([...java].sort(), [...ours].sort(), 'Java\'s console consumer reads the same');
    const all = await this.readOurs(topic, 'read_uncommitted');
    console.log(`  ${this.label}: interleaved with Java: ${mine.length} of ours and ${javaCommitted} of Java's committed; ${all.length - ours.length} aborted records hidden`);
  }

  /** Two producers, one transactionalId: the older is fenced, reported, writes nothing more. */
  async checkZombie(): Promise<void> {
    const topic = await this.topic('txn-zombie', 1);
    const id = `txn-zombie-${this.label}-${this.stamp}`;
    const old = this.producer(topic, id);
    const fresh = this.producer(topic, id);
    try {
      await old.beginTransaction();
      await old.send({ value: 'z-1' });
      await this.waitForEnd(topic, 1);
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
    assert.equal(await this.readOurs(topic, 'read_committed'), ['n-1']);
    assert.ok(!(await this.readOurs(topic, 'read_uncommitted')).includes('z-2'), 'nothing more from the zombie');
  }
}
