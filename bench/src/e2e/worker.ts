/**
 * One end-to-end run of one library, in a process of its own (so one library's garbage and sockets never land on
 * another's clock): `node worker.js '<RunSpec as JSON>'`. Prints one line `RESULT <RunResult as JSON>`.
 *
 * Libraries: `ours` (the channel API: Producer / ConsumerGroup), `ours-lower` (ProducerEngine over Cluster, and
 * GroupConsumer reading claims' fetched batches), `kafkajs`, `platformatic`. Settings per library are in
 * {@link PEER_SETTINGS} and are copied into the results.
 */
import { Cluster } from '../../../src/client/cluster.js';
import { ProducerEngine } from '../../../src/client/producer-engine.js';
import type { ProducerRecord } from '../../../src/client/accumulator.js';
import { Compression as Codec } from '../../../src/protocol/compression/index.js';
import { Producer } from '../../../src/channels/producer.js';
import { ConsumerGroup } from '../../../src/channels/consumer-group.js';
import { CONSUMER_GROUP_DEFAULTS } from '../../../src/channels/config.js';
import { GroupConsumer } from '../../../src/group/group-consumer.js';
import { builtInAssignor } from '../../../src/group/assignors/index.js';
import type { MemoryResult, RunResult, RunSpec } from './spec.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Records a throughput producer hands a peer's send() at once, and how many such calls may be in flight. */
const PEER_CHUNK = 1000;
const PEER_IN_FLIGHT = 4;

function value(size: number, seq = 0): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + ((i * 7 + seq) % 26);
  return b;
}

const acksNum = (a: RunSpec['acks']): 1 | -1 => (a === 'all' ? -1 : 1);

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function latencies(samples: number[]): { p50: number; p99: number; max: number } {
  const s = Float64Array.from(samples).sort();
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

/** The measured phase starts here: after connecting (producers) or at the first record (consumers). */
let clock: { t0: number; cpu: NodeJS.CpuUsage } | undefined;
function startClock(): void {
  clock ??= { t0: performance.now(), cpu: process.cpuUsage() };
}

// ---------------------------------------------------------------- produce throughput

async function produceOurs(spec: RunSpec): Promise<number> {
  const p = new Producer({
    brokerAddrs: spec.brokers, minBrokersHealthy: 1, topic: spec.topic, acks: spec.acks, idempotent: spec.acks === 'all',
    compression: spec.compression, lingerMs: 5, batchBytes: 131_072, outputCapacity: 10_000,
    traceHeader: false, // the peers send no header; dp-kafka's request-id would add ~47 bytes a record
  });
  await p.initialise();
  const v = value(spec.size);
  const out = p.channels.output;
  let errors = 0;
  startClock();
  const drainErrors = (async () => { for await (const _ of p.channels.errors) errors++; })();
  for (let i = 0; i < spec.count; i++) {
    const m = { value: v };
    if (!out.trySend(m)) await p.send(m);
  }
  await p.close();
  await drainErrors;
  return errors;
}

async function lowerCluster(spec: RunSpec): Promise<Cluster> {
  const cluster = new Cluster({ bootstrap: spec.brokers, clientId: 'bench-lower' });
  await cluster.topic(spec.topic);
  return cluster;
}

async function produceLower(spec: RunSpec): Promise<number> {
  const cluster = await lowerCluster(spec);
  const engine = new ProducerEngine({
    cluster, acks: acksNum(spec.acks), idempotent: spec.acks === 'all', compression: Codec[spec.compression],
    lingerMs: 5, batchBytes: 131_072,
  });
  const v = value(spec.size);
  let errors = 0;
  startClock();
  const onReport = (r: { errors: ReadonlyArray<Error | undefined> | null }): void => {
    if (r.errors) errors += r.errors.filter(Boolean).length;
  };
  for (let i = 0; i < spec.count; i += PEER_CHUNK) {
    const n = Math.min(PEER_CHUNK, spec.count - i);
    const chunk: ProducerRecord[] = new Array(n);
    for (let j = 0; j < n; j++) chunk[j] = { topic: spec.topic, value: v };
    if (!engine.send(chunk, onReport)) await engine.waitForSpace();
  }
  await engine.flush();
  await engine.close();
  await cluster.close();
  return errors;
}

/** Keeps up to PEER_IN_FLIGHT chunked send() calls going, as the peers' docs suggest for throughput. */
async function chunked(count: number, send: (n: number) => Promise<unknown>): Promise<void> {
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < count; i += PEER_CHUNK) {
    const p = send(Math.min(PEER_CHUNK, count - i)).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= PEER_IN_FLIGHT) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}

