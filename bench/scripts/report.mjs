// Turns bench/results/*.json into bench/RESULTS.md: one table per benchmark, with ratios ours/peer measured in
// the same process (so on the same Node). Run alone with `node scripts/report.mjs` after editing results.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { e2eSection } from './e2e-report.mjs';

const OURS = 'kafka-channels';
const fmtRate = (r) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : `${(r / 1e3).toFixed(0)}k`);
const fmtRatio = (a, b) => (a && b ? `**${(a / b).toFixed(2)}x**` : '–');
const NO_CRC = `${OURS} (verifyCrc off)`;
const short = (lib) =>
  lib.startsWith('@platformatic') ? 'platformatic' : lib.startsWith('kafkajs') ? 'KafkaJS' : lib === NO_CRC ? 'ours, CRC unchecked' : 'ours';

function load(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, ...JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
}

/** One row per input × compression: each library's rate, then ours (and ours without CRC check) over each peer. */
function batchTable(run, bench, unit = 'rec/s') {
  const rows = run.rows.filter((r) => r.bench === bench);
  const libs = [...new Set(rows.map((r) => r.lib))];
  const mine = libs.filter((l) => l === OURS || l === NO_CRC);
  const peers = libs.filter((l) => !mine.includes(l));
  const pairs = mine.flatMap((m) => peers.map((p) => [m, p]));
  const keys = [...new Set(rows.map((r) => `${r.input}|${r.compression}`))];
  const rate = (r) => (unit === 'rec/s' ? r.recordsPerSec : r.mbPerSec);
  const cell = (r) => (unit === 'rec/s' ? `${fmtRate(r.recordsPerSec)} (${r.mbPerSec.toFixed(0)})` : `${r.mbPerSec.toFixed(0)}`);
  const head = ['input', 'compression', ...libs.map((l) => `${short(l)} ${unit === 'rec/s' ? 'rec/s (MB/s)' : 'MB/s'}`), ...pairs.map(([m, p]) => `${short(m)} / ${short(p)}`)];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const key of keys) {
    const [input, compression] = key.split('|');
    const by = Object.fromEntries(rows.filter((r) => r.input === input && r.compression === compression).map((r) => [r.lib, r]));
    const cells = libs.map((l) => (by[l] ? cell(by[l]) : '–'));
    const ratios = pairs.map(([m, p]) => (by[m] && by[p] ? fmtRatio(rate(by[m]), rate(by[p])) : '–'));
    out.push(`| ${[input, compression, ...cells, ...ratios].join(' | ')} |`);
  }
  return out.join('\n');
}

/** The issue-3 target: ours >= 1.5x platformatic on uncompressed encode and decode. */
function targetLines(run) {
  const find = (bench, input, lib) => run.rows.find((r) => r.bench === bench && r.input === input && r.compression === 'none' && r.lib === lib);
  const plt = run.libs.find((l) => l.startsWith('@platformatic'));
  if (!plt || !find('encode', '1000x100B', OURS)) return [];
  const lines = ['Target (issue 3): kafka-channels >= 1.5x @platformatic/kafka on encode and decode, uncompressed:', ''];
  for (const bench of ['encode', 'decode']) {
    for (const input of ['1000x100B', '1000x1KB']) {
      const mine = find(bench, input, OURS);
      const peer = find(bench, input, plt);
      if (!mine || !peer) continue;
      const ratio = mine.recordsPerSec / peer.recordsPerSec;
      const extra = bench === 'decode' && find(bench, input, NO_CRC) ? `; ${(find(bench, input, NO_CRC).recordsPerSec / peer.recordsPerSec).toFixed(2)}x with CRC check off, as the peers decode` : '';
      lines.push(`- ${bench} ${input}: **${ratio.toFixed(2)}x** ${ratio >= 1.5 ? '(met)' : '(MISSED)'}${extra}`);
    }
  }
  return [...lines, ''];
}

function crcTable(run) {
  const out = ['| input | library | implementation | MB/s |', '|---|---|---|---|'];
  for (const r of run.rows.filter((x) => x.bench === 'crc32c')) out.push(`| ${r.input} | ${short(r.lib)} | ${r.variant} | ${r.mbPerSec.toFixed(0)} |`);
  return out.join('\n');
}

function varintTable(run) {
  const out = ['| operation | library | M varints/s | ours/peer |', '|---|---|---|---|'];
  for (const bench of ['varint-write', 'varint-read']) {
    const rows = run.rows.filter((x) => x.bench === bench);
    const mine = rows.find((r) => r.lib === OURS);
    for (const r of rows) out.push(`| ${bench.slice(7)} | ${short(r.lib)} | ${(r.recordsPerSec / 1e6).toFixed(1)} | ${r.lib === OURS ? '' : fmtRatio(mine?.recordsPerSec, r.recordsPerSec)} |`);
  }
  return out.join('\n');
}

