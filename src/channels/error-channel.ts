/**
 * Reporting to an `errors` channel without ever blocking the reporter. dp-kafka's producer blocked its forward
 * loop (and so every `Send`) on an undrained, unbuffered `Errors` channel; here a full channel drops its oldest
 * unread error to make room, so an application that never reads errors loses old errors, not throughput.
 */
import type { Chan } from './chan.js';

/**
 * Puts `err` on `errors` at once: hands it to a waiting reader or buffers it, dropping the oldest buffered error
 * when full. Returns false when it could not be delivered (unbuffered with no reader waiting, or closed).
 */
export function pushError(errors: Chan<Error>, err: Error): boolean {
  if (errors.closed) return false;
  if (errors.trySend(err)) return true;
  if (errors.capacity === 0) return false;
  errors.tryRecv(); // drop the oldest
  return errors.trySend(err);
}
