/**
 * dp-kafka's session loop: a consume session that fails, whatever the cause, is started again after a pause of
 * the cyclic backoff (`minRetryPeriod` … `maxRetryPeriod`), for as long as the consumer is meant to consume. The
 * attempts start over after a session that got as far as an assignment. A cause that retrying cannot fix soon
 * (authentication, authorisation, a fenced static member) is retried too, but at the slow end of the backoff
 * (`maxRetryPeriod`): an operator may fix the ACL, the credentials, or stop the other process, and the consumer
 * must then carry on by itself; such a failure is never dropped. Each failure is reported with its cause and the
 * pause that follows.
 *
 * Note on a fenced static member (KIP-345): rejoining with the same `groupInstanceId` fences the other process in
 * turn; the slow pause keeps that exchange to one takeover per `maxRetryPeriod`, and `errors` says so each time.
 */
import { Backoff, sleep, type RandomSource } from '../client/backoff.js';
import { AuthenticationError, BrokerError, KafkaError } from '../errors.js';
import { errorCodes } from '../protocol/error-codes.js';
import type { GroupConsumer } from './group-consumer.js';

/** Causes no quick retry can fix: the next attempt waits `maxRetryPeriod`. */
const SLOW = new Set<number>([
  errorCodes.GROUP_AUTHORIZATION_FAILED, errorCodes.TOPIC_AUTHORIZATION_FAILED, errorCodes.FENCED_INSTANCE_ID,
  errorCodes.SASL_AUTHENTICATION_FAILED, errorCodes.CLUSTER_AUTHORIZATION_FAILED,
]);

/** Whether a failed session's cause calls for the slow end of the backoff (see the module comment). */
export function isSlowRetryCause(err: unknown): boolean {
  if (err instanceof AuthenticationError) return true;
  return err instanceof BrokerError && SLOW.has(err.errorCode);
}

export interface SessionRetryOptions {
  minRetryPeriod: number;
  maxRetryPeriod: number;
  /** How long closing the current session may take (its commits and LeaveGroup). */
  closeTimeoutMs?: number;
  /** Each failure, wrapped in a KafkaError (code `ERR_KAFKA_SESSION_FAILED`) whose cause is the original. */
  onError(err: unknown): void;
  /** Before each pause: the owner shows where it is (dp-kafka's state goes back to Starting). */
  onRetrying?(err: unknown, delayMs: number): void;
  /** Each new session's consumer (for an owner that reaches into it, e.g. to pause partitions). */
  onConsumer?(consumer: GroupConsumer): void;
  random?: RandomSource;
}

/** Runs group sessions one after another until {@link end}: the ConsumeSession of the channel layer. */
export class RetryingGroupSession {
  private readonly stop = new AbortController();
  private current: GroupConsumer | undefined;
  private ending: Promise<void> | undefined;
  private readonly loop: Promise<void>;
  /** Failed sessions so far. */
  failures = 0;

  constructor(private readonly make: () => GroupConsumer, private readonly options: SessionRetryOptions) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ minRetryPeriod: this.options.minRetryPeriod, maxRetryPeriod: this.options.maxRetryPeriod, random: this.options.random });
    while (!this.stop.signal.aborted) {
      const consumer = this.make();
      this.current = consumer;
      this.options.onConsumer?.(consumer);
      let assigned = false;
      void consumer.nextGeneration().then(() => { assigned = true; });
      let cause: unknown;
      try {
        await consumer.start();
        cause = new KafkaError('the group membership ended by itself', 'ERR_KAFKA_SESSION_ENDED', { retriable: true });
      } catch (err) {
        cause = err;
      }
      if (this.stop.signal.aborted) return;
      await consumer.destroy().catch(() => undefined); // partitions were already given up as lost
      if (assigned) backoff.reset();
      this.failures++;
      const delay = isSlowRetryCause(cause) ? this.options.maxRetryPeriod : backoff.next();
      const reason = cause instanceof Error ? cause.message : String(cause);
      this.options.onError(new KafkaError(`consumer group session failed (${reason}); starting a new one in ${delay} ms`,
        'ERR_KAFKA_SESSION_FAILED', { retriable: true, cause }));
      this.options.onRetrying?.(cause, delay);
      try {
        await sleep(delay, this.stop.signal);
      } catch {
        return;
      }
    }
  }

  /** Ends the running session gracefully (commit, leave) and the retries. Idempotent. */
  end(): void {
    if (this.ending) return;
    this.stop.abort();
    const c = this.current;
    this.ending = c ? c.close({ timeoutMs: this.options.closeTimeoutMs }).catch(() => undefined) : Promise.resolve();
  }

  /** Settles once ended and the last session is closed. */
  get done(): Promise<void> {
    return (async () => {
      await this.ending;
      await this.loop;
    })();
  }
}