async function kafkajsClient(spec: RunSpec): Promise<any> {
  const { Kafka, logLevel } = await import('kafkajs' as string);
  return new Kafka({ clientId: 'bench-kafkajs', brokers: spec.brokers, logLevel: logLevel.NOTHING });
}

async function produceKafkajs(spec: RunSpec): Promise<number> {
  const kafka = await kafkajsClient(spec);
  const producer = kafka.producer({ idempotent: spec.acks === 'all', maxInFlightRequests: spec.acks === 'all' ? 1 : PEER_IN_FLIGHT, allowAutoTopicCreation: false });
  await producer.connect();
  const v = value(spec.size);
  if (spec.compression !== 'none') throw new Error('kafkajs ships no ' + spec.compression);
  startClock();
  await chunked(spec.count, (n) => producer.send({ topic: spec.topic, acks: acksNum(spec.acks), messages: Array.from({ length: n }, () => ({ value: v })) }));
  await producer.disconnect();
  return 0;
}

async function platformaticProducer(spec: RunSpec, acks: 1 | -1): Promise<any> {
  const plt: any = await import('@platformatic/kafka' as string);
  return new plt.Producer({
    clientId: 'bench-plt', bootstrapBrokers: spec.brokers, acks, idempotent: acks === -1, compression: spec.compression,
    autocreateTopics: false,
  });
}

async function producePlatformatic(spec: RunSpec): Promise<number> {
  const producer = await platformaticProducer(spec, acksNum(spec.acks));
  const v = value(spec.size);
  await producer.metadata({ topics: [spec.topic] });
  startClock();
  await chunked(spec.count, (n) => producer.send({ messages: Array.from({ length: n }, () => ({ topic: spec.topic, value: v })) }));
  await producer.close();
  return 0;
}

/**
 * Transactional produce (txn.bench.ts, issue 20), @platformatic/kafka only (ours runs in txn.bench.ts itself):
 * a producer with `transactionalId` (idempotent, acks=all); per transaction `beginTransaction()`, one
 * `tx.send()` of `perTransaction` records (its send takes an array: the way it sends many), `tx.commit()`.
 */
async function produceTxnPlatformatic(spec: RunSpec): Promise<number> {
  if (spec.lib !== 'platformatic') throw new Error('txn scenario: platformatic only (ours runs in txn.bench.ts)');
  const plt: any = await import('@platformatic/kafka' as string);
  const producer = new plt.Producer({
    clientId: 'bench-plt-txn', bootstrapBrokers: spec.brokers, acks: -1, idempotent: true, compression: spec.compression,
    autocreateTopics: false, transactionalId: spec.transactionalId ?? `bench-plt-${Date.now()}`,
  });
  const v = value(spec.size);
  const per = spec.perTransaction ?? 1000;
  await producer.metadata({ topics: [spec.topic] });
  startClock();
  for (let i = 0; i < spec.count; i += per) {
    const tx = await producer.beginTransaction();
    await tx.send({ messages: Array.from({ length: Math.min(per, spec.count - i) }, () => ({ topic: spec.topic, value: v })) });
    await tx.commit();
  }
  await producer.close();
  return 0;
}

// ---------------------------------------------------------------- awaited single sends

