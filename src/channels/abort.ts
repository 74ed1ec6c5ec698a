/**
 * "Wait for this shared promise, or give up when the caller's signal aborts", without leaking a listener on a
 * long-lived signal. (The argument check is producer-input.ts's `signalProblem`.)
 */
/**
 * `work`, or a rejection with `signal.reason` as soon as `signal` aborts (the work itself goes on: it may be
 * shared with other callers or a background loop). The listener is removed once either settles.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err); },
    );
  });
}
