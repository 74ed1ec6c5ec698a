/**
 * Test entry point: `node .build/test/run.js unit integration`.
 * Runs every compiled `*.test.js` under .build/test (unit) and .build/integration (integration) with uvu,
 * starts the real broker the integration suites need (see integration/harness), stops it afterwards,
 * and prints `N passed, N failed` so CI can read the outcome.
 *
 * The run cannot pass by accident: it fails (non-zero exit, each problem counted as a failure and named) when a
 * hook fails (test/kit.ts runs and counts hooks), when uvu's own totals and our tally disagree, when a file
 * registers no test, when a suite is declared but never run or uses `.only`, when a file fails to import, when the
 * process ends before the run finished (an import or top-level await that never settles), and when the native
 * zstd path was never exercised though a Node with zstd was at hand.
 * `TEST_FILES=a.js,b.js` (paths inside the build folder) runs exactly those files, whatever their name (the
 * runner's own fixtures, test/runner/fixtures, use it).
 * Where this Node has no zstd in node:zlib (Node 20, CI's runtime), the unit files of the native zstd path run
 * again under a Node that has it ({@link nativeZstdNode}), and their tally joins this one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
// 22 minutes: with the dp-kafka suites (about 5 minutes of real groups) a run on a loaded 2-core machine passed
// 15 minutes inside the integration suites; CI's own budget (25 minutes with the set-up) stays the outer bound.
const WATCHDOG_MS = Number(process.env.TEST_WATCHDOG_MS ?? 22 * 60_000);
/** How long the process may live on after the summary before the runner ends it (a leaked handle). */
const LINGER_MS = 2_000;

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
const { NATIVE_ZSTD_TAG, nativeZstdFiles, nativeZstdNode } = await import('./runner/native-zstd.js');
const { runtimePhase, runRuntimes } = await import('./runner/runtimes.js');
const NATIVE_ZSTD_FILES = nativeZstdFiles();
const uvu = await import('uvu') as { exec: (bail?: boolean) => Promise<void> };

/** Problems of the run itself (not of one test): each one is a failure in the summary. */
const problems: string[] = [];
let stage = 'starting';
let finished = false;

function problem(text: string): void {
  problems.push(text);
  console.error(`\nRUNNER: ${text}`);
}

function summary(extraFailed = 0): string {
  return `${tally.passed} passed, ${tally.failed + problems.length + extraFailed} failed`;
}

// A run whose event loop empties before main() finished (an import or top-level await that never settles; the
// watchdog is unref'd) would otherwise exit 0 printing nothing.
process.on('exit', () => {
  if (finished) return;
  finished = true;
  console.log(`\nRUNNER: the process is ending before the run finished, while ${tally.current ? `running ${tally.current}` : stage}`);
  console.log(`\n${summary(1)}`);
  process.exitCode = 1;
});

