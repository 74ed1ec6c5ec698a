/**
 * The one way tests are declared: uvu suites whose tests fail with a message when they hang
 * (uvu has no timeouts of its own), and a tally that `run.ts` prints as `N passed, N failed`.
 */
import { suite as uvuSuite, type Test } from 'uvu';

export const tally = { passed: 0, failed: 0, current: '', skipped: [] as string[] };

export interface SuiteOptions {
  /** Per-test deadline in ms; a test still running then fails with a timeout message. Default 10 s. */
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

/** Wraps a handler so that it fails after `ms` and is counted in the tally. */
function guarded(label: string, fn: Handler, ms: number): Handler {
  return async (ctx): Promise<void> => {
    tally.current = label;
    try {
      await withDeadline(label, ms, () => fn(ctx));
      tally.passed++;
    } catch (err) {
      tally.failed++;
      throw err;
    } finally {
      tally.current = '';
    }
  };
}

/**
 * `s` where `condition` holds; otherwise a stand-in that registers nothing and records `<title>: <reason>`,
 * which the runner prints, so a test this runtime cannot run is reported as skipped with its reason.
 */
export function onlyIf(s: Test, condition: boolean, reason: string): (title: string, fn: Handler) => void {
  if (condition) return s as unknown as (title: string, fn: Handler) => void;
  return (title) => { tally.skipped.push(`${title}: ${reason}`); };
}

/** A uvu suite whose tests time out. Hooks (before/after) get the same deadline but are not counted. */
export function suite(name: string, options: SuiteOptions = {}): Test {
  const ms = options.timeoutMs ?? 10_000;
  const s = uvuSuite(name);
  const wrapped = ((title: string, fn: Handler) => s(title, guarded(`${name} › ${title}`, fn, ms))) as unknown as Test;
  const hook = (register: (fn: Handler) => void, kind: string) => (fn: Handler) =>
    register((ctx) => withDeadline(`${kind} hook of ${name}`, ms, () => fn(ctx)));
  const before = hook(s.before as (fn: Handler) => void, 'before') as Test['before'];
  before.each = hook(s.before.each as (fn: Handler) => void, 'before.each') as Test['before']['each'];
  const after = hook(s.after as (fn: Handler) => void, 'after') as Test['after'];
  after.each = hook(s.after.each as (fn: Handler) => void, 'after.each') as Test['after']['each'];
  Object.assign(wrapped, { before, after, only: s.only, skip: s.skip, run: s.run });
  return wrapped;
}
