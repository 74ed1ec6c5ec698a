/**
 * `npm run mutate`: mutation testing of the mechanisms that matter (issue 23). Each mutation in
 * `scripts/mutations.ts` is a realistic bug (an exact snippet of `src/` replaced by another); the unit suite
 * should fail for every one of them. This script reports, per mutation, whether a unit test caught it and which.
 *
 * It never touches the repository it runs from: it copies the working tree (tracked and untracked, non-ignored
 * files; `--source head` takes the last commit instead) into a private temporary folder, builds it there once,
 * checks that the unit suite passes unmutated, then for each mutation:
 * 1. writes the mutated file into the copy and type-checks that one file against the rest of the program (the
 *    TypeScript compiler API, reusing the previous program's parsed files): a mutation that does not type-check
 *    is reported as `compile-error` (a bug the compiler would catch is not a test's job);
 * 2. emits only that file's JavaScript into the copy's build folder;
 * 3. runs the mutation's own test files first (`tests`, the quick pass) and, if none failed, the whole unit
 *    suite: a failing run (or one past the time limit) is `caught`, a passing one `survived`;
 * 4. puts the original source and JavaScript back.
 *
 * Options: `--only ID[,ID]`, `--mechanism NAME` (mechanisms as named in the list), `--report PATH` (default
 * `MUTATION-REPORT.md` at the repository root), `--source worktree|head`, `--timeout SECONDS` per test run
 * (default 300), `--quick` (no full-suite run for mutations the quick pass did not catch: they are reported as
 * `survived-quick`), `--keep` (leave the temporary copy), `--list` (print the mutations and exit).
 * Run it niced (`nice -n 10 npm run mutate`): it uses a core for several minutes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { MUTATIONS, type Mutation } from './mutations.js';

type Status = 'caught' | 'survived' | 'survived-quick' | 'timeout' | 'compile-error' | 'invalid';

interface Result {
  mutation: Mutation;
  status: Status;
  /** `quick` when one of the mutation's own test files caught it, `full` when only the whole suite did. */
  pass?: 'quick' | 'full';
  /** First failing test (`suite › title`), the compiler's message, or why the mutation could not be applied. */
  detail: string;
  seconds: number;
}

interface Options {
  only?: Set<string>;
  mechanism?: string;
  report: string;
  source: 'worktree' | 'head';
  timeoutMs: number;
  quick: boolean;
  keep: boolean;
  list: boolean;
  shards: number;
}