async function awaited(spec: RunSpec, sendOne: (v: Buffer) => Promise<unknown>): Promise<number[]> {
  const v = value(spec.size);
  for (let i = 0; i < 50; i++) await sendOne(v); // connections and metadata warm
  const samples: number[] = [];
  startClock();
  for (let i = 0; i < spec.count; i++) {
    const t0 = performance.now();
    await sendOne(v);
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function awaitedRun(spec: RunSpec): Promise<{ samples: number[]; close: () => Promise<void>; timedFrom?: number }> {
  switch (spec.lib) {
    case 'ours':
    case 'ours-await':
    case 'ours-lower': {
      // The channel API's send() resolves once `output` took the message, not on the broker's ack: the awaited
      // path for a caller that needs the ack is the engine's delivery callback.
      const cluster = await lowerCluster(spec);
      const engine = new ProducerEngine({ cluster, acks: -1, idempotent: true, compression: Codec[spec.compression], lingerMs: 0 });
      const samples = await awaited(spec, (v) => new Promise<void>((res, rej) => engine.send([{ topic: spec.topic, value: v }], (r) => (r.errors ? rej(r.errors.find(Boolean)) : res()))));
      return { samples, close: async () => { await engine.close(); await cluster.close(); } };
    }
    case 'kafkajs': {
      const producer = (await kafkajsClient(spec)).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      const samples = await awaited(spec, (v) => producer.send({ topic: spec.topic, acks: -1, messages: [{ value: v }] }));
      return { samples, close: () => producer.disconnect() };
    }
    case 'platformatic': {
      const producer = await platformaticProducer(spec, -1);
      const samples = await awaited(spec, (v) => producer.send({ messages: [{ topic: spec.topic, value: v }] }));
      return { samples, close: () => producer.close() };
    }
  }
}

// ---------------------------------------------------------------- consume to the end

/** Resolves when `count` records were seen; `seen(n)` adds to the tally. */
function tally(count: number): { seen: (n: number) => void; done: Promise<void>; get n(): number } {
  let n = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => { resolve = r; });
  return { seen: (k) => { startClock(); n += k; if (n >= count) resolve(); }, done, get n() { return n; } };
}

/**
 * The channel API. `drain`: Go's receive-with-default idiom, taking what is ready with tryRecv and awaiting only
 * when nothing is (README, "Consuming fast"); otherwise the plain `for await` loop, one await per message.
 */
async function consumeOurs(spec: RunSpec, onValue?: (v: Buffer | null) => void, drain = true): Promise<{ stop: () => Promise<void>; t: ReturnType<typeof tally> }> {
  const t = tally(spec.count);
  const g = new ConsumerGroup({
    brokerAddrs: spec.brokers, minBrokersHealthy: 1, topic: spec.topic, groupName: spec.group!, offset: 'oldest', fetchMaxWaitMs: 100, autoCommitIntervalMs: 1000,
  });
  await g.initialise();
  g.start();
  const up = g.channels.upstream;
  const loop = drain
    ? (async () => {
      for (;;) {
        const r = up.tryRecv() ?? await up.recv();
        if (r.done) return;
        onValue?.(r.value.value);
        r.value.mark();
        r.value.release();
        t.seen(1);
      }
    })()
    : (async () => {
      for await (const m of up) {
        onValue?.(m.value);
        m.mark();
        m.release();
        t.seen(1);
      }
    })();
  return { t, stop: async () => { await g.close(); await loop.catch(() => undefined); } };
}

async function consumeLower(spec: RunSpec, onValue?: (v: Buffer | null) => void): Promise<{ stop: () => Promise<void>; t: ReturnType<typeof tally> }> {
  const t = tally(spec.count);
  const cluster = await lowerCluster(spec);
  const consumer = new GroupConsumer(cluster, {
    consumeClaim: async (_s, claim) => {
      for await (const b of claim.batches()) {
        let n = 0;
        for (const batch of b.batches) {
          for (const r of batch.records()) {
            if (r.offset < b.fromOffset) continue;
            onValue?.(r.value as Buffer | null);
            n++;
          }
        }
        claim.markNext(b.nextOffset);
        claim.consumed(b);
        t.seen(n);
      }
    },
  }, { groupId: spec.group!, topics: [spec.topic], assignors: [builtInAssignor('roundrobin')], initialOffset: 'oldest', fetch: { maxWaitMs: 100 } });
  const running = consumer.start().catch(() => undefined);
  return { t, stop: async () => { await consumer.close(); await running; await cluster.close(); } };
}

async function consumeKafkajs(spec: RunSpec, onValue?: (v: Buffer | null) => void): Promise<{ stop: () => Promise<void>; t: ReturnType<typeof tally> }> {
  const t = tally(spec.count);
  const consumer = (await kafkajsClient(spec)).consumer({ groupId: spec.group!, maxBytes: 52_428_800, maxBytesPerPartition: 1_048_576, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [spec.topic], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 6,
    eachBatch: async ({ batch }: any) => {
      if (onValue) for (const m of batch.messages) onValue(m.value);
      t.seen(batch.messages.length);
    },
  });
  return { t, stop: () => consumer.disconnect() };
}

async function consumePlatformatic(spec: RunSpec, onValue?: (v: Buffer | null) => void): Promise<{ stop: () => Promise<void>; t: ReturnType<typeof tally> }> {
  const t = tally(spec.count);
  const plt: any = await import('@platformatic/kafka' as string);
  const consumer = new plt.Consumer({ clientId: 'bench-plt', groupId: spec.group!, bootstrapBrokers: spec.brokers, maxWaitTime: 100, maxBytes: 52_428_800 });
  const stream = await consumer.consume({ topics: [spec.topic], mode: 'earliest', autocommit: 1000 });
  stream.on('data', (m: any) => { onValue?.(m.value); t.seen(1); });
  return { t, stop: async () => { await stream.close(); await consumer.close(true); } };
}

const consumers = { 'ours': consumeOurs, 'ours-await': (spec: RunSpec, onValue?: (v: Buffer | null) => void) => consumeOurs(spec, onValue, false), 'ours-lower': consumeLower, 'kafkajs': consumeKafkajs, 'platformatic': consumePlatformatic };
const producers = { 'ours': produceOurs, 'ours-lower': produceLower, 'kafkajs': produceKafkajs, 'platformatic': producePlatformatic };

// ---------------------------------------------------------------- end-to-end latency at a fixed rate

/** Sends `rate` records/s for `durationMs` (in 1 ms ticks); each value carries its send time; the consumer notes arrival. */
async function latencyRun(spec: RunSpec): Promise<{ samples: number[]; sent: number }> {
  const rate = spec.rate!;
  const total = Math.round((rate * spec.durationMs!) / 1000);
  const samples: number[] = [];
  const onValue = (v: Buffer | null): void => { if (v && v.length >= 8) samples.push(performance.now() - v.readDoubleLE(0)); };
  let probesSeen = 0;
  const c = await consumers[spec.lib]({ ...spec, count: Number.MAX_SAFE_INTEGER }, (v) => {
    if (v && v.length >= 8) { onValue(v); if (samples.length >= total) allSeen(); } else probesSeen++;
  });
  let allSeen!: () => void;
  const done = new Promise<void>((r) => { allSeen = r; });
  const send = await latencySender(spec);
  // The clock starts once the group is consuming: short probe records (not sampled) until one comes back.
  for (let i = 0; probesSeen === 0 && i < 300; i++) {
    send.many([Buffer.alloc(4)]);
    await new Promise((r) => setTimeout(r, 100));
  }
  clock = undefined;
  startClock();
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000));
    // What fell due this 1 ms tick goes out in one call: the peers' documented way to send many records.
    const tick: Buffer[] = [];
    for (; sent < due; sent++) {
      const v = Buffer.allocUnsafe(spec.size);
      v.fill(97);
      v.writeDoubleLE(performance.now(), 0);
      tick.push(v);
    }
    if (tick.length) send.many(tick);
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 15_000))]);
  await send.close();
  await c.stop();
  return { samples, sent };
}

