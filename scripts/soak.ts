/**
 * Soak of the channel API on the in-process fake cluster (test/fake-cluster) with random faults: a Producer
 * (acks=all, idempotent) writes numbered messages at a steady rate while a two-member ConsumerGroup consumes and
 * commits, and every few seconds a seeded random fault hits: retriable errors on Produce/Fetch/OffsetCommit/
 * Heartbeat, delays (some past the request timeout), dropped answers, reset connections, leaders moving, fetch
 * sessions evicted, connections closed, a broker stopped and restarted, a coordinator moved, a rebalance forced.
 *
 * At the end (faults off, producer closed, consumers given time to catch up) it checks and prints:
 * - progress: produce and consume advance in every 10 s interval, or errors were reported in it;
 * - the log holds every acknowledged message exactly once (no loss, no duplicate: idempotence under acks=all);
 * - every stored message was consumed (redeliveries after rebalances are counted: at-least-once);
 * - request rates: peak per API over 1 s windows. Requests that move data (Produce and Fetch answers carrying
 *   records, OffsetCommit stored) follow the message rate and are shown; the check applies to the rest, the
 *   requests a loop could spin on (control APIs, refused produces, fetches answered with errors or with nothing
 *   before their wait ran out, refused commits): above `--limit` req/s per partition fails.
 * Exit code 1 on any failed check.
 *
 * Usage: node .build-NAME/scripts/soak.js [--duration 120] [--seed 17] [--rate 50] [--limit 10]
 */
import { ConsumerGroup, Producer } from '../src/index.js';
import { seededRandom } from '../src/client/backoff.js';
import { errorCodes } from '../src/protocol/error-codes.js';
import { FakeCluster, type FaultRule } from '../test/fake-cluster/fake-cluster.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

const DURATION_S = option('duration', 120);
const SEED = option('seed', 17);
const RATE = option('rate', 50);
const LIMIT = option('limit', 5);
const PARTITIONS = 6;
const TOPIC = 'soak';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const random = seededRandom(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const between = (lo: number, hi: number): number => Math.floor(lo + random() * (hi - lo + 1));

const c = await FakeCluster.start({ brokers: 3, topics: { [TOPIC]: PARTITIONS }, logLimit: 1_000 });
/** Answers that moved no data (see the file comment), by API: the times they were answered. */
const idle = new Map<string, number[]>();
type Body = Record<string, any>;
const errorsIn = (parts: Body[]): boolean => parts.some((p) => p.errorCode !== 0);
c.onAnswer((req, res, ms) => {
  let productive = false;
  if (res && req.api === 'Produce') productive = !(res.responses as Body[]).every((t) => (t.partitionResponses as Body[]).every((p) => p.errorCode !== 0));
  else if (res && req.api === 'Fetch') {
    const parts = (res.responses as Body[]).flatMap((t) => t.partitions as Body[]);
    const bytes = parts.reduce((n, p) => n + (p.records?.length ?? 0), 0);
    const failed = res.errorCode !== 0 || errorsIn(parts);
    productive = bytes > 0 || (!failed && ms >= 0.5 * (req.body.maxWaitMs as number));
  } else if (res && req.api === 'OffsetCommit') productive = !(res.topics as Body[]).some((t) => errorsIn(t.partitions as Body[]));
  if (productive) return;
  let list = idle.get(req.api);
  if (!list) idle.set(req.api, (list = []));
  list.push(Date.now());
});
const peakPerSecond = (times: readonly number[]): number => {
  let peak = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= 1_000) lo++;
    peak = Math.max(peak, hi - lo + 1);
  }
  return peak;
};
const faultsFired = new Map<string, number>();
const note = (kind: string): void => { faultsFired.set(kind, (faultsFired.get(kind) ?? 0) + 1); };
const errorsSeen = new Map<string, number>();
const errorTimes: number[] = [];
const noteError = (who: string, e: Error): void => {
  const code = (e as { code?: string }).code ?? e.name;
  const cause = e.cause instanceof Error ? ` <- ${(e.cause as { code?: string }).code ?? e.cause.name}` : '';
  const k = `${who}: ${code}${cause}`;
  errorsSeen.set(k, (errorsSeen.get(k) ?? 0) + 1);
  errorTimes.push(Date.now());
};

// The producer and the group.
const producer = new Producer({
  brokerAddrs: c.bootstrap, topic: TOPIC, acks: 'all', idempotent: true, requestTimeoutMs: 3_000, deliveryTimeoutMs: 60_000,
  minBrokersHealthy: 1, outputCapacity: 10_000,
});
const failed = new Set<string>();
void (async () => {
  for await (const e of producer.channels.errors) {
    noteError('producer', e);
    const msg = (e as { produced?: { value?: unknown } }).produced;
    if (msg && (typeof msg.value === 'string' || Buffer.isBuffer(msg.value))) failed.add(msg.value.toString());
  }
})();