function parseArgs(argv: string[], repo: string): Options {
  const o: Options = { report: join(repo, 'MUTATION-REPORT.md'), source: 'worktree', timeoutMs: 300_000, quick: false, keep: false, list: false, shards: 3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only') o.only = new Set(value().split(','));
    else if (a === '--mechanism') o.mechanism = value();
    else if (a === '--report') o.report = resolve(value());
    else if (a === '--source') {
      const s = value();
      if (s !== 'worktree' && s !== 'head') throw new Error('--source is worktree or head');
      o.source = s;
    } else if (a === '--timeout') {
      const s = Number(value());
      if (!(s > 0)) throw new Error('--timeout needs a positive number of seconds');
      o.timeoutMs = s * 1000;
    } else if (a === '--shards') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error('--shards is 1 to 8');
      o.shards = n;
    } else if (a === '--quick') o.quick = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--list') o.list = true;
    else throw new Error(`unknown option ${a} (see scripts/mutate.ts)`);
  }
  return o;
}

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** Copies the repository's files (not node_modules, not build folders) into a fresh temporary folder. */
function copyRepo(repo: string, source: Options['source']): string {
  const dir = mkdtempSync(join(tmpdir(), 'mut-'));
  if (source === 'head') {
    execFileSync('sh', ['-c', `git -C "${repo}" archive HEAD | tar -x -C "${dir}"`]);
  } else {
    for (const f of git(repo, 'ls-files', '-z', '--cached', '--others', '--exclude-standard').split('\0')) {
      if (f === '' || !existsSync(join(repo, f))) continue; // deleted in the working tree
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      cpSync(join(repo, f), join(dir, f));
    }
  }
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Builds the copy with the compiler API and re-emits single files after a mutation. */
class Compiler {
  private readonly parsed: ts.ParsedCommandLine;
  private readonly host: ts.CompilerHost;
  private program: ts.Program | undefined;
  /** The unmutated program, for the errors a file had before any mutation (another engineer's work in progress). */
  private initial: ts.Program | undefined;
  private readonly cache = new Map<string, { text: string; sf: ts.SourceFile }>();

  constructor(private readonly dir: string, readonly outDir: string) {
    const overrides: ts.CompilerOptions = { outDir, noEmit: false, declaration: false, sourceMap: false, incremental: false };
    const parsed = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), overrides, {
      ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
    });
    if (!parsed) throw new Error('cannot read tsconfig.json');
    this.parsed = parsed;
    const host = ts.createCompilerHost(parsed.options);
    const read = host.getSourceFile.bind(host);
    // Parsed files are reused while their text is unchanged: only the mutated file is parsed again.
    host.getSourceFile = (fileName, lang, onError, shouldCreate) => {
      const text = ts.sys.readFile(fileName);
      if (text === undefined) return read(fileName, lang, onError, shouldCreate);
      const hit = this.cache.get(fileName);
      if (hit && hit.text === text) return hit.sf;
      const sf = ts.createSourceFile(fileName, text, lang);
      this.cache.set(fileName, { text, sf });
      return sf;
    };
    this.host = host;
  }

  private refresh(): ts.Program {
    this.program = ts.createProgram({ rootNames: this.parsed.fileNames, options: this.parsed.options, host: this.host, oldProgram: this.program });
    return this.program;
  }

  /** Emits everything; returns how many type errors the tree has (others' work in progress may have some). */
  buildAll(): number {
    const p = this.refresh();
    this.initial = p;
    const r = p.emit();
    return ts.getPreEmitDiagnostics(p).filter((d) => d.category === ts.DiagnosticCategory.Error).length + r.diagnostics.length;
  }

  /** Type-checks `file` (as it now is on disk) and emits its JavaScript; returns the first error, if any. */
  rebuildOne(file: string): string | undefined {
    const p = this.refresh();
    const sf = p.getSourceFile(file);
    if (!sf) return `${file} is not part of the program`;
    const errors = (prog: ts.Program, f: ts.SourceFile): ts.Diagnostic[] =>
      [...prog.getSyntacticDiagnostics(f), ...prog.getSemanticDiagnostics(f)].filter((d) => d.category === ts.DiagnosticCategory.Error);
    const diags = errors(p, sf);
    const before = this.initial?.getSourceFile(file);
    const known = new Set(before && this.initial ? errors(this.initial, before).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')) : []);
    const fresh = diags.filter((d) => !known.has(ts.flattenDiagnosticMessageText(d.messageText, ' ')));
    if (fresh.length > 0) {
      const d = fresh[0]!;
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return `line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    }
    const r = p.emit(sf);
    if (r.emitSkipped) return 'emit skipped';
    return undefined;
  }

  /** Where `file`'s JavaScript lands. */
  jsOf(file: string): string {
    return join(this.outDir, relative(this.dir, file)).replace(/\.ts$/, '.js');
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
/** How long a run may live on after printing its tally. */
const LINGER_MS = 10_000;
const TIMED_OUT = 'timed out after';

interface RunOutcome { ok: boolean; timedOut: boolean; failing: string[]; failed: number; passed: number; summary: string; ms: number }

/** A test run under way: its outcome, and a way to stop it early (its outcome then no longer matters). */
interface Run { outcome: Promise<RunOutcome>; kill(): void }

/** Starts the copy's unit suite (or only `files`, build-relative `.test.js` paths). */
function startUnit(dir: string, outDir: string, timeoutMs: number, files?: string[]): Run {
  const t0 = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  delete env.TEST_FILTER;
  delete env.TEST_ONLY_FILES;
  if (files) env.TEST_ONLY_FILES = files.join(',');
  const child = spawn(process.execPath, [join(outDir, 'test/run.js'), 'unit'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let timedOut = false;
  /** Set when the runner printed its tally but the process lives on (a test left a handle open): stopped after a grace. */
  let lingered = false;
  let grace: NodeJS.Timeout | undefined;
  const onData = (c: Buffer): void => {
    chunks.push(c);
    if (grace === undefined && /\d+ passed, \d+ failed\s*$/.test(c.toString('utf8').replace(ANSI, ''))) {
      grace = setTimeout(() => { lingered = true; child.kill('SIGKILL'); }, LINGER_MS);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', (c: Buffer) => chunks.push(c));
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
  const outcome = new Promise<RunOutcome>((resolvePromise) => {
    child.on('close', (status) => {
      clearTimeout(timer);
      clearTimeout(grace);
      const out = Buffer.concat(chunks).toString('utf8').replace(ANSI, '');
      const counts = /(\d+) passed, (\d+) failed\s*$/m.exec(out);
      const failed = counts ? Number(counts[2]) : Number.POSITIVE_INFINITY;
      const ok = !timedOut && (lingered ? failed === 0 : status === 0);
      const failing = failingTests(out);
      if (lingered) failing.push('the run printed its tally but did not exit (a handle left open)');
      resolvePromise({ ok, timedOut, failing, failed, passed: counts ? Number(counts[1]) : 0, summary: counts ? counts[0].trim() : '', ms: Date.now() - t0 });
    });
  });
  return { outcome, kill: () => { clearTimeout(timer); clearTimeout(grace); child.kill('SIGKILL'); } };
}

/** Every unit test file of the build, split into `n` shards of similar size (run side by side: much of a run waits on timers). */
function shardFiles(outDir: string, n: number): string[][] {
  const files: { rel: string; size: number }[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.test.js')) files.push({ rel: relative(outDir, full), size: statSync(full).size });
    }
  };
  walk(join(outDir, 'test'));
  files.sort((x, y) => y.size - x.size);
  const shards: { files: string[]; size: number }[] = Array.from({ length: n }, () => ({ files: [], size: 0 }));
  for (const f of files) {
    const smallest = shards.reduce((m, sh) => (sh.size < m.size ? sh : m));
    smallest.files.push(f.rel);
    smallest.size += f.size;
  }
  return shards.map((sh) => sh.files.sort()).filter((f) => f.length > 0);
}

/** The failing tests of a run's output (uvu's `FAIL  suite  "title"` lines), else the runner's failure list. */
function failingTests(out: string): string[] {
  const found = new Set<string>();
  for (const m of out.matchAll(/FAIL\s+(.+?)\s+"(.+)"\s*$/gm)) found.add(`${m[1]!.trim()} › ${m[2]}`);
  const listed = /^failures:\n((?:\s+- .+\n?)+)/m.exec(out);
  if (listed) {
    for (const l of listed[1]!.split('\n')) {
      const entry = l.trim().startsWith('- ') ? l.trim().slice(2) : '';
      // `suite › title: message` repeats a FAIL line already found; keep only what is new.
      if (entry !== '' && ![...found].some((f) => entry.startsWith(f))) found.add(entry);
    }
  }
  if (found.size === 0) {
    const err = /^(\w*Error: .+)$/m.exec(out);
    if (err) found.add(err[1]!);
  }
  return [...found];
}

/**
 * What the unmutated copy does with a set of files, so that a test already failing there (another engineer's
 * work in progress, a flaky test) is not taken for a mutation's catch. Cached per set.
 */
class Baselines {
  private readonly runs = new Map<string, Promise<RunOutcome>>();
  private readonly done = new Map<string, RunOutcome>();
  constructor(private readonly dir: string, private readonly outDir: string, private readonly timeoutMs: number) {}

  private static key(files: string[]): string {
    return [...files].sort().join(',');
  }

  /** Whether the run of `files` is known. */
  has(files: string[]): boolean {
    return this.runs.has(Baselines.key(files));
  }

  /** Starts (once) and returns the unmutated run of `files`; start every one needed before mutating anything. */
  get(files: string[]): Promise<RunOutcome> {
    const key = Baselines.key(files);
    let r = this.runs.get(key);
    if (r === undefined) {
      r = startUnit(this.dir, this.outDir, this.timeoutMs, files).outcome.then((o) => {
        if (!o.ok) console.log(`unmutated ${files.join(', ')}: ${o.summary || 'no summary'}; already failing: ${o.failing.join('; ') || '?'}`);
        this.done.set(key, o);
        return o;
      });
      this.runs.set(key, r);
    }
    return r;
  }

  /** Every run so far, for the report. */
  describe(shards: string[][]): string {
    const whole = shards.map((f) => this.done.get(Baselines.key(f)));
    const failing = [...new Set([...this.done.values()].filter((r) => !r.ok).flatMap((r) => r.failing))];
    const full = whole.every((r) => r !== undefined)
      ? `whole suite ${whole.reduce((n, r) => n + r!.passed, 0)} passed, ${whole.reduce((n, r) => n + r!.failed, 0)} failed (${shards.length} shards side by side, ${(Math.max(...whole.map((r) => r!.ms)) / 1000).toFixed(1)} s)`
      : 'whole suite not run';
    return full + (failing.length > 0 ? `; failing before any mutation (ignored): ${failing.join('; ')}` : '; every test file green');
  }
}

/** Whether the mutated run failed where the unmutated one did not; the first new failure. */
function judge(r: RunOutcome, base: RunOutcome): string | undefined {
  if (r.ok) return undefined;
  const known = new Set(base.failing);
  const fresh = r.failing.filter((f) => !known.has(f));
  if (fresh.length > 0) return fresh[0];
  if (r.failed > base.failed) return `${r.summary || 'the run crashed'} (the unmutated run: ${base.summary})`;
  return undefined;
}

function applies(text: string, m: Mutation): string | undefined {
  const at = text.indexOf(m.find);
  if (at < 0) return 'the snippet is not in the file (the code changed: update the mutation)';
  if (text.indexOf(m.find, at + 1) >= 0) return 'the snippet occurs more than once (make it longer)';
  if (m.find === m.replace) return 'find and replace are the same';
  return undefined;
}

function testFiles(m: Mutation): string[] {
  return m.tests.map((t) => `${t}.test.js`);
}

/**
 * Runs `sets` side by side against the mutated copy; resolves with the first new failure (the other runs are
 * stopped then), or undefined when every set ran as its baseline did.
 */
async function race(dir: string, outDir: string, timeoutMs: number, sets: { files: string[]; base: RunOutcome }[]):
  Promise<{ caught?: string; timedOut: boolean; passed: number; failed: number }> {
  const runs = sets.map((set) => ({ set, run: startUnit(dir, outDir, timeoutMs, set.files) }));
  let passed = 0;
  let failed = 0;
  let timedOut = false;
  const verdicts = runs.map(({ set, run }) => run.outcome.then((r) => {
    passed += r.passed;
    failed += Number.isFinite(r.failed) ? r.failed : 0;
    if (r.timedOut) timedOut = true;
    // A run that timed out unmutated too tells nothing by timing out again.
    if (r.timedOut) return set.base.timedOut ? undefined : `${TIMED_OUT} ${timeoutMs / 1000} s`;
    return judge(r, set.base);
  }));
  const pending = new Map(verdicts.map((v, i) => [i, v.then((caught) => ({ caught, i }))]));
  while (pending.size > 0) {
    const first = await Promise.race(pending.values());
    pending.delete(first.i);
    if (first.caught !== undefined) {
      for (const r of runs) r.run.kill();
      await Promise.allSettled(runs.map((r) => r.run.outcome));
      return { caught: first.caught, timedOut, passed, failed };
    }
  }
  return { timedOut, passed, failed };
}

async function mutateOne(dir: string, compiler: Compiler, baselines: Baselines, shards: string[][], m: Mutation, o: Options): Promise<Result> {
  const t0 = Date.now();
  const file = join(dir, m.file);
  const done = (status: Status, detail: string, pass?: Result['pass']): Result =>
    ({ mutation: m, status, detail, pass, seconds: (Date.now() - t0) / 1000 });
  if (!existsSync(file)) return done('invalid', `${m.file} does not exist`);
  const original = readFileSync(file, 'utf8');
  const problem = applies(original, m);
  if (problem) return done('invalid', problem);
  const quick = testFiles(m).filter((f) => existsSync(join(compiler.outDir, f)));
  // The unmutated runs this mutation may need, before anything is mutated (each runs once per copy).
  const quickBase = quick.length > 0 ? await baselines.get(quick) : undefined;
  const fullBase = o.quick ? [] : await Promise.all(shards.map((f) => baselines.get(f)));
  const js = compiler.jsOf(file);
  const originalJs = readFileSync(js);
  const at = original.indexOf(m.find);
  writeFileSync(file, original.slice(0, at) + m.replace + original.slice(at + m.find.length));
  try {
    const error = compiler.rebuildOne(file);
    if (error) return done('compile-error', error);
    if (quickBase) {
      const r = await race(dir, compiler.outDir, o.timeoutMs, [{ files: quick, base: quickBase }]);
      if (r.caught) return done(r.caught.startsWith(TIMED_OUT) ? 'timeout' : 'caught', r.caught, 'quick');
      if (o.quick) return done('survived-quick', `quick pass: ${r.passed} passed, ${r.failed} failed (${quick.join(', ')})`);
    }
    if (o.quick) return done('survived-quick', 'no test file of its own, and --quick');
    const r = await race(dir, compiler.outDir, o.timeoutMs, shards.map((files, i) => ({ files, base: fullBase[i]! })));
    if (r.caught) return done(r.caught.startsWith(TIMED_OUT) ? 'timeout' : 'caught', r.caught, 'full');
    return done('survived', `unit suite: ${r.passed} passed, ${r.failed} failed`);
  } finally {
    writeFileSync(file, original);
    writeFileSync(js, originalJs);
  }
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(s: string): string {
  const t = s.replace(/\n\s*/g, ' ⏎ ');
  return t.length === 0 ? '(nothing)' : `\`${t.replace(/`/g, "'")}\``;
}