async function latencySender(spec: RunSpec): Promise<{ many: (vs: Buffer[]) => void; close: () => Promise<void> }> {
  switch (spec.lib) {
    case 'ours':
    case 'ours-await': {
      const p = new Producer({ brokerAddrs: spec.brokers, minBrokersHealthy: 1, topic: spec.topic, acks: 1, idempotent: false, lingerMs: 0, traceHeader: false });
      await p.initialise();
      return { many: (vs) => { for (const v of vs) if (!p.channels.output.trySend({ value: v })) void p.send({ value: v }); }, close: () => p.close() };
    }
    case 'ours-lower': {
      const cluster = await lowerCluster(spec);
      const engine = new ProducerEngine({ cluster, acks: 1, idempotent: false, lingerMs: 0 });
      return { many: (vs) => { engine.send(vs.map((v) => ({ topic: spec.topic, value: v }))); }, close: async () => { await engine.close(); await cluster.close(); } };
    }
    case 'kafkajs': {
      const producer = (await kafkajsClient(spec)).producer({ allowAutoTopicCreation: false });
      await producer.connect();
      return { many: (vs) => { void producer.send({ topic: spec.topic, acks: 1, messages: vs.map((v) => ({ value: v })) }); }, close: () => producer.disconnect() };
    }
    case 'platformatic': {
      const producer = await platformaticProducer({ ...spec, compression: 'none' }, 1);
      return { many: (vs) => { void producer.send({ messages: vs.map((v) => ({ topic: spec.topic, value: v })) }); }, close: () => producer.close() };
    }
  }
}

