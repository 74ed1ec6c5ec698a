/**
 * Test entry point: `node .build/test/run.js unit integration`.
 * Runs every compiled `*.test.js` under .build/test (unit) and .build/integration (integration) with uvu,
 * starts the real broker the integration suites need (see integration/harness), stops it afterwards,
 * and prints `N passed, N failed` so CI can read the outcome.
 */
import { readdirSync, statSync } from 'node:fs';
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

async function main(): Promise<void> {
  const kinds = process.argv.slice(2);
  const filter = process.env.TEST_FILTER;
  const files: string[] = [];
  if (kinds.includes('unit')) files.push(...findTests(join(root, 'test')));
  if (kinds.includes('integration')) files.push(...findTests(join(root, 'integration')));
  // Match the path inside the build folder, so a build folder whose name contains the filter does not match all.
  const chosen = filter ? files.filter((f) => relative(root, f).includes(filter)) : files;
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
  const failedOutright = process.exitCode && tally.failed === 0 ? 1 : 0;
  console.log(`\n${tally.passed} passed, ${tally.failed + failedOutright} failed`);
  if (tally.passed === 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  console.log(`\n${tally.passed} passed, ${tally.failed + 1} failed`);
  process.exit(1);
});
