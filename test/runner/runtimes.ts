/**
 * The other runtimes the client must work on (Node 20/22/24/26, Bun, Deno), found and driven by test/run.ts.
 * After the host's own suites, and while its broker is still up, the runner runs again under each runtime:
 * the unit suite (Node majors only) and the runtime suites (integration/runtimes/*.test.js), one child process
 * per file, against the host's broker (passed as `KAFKA_RUNTIME_BROKER`). Their counts join the host's tally.
 *
 * A runtime is its binary from `TEST_RUNTIME_<NAME>` (e.g. `TEST_RUNTIME_BUN=/usr/local/bin/bun`; `none` = absent),
 * else the one .ci/run installs under .kafka/. A missing runtime fails the run under `CI=true`; elsewhere it is a
 * skip, counted and printed with its reason (as the native zstd rule does). A Node runtime of the host's major is
 * this run itself. `TEST_RUNTIMES=bun,deno` chooses runtimes (`none`: no runtime phase); `TEST_RUNTIME_FILES`
 * (comma list of files inside the build folder) replaces the per-runtime files (the runner's own tests use it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One runtime the runner knows. */
export interface Runtime {
  name: string;
  kind: 'node' | 'bun' | 'deno';
  /** Node's major, for Node runtimes. */
  major?: number;
  /** Where .ci/run installs it, relative to the repository. */
  installed: string;
}

const bin = (dir: string, exe: string) => `${dir}/node_modules/.bin/${exe}`;

/** Every runtime, in the order they run; .ci/run installs each at `installed`. */
export const RUNTIMES: readonly Runtime[] = [
  { name: 'node20', kind: 'node', major: 20, installed: bin('.kafka/runtimes/node20', 'node') },
  // The same Node 22 the native zstd rule uses (.ci/run installs it once).
  { name: 'node22', kind: 'node', major: 22, installed: bin('.kafka/node22', 'node') },
  { name: 'node24', kind: 'node', major: 24, installed: bin('.kafka/runtimes/node24', 'node') },
  { name: 'node26', kind: 'node', major: 26, installed: bin('.kafka/runtimes/node26', 'node') },
  { name: 'bun', kind: 'bun', installed: bin('.kafka/runtimes/bun', 'bun') },
  { name: 'deno', kind: 'deno', installed: bin('.kafka/runtimes/deno', 'deno') },
];

/** The env variable naming a runtime's binary: `TEST_RUNTIME_NODE24`, `TEST_RUNTIME_BUN`. */
export const runtimeEnv = (rt: Runtime) => `TEST_RUNTIME_${rt.name.toUpperCase()}`;

/** Set in each child the runner starts, so that the child does not start runtimes of its own. */
export const CHILD_ENV = 'TEST_RUNTIME_CHILD';

/** The runtime's binary, or undefined (`none`, or nothing at the env path nor at the installed one). */
export function findRuntime(repo: string, rt: Runtime): string | undefined {
  const env = process.env[runtimeEnv(rt)];
  if (env === 'none') return undefined;
  if (env) return existsSync(env) ? env : undefined;
  const path = join(repo, rt.installed);
  return existsSync(path) ? path : undefined;
}

/**
 * Whether this run has a runtime phase: not in a child; `TEST_RUNTIMES` decides when set; else only a full run
 * (no TEST_FILES, TEST_FILTER or TEST_ONLY_FILES: a developer's filtered run stays quick).
 */
export function runtimePhase(): boolean {
  if (process.env[CHILD_ENV]) return false;
  const chosen = process.env.TEST_RUNTIMES;
  if (chosen !== undefined) return chosen !== 'none';
  return !process.env.TEST_FILES && !process.env.TEST_FILTER && !process.env.TEST_ONLY_FILES;
}

/** The runtimes `TEST_RUNTIMES` names (all when unset); an unknown name is an error. */
export function chosenRuntimes(): Runtime[] {
  const names = process.env.TEST_RUNTIMES?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names) return [...RUNTIMES];
  const unknown = names.filter((n) => !RUNTIMES.some((r) => r.name === n));
  if (unknown.length > 0) throw new Error(`TEST_RUNTIMES names unknown runtime(s) ${unknown.join(', ')}; known: ${RUNTIMES.map((r) => r.name).join(', ')}`);
  return RUNTIMES.filter((r) => names.includes(r.name));
}

