/**
 * The runner cannot be fooled: test/run.ts is run on each fixture of test/runner/fixtures (files that are not
 * `*.test.js`, so the normal run never picks them up), and must fail each dishonest one with the right counts and
 * naming, and pass the honest one.
 */
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onlyIf, suite } from '../kit.js';
import { hasNativeZstd } from '../../src/protocol/compression/index.js';
import { nativeZstdNode } from './native-zstd.js';
import { CHILD_ENV } from './runtimes.js';

const here = dirname(fileURLToPath(import.meta.url));
const build = join(here, '..', '..');
const runJs = join(build, 'test', 'run.js');

interface Outcome { code: number; stdout: string; stderr: string; all: string; summary: string }

/** Runs the runner on fixture files (names without `.fixture.js`), with the given extra environment. */
function runOn(fixtures: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const files = fixtures.map((f) => `test/runner/fixtures/${f}.fixture.js`).join(',');
  const childEnv: Record<string, string | undefined> = { ...process.env };
  delete childEnv.TEST_FILTER;
  delete childEnv.TEST_ONLY_FILES;
  // This file may itself run as a runtime child (test/runner/runtimes.ts), or under CI=true; the fixture runs
  // choose their own runtimes and CI.
  for (const k of [CHILD_ENV, 'TEST_RUNTIMES', 'TEST_RUNTIME_FILES', 'CI']) delete childEnv[k];
  Object.assign(childEnv, { TEST_FILES: files, ...env });
  return new Promise((resolve) => {
    execFile(process.execPath, [runJs], { env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const lines = stdout.trimEnd().split('\n');
      resolve({ code, stdout, stderr, all: stdout + stderr, summary: lines[lines.length - 1]! });
    });
  });
}

const s = suite('runner', { timeoutMs: 60_000 });

s('an honest file passes: every hook kind runs in order, summary on the last line', async () => {
  const r = await runOn(['honest']);
  assert.is(r.summary, '3 passed, 0 failed', r.all);
  assert.is(r.code, 0, r.all);
});

s('a before hook that throws (a broker that did not start) fails every test of its suite, naming the hook', async () => {
  const r = await runOn(['before-throws']);
  assert.is(r.summary, '1 passed, 2 failed', r.all);
  assert.is(r.code, 1);
  assert.match(r.stdout, 'needs a broker › first test: not run: before hook of needs a broker failed: no broker: connection refused');
  assert.match(r.stdout, 'needs a broker › second test: not run: before hook of needs a broker failed');
});

s('a before.each hook failing for 2 tests counts 2 failures', async () => {
  const r = await runOn(['before-each-throws']);
  assert.is(r.summary, '1 passed, 2 failed', r.all);
  assert.is(r.code, 1);
  assert.match(r.stdout, 'each broken › first test: before.each hook of each broken failed: set-up broke');
  assert.match(r.stdout, 'each broken › second test: before.each hook of each broken failed: set-up broke');
});

s('an after.each hook that throws fails its test and the rest of the suite still runs (a later failure included)', async () => {
  const r = await runOn(['after-each-throws']);
  assert.is(r.summary, '1 passed, 2 failed', r.all);
  assert.is(r.code, 1);
  assert.match(r.stdout, 'cleanup broken › first test: after.each hook of cleanup broken failed: cleanup broke');
  assert.match(r.stdout, 'cleanup broken › third test fails: a real failure after the broken cleanup');
});

s('an after hook that throws is one more failure, named', async () => {
  const r = await runOn(['after-throws']);
  assert.is(r.summary, '2 passed, 1 failed', r.all);
  assert.is(r.code, 1);
  assert.match(r.stdout, 'teardown broken: after hook of teardown broken failed: teardown broke');
});

s('a file that registers no test fails the run, beside an honest file', async () => {
  const r = await runOn(['honest', 'no-test']);
  assert.is(r.summary, '3 passed, 1 failed', r.all);
  assert.is(r.code, 1);
  assert.match(r.stdout, 'test/runner/fixtures/no-test.fixture.js registers no test');
});

s('a suite declared but never run fails the run', async () => {
  const r = await runOn(['never-run']);
  assert.is(r.summary, '1 passed, 1 failed', r.all);
  assert.is(r.code, 1);
  assert.match(r.stdout, 'suite "forgotten" of test/runner/fixtures/never-run.fixture.js was declared but never run');
});

s('a top-level await that never settles: the run ends non-zero, naming the file, with a summary', async () => {
  const r = await runOn(['honest', 'hang-import']);
  assert.is(r.summary, '0 passed, 1 failed', r.all);
  assert.is(r.code, 1);
  assert.match(r.stdout, 'the process is ending before the run finished, while importing test/runner/fixtures/hang-import.fixture.js');
});

s('a file whose top level throws fails the run, named', async () => {
  const r = await runOn(['honest', 'import-throws']);
  assert.is(r.code, 1);
  assert.match(r.stdout, 'test/runner/fixtures/import-throws.fixture.js failed to import: top level broke');
  assert.match(r.summary, /^3 passed, [1-9]\d* failed$/, r.all);
});

s('a test outside test/kit.ts: uvu\'s totals and our tally disagree, and the run fails', async () => {
  const r = await runOn(['outside-kit']);
  assert.is(r.summary, '1 passed, 1 failed', r.all);
  assert.is(r.code, 1);
  assert.match(r.stdout, 'uvu counted 2 tests, 1 passed; our tally counted 1, 1 passed');
});

