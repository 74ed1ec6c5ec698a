/**
 * The one way tests are declared: uvu suites whose tests fail with a message when they hang (uvu has no timeouts
 * of its own), whose hooks are run and counted by us, and a tally that `run.ts` checks against uvu's own totals
 * and prints as `N passed, N failed`.
 *
 * Hooks are never handed to uvu: its runner discards an error thrown by `before` (it returns from inside a
 * `finally`), reports a `before.each` failure without our tally seeing it, and drops the rest of a suite after an
 * `after.each` failure. Instead each test registered with uvu runs its suite's hooks itself, so that:
 * - a `before` failure fails every test of the suite (each one counted, each message naming the hook);
 * - a `before.each` or `after.each` failure fails that test (so a `before.each` failing for 2 tests counts 2),
 *   and the suite goes on with its next test;
 * - an `after` failure is one more failure, named `after hook of <suite>`, on top of the suite's tests
 *   (counted in {@link tally}.failed and in {@link tally}.extraFailures, since uvu has no test to put it on).
 */
import { suite as uvuSuite, type Test } from 'uvu';

/** What one suite declared and what became of it; `run.ts` fails the run for a suite declared but never run. */
export interface SuiteRecord {
  name: string;
  /** The test file being imported when the suite was declared (set by the runner). */
  file: string;
  /** Whether `.run()` was called. */
  registered: boolean;
  /** Tests handed to uvu at `.run()`. */
  tests: number;
  /** Tests skipped explicitly (`onlyIf`, `.skip`, or not chosen because the suite used `.only`). */
  skipped: number;
  /** Whether the suite used `.only` (the runner fails the run: a `.only` left behind hides the other tests). */
  usedOnly: boolean;
}

/** The run's count, shared by every suite of this process. */
export const tally = {
  passed: 0,
  failed: 0,
  /** Failures that are no test of uvu's (an `after` hook): `failed - extraFailures` is what uvu saw fail. */
  extraFailures: 0,
  /** `<suite> › <test>: <first line of the error>` for every failure, printed again at the end of the run. */
  failures: [] as string[],
  current: '',
  /** `<title>: <reason>` of each test skipped on purpose. */
  skipped: [] as string[],
  /** Tests run and skipped per `onlyIf` tag, so the runner can demand that a path was exercised somewhere. */
  tagged: {} as Record<string, { ran: number; skipped: number }>,
  suites: [] as SuiteRecord[],
  /** The file being imported, set by the runner. */
  file: '',
};

export interface SuiteOptions {
  /** Per-test (and per-hook) deadline in ms; a test still running then fails with a timeout message. Default 10 s. */
  timeoutMs?: number;
}

type Handler = (ctx: Record<string, unknown>) => void | Promise<void>;

/** Runs `fn`, rejecting with `timed out after <ms> ms: <label>` if it has not settled by then. */
export async function withDeadline<T>(label: string, ms: number, fn: () => T | Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(fn), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once `check` holds (it may be async: a metadata request, a health check), trying again every
 * `everyMs`; rejects with `timed out waiting for <what>` after `ms`.
 */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 3_000, everyMs = 2): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const RECORD = Symbol('suite record');

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!;
}