/** One child run: a label for the table, the runner's kind argument, and exact files (or the kind's whole set). */
export interface Job { label: string; kinds: string[]; files?: string[] }

/** The runtime suites' files (paths inside the build folder), or `TEST_RUNTIME_FILES`. */
export function runtimeFiles(build: string): string[] {
  const env = process.env.TEST_RUNTIME_FILES?.split(',').filter(Boolean);
  if (env) return env;
  const dir = join(build, 'integration', 'runtimes');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => `integration/runtimes/${f}`) : [];
}

/** What runs under `rt` for a run of `kinds`: Node's unit suite, then each runtime file. */
export function jobsFor(rt: Runtime, kinds: string[], files: string[]): Job[] {
  const jobs: Job[] = [];
  if (rt.kind === 'node' && kinds.includes('unit') && !process.env.TEST_RUNTIME_FILES) jobs.push({ label: 'unit', kinds: ['unit'] });
  if (kinds.includes('integration') || process.env.TEST_RUNTIME_FILES) {
    // No kind: the child runs exactly its file and never loads the harness (the broker comes in the env).
    for (const f of files) jobs.push({ label: f.replace(/^.*\//, '').replace(/(\.fixture)?(\.test)?\.js$/, ''), kinds: [], files: [f] });
  }
  return jobs;
}

/** The command line running `script` under the runtime (Deno needs `run -A`; it reads node_modules itself). */
export function commandFor(rt: Runtime, binary: string, script: string): [string, string[]] {
  return rt.kind === 'deno' ? [binary, ['run', '-A', script]] : [binary, [script]];
}

/** Outcome of one child run. */
export interface JobResult { passed: number; failed: number; ms: number; output: string }

/** Runs `run.js` under the runtime for one job; a child that prints no summary or exits non-zero failed. */
export function runJob(rt: Runtime, binary: string, runJs: string, job: Job, env: Record<string, string>, timeoutMs: number): Promise<JobResult> {
  const [cmd, args] = commandFor(rt, binary, runJs);
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env, [CHILD_ENV]: rt.name };
  delete childEnv.TEST_FILTER;
  delete childEnv.TEST_ONLY_FILES;
  delete childEnv.TEST_FILES;
  if (job.files) childEnv.TEST_FILES = job.files.join(',');
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, [...args, ...job.kinds], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', output = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const timer = setTimeout(() => { output += `\nRUNNER: ${rt.name} ${job.label} still running after ${timeoutMs} ms; killed`; child.kill('SIGKILL'); }, timeoutMs);
    const done = (code: number | null, err?: Error) => {
      clearTimeout(timer);
      if (err) output += `\nRUNNER: could not start ${cmd}: ${err.message}`;
      const m = /(\d+) passed, (\d+) failed\s*$/.exec(stdout);
      const passed = m ? Number(m[1]) : 0;
      let failed = m ? Number(m[2]) : 0;
      if (code !== 0 || !m) failed = Math.max(1, failed);
      // The host runner only warns when a handle outlives the summary (so does the unit job here); after a runtime
      // suite it is a failure: a timer or socket the client leaves behind under that runtime (Deno kept a process
      // alive 20 s after ConsumerGroup.close({ signal }) until the listener on the signal was removed).
      if (job.files && /still running \d+ ms after the summary/.test(output)) {
        failed++;
        output += `\nfailures:\n  - a handle kept ${rt.name} alive after the summary: the client left something behind under this runtime`;
      }
      resolve({ passed, failed, ms: Date.now() - t0, output });
    };
    child.once('error', (err) => done(null, err));
    child.once('close', (code) => done(code));
  });
}

/** The `  - ` lines of every `failures:` section a child printed. */
function failuresIn(output: string): string[] {
  return output.split('\nfailures:\n').slice(1).flatMap((section) => {
    const lines: string[] = [];
    for (const l of section.split('\n')) { if (!l.startsWith('  - ')) break; lines.push(l.slice(4)); }
    return lines;
  });
}

/** The version a runtime binary reports (`v22.23.3`, `1.4.5`, `deno 2.9.6 (…)` → `2.9.6`). */
export function versionOf(binary: string): string {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return /v?(\d+\.\d+\.\d+)/.exec(r.stdout ?? '')?.[1] ?? '?';
}

/** What the runtime phase found: counts to add to the host's tally, problems (failures), skips, a table. */
export interface PhaseResult { passed: number; failed: number; failures: string[]; problems: string[]; skipped: string[]; table: string[] }

