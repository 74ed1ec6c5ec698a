/**
 * The consume path without a broker: what the channel API adds per message on top of the lower client path.
 * Six partition claims are fed the same fetched runs (real RecordBatch v2 bytes, decoded by our decoder, CRC
 * checked) and read to the end three ways:
 *
 * - `lower`: the GroupConsumer way, each claim's runs walked with a FetchedRecordCursor, one markNext per run;
 * - `channel, tryRecv`: ClaimFeeder into `upstream` (capacity 1), read with tryRecv / recv, mark + release each;
 * - `channel, for await`: the same, read with `for await`.
 *
 * Every reader touches each record's value and offset. The clock is this process's CPU time; cases alternate,
 * and each row is the median of the rounds. `node <outDir>/bench/src/consume-path.bench.js [records]`.
 */
import { Chan } from '../../src/channels/chan.js';
import { ClaimFeeder } from '../../src/channels/claim-feeder.js';
import type { Message } from '../../src/channels/message.js';
import type { Cluster } from '../../src/client/cluster.js';
import { FetchedRecordCursor, type FetchedBatch } from '../../src/client/fetcher.js';
import type { GroupCoordinator } from '../../src/group/coordinator.js';
import { OffsetManager } from '../../src/group/offsets.js';
import { Claim, GroupSession } from '../../src/group/session.js';
import type { Generation } from '../../src/group/membership.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/protocol/record-batch.js';

const TOTAL = Number(process.argv[2] ?? 1_200_000);
const PARTITIONS = Number(process.env.PARTITIONS ?? 6);
const PER_BATCH = 1000;
const ROUNDS = 7;

/** One partition's bytes: batches of 1,000 records of 100 B, as a broker would return them. */
function partitionBytes(records: number): Buffer {
  const value = Buffer.alloc(100, 'x');
  const parts: Buffer[] = [];
  for (let base = 0; base < records; base += PER_BATCH) {
    const n = Math.min(PER_BATCH, records - base);
    const b = Buffer.from(encodeRecordBatch(Array.from({ length: n }, () => ({ value })), { baseTimestamp: 1 }));
    b.writeBigInt64BE(BigInt(base), 0); // baseOffset
    parts.push(b);
  }
  return Buffer.concat(parts);
}

const perPartition = TOTAL / PARTITIONS;
const bytes = partitionBytes(perPartition);

/** Fresh runs for one claim (batch objects are stateful readers, so each pass decodes anew, as a fetch would). */
function runsFor(partition: number): FetchedBatch[] {
  const batches = decodeRecordBatches(bytes);
  const runs: FetchedBatch[] = [];
  for (let i = 0; i < batches.length; i += 10) {
    const bs = batches.slice(i, i + 10);
    runs.push({
      topic: 't', partition, batches: bs, fromOffset: Number(bs[0]!.baseOffset), nextOffset: Number(bs[bs.length - 1]!.lastOffset) + 1,
      highWatermark: perPartition, lastStableOffset: perPartition, logStartOffset: 0, bytes: 0,
    });
  }
  return runs;
}

function offsets(): OffsetManager {
  // Marks only: nothing here commits, so the cluster and coordinator are never used.
  return new OffsetManager({} as Cluster, {} as GroupCoordinator, { groupId: 'bench' });
}

function claims(om: OffsetManager): Claim[] {
  return Array.from({ length: PARTITIONS }, (_, p) => {
    const c = new Claim('t', p, 0, undefined, om);
    for (const r of runsFor(p)) c.push(r);
    return c;
  });
}

type Case = { name: string; run: () => Promise<number> };

const lower: Case = {
  name: 'lower path (cursor per run)',
  async run() {
    let sum = 0;
    for (const claim of claims(offsets())) {
      for (let run = claim.takeRun(); run !== undefined; run = claim.takeRun()) {
        const c = new FetchedRecordCursor(run);
        for (let r = c.next(); r !== undefined; r = c.next()) sum += r.value!.length + (r.offset & 1);
        claim.markNext(run.nextOffset);
        claim.consumed(run);
      }
    }
    return sum;
  },
};

/** Feeds every claim into `upstream`, reads TOTAL messages with `read`, then ends the claims. */
async function channel(read: (up: Chan<Message>) => Promise<number>): Promise<number> {
  const om = offsets();
  const session = new GroupSession({ generationId: 1, memberId: 'm' } as unknown as Generation, om);
  const up = new Chan<Message>(Number(process.env.CAP ?? 1));
  const cs = claims(om);
  const feeders = cs.map((c) => new ClaimFeeder(up, c, session, (err) => { throw err; }).start());
  const sum = await read(up);
  for (const c of cs) c.stop('done');
  await Promise.all(feeders);
  return sum;
}

const tryRecv: Case = {
  name: 'channel API, tryRecv',
  run: () => channel(async (up) => {
    let sum = 0;
    for (let n = 0; n < TOTAL; n++) {
      const r = up.tryRecv() ?? await up.recv();
      if (r.done) break;
      const m = r.value;
      sum += m.value!.length + (m.offset & 1);
      m.mark();
      m.release();
    }
    return sum;
  }),
};

const forAwait: Case = {
  name: 'channel API, for await',
  run: () => channel(async (up) => {
    let sum = 0;
    let n = 0;
    for await (const m of up) {
      sum += m.value!.length + (m.offset & 1);
      m.mark();
      m.release();
      if (++n === TOTAL) break;
    }
    return sum;
  }),
};

async function main(): Promise<void> {
  const only = process.env.CASE;
  const cases = [lower, tryRecv, forAwait].filter((c) => only === undefined || c.name.includes(only));
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  let expect: number | undefined;
  for (let round = -1; round < ROUNDS; round++) {
    for (const c of cases) {
      const t0 = process.cpuUsage();
      const sum = await c.run();
      const d = process.cpuUsage(t0);
      if ((expect ??= sum) !== sum) throw new Error(`${c.name}: read ${sum}, expected ${expect}`);
      if (round >= 0) times.get(c.name)!.push(((d.user + d.system) * 1000) / TOTAL);
    }
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const base = med(times.get(cases[0]!.name)!);
  console.log(`consume path, ${TOTAL.toLocaleString('en')} records of 100 B over ${PARTITIONS} claims, node ${process.version}, CPU ns per record (median of ${ROUNDS})`);
  for (const [name, ts] of times) {
    const m = med(ts);
    console.log(`${name.padEnd(30)} ${m.toFixed(0).padStart(5)} ns  [${Math.min(...ts).toFixed(0)}..${Math.max(...ts).toFixed(0)}]  +${(m - base).toFixed(0)} ns  lower/this ${(base / m).toFixed(2)}x`);
  }
}

await main();