/** An error that names the hook it came from, keeping the hook's own error as `cause` (and its stack). */
function hookError(what: string, err: unknown): Error {
  const e = new Error(`${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  if (err instanceof Error && err.stack) e.stack = `${e.message}\n${err.stack.split('\n').slice(1).join('\n')}`;
  return e;
}

/**
 * `s` where `condition` holds; otherwise a stand-in that registers nothing and records `<title>: <reason>`,
 * which the runner prints and counts, so a test this runtime cannot run is reported as skipped with its reason.
 * With a `tag`, the tests run and skipped are counted in {@link tally}.tagged[tag], so the runner can fail a run
 * in which a path that should have been exercised somewhere never was.
 */
export function onlyIf(s: Test, condition: boolean, reason: string, tag?: string): (title: string, fn: Handler) => void {
  const count = tag === undefined ? undefined : (tally.tagged[tag] ??= { ran: 0, skipped: 0 });
  const record = (s as unknown as { [RECORD]?: SuiteRecord })[RECORD];
  if (condition) {
    return (title, fn) => s(title, async (ctx) => { await fn(ctx); if (count) count.ran++; });
  }
  return (title) => {
    tally.skipped.push(`${title}: ${reason}`);
    if (count) count.skipped++;
    if (record) record.skipped++;
  };
}

interface Registered { title: string; fn: Handler }

/**
 * A uvu suite whose tests time out and whose hooks are run, timed and counted by us (see the file's comment).
 * Its tests receive uvu's context object, shared with its hooks, as with uvu.
 */
export function suite(name: string, options: SuiteOptions = {}): Test {
  const ms = options.timeoutMs ?? 10_000;
  const record: SuiteRecord = { name, file: tally.file, registered: false, tests: 0, skipped: 0, usedOnly: false };
  tally.suites.push(record);
  const tests: Registered[] = [];
  const only: Registered[] = [];
  const befores: Handler[] = [];
  const afters: Handler[] = [];
  const beforeEach: Handler[] = [];
  const afterEach: Handler[] = [];

  const runHooks = async (hooks: Handler[], kind: string, ctx: Record<string, unknown>): Promise<void> => {
    for (const h of hooks) {
      try {
        await withDeadline(`${kind} hook of ${name}`, ms, () => h(ctx));
      } catch (err) {
        throw hookError(`${kind} hook of ${name}`, err);
      }
    }
  };

  const run = (): void => {
    if (record.registered) throw new Error(`suite ${name}: .run() called twice`);
    record.registered = true;
    const chosen = only.length > 0 ? only : tests;
    record.tests = chosen.length;
    if (only.length > 0) record.skipped += tests.length;
    const s = uvuSuite(name);
    let beforeFailed: Error | undefined;
    chosen.forEach(({ title, fn }, i) => {
      const label = `${name} › ${title}`;
      s(title, async (ctx) => {
        tally.current = label;
        let failure: unknown;
        try {
          if (i === 0) await runHooks(befores, 'before', ctx).catch((err: Error) => { beforeFailed = err; });
          if (beforeFailed) throw new Error(`not run: ${beforeFailed.message}`, { cause: beforeFailed });
          try {
            await runHooks(beforeEach, 'before.each', ctx);
            await withDeadline(label, ms, () => fn(ctx));
          } catch (err) {
            failure = err;
          }
          // after.each runs even when the test failed (it cleans up); its own failure fails this test only.
          await runHooks(afterEach, 'after.each', ctx).catch((err: unknown) => { failure ??= err; });
        } catch (err) {
          failure = err;
        } finally {
          tally.current = '';
        }
        if (i === chosen.length - 1) {
          tally.current = `after hook of ${name}`;
          await runHooks(afters, 'after', ctx).catch((err: unknown) => {
            tally.failed++;
            tally.extraFailures++;
            tally.failures.push(`${name}: ${firstLine(err)}`);
            console.error(`\n  FAIL ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
          });
          tally.current = '';
        }
        if (failure !== undefined) {
          tally.failed++;
          tally.failures.push(`${label}: ${firstLine(failure)}`);
          throw failure;
        }
        tally.passed++;
      });
    });
    s.run();
  };

  const wrapped = ((title: string, fn: Handler) => { tests.push({ title, fn }); }) as unknown as Test;
  const before = ((fn: Handler) => { befores.push(fn); }) as Test['before'];
  before.each = ((fn: Handler) => { beforeEach.push(fn); }) as Test['before']['each'];
  const after = ((fn: Handler) => { afters.push(fn); }) as Test['after'];
  after.each = ((fn: Handler) => { afterEach.push(fn); }) as Test['after']['each'];
  const onlyFn = (title: string, fn: Handler) => { record.usedOnly = true; only.push({ title, fn }); };
  const skip = (title?: string) => { record.skipped++; tally.skipped.push(`${name} › ${title ?? '(untitled)'}: .skip`); };
  Object.assign(wrapped, { before, after, only: onlyFn, skip, run, [RECORD]: record });
  return wrapped;
}
