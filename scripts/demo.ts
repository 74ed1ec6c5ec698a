/**
 * `npm run demo`: the channel API end to end against a real broker. Creates a 6-partition topic, produces N
 * records through `Producer.channels.output`, consumes them with a `ConsumerGroup` handler (6 workers), shows
 * live progress and throughput, and checks that every record arrived exactly as sent (exit 1 on any loss).
 *
 * Uses `KAFKA_BROKERS` (comma-separated `host:port`) if set; otherwise starts the integration harness's
 * single Kafka node (a container, or Kafka's jars fetched by Maven and run as a JVM) and stops it at exit.
 * Options: `--records N` (default 200,000), `--size BYTES` (value size, default 100).
 */
import { Buffer } from 'node:buffer';
import { Admin, Cluster, ConsumerGroup, Producer, type Message } from '../src/index.js';
import { brokers, installExitHandlers, stopAll } from '../integration/harness/index.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a positive integer`);
  return v;
}

const RECORDS = option('records', 200_000);
const SIZE = Math.max(8, option('size', 100));
const PARTITIONS = 6;
const tty = process.stdout.isTTY === true;

/** A value carrying its index (first 4 bytes) and a checksum byte pattern derived from it. */
function valueFor(i: number): Buffer {
  const b = Buffer.allocUnsafe(SIZE);
  b.writeUInt32BE(i, 0);
  for (let j = 4; j < SIZE; j++) b[j] = (i + j) & 0xff;
  return b;
}

function intact(v: Buffer, i: number): boolean {
  if (v.length !== SIZE) return false;
  for (let j = 4; j < SIZE; j++) if (v[j] !== ((i + j) & 0xff)) return false;
  return true;
}

const rate = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : 0);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (n: number, ms: number) => ((rate(n, ms) * SIZE) / 1e6).toFixed(1);

async function createTopic(bootstrap: string[], topic: string): Promise<void> {
  const cluster = new Cluster({ bootstrap });
  try {
    await new Admin(cluster).createTopics([{ name: topic, numPartitions: PARTITIONS, replicationFactor: 1 }]);
  } finally {
    await cluster.close();
  }
}

async function main(): Promise<number> {
  installExitHandlers();
  if (!process.env.KAFKA_BROKERS) console.log('KAFKA_BROKERS not set: starting a local Kafka node (first run fetches its jars)…');
  const t0 = Date.now();
  const bootstrap = await brokers();
  console.log(`brokers ${bootstrap.join(',')} (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const topic = `kafka-channels-demo-${Date.now()}`;
  await createTopic(bootstrap, topic);
  console.log(`topic ${topic}: ${PARTITIONS} partitions; ${fmt(RECORDS)} records of ${SIZE} bytes`);

  const seen = new Uint8Array(RECORDS);
  let consumed = 0, duplicates = 0, corrupt = 0, consumeStart = 0, consumeEnd = 0;
  let allConsumed!: () => void;
  const done = new Promise<void>((r) => (allConsumed = r));

  const group = new ConsumerGroup({ brokerAddrs: bootstrap, topic, groupName: `${topic}-group`, numWorkers: PARTITIONS, minBrokersHealthy: 1 });
  group.logErrors();
  group.registerHandler((m: Message) => {
    if (consumeStart === 0) consumeStart = Date.now();
    const i = m.value ? m.value.readUInt32BE(0) : -1;
    if (i < 0 || i >= RECORDS || !intact(m.value!, i)) corrupt++;
    else if (seen[i]++ > 0) duplicates++;
    else if (++consumed === RECORDS) { consumeEnd = Date.now(); allConsumed(); }
  });
  group.start();

  const producer = new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1, outputCapacity: 10_000, lingerMs: 5 });
  producer.logErrors();
  await producer.channels.ready.wait();

  let produced = 0;
  const produceStart = Date.now();
  let produceEnd = 0;
  const progress = setInterval(() => {
    const now = Date.now();
    const line = `produced ${fmt(produced)} (${fmt(rate(produced, (produceEnd || now) - produceStart))}/s)  ` +
      `consumed ${fmt(consumed)} (${fmt(rate(consumed, (consumeEnd || now) - (consumeStart || now)))}/s)`;
    if (tty) process.stdout.write(`\r${line}   `);
    else console.log(line);
  }, tty ? 200 : 1000);

  const output = producer.channels.output;
  for (let i = 0; i < RECORDS; i++) {
    const msg = { key: String(i), value: valueFor(i) };
    if (!output.trySend(msg)) await output.send(msg);
    produced++;
  }
  await producer.close(); // flushes: resolves once every accepted record was acknowledged (or failed)
  produceEnd = Date.now();

  // Wait while records keep arriving; give up after 30 s without progress (a loss, not a slow machine).
  let last = -1, lastChange = Date.now();
  const stalled = new Promise<'stalled'>((r) => {
    const t = setInterval(() => {
      if (consumed !== last) { last = consumed; lastChange = Date.now(); }
      else if (Date.now() - lastChange > 30_000) { clearInterval(t); r('stalled'); }
    }, 500);
    void done.then(() => clearInterval(t));
  });
  const outcome = await Promise.race([done.then(() => 'ok' as const), stalled]);
  clearInterval(progress);
  if (tty) process.stdout.write('\n');
  await group.close({ signal: AbortSignal.timeout(30_000) });

  const pms = produceEnd - produceStart, cms = (consumeEnd || Date.now()) - consumeStart;
  console.log(`producer: ${fmt(RECORDS)} records in ${(pms / 1000).toFixed(2)} s = ${fmt(rate(RECORDS, pms))} records/s, ${mb(RECORDS, pms)} MB/s (acknowledged, acks=all, idempotent)`);
  console.log(`consumer: ${fmt(consumed)} records in ${(cms / 1000).toFixed(2)} s = ${fmt(rate(consumed, cms))} records/s, ${mb(consumed, cms)} MB/s (6 workers)`);
  const missing = RECORDS - consumed;
  if (outcome !== 'ok' || missing > 0 || corrupt > 0) {
    console.error(`FAILED: ${fmt(missing)} missing, ${corrupt} corrupt, ${duplicates} duplicates`);
    return 1;
  }
  console.log(`verified: all ${fmt(RECORDS)} records arrived intact${duplicates ? ` (${duplicates} redelivered duplicates)` : ', each exactly once'}`);
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(err);
} finally {
  await stopAll();
}
process.exit(code);
