/**
 * Issue 4's volume evidence: 1,000,000 records produced by our ProducerEngine and fetched back by our Fetcher,
 * in each compression, against the real broker: every record present, in order per partition, each value intact
 * (the value encodes its own index, and each index is seen exactly once).
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { Fetcher, fetchedRecords } from '../src/client/fetcher.js';
import { ProducerEngine } from '../src/client/producer-engine.js';
import type { ProducerRecord } from '../src/client/accumulator.js';
import { Compression } from '../src/protocol/compression/index.js';
import { brokers } from './harness/index.js';
import { produceAll, valueOf } from './produce-helpers.js';

const RECORDS = Number(process.env.MILLION_RECORDS ?? 1_000_000);
const s = suite('1M records per compression, produced and fetched by us', { timeoutMs: 240_000 });

for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
  s(`${RECORDS} records, ${codec}`, async () => {
    const cl = new Cluster({ bootstrap: await brokers(), clientId: 'million' });
    try {
      const topic = `million-${codec}-${Date.now()}`;
      await new Admin(cl).createTopics([{ name: topic, numPartitions: 6 }]);
      const engine = new ProducerEngine({ cluster: cl, compression: Compression[codec], lingerMs: 5, batchBytes: 256 << 10 });
      const t0 = process.hrtime.bigint();
      const chunk = 100_000;
      for (let from = 0; from < RECORDS; from += chunk) {
        const records: ProducerRecord[] = [];
        for (let i = from; i < Math.min(RECORDS, from + chunk); i++) records.push({ topic, key: null, value: valueOf(i) });
        const reports = await produceAll(engine, records, 1000);
        const failed = reports.filter((r) => r.errors !== null);
        assert.is(failed.length, 0, `delivery errors: ${failed[0]?.errors?.find(Boolean)?.message}`);
      }
      await engine.close();
      const produced = Number(process.hrtime.bigint() - t0) / 1e9;

      const seen = new Uint8Array(RECORDS);
      const next = new Map<number, number>();
      const f = new Fetcher(cl, { autoOffsetReset: 'earliest' });
      f.assign([0, 1, 2, 3, 4, 5].map((partition) => ({ topic, partition })));
      let count = 0;
      const t1 = process.hrtime.bigint();
      try {
        while (count < RECORDS) {
          const b = await f.next(AbortSignal.timeout(60_000));
          for (const r of fetchedRecords(b)) {
            const want = next.get(b.partition) ?? 0;
            if (r.offset !== want) throw new Error(`partition ${b.partition}: offset ${r.offset}, expected ${want}`);
            next.set(b.partition, want + 1);
            const v = r.value!.toString('latin1');
            const i = Number(v.slice(0, 9));
            if (v !== valueOf(i)) throw new Error(`record ${r.offset} of partition ${b.partition} is corrupt`);
            if (seen[i]) throw new Error(`record ${i} seen twice`);
            seen[i] = 1;
            count++;
          }
          f.consumed(b, b.nextOffset);
        }
      } finally {
        await f.close();
      }
      const fetched = Number(process.hrtime.bigint() - t1) / 1e9;
      assert.is(count, RECORDS);
      assert.ok(seen.every((x) => x === 1), 'every index seen');
      console.log(`    ${codec}: produced ${(RECORDS / produced / 1e3).toFixed(0)}k rec/s, fetched ${(RECORDS / fetched / 1e3).toFixed(0)}k rec/s`);
    } finally {
      await cl.close();
    }
  });
}
s.run();