function report(results: Result[], meta: { source: string; baseline: string; typeErrors: number; started: Date; seconds: number; selection: string }): string {
  const count = (s: Status): number => results.filter((r) => r.status === s).length;
  const caught = count('caught') + count('timeout');
  const valid = results.length - count('invalid') - count('compile-error');
  const lines = [
    '# Mutation report',
    '',
    `Written by \`npm run mutate\` (scripts/mutate.ts; mutations in scripts/mutations.ts) on ${meta.started.toISOString()},`,
    `against ${meta.source}. Unmutated: ${meta.baseline}. Type errors in the tree: ${meta.typeErrors}.`,
    `Selection: ${meta.selection}. Total time ${Math.round(meta.seconds)} s. Only the unit suite runs: an integration test that`,
    'would catch a survivor is not counted (the goal is that none of these mechanisms survives the unit suite).',
    '',
    `**${results.length} mutations: ${caught} caught by the unit suite (${results.filter((r) => r.pass === 'quick').length} by their own test files,`,
    `${results.filter((r) => r.pass === 'full').length} only by the whole suite; ${count('timeout')} of them by timing out), ${count('survived') + count('survived-quick')} survived,`,
    `${count('compile-error')} did not compile, ${count('invalid')} could not be applied.** Score: ${valid > 0 ? Math.round((100 * caught) / valid) : 0} % of the ${valid} that ran.`,
    '',
    '## By mechanism',
    '',
    '| mechanism | mutations | caught | survived | not run |',
    '|---|---|---|---|---|',
  ];
  const mechanisms = [...new Set(results.map((r) => r.mutation.mechanism))];
  for (const name of mechanisms) {
    const rs = results.filter((r) => r.mutation.mechanism === name);
    const c = rs.filter((r) => r.status === 'caught' || r.status === 'timeout').length;
    const s = rs.filter((r) => r.status === 'survived' || r.status === 'survived-quick').length;
    lines.push(`| ${name} | ${rs.length} | ${c} | ${s} | ${rs.length - c - s} |`);
  }
  lines.push('', '## Every mutation', '', '| id | mechanism | file | status | caught by (first failing test) / detail | time |', '|---|---|---|---|---|---|');
  for (const r of results) {
    const status = r.pass ? `${r.status} (${r.pass})` : r.status;
    lines.push(`| ${r.mutation.id} | ${r.mutation.mechanism} | ${r.mutation.file} | ${r.status === 'survived' ? '**survived**' : status} | ${cell(r.detail)} | ${r.seconds.toFixed(1)} s |`);
  }
  const survivors = results.filter((r) => r.status === 'survived' || r.status === 'survived-quick');
  lines.push('', '## Survivors', '');
  if (survivors.length === 0) lines.push('None.');
  for (const r of survivors) {
    const m = r.mutation;
    lines.push(`- **${m.id}** (${m.mechanism}, ${m.file}): ${m.why}`, `  ${code(m.find)} → ${code(m.replace)}`);
  }
  const others = results.filter((r) => r.status === 'invalid' || r.status === 'compile-error');
  if (others.length > 0) {
    lines.push('', '## Not run', '');
    for (const r of others) lines.push(`- **${r.mutation.id}** (${r.status}): ${r.detail}`);
  }
  lines.push('');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const repo = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
  const o = parseArgs(process.argv.slice(2), repo);
  const ids = new Set<string>();
  for (const m of MUTATIONS) {
    if (ids.has(m.id)) throw new Error(`mutation id ${m.id} is used twice`);
    ids.add(m.id);
  }
  for (const id of o.only ?? []) if (!ids.has(id)) throw new Error(`no mutation ${id}`);
  const chosen = MUTATIONS.filter((m) => (!o.only || o.only.has(m.id)) && (!o.mechanism || m.mechanism === o.mechanism));
  if (o.list) {
    for (const m of MUTATIONS) console.log(`${m.id.padEnd(28)} ${m.mechanism.padEnd(18)} ${m.file}`);
    return;
  }
  if (chosen.length === 0) throw new Error('no mutation matches the selection');

  const started = new Date();
  const head = git(repo, 'rev-parse', '--short', 'HEAD').trim();
  const dirty = o.source === 'worktree' && git(repo, 'status', '--porcelain', '--untracked-files=no').trim() !== '';
  const source = `commit ${head}${o.source === 'head' ? '' : dirty ? ' plus uncommitted changes in the working tree' : ' (working tree clean)'}`;
  const dir = copyRepo(repo, o.source);
  console.log(`copy of ${source} in ${dir}`);
  try {
    const compiler = new Compiler(dir, join(dir, '.build'));
    let t = Date.now();
    const typeErrors = compiler.buildAll();
    console.log(`built in ${((Date.now() - t) / 1000).toFixed(1)} s (${typeErrors} type errors)`);
    const baselines = new Baselines(dir, compiler.outDir, o.timeoutMs * 2);
    const shards = shardFiles(compiler.outDir, o.shards);
    const results: Result[] = [];
    for (const m of chosen) {
      const r = await mutateOne(dir, compiler, baselines, shards, m, o);
      results.push(r);
      console.log(`${m.id.padEnd(28)} ${(r.pass ? `${r.status} (${r.pass})` : r.status).padEnd(16)} ${r.seconds.toFixed(1).padStart(6)} s  ${r.detail}`);
    }
    const selection = o.only ? `--only ${[...o.only].join(',')}` : o.mechanism ? `--mechanism ${o.mechanism}` : 'every mutation';
    writeFileSync(o.report, report(results, { source, baseline: baselines.describe(shards), typeErrors, started, seconds: (Date.now() - started.getTime()) / 1000, selection }));
    console.log(`report: ${o.report}`);
    if (results.some((r) => r.status === 'survived' || r.status === 'survived-quick' || r.status === 'invalid')) process.exitCode = 1;
  } finally {
    if (o.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
