/**
 * For tests that throw hostile input or hostile broker answers at the client: counts the uncaught exceptions
 * and unhandled rejections that escape to the process while a test runs, so the test can assert there were none.
 * (With the guard installed, the runner's own handlers still see them too.)
 */

/** Counts process-level failures from `install()` to `remove()`; `escaped()` describes them. */
export class CrashGuard {
  readonly uncaught: unknown[] = [];
  readonly unhandled: unknown[] = [];
  private readonly onUncaught = (err: unknown): void => void this.uncaught.push(err);
  private readonly onUnhandled = (err: unknown): void => void this.unhandled.push(err);

  install(): this {
    process.on('uncaughtException', this.onUncaught);
    process.on('unhandledRejection', this.onUnhandled);
    return this;
  }

  remove(): void {
    process.off('uncaughtException', this.onUncaught);
    process.off('unhandledRejection', this.onUnhandled);
  }

  /** A description of what escaped, or '' when nothing did. */
  escaped(): string {
    const all = [...this.uncaught.map((e) => `uncaught: ${String(e)}`), ...this.unhandled.map((e) => `unhandled rejection: ${String(e)}`)];
    return all.join('; ');
  }
}
