/** What the e2e parent asks a worker process to run, and what the worker reports back. */
export type Lib = 'ours' | 'ours-await' | 'ours-lower' | 'kafkajs' | 'platformatic';
export type Scenario = 'produce' | 'awaited' | 'consume' | 'latency' | 'rss' | 'txn';

export interface RunSpec {
  lib: Lib;
  scenario: Scenario;
  brokers: string[];
  topic: string;
  /** Records to produce or consume. */
  count: number;
  /** Value bytes per record. */
  size: number;
  acks: 1 | 'all';
  compression: 'none' | 'lz4' | 'zstd';
  /** Consumer group id (consume, latency). */
  group?: string;
  /** Records per second and duration of a latency run. */
  rate?: number;
  durationMs?: number;
  /** rss: milliseconds the handler sleeps per message. */
  handlerSleepMs?: number;
  /** txn: records per transaction (a commit after each), and the transactional id. */
  perTransaction?: number;
  transactionalId?: string;
}

/** rss runs: memory of a consumer whose handler is slower than the backlog it reads. MiB throughout. */
export interface MemoryResult {
  /** process.memoryUsage().rss after connecting, before the group join and the first fetch. */
  baselineRssMb: number;
  /** Highest of the 100 ms samples of process.memoryUsage().rss while consuming. */
  peakRssMb: number;
  /** Highest heapUsed and arrayBuffers samples (where the bytes sit: JS objects or Buffers). */
  peakHeapUsedMb: number;
  peakArrayBuffersMb: number;
  /** RSS when the timed phase ended (a peak far above it was a spike; equal to it, memory may still be growing). */
  endRssMb: number;
  /** RSS once a second from the first message on (MiB, one decimal): whether it levelled off. */
  rssEverySecondMb: number[];
  /** The prefetch bound in bytes the library was configured with, when it has one in bytes (ours). */
  boundBytes?: number;
  /** Where boundBytes comes from (config option, or a default that the config does not expose). */
  boundSource?: string;
  samples: number;
}

export interface RunResult {
  /** Wall time of the measured phase (after connecting; for consumers, from the first record). */
  wallMs: number;
  /** Client CPU time (user + system, all threads) over the measured phase. */
  cpuMs?: number;
  records: number;
  errors: number;
  /** Milliseconds: send-to-ack (awaited) or produce-to-consume (latency). */
  latency?: { p50: number; p99: number; max: number };
  /** getrusage maxRSS of the worker process when it reports (MiB). */
  peakRssMb?: number;
  memory?: MemoryResult;
}
