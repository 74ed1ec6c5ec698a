/**
 * Channel throughput: how many values per second move through `Chan` in the ways the client uses it, next to a
 * plain async generator (the cheapest async hand-off JavaScript has) measured in the same run.
 *
 * Run after compiling with tsc into any outDir: `node <outDir>/bench/src/channel.bench.js [values]`.
 */
import { Chan } from '../../src/channels/chan.js';
import { select } from '../../src/channels/select.js';

const N = Number(process.argv[2] ?? 2_000_000);
const CAP = 1024;

type Case = { name: string; run: (n: number) => Promise<number> | number };

/** trySend a buffer's worth, then tryRecv it back: the producer loop's batch drain, no awaits. */
function tryLoop(n: number): number {
  const ch = new Chan<number>(CAP);
  let sum = 0;
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + CAP);
    for (let j = i; j < end; j++) ch.trySend(j);
    for (let r = ch.tryRecv(); r !== undefined && !r.done; r = ch.tryRecv()) sum += r.value;
    i = end;
  }
  return sum;
}

/** trySend a buffer's worth, then drainInto a reused array. */
function drainLoop(n: number): number {
  const ch = new Chan<number>(CAP);
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + CAP);
    for (let j = i; j < end; j++) ch.trySend(j);
    out.length = 0;
    ch.drainInto(out);
    for (let k = 0; k < out.length; k++) sum += out[k]!;
    i = end;
  }
  return sum;
}

async function produce(ch: Chan<number>, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await ch.send(i);
  ch.close();
}

async function sendRecv(n: number, cap = CAP): Promise<number> {
  const ch = new Chan<number>(cap);
  const p = produce(ch, 0, n);
  let sum = 0;
  for (;;) {
    const r = await ch.recv();
    if (r.done) break;
    sum += r.value;
  }
  await p;
  return sum;
}

async function forAwait(n: number): Promise<number> {
  const ch = new Chan<number>(CAP);
  const p = produce(ch, 0, n);
  let sum = 0;
  for await (const v of ch) sum += v;
  await p;
  return sum;
}

async function select2(n: number): Promise<number> {
  const a = new Chan<number>(CAP);
  const b = new Chan<number>(CAP);
  const pa = produce(a, 0, n >> 1);
  const pb = produce(b, n >> 1, n);
  let sum = 0;
  let open = 2;
  const cases = [{ recv: a as Chan<number> | null }, { recv: b as Chan<number> | null }];
  while (open > 0) {
    const s = await select(cases);
    if (s.done) {
      cases[s.index]!.recv = null; // Go's nil-channel idiom: switch the drained case off
      open--;
    } else sum += s.value!;
  }
  await Promise.all([pa, pb]);
  return sum;
}

async function* numbers(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function generator(n: number): Promise<number> {
  let sum = 0;
  for await (const v of numbers(n)) sum += v;
  return sum;
}

const cases: Case[] = [
  { name: 'async generator (baseline)', run: generator },
  { name: 'trySend/tryRecv', run: tryLoop },
  { name: 'trySend/drainInto', run: drainLoop },
  { name: 'await send / await recv (cap 1024)', run: (n) => sendRecv(n) },
  { name: 'await send / await recv (cap 0)', run: (n) => sendRecv(n, 0) },
  { name: 'for await (cap 1024)', run: forAwait },
  { name: 'select over 2 channels', run: select2 },
];

async function measure(c: Case): Promise<number> {
  const expected = (N * (N - 1)) / 2;
  await c.run(Math.min(N, 100_000)); // warm up
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    const sum = await c.run(N);
    const ms = performance.now() - t0;
    if (sum !== expected) throw new Error(`${c.name}: sum ${sum}, expected ${expected}`);
    best = Math.max(best, N / (ms / 1000));
  }
  return best;
}

async function main(): Promise<void> {
  console.log(`channel throughput, ${N.toLocaleString('en')} values, best of 3, node ${process.version}`);
  let baseline = 0;
  for (const c of cases) {
    const opsPerSec = await measure(c);
    if (baseline === 0) baseline = opsPerSec;
    const mops = (opsPerSec / 1e6).toFixed(2).padStart(7);
    console.log(`${c.name.padEnd(38)} ${mops} M values/s   ${(opsPerSec / baseline).toFixed(2)}x generator`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