// ---------------------------------------------------------------- slow handler over a large backlog (memory)

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A consumer set up (connected, not yet in the group) that calls `handle` once per message, awaiting it. */
interface SlowConsumer {
  start: (handle: () => Promise<void>) => Promise<void>;
  stop: () => Promise<void>;
  bound?: { bytes: number; source: string };
}

/** Our byte bound: ConsumerGroupConfig.maxBufferedBytes (its default, passed explicitly so the run records it). */
function oursBound(): { bytes: number; source: string; config: Record<string, number> } {
  const bytes = CONSUMER_GROUP_DEFAULTS.maxBufferedBytes;
  return { bytes, source: `ConsumerGroupConfig.maxBufferedBytes (its default; maxPartitionBufferedBytes ${CONSUMER_GROUP_DEFAULTS.maxPartitionBufferedBytes / MiB} MiB)`, config: { maxBufferedBytes: bytes } };
}

async function slowOurs(spec: RunSpec): Promise<SlowConsumer> {
  const bound = oursBound();
  const g = new ConsumerGroup({ brokerAddrs: spec.brokers, minBrokersHealthy: 1, topic: spec.topic, groupName: spec.group!, offset: 'oldest', ...bound.config });
  await g.initialise();
  return {
    bound: { bytes: bound.bytes, source: bound.source },
    start: async (handle) => {
      // The documented way: one registered handler (numWorkers 1, the default); returning commits the message.
      g.registerHandler(() => handle());
      g.start();
    },
    stop: () => g.close({ signal: AbortSignal.timeout(5_000) }),
  };
}

async function slowKafkajs(spec: RunSpec): Promise<SlowConsumer> {
  const consumer = (await kafkajsClient(spec)).consumer({ groupId: spec.group!, maxBytes: 52_428_800, maxBytesPerPartition: 1_048_576 });
  await consumer.connect();
  await consumer.subscribe({ topics: [spec.topic], fromBeginning: true });
  return {
    start: async (handle) => { await consumer.run({ partitionsConsumedConcurrently: 1, eachMessage: () => handle() }); },
    stop: () => consumer.disconnect(),
  };
}

async function slowPlatformatic(spec: RunSpec): Promise<SlowConsumer> {
  const plt: any = await import('@platformatic/kafka' as string);
  const consumer = new plt.Consumer({
    clientId: 'bench-plt', groupId: spec.group!, bootstrapBrokers: spec.brokers, maxBytes: 52_428_800, maxBytesPerPartition: 1_048_576, highWaterMark: 1024,
  });
  await consumer.metadata({ topics: [spec.topic] });
  let stream: any;
  return {
    start: async (handle) => {
      stream = await consumer.consume({ topics: [spec.topic], mode: 'earliest', autocommit: 1000 });
      // Async iteration: the stream is read one message at a time, so the handler's pace is its backpressure.
      void (async () => { for await (const _ of stream) await handle(); })().catch(() => undefined);
    },
    stop: async () => { await stream?.close(); await consumer.close(true); },
  };
}

