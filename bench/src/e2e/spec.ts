/** What the e2e parent asks a worker process to run, and what the worker reports back. */
export type Lib = 'ours' | 'ours-lower' | 'kafkajs' | 'platformatic';
export type Scenario = 'produce' | 'awaited' | 'consume' | 'latency';

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
  peakRssMb?: number;
}