/**
 * Runs every chosen runtime's jobs, one child at a time (the machine has 2 cores and a broker to share), and
 * prints one line per job. `brokerEnv` is `KAFKA_RUNTIME_BROKER`'s value (undefined when no job needs a broker).
 */
export async function runRuntimes(o: { repo: string; build: string; runJs: string; kinds: string[]; brokerEnv?: string; timeoutMs: number; log: (line: string) => void }): Promise<PhaseResult> {
  const res: PhaseResult = { passed: 0, failed: 0, failures: [], problems: [], skipped: [], table: [] };
  const files = runtimeFiles(o.build);
  const hostMajor = Number(process.versions.node.split('.')[0]);
  const inCi = process.env.CI === 'true';
  const found: Array<{ rt: Runtime; binary: string; version: string; jobs: Job[]; cells: string[]; ms: number }> = [];
  for (const rt of chosenRuntimes()) {
    if (rt.kind === 'node' && rt.major === hostMajor && !process.env.TEST_RUNTIME_FILES) {
      o.log(`${rt.name}: this process (node ${process.version}) ran the suites above`);
      res.table.push(`${rt.name} ${process.version}: host run (see above)`);
      continue;
    }
    const binary = findRuntime(o.repo, rt);
    const jobs = jobsFor(rt, o.kinds, files);
    if (binary === undefined) {
      const why = `${rt.name} not found (${process.env[runtimeEnv(rt)] ? `${runtimeEnv(rt)}=${process.env[runtimeEnv(rt)]}` : rt.installed}; .ci/run installs it, or set ${runtimeEnv(rt)})`;
      if (inCi) res.problems.push(`${why}: under CI=true every runtime must run`);
      else for (const j of jobs) res.skipped.push(`${rt.name} ${j.label}: ${why}`);
      res.table.push(`${rt.name}: ${inCi ? 'MISSING' : 'skipped'}`);
      continue;
    }
    found.push({ rt, binary, version: versionOf(binary), jobs, cells: [], ms: 0 });
  }
  const run = async (f: (typeof found)[number], job: Job): Promise<void> => {
    // The runtime files get the host's broker; a runtime child never starts one of its own (kit.ts refuses).
    const env: Record<string, string> = o.brokerEnv && job.files ? { KAFKA_RUNTIME_BROKER: o.brokerEnv } : {};
    const r = await runJob(f.rt, f.binary, o.runJs, job, env, o.timeoutMs);
    res.passed += r.passed;
    res.failed += r.failed;
    f.ms += r.ms;
    f.cells.push(`${job.label} ${r.passed}/${r.passed + r.failed}`);
    const skipped = /(\d+) skipped on /.exec(r.output)?.[1];
    o.log(`${f.rt.name} ${f.version} ${job.label}: ${r.passed} passed, ${r.failed} failed${skipped ? `, ${skipped} skipped there` : ''} (${(r.ms / 1000).toFixed(1)} s)`);
    if (r.failed > 0) {
      const list = failuresIn(r.output);
      res.failures.push(...(list.length > 0 ? list : ['the child run ended without naming its failure (exit or crash)']).map((x) => `${f.rt.name} ${job.label}: ${x}`));
      const tail = r.output.trimEnd().split('\n').slice(-150).join('\n');
      o.log(`---- ${f.rt.name} ${job.label} output (last 150 lines) ----\n${tail}\n---- end of ${f.rt.name} ${job.label} ----`);
    }
  };
  // The Node unit suites mostly wait on timers (about 40 s of CPU in 3 minutes of a loaded machine), so they run
  // side by side, TEST_RUNTIME_UNIT_CONCURRENCY at a time (default 3); then the runtime suites, one at a time.
  const units = found.flatMap((f) => f.jobs.filter((j) => !j.files).map((j) => () => run(f, j)));
  const width = Math.max(1, Number(process.env.TEST_RUNTIME_UNIT_CONCURRENCY ?? 3) || 1);
  await Promise.all(Array.from({ length: Math.min(width, units.length) }, async () => { for (let next = units.shift(); next; next = units.shift()) await next(); }));
  for (const f of found) for (const job of f.jobs.filter((j) => j.files)) await run(f, job);
  for (const f of found) res.table.push(`${f.rt.name} ${f.version}: ${f.cells.join(', ')} (${(f.ms / 1000).toFixed(0)} s of child runs)`);
  return res;
}