const consumed = new Map<string, number>();
const members: ConsumerGroup[] = [];
for (let m = 0; m < 2; m++) {
  const g = new ConsumerGroup({
    brokerAddrs: c.bootstrap, topic: TOPIC, groupName: 'soak', clientId: `member-${m}`, heartbeatIntervalMs: 300,
    messageConsumeTimeout: 3_000, rebalanceTimeoutMs: 5_000, requestTimeoutMs: 3_000, autoCommitIntervalMs: 500,
    minRetryPeriod: 100, maxRetryPeriod: 2_000,
  });
  g.registerHandler(async (msg) => {
    const v = msg.value!.toString();
    consumed.set(v, (consumed.get(v) ?? 0) + 1);
  });
  void (async () => { for await (const e of g.channels.errors) noteError(`member-${m}`, e); })();
  g.start();
  members.push(g);
}

/** One random fault (seeded). */
async function randomFault(): Promise<void> {
  const partition = between(0, PARTITIONS - 1);
  const rule = (r: FaultRule, kind: string): void => { c.fault(r); note(kind); };
  switch (between(0, 13)) {
    case 0: return rule({ api: 'Produce', topic: TOPIC, partition, times: between(1, 3), action: 'error', code: pick([errorCodes.NOT_LEADER_OR_FOLLOWER, errorCodes.NOT_ENOUGH_REPLICAS, errorCodes.REQUEST_TIMED_OUT]) }, 'Produce error');
    case 1: return rule({ api: 'Fetch', topic: TOPIC, partition, times: between(1, 3), action: 'error', code: pick([errorCodes.NOT_LEADER_OR_FOLLOWER, errorCodes.UNKNOWN_LEADER_EPOCH, errorCodes.FENCED_LEADER_EPOCH]) }, 'Fetch error');
    case 2: return rule({ api: pick(['Produce', 'Fetch', 'Metadata', 'Heartbeat', 'OffsetCommit']), times: 1, action: 'delay', ms: between(100, 1_500) }, 'delay');
    case 3: return rule({ api: 'Produce', times: 1, action: 'delay', ms: 4_000 }, 'Produce delayed past the request timeout');
    case 4: return rule({ api: pick(['Produce', 'Fetch', 'Heartbeat', 'Metadata']), times: 1, action: 'drop' }, 'drop');
    case 5: return rule({ api: pick(['Produce', 'Fetch', 'JoinGroup', 'SyncGroup', 'OffsetCommit', 'Metadata']), times: 1, action: 'reset' }, 'reset');
    case 6: c.moveLeader(TOPIC, partition); return note('leader moved');
    case 7: c.evictFetchSessions(); return note('fetch sessions evicted');
    case 8: c.dropConnections(between(1, 3)); return note('connections closed');
    case 9: {
      const id = between(1, 3);
      if (c.bootstrap.length < 3) return;
      await c.stopBroker(id);
      note('broker stopped (3 s)');
      setTimeout(() => void c.startBroker(id).then(() => { for (const t of c.topic(TOPIC).partitions) if (random() < 0.3) c.moveLeader(TOPIC, t.partition, id); }), 3_000);
      return;
    }
    case 10: return rule({ api: 'Heartbeat', times: between(1, 2), action: 'error', code: errorCodes.REBALANCE_IN_PROGRESS }, 'Heartbeat REBALANCE_IN_PROGRESS');
    case 11: return rule({ api: 'OffsetCommit', times: 1, action: 'error', code: pick([errorCodes.COORDINATOR_NOT_AVAILABLE, errorCodes.NOT_COORDINATOR, errorCodes.REQUEST_TIMED_OUT]) }, 'OffsetCommit error');
    case 12: c.moveCoordinator('soak', between(1, 3)); return note('coordinator moved');
    default: c.group('soak').prepareRebalance(); return note('rebalance forced');
  }
}

// Run: produce at RATE, a fault every 1-4 s, a progress line every 10 s.
const t0 = Date.now();
const end = t0 + DURATION_S * 1000;
const sent: string[] = [];
const intervals: { at: number; sent: number; stored: number; consumed: number; errors: number }[] = [];
const storedCount = (): number => c.topic(TOPIC).partitions.reduce((n, p) => n + p.endOffset, 0);
let stopFaults = false;
const faulting = (async () => {
  while (!stopFaults && Date.now() < end) {
    await sleep(between(1_000, 4_000));
    if (!stopFaults && Date.now() < end) await randomFault();
  }
})();
const progress = setInterval(() => {
  const last = intervals[intervals.length - 1];
  const row = { at: Date.now() - t0, sent: sent.length, stored: storedCount(), consumed: consumed.size, errors: errorTimes.length };
  intervals.push(row);
  console.log(`t=${(row.at / 1000).toFixed(0)}s sent ${row.sent} stored ${row.stored} consumed ${row.consumed} errors ${row.errors}` +
    (last ? ` (+${row.stored - last.stored} stored, +${row.consumed - last.consumed} consumed)` : ''));
}, 10_000);
let n = 0;
while (Date.now() < end) {
  const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
  while (n < due) {
    const v = `m${n++}`;
    sent.push(v);
    await producer.send({ key: v, value: v });
  }
  await sleep(10);
}
stopFaults = true;
await faulting;
c.clearFaults();
for (const id of c.brokerIds) await c.startBroker(id);
const tProduce = Date.now();
await producer.close({ signal: AbortSignal.timeout(60_000) });
const closeMs = Date.now() - tProduce;
const stored = new Map<string, number>();
for (const p of c.topic(TOPIC).partitions) for (const r of c.records(TOPIC, p.partition)) {
  const v = r.value!.toString();
  stored.set(v, (stored.get(v) ?? 0) + 1);
}
const catchUp = Date.now() + 30_000;
while (Date.now() < catchUp && [...stored.keys()].some((v) => !consumed.has(v))) await sleep(100);
clearInterval(progress);
const tEnd = Date.now();
await Promise.allSettled(members.map((g) => g.close({ signal: AbortSignal.timeout(10_000) })));

