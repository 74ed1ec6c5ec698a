/**
 * Test entry point: `node .build/test/run.js unit integration`.
 * Runs every compiled `*.test.js` under .build/test (unit) and .build/integration (integration) with uvu,
 * starts the real broker the integration suites need (see integration/harness), stops it afterwards,
 * and prints `N passed, N failed` so CI can read the outcome.
 * Where this Node has no zstd in node:zlib (Node 20, CI's runtime), the unit files of the native zstd path run
 * again under a Node that has it ({@link nativeZstdNode}), and their tally joins this one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const WATCHDOG_MS = Number(process.env.TEST_WATCHDOG_MS ?? 15 * 60_000);

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out.sort();
}

// uvu must learn it is driven by a runner before any test module (or kit.ts) imports it, else each suite
// schedules its own run on a timer and the results interleave.
(globalThis as { UVU_DEFER?: number }).UVU_DEFER = 1;
const { tally } = await import('./kit.js');

/** Unit test files whose native zstd tests only run where node:zlib has zstd. */
const NATIVE_ZSTD_FILES = ['test/protocol/compression.test', 'test/protocol/zstd-context.test'];

/** A Node binary with zstd in node:zlib: $TEST_NATIVE_ZSTD_NODE, the one .ci/run installs, or the bench's. */
function nativeZstdNode(): string | undefined {
  const repo = join(root, '..');
  const candidates = [process.env.TEST_NATIVE_ZSTD_NODE, join(repo, '.kafka/node22/node_modules/.bin/node'), join(repo, 'bench/node_modules/.bin/node')];
  return candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c));
}

/** Runs the native zstd files under `node`; returns its `passed, failed` counts (a run that prints none failed). */
function runUnderNativeZstd(node: string, files: string[]): { passed: number; failed: number } {
  const relFiles = files.map((f) => relative(root, f));
  console.log(`\nnode:zlib here has no zstd: running ${relFiles.join(', ')} again under ${node}`);
  const child = spawnSync(node, [join(here, 'run.js'), 'unit'], {
    env: { ...process.env, TEST_ONLY_FILES: relFiles.join(',') }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(child.stdout ?? '');
  const m = /(\d+) passed, (\d+) failed\s*$/.exec(child.stdout ?? '');
  if (!m || child.status !== 0) return { passed: m ? Number(m[1]) : 0, failed: Math.max(1, m ? Number(m[2]) : 1) };
  return { passed: Number(m[1]), failed: Number(m[2]) };
}

async function main(): Promise<void> {
  const kinds = process.argv.slice(2);
  const filter = process.env.TEST_FILTER;
  const files: string[] = [];
  if (kinds.includes('unit')) files.push(...findTests(join(root, 'test')));
  if (kinds.includes('integration')) files.push(...findTests(join(root, 'integration')));
  // Match the path inside the build folder, so a build folder whose name contains the filter does not match all.
  const only = process.env.TEST_ONLY_FILES?.split(',');
  const chosen = only ? files.filter((f) => only.includes(relative(root, f)))
    : filter ? files.filter((f) => relative(root, f).includes(filter)) : files;
  if (chosen.length === 0) throw new Error(`no test files for ${kinds.join(', ')}${filter ? ` matching ${filter}` : ''}`);

  const watchdog = setTimeout(() => {
    console.error(`\nWATCHDOG: the test run exceeded ${WATCHDOG_MS} ms; still running: ${tally.current || '(between tests)'}`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();

  let stopBrokers: (() => Promise<void>) | undefined;
  if (kinds.includes('integration')) {
    const harness = await import('../integration/harness/index.js');
    stopBrokers = harness.stopAll;
    harness.installExitHandlers();
  }
  try {
    const { run } = await import('uvu/run' as string) as { run: (s: { name: string; file: string }[], o?: object) => Promise<void> };
    await run(chosen.map((file) => ({ name: relative(root, file), file })));
  } finally {
    if (stopBrokers) await stopBrokers();
  }
  const { hasNativeZstd } = await import('../src/protocol/compression/index.js');
  const zstdFiles = chosen.filter((f) => NATIVE_ZSTD_FILES.some((n) => relative(root, f).startsWith(n)));
  if (tally.skipped.length > 0) console.log(`\nskipped on node ${process.version}, with the reason:\n${tally.skipped.map((t) => `  - ${t}`).join('\n')}`);
  if (!hasNativeZstd && zstdFiles.length > 0) {
    const node = nativeZstdNode();
    if (node === undefined) console.log(`\nskipped: ${zstdFiles.length} native zstd file(s) again under a Node with zstd: none found (.ci/run installs one; or set TEST_NATIVE_ZSTD_NODE)`);
    else {
      const more = runUnderNativeZstd(node, zstdFiles);
      tally.passed += more.passed;
      tally.failed += more.failed;
      if (more.failed > 0) process.exitCode = 1;
    }
  }
  const failedOutright = process.exitCode && tally.failed === 0 ? 1 : 0;
  console.log(`\n${tally.passed} passed, ${tally.failed + failedOutright} failed`);
  if (tally.passed === 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  console.log(`\n${tally.passed} passed, ${tally.failed + 1} failed`);
  process.exit(1);
});