const slowConsumers: Partial<Record<RunSpec['lib'], (spec: RunSpec) => Promise<SlowConsumer>>> = {
  ours: slowOurs, kafkajs: slowKafkajs, platformatic: slowPlatformatic,
};

/**
 * Connects, notes the baseline RSS, then consumes with a handler sleeping `handlerSleepMs` per message for
 * `durationMs` from the first message, sampling process.memoryUsage() every 100 ms (from the group join on).
 */
async function rssRun(spec: RunSpec): Promise<{ records: number; memory: MemoryResult }> {
  const setup = slowConsumers[spec.lib];
  if (!setup) throw new Error(`no rss run for ${spec.lib}`);
  const c = await setup(spec);
  const baseline = process.memoryUsage().rss;
  const peak = { rss: baseline, heapUsed: 0, arrayBuffers: 0, samples: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
    peak.samples++;
  };
  const sampler = setInterval(sample, 100);
  let n = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => { finish = r; });
  const noData = setTimeout(() => { console.error(`${spec.lib}: no message within 120 s`); process.exit(1); }, 120_000);
  const pause = spec.handlerSleepMs ?? 1;
  const series: number[] = [];
  let seriesTimer: NodeJS.Timeout | undefined;
  await c.start(async () => {
    if (n++ === 0) {
      startClock();
      clearTimeout(noData);
      setTimeout(finish, spec.durationMs);
      seriesTimer = setInterval(() => series.push(Math.round((process.memoryUsage().rss / MiB) * 10) / 10), 1_000);
    }
    await sleep(pause);
  });
  await done;
  clearInterval(sampler);
  clearInterval(seriesTimer);
  sample();
  const endRss = process.memoryUsage().rss;
  const records = n;
  const memory: MemoryResult = {
    baselineRssMb: baseline / MiB, peakRssMb: peak.rss / MiB, peakHeapUsedMb: peak.heapUsed / MiB, peakArrayBuffersMb: peak.arrayBuffers / MiB,
    endRssMb: endRss / MiB, rssEverySecondMb: series, samples: peak.samples, ...(c.bound ? { boundBytes: c.bound.bytes, boundSource: c.bound.source } : {}),
  };
  // Memory is measured; closing is a courtesy to the broker (the group is never reused), so it gets 5 s at most.
  await Promise.race([c.stop().catch(() => undefined), sleep(5_000)]);
  return { records, memory };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]!) as RunSpec;
  let result: RunResult;
  const wall = (): number => performance.now() - clock!.t0;
  const cpuMs = (): number => { const c = process.cpuUsage(clock!.cpu); return (c.user + c.system) / 1000; };
  switch (spec.scenario) {
    case 'produce': {
      const errors = await producers[spec.lib === 'ours-await' ? 'ours' : spec.lib](spec);
      result = { wallMs: wall(), cpuMs: cpuMs(), records: spec.count, errors };
      break;
    }
    case 'txn': {
      const errors = await produceTxnPlatformatic(spec);
      result = { wallMs: wall(), cpuMs: cpuMs(), records: spec.count, errors };
      break;
    }
    case 'awaited': {
      const r = await awaitedRun(spec);
      result = { wallMs: wall(), cpuMs: cpuMs(), records: spec.count, errors: 0, latency: latencies(r.samples) };
      await r.close();
      break;
    }
    case 'consume': {
      const c = await consumers[spec.lib](spec);
      await c.t.done;
      result = { wallMs: wall(), cpuMs: cpuMs(), records: c.t.n, errors: 0 };
      await c.stop();
      break;
    }
    case 'latency': {
      const r = await latencyRun(spec);
      result = { wallMs: wall(), cpuMs: cpuMs(), records: r.samples.length, errors: r.sent - r.samples.length, latency: latencies(r.samples) };
      break;
    }
    case 'rss': {
      const r = await rssRun(spec);
      result = { wallMs: spec.durationMs!, records: r.records, errors: 0, memory: r.memory };
      break;
    }
  }
  result.peakRssMb = process.resourceUsage().maxRSS / 1024;
  console.log('RESULT ' + JSON.stringify(result));
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