// Checks.
const problems: string[] = [];
const acknowledged = sent.filter((v) => !failed.has(v));
const lost = acknowledged.filter((v) => !stored.has(v));
const duplicated = [...stored].filter(([, k]) => k > 1);
const missing = [...stored.keys()].filter((v) => !consumed.has(v));
const redelivered = [...consumed.values()].filter((k) => k > 1).length;
if (lost.length) problems.push(`${lost.length} acknowledged messages not in the log (first: ${lost.slice(0, 5).join(', ')})`);
if (duplicated.length) problems.push(`${duplicated.length} messages written more than once (first: ${duplicated.slice(0, 5).map(([v, k]) => `${v}x${k}`).join(', ')})`);
if (missing.length) problems.push(`${missing.length} stored messages never consumed (first: ${missing.slice(0, 5).join(', ')})`);
for (let i = 1; i < intervals.length; i++) {
  const a = intervals[i - 1]!;
  const b = intervals[i]!;
  if (b.at > DURATION_S * 1000) break;
  const reported = b.errors > a.errors;
  if (b.stored === a.stored && !reported) problems.push(`no produce progress and nothing reported between ${(a.at / 1000).toFixed(0)} s and ${(b.at / 1000).toFixed(0)} s`);
  if (b.consumed === a.consumed && !reported) problems.push(`no consume progress and nothing reported between ${(a.at / 1000).toFixed(0)} s and ${(b.at / 1000).toFixed(0)} s`);
}
const seconds = (tEnd - t0) / 1000;
const apis = ['ApiVersions', 'Metadata', 'Produce', 'InitProducerId', 'Fetch', 'ListOffsets', 'FindCoordinator', 'JoinGroup', 'SyncGroup', 'Heartbeat', 'LeaveGroup', 'OffsetCommit', 'OffsetFetch'];
const rows = apis.map((api) => {
  const total = c.log.count(api);
  const peak = c.log.peakRate(api, 1_000);
  const idleTimes = idle.get(api) ?? [];
  const idlePeak = peakPerSecond(idleTimes);
  const perPartition = idlePeak / PARTITIONS;
  if (perPartition > LIMIT) problems.push(`${api}: requests that moved no data peaked at ${idlePeak} req/s (${perPartition.toFixed(1)} per partition, limit ${LIMIT})`);
  return { api, total, mean: total / seconds, peak, idle: idleTimes.length, idlePeak, perPartition };
});

const pad = (s: string | number, w: number): string => String(s).padStart(w);
console.log(`\nsoak: ${DURATION_S} s of faults, seed ${SEED}, ${RATE} msg/s, 3 brokers, ${PARTITIONS} partitions, 2 group members; ${seconds.toFixed(0)} s in all`);
console.log(`producer close after the faults: ${closeMs} ms\n`);
console.log('messages');
for (const [k, v] of [['sent', sent.length], ['acknowledged', acknowledged.length], ['reported failed on errors', failed.size], ['stored (distinct)', stored.size],
  ['lost (acknowledged, not stored)', lost.length], ['written twice or more', duplicated.length], ['consumed (distinct)', consumed.size],
  ['stored, never consumed', missing.length], ['redelivered (at-least-once)', redelivered]] as const) console.log(`  ${k.padEnd(34)}${pad(v, 8)}`);
console.log('\nfaults injected');
for (const [k, v] of [...faultsFired].sort()) console.log(`  ${k.padEnd(42)}${pad(v, 4)}`);
console.log('\nerrors reported on channels');
for (const [k, v] of [...errorsSeen].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(70)}${pad(v, 5)}`);
if (errorsSeen.size === 0) console.log('  none');
console.log(`\nrequests${' '.repeat(11)}total    mean/s   peak/s | no data: total  peak/s  peak/s per partition (limit ${LIMIT})`);
for (const r of rows) {
  console.log(`  ${r.api.padEnd(16)}${pad(r.total, 7)}${pad(r.mean.toFixed(1), 10)}${pad(r.peak.toFixed(0), 9)} |${pad(r.idle, 15)}${pad(r.idlePeak, 8)}${pad(r.perPartition.toFixed(1), 10)}`);
}
console.log(problems.length ? `\nFAILED:\n  ${problems.join('\n  ')}` : '\nOK: no loss, no duplicate, everything consumed, progress in every interval, rates within the limit');
await c.close();
process.exit(problems.length ? 1 : 0);