s('a .only left behind fails the run, saying how many tests it hid', async () => {
  const r = await runOn(['only']);
  assert.is(r.summary, '1 passed, 1 failed', r.all);
  assert.is(r.code, 1);
  assert.match(r.stdout, 'suite "focused" of test/runner/fixtures/only.fixture.js uses .only: 1 other test(s) did not run');
});

s('a test that leaks a timer: the run still ends after its summary, with its outcome, naming what held it', async () => {
  const t0 = Date.now();
  const r = await runOn(['leaks-handle']);
  assert.is(r.summary, '1 passed, 0 failed', r.all);
  assert.is(r.code, 0);
  assert.match(r.stderr, /still running 2000 ms after the summary, held by .*Timeout/);
  assert.ok(Date.now() - t0 < 20_000, `ended after ${Date.now() - t0} ms`);
});

const zstdNode = hasNativeZstd ? process.execPath : nativeZstdNode(join(build, '..'));
const withZstdNode = onlyIf(s, zstdNode !== undefined, 'no Node with zstd in node:zlib here (.ci/run installs one; or set TEST_NATIVE_ZSTD_NODE)');
const nativeEnv = { TEST_NATIVE_ZSTD_FILES: 'test/runner/fixtures/native-gated.fixture' };

withZstdNode('native zstd: the run fails when a Node with zstd is at hand but the native tests never ran', async () => {
  const r = await runOn(['native-gated'], { ...nativeEnv, NATIVE_FIXTURE_GATE: 'broken' });
  assert.is(r.code, 1, r.all);
  assert.match(r.all, 'node:zlib here has zstd, yet no native zstd test ran in test/runner/fixtures/native-gated.fixture.js');
});

withZstdNode('native zstd: the gated test runs (here, or again under the Node with zstd) and the run passes', async () => {
  const r = await runOn(['native-gated'], nativeEnv);
  assert.is(r.code, 0, r.all);
  // Here: portable + native; with a rerun: this Node's portable test, then both again under the zstd Node.
  assert.is(r.summary, hasNativeZstd ? '2 passed, 0 failed' : '3 passed, 0 failed', r.all);
});

s('native zstd: with no Node with zstd anywhere, the skip is explicit and counted', async () => {
  if (hasNativeZstd) {
    // This Node has zstd, so nothing is skipped: the gated test must have run.
    const r = await runOn(['native-gated'], nativeEnv);
    assert.is(r.summary, '2 passed, 0 failed', r.all);
    return;
  }
  const r = await runOn(['native-gated'], { ...nativeEnv, TEST_NATIVE_ZSTD_NODE: 'none' });
  assert.is(r.summary, '1 passed, 0 failed', r.all);
  assert.match(r.stdout, 'skipped: 1 native zstd test(s) of 1 file(s): no Node with zstd found');
  assert.match(r.stdout, '1 skipped on node');
});

// Runtimes (test/runner/runtimes.ts): the fixtures run again under a "runtime" (here this Node, named node24 through
// TEST_RUNTIME_NODE24, so no other binary is needed), and their counts join the run's.
const underRuntime = (fixture: string, binary: string, env: Record<string, string> = {}) => runOn([fixture], {
  TEST_RUNTIMES: 'node24', TEST_RUNTIME_NODE24: binary, TEST_RUNTIME_FILES: `test/runner/fixtures/${fixture}.fixture.js`, ...env,
});

s('runtimes: the files run again under each runtime and their counts join the run', async () => {
  const r = await underRuntime('honest', process.execPath);
  assert.is(r.summary, '6 passed, 0 failed', r.all);
  assert.is(r.code, 0, r.all);
  assert.match(r.stdout, /node24 [\d.]+ honest: 3 passed, 0 failed/);
});

s('runtimes: failures under a runtime fail the run, each named with the runtime', async () => {
  const r = await underRuntime('before-throws', process.execPath);
  assert.is(r.summary, '2 passed, 4 failed', r.all);
  assert.is(r.code, 1);
  assert.match(r.stdout, 'node24 before-throws: needs a broker › first test: not run: before hook of needs a broker failed');
});

s('runtimes: a handle left alive after a runtime suite\'s summary is a failure there (the host only warns)', async () => {
  const r = await underRuntime('leaks-handle', process.execPath);
  assert.is(r.summary, '2 passed, 1 failed', r.all);
  assert.match(r.stdout, 'node24 leaks-handle: a handle kept node24 alive after the summary');
});

s('runtimes: a runtime missing under CI=true fails the run, saying where it was looked for', async () => {
  const r = await underRuntime('honest', 'none', { CI: 'true' });
  assert.is(r.summary, '3 passed, 1 failed', r.all);
  assert.is(r.code, 1);
  assert.match(r.stdout, 'node24 not found (TEST_RUNTIME_NODE24=none; .ci/run installs it, or set TEST_RUNTIME_NODE24): under CI=true every runtime must run');
});

s('runtimes: a runtime missing outside CI is a skip, counted and printed with its reason', async () => {
  const r = await underRuntime('honest', '/nonexistent/node');
  assert.is(r.summary, '3 passed, 0 failed', r.all);
  assert.is(r.code, 0);
  assert.match(r.stdout, '1 skipped on node');
  assert.match(r.stdout, '  - node24 honest: node24 not found (TEST_RUNTIME_NODE24=/nonexistent/node;');
});

s.run();