function channelTable(run) {
  const out = ['| case | M values/s | vs async generator |', '|---|---|---|'];
  for (const r of run.rows) out.push(`| ${r.case} | ${r.mValuesPerSec.toFixed(2)} | ${r.vsGenerator.toFixed(2)}x |`);
  return out.join('\n');
}

/** Writes RESULTS.md from the results folder. */
export function writeReport(benchDir) {
  const runs = load(join(benchDir, 'results'));
  const codec = runs.filter((r) => r.suite === 'codec').sort((a, b) => b.machine.node.localeCompare(a.machine.node));
  const channel = runs.filter((r) => r.suite === 'channel').sort((a, b) => b.node.localeCompare(a.node));
  const m = codec[0]?.machine;
  const parts = ['# Benchmark results', '', 'Generated by `npm run bench` (bench/scripts/report.mjs) from `bench/results/*.json`; do not edit by hand.', ''];
  if (m) {
    parts.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB memory, ${m.platform}. ` +
      `Node versions: ${[...new Set([...codec.map((r) => r.machine.node), ...channel.map((r) => r.node)])].join(', ')}.`, '');
  }
  parts.push(
    'Record batches: 1,000 records with a 10-byte key and a 100 B or 1 KB JSON-like value, no headers. rec/s is',
    'records per second, MB/s is payload (key + value) megabytes per second, each the median of several timed runs after',
    'warm-up. Ratios compare rates measured on the same Node; each library is timed in child processes of its own, in',
    'three interleaved rounds (the row is the median round).',
    'Times are this process\'s CPU time (user + system), not wall time: the machine is shared with other builds, and',
    'CPU time is far less sensitive to their load. Every decoder reads the same bytes (ours when we have the codec), and',
    "every library's encoder output was checked with every decoder before timing. KafkaJS ships only gzip.",
    'kafka-channels verifies each batch\'s CRC-32C on decode by default (as Kafka\'s Java consumer does with check.crcs);',
    'KafkaJS and @platformatic/kafka never do, so decode tables also show ours with `verifyCrc: false`.',
    '',
  );
  for (const run of codec) {
    const quick = run.quick ? ' (quick run: indicative only)' : '';
    const load = run.machine.loadAverage ? ` Load average at the end: ${run.machine.loadAverage.join(', ')} (shared machine).` : '';
    parts.push(`## Node ${run.machine.node}${quick}`, '', `Libraries: ${run.libs.join(', ')}. Run at ${run.date}, timed on ${run.machine.clock ?? 'wall'} time.${load}`, '');
    const bad = run.checks.filter((c) => !c.endsWith(': ok'));
    parts.push(bad.length ? `Cross-check FAILURES:\n\n${bad.map((b) => `- ${b}`).join('\n')}\n` : `Cross-checks: ${run.checks.length} encoder × decoder pairs, all ok.`, '');
    parts.push(...targetLines(run));
    if (run.rows.some((r) => r.bench === 'encode')) parts.push('### RecordBatch v2 encode', '', batchTable(run, 'encode'), '');
    if (run.rows.some((r) => r.bench === 'decode')) parts.push('### RecordBatch v2 decode (and read every key, value, offset, timestamp)', '', batchTable(run, 'decode'), '');
    if (run.rows.some((r) => r.bench === 'compress')) parts.push('### Codecs alone (compress the records\' keys and values back to back)', '', batchTable(run, 'compress', 'MB/s'), '');
    if (run.rows.some((r) => r.bench === 'decompress')) parts.push('### Codecs alone (decompress)', '', batchTable(run, 'decompress', 'MB/s'), '');
    if (run.rows.some((r) => r.bench === 'crc32c')) parts.push('### CRC-32C', '', crcTable(run), '');
    if (run.rows.some((r) => r.bench.startsWith('varint'))) parts.push('### Zig-zag varints (10,000 int32 values, mostly small)', '', varintTable(run), '');
  }
  for (const run of channel) {
    parts.push(`## Channel throughput, Node ${run.node}${run.quick ? ' (quick run)' : ''}`, '', `\`${run.header}\``, '', channelTable(run), '');
  }
  parts.push(...e2eSection(runs));
  writeFileSync(join(benchDir, 'RESULTS.md'), parts.join('\n'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeReport(join(fileURLToPath(import.meta.url), '..', '..'));