/** Runs the native zstd files under `node`; returns its `passed, failed` counts (a run that prints none failed). */
function runUnderNativeZstd(node: string, files: string[]): { passed: number; failed: number } {
  const relFiles = files.map((f) => relative(root, f));
  console.log(`\nnode:zlib here has no zstd: running ${relFiles.join(', ')} again under ${node}`);
  const child = spawnSync(node, [join(here, 'run.js'), 'unit'], {
    env: { ...process.env, TEST_FILES: relFiles.join(',') }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(child.stdout ?? '');
  const m = /(\d+) passed, (\d+) failed\s*$/.exec(child.stdout ?? '');
  if (!m || child.status !== 0) return { passed: m ? Number(m[1]) : 0, failed: Math.max(1, m ? Number(m[2]) : 1) };
  return { passed: Number(m[1]), failed: Number(m[2]) };
}

/** The files to run: `TEST_FILES`, else the kinds' `*.test.js` narrowed by `TEST_ONLY_FILES` or `TEST_FILTER`. */
function chooseFiles(kinds: string[]): string[] {
  const exact = process.env.TEST_FILES?.split(',').filter(Boolean);
  if (exact) {
    const missing = exact.filter((f) => !existsSync(join(root, f)));
    if (missing.length > 0) throw new Error(`TEST_FILES names files that do not exist: ${missing.join(', ')}`);
    return exact.map((f) => join(root, f));
  }
  const filter = process.env.TEST_FILTER;
  const files: string[] = [];
  if (kinds.includes('unit')) files.push(...findTests(join(root, 'test')));
  if (kinds.includes('integration')) files.push(...findTests(join(root, 'integration')));
  // Match the path inside the build folder, so a build folder whose name contains the filter does not match all.
  const only = process.env.TEST_ONLY_FILES?.split(',');
  const chosen = only ? files.filter((f) => only.includes(relative(root, f)))
    : filter ? files.filter((f) => relative(root, f).includes(filter)) : files;
  if (chosen.length === 0) throw new Error(`no test files for ${kinds.join(', ')}${filter ? ` matching ${filter}` : ''}`);
  return chosen;
}

type SuiteRun = () => Promise<[string | true, number, number, number]>;

/** Time spent in each file's suites, for the list of the slowest files at the end of the run (CI's time budget). */
const fileMs = new Map<string, number>();

/** The `n` slowest files of the run and their share of it, one per line. */
function slowest(n: number): string {
  const all = [...fileMs.values()].reduce((a, b) => a + b, 0);
  return [...fileMs].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([f, ms]) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${f}`).join('\n') + `\n  ${(all / 1000).toFixed(1).padStart(6)} s  all files`;
}

/**
 * Imports each file as uvu's own `uvu/run` does (one queue entry per file), wraps every suite run uvu queued to
 * read its own result (passed, skipped, total), then lets uvu execute the queue.
 */
async function runFiles(files: string[]): Promise<{ total: number; passed: number }> {
  const g = globalThis as { UVU_QUEUE?: unknown[][]; UVU_INDEX?: number };
  const queue = g.UVU_QUEUE!;
  const seen = { total: 0, passed: 0 };
  for (const file of files) {
    const name = relative(root, file);
    g.UVU_INDEX = queue.length;
    const group: unknown[] = [name];
    queue.push(group);
    tally.file = name;
    stage = `importing ${name}`;
    try {
      await import(pathToFileURL(file).href);
    } catch (err) {
      console.error(err);
      problem(`${name} failed to import: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
    for (let i = 1; i < group.length; i++) {
      const run = group[i] as SuiteRun;
      group[i] = async () => {
        const t0 = performance.now();
        const result = await run();
        fileMs.set(name, (fileMs.get(name) ?? 0) + performance.now() - t0);
        seen.passed += result[1];
        seen.total += result[3];
        return result;
      };
    }
    const declared = tally.suites.filter((s) => s.file === name);
    if (declared.reduce((n, s) => n + s.tests + s.skipped, 0) === 0) problem(`${name} registers no test (and skips none)`);
  }
  tally.file = '';
  stage = 'running the suites';
  await uvu.exec();
  return seen;
}

/** The run-level checks: every suite ran, nothing hidden by `.only`, uvu's count agrees with ours. */
function checkSuites(seen: { total: number; passed: number }): void {
  for (const s of tally.suites) {
    if (!s.registered) problem(`suite "${s.name}" of ${s.file || '(unknown file)'} was declared but never run (.run() not called)`);
    if (s.usedOnly) problem(`suite "${s.name}" of ${s.file} uses .only: ${s.skipped} other test(s) did not run`);
  }
  const ours = tally.passed + tally.failed - tally.extraFailures;
  if (seen.total !== ours || seen.passed !== tally.passed) {
    problem(`uvu counted ${seen.total} tests, ${seen.passed} passed; our tally counted ${ours}, ${tally.passed} passed: ` +
      'a test ran outside test/kit.ts or a suite was cut short');
  }
}

/**
 * Node 20/22/24/26, Bun and Deno (test/runner/runtimes.ts): the unit suite and the runtime suites again under each,
 * against this run's broker; their counts join the tally, a runtime missing under CI=true is a problem.
 */
async function otherRuntimes(kinds: string[]): Promise<void> {
  stage = 'running the other runtimes';
  console.log('\nruntimes: the suites again under every other runtime (test/runner/runtimes.ts)');
  let brokerEnv: string | undefined;
  if (kinds.includes('integration')) {
    const { runtimeBroker } = await import('../integration/runtimes/kit.js');
    brokerEnv = JSON.stringify(await runtimeBroker());
  }
  runtimes = await runRuntimes({ repo: join(root, '..'), build: root, runJs: join(here, 'run.js'), kinds, brokerEnv,
    timeoutMs: 10 * 60_000, log: (line) => console.log(`  ${line}`) });
  runtimes.problems.forEach(problem);
  console.log(`runtimes:\n${runtimes.table.map((l) => `  ${l}`).join('\n')}`);
}
let runtimes: Awaited<ReturnType<typeof runRuntimes>> | undefined;

/**
 * With only a container engine (testcontainers) and no Java or Kafka jars on the host, the suites that need Kafka's
 * Java tools or the 3-node cluster (integration/harness/needs.ts) cannot run: each is skipped, counted and named.
 */
async function containerOnly(kinds: string[], files: string[]): Promise<string[]> {
  if (!kinds.includes('integration')) return files;
  const { containerRuntimeAvailable } = await import('../integration/harness/container-broker.js');
  if (!(await containerRuntimeAvailable())) return files;
  const { containerOnlySkips, hostJavaProblem } = await import('../integration/harness/needs.js');
  const { paths } = await import('../integration/harness/paths.js');
  const javaProblem = hostJavaProblem(paths.libs);
  if (javaProblem === undefined) return files;
  const skips = containerOnlySkips(files, javaProblem);
  for (const s of skips) tally.skipped.push(`${relative(root, s.file)} (the whole file): ${s.reason}`);
  return files.filter((f) => !skips.some((s) => s.file === f));
}

async function main(): Promise<void> {
  const kinds = process.argv.slice(2);
  const chosen = await containerOnly(kinds, chooseFiles(kinds));

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
  let seen: { total: number; passed: number };
  try {
    seen = await runFiles(chosen);
    if (runtimePhase()) {
      const t0 = performance.now();
      await otherRuntimes(kinds);
      fileMs.set('(the other runtimes, test/runner/runtimes.ts)', performance.now() - t0);
    }
  } finally {
    stage = 'stopping the brokers';
    if (stopBrokers) await stopBrokers();
  }
  stage = 'checking the run';
  checkSuites(seen);
  if (runtimes) {
    // After checkSuites: uvu here never saw the children's tests.
    tally.passed += runtimes.passed;
    tally.failed += runtimes.failed;
    tally.failures.push(...runtimes.failures);
    tally.skipped.push(...runtimes.skipped);
  }
  const { hasNativeZstd } = await import('../src/protocol/compression/index.js');
  const zstdFiles = chosen.filter((f) => NATIVE_ZSTD_FILES.some((n) => relative(root, f).startsWith(n)));
  const native = tally.tagged[NATIVE_ZSTD_TAG] ?? { ran: 0, skipped: 0 };
  let rerunUnder: string | undefined;
  if (hasNativeZstd && zstdFiles.length > 0 && native.ran === 0) {
    problem(`node:zlib here has zstd, yet no native zstd test ran in ${zstdFiles.map((f) => relative(root, f)).join(', ')}`);
  }
  if (!hasNativeZstd && zstdFiles.length > 0) {
    const node = nativeZstdNode(join(root, '..'));
    if (node === undefined) {
      console.log(`\nskipped: ${native.skipped} native zstd test(s) of ${zstdFiles.length} file(s): no Node with zstd found ` +
        '(.ci/run installs one; or set TEST_NATIVE_ZSTD_NODE)');
    } else {
      stage = `running the native zstd files under ${node}`;
      rerunUnder = node;
      const more = runUnderNativeZstd(node, zstdFiles);
      tally.passed += more.passed;
      tally.failed += more.failed;
    }
  }
  if (tally.skipped.length > 0) {
    console.log(`\n${tally.skipped.length} skipped on node ${process.version}${rerunUnder ? ` (the native zstd ones ran again under ${rerunUnder}, above)` : ''}, ` +
      `with the reason:\n${tally.skipped.map((t) => `  - ${t}`).join('\n')}`);
  }
  if (fileMs.size > 0) console.log(`\nslowest:\n${slowest(15)}`);
  if (tally.passed === 0) problem('no test passed');
  const failures = [...tally.failures, ...problems.map((p) => `runner: ${p}`)];
  if (failures.length > 0) console.log(`\nfailures:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  finished = true;
  console.log(`\n${summary()}`);
  process.exitCode = tally.failed + problems.length > 0 ? 1 : 0;
  // A test that left a socket or a timer behind would keep the process (and CI) waiting after the summary.
  setTimeout(() => {
    console.error(`RUNNER: still running ${LINGER_MS} ms after the summary, held by ${process.getActiveResourcesInfo().join(', ')}; exiting`);
    process.exit();
  }, LINGER_MS).unref();
}

main().catch((err) => {
  console.error(err);
  finished = true;
  console.log(`\n${summary(1)}`);
  process.exit(1);
});
