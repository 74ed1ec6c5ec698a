/**
 * The group coordinator: the broker that owns a consumer group's state and its offsets. Found with FindCoordinator
 * (key type 0 = group; batched `coordinatorKeys` from v4, KIP-699), cached until an error says it moved, and used
 * through {@link GroupCoordinator.call}, which routes errors as Kafka's Java consumer does: NOT_COORDINATOR and
 * COORDINATOR_NOT_AVAILABLE (and a dead socket) mean "look it up again"; COORDINATOR_LOAD_IN_PROGRESS means "the
 * right broker is still loading the group: ask it again after a pause".
 */
import { AuthenticationError, BrokerError, ConnectionError, InvalidArgumentError, KafkaError, RequestTimeoutError, UnsupportedVersionError } from '../errors.js';
import { FindCoordinator } from '../protocol/apis/find-coordinator.js';
import { brokerError, errorByCode, errorCodes } from '../protocol/error-codes.js';
import { Backoff, sleep } from '../client/backoff.js';
import type { Broker } from '../client/broker.js';
import type { Cluster } from '../client/cluster.js';

/** FindCoordinator's key type for consumer groups (1 is transactions, 2 share groups). */
const GROUP_KEY_TYPE = 0;

export interface CoordinatorOptions {
  /** FindCoordinator's key type: 0 (a consumer group, the default) or 1 (a transactional id, KIP-98). */
  keyType?: 0 | 1;
  /** Pauses between retries (the library's cyclic backoff). Defaults 100 ms .. 1 s. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Lets the coordinator log or count its retries. */
  onRetry?: (err: unknown) => void;
  /** Bounds each FindCoordinator round trip, and spaces the no-progress reports. Default 30 s. */
  requestTimeoutMs?: number;
  /**
   * Told (at most once per `requestTimeoutMs`) when a lookup or a {@link GroupCoordinator.call} has failed
   * {@link STALL_ROUNDS} rounds in a row; the loop keeps retrying. `err` is a retriable {@link KafkaError} with code
   * `ERR_KAFKA_COORDINATOR_STALLED` naming the group, the broker asked and the last error (its `cause`).
   */
  onStall?: (err: KafkaError) => void;
}

/** Failed rounds in a row after which a retry loop counts as making no progress (and is reported). */
export const STALL_ROUNDS = 3;

/** Whether `err` means the coordinator we used is gone or moved (rediscover before retrying). */
export function isCoordinatorMoved(err: unknown): boolean {
  if (err instanceof BrokerError) return errorByCode(err.errorCode).findCoordinator;
  return err instanceof ConnectionError || err instanceof RequestTimeoutError;
}

/** Whether `err` is COORDINATOR_LOAD_IN_PROGRESS (or another retriable code that is not about routing). */
function isRetryInPlace(err: unknown): boolean {
  return err instanceof BrokerError && (err.errorCode === errorCodes.COORDINATOR_LOAD_IN_PROGRESS || err.errorCode === errorCodes.UNSTABLE_OFFSET_COMMIT);
}

/** Errors after which retrying cannot help: Java's consumer throws these to the application. */
const FATAL = new Set<number>([
  errorCodes.FENCED_INSTANCE_ID, errorCodes.INCONSISTENT_GROUP_PROTOCOL, errorCodes.INVALID_SESSION_TIMEOUT,
  errorCodes.GROUP_AUTHORIZATION_FAILED, errorCodes.INVALID_GROUP_ID, errorCodes.GROUP_MAX_SIZE_REACHED,
  errorCodes.UNRELEASED_INSTANCE_ID, errorCodes.UNSUPPORTED_VERSION, errorCodes.TOPIC_AUTHORIZATION_FAILED,
]);

/** Whether `err` ends the membership (the application must hear of it) rather than a rejoin after a pause. */
export function isFatalGroupError(err: unknown): boolean {
  if (err instanceof BrokerError) return FATAL.has(err.errorCode);
  return err instanceof InvalidArgumentError || err instanceof UnsupportedVersionError || err instanceof AuthenticationError;
}

/** Finds and caches one group's coordinator; retries coordinator errors for its callers. */
export class GroupCoordinator {
  private current: Broker | undefined;
  private lookup: Promise<Broker> | undefined;
  private readonly options: CoordinatorOptions;
  /** The broker the last FindCoordinator went to, for reports. */
  private asked = 'no broker';
  /** When the last no-progress report went out (-Infinity: never). */
  private lastStallReport = -Infinity;

  constructor(private readonly cluster: Cluster, readonly groupId: string, options: CoordinatorOptions = {}) {
    this.options = options;
  }

  /** The coordinator's node id, or -1 when unknown. */
  get nodeId(): number {
    return this.current?.nodeId ?? -1;
  }

  /** Forgets the coordinator (after NOT_COORDINATOR, a dead connection, a session timeout): the next call looks it up. */
  markUnknown(): void {
    this.current = undefined;
  }

  /** The coordinator broker; one FindCoordinator at a time however many callers ask, retried until `signal` aborts. */
  async broker(signal?: AbortSignal): Promise<Broker> {
    if (this.current) return this.current;
    this.lookup ??= this.findWithRetry(signal).finally(() => { this.lookup = undefined; });
    return this.lookup;
  }

  /**
   * FindCoordinator until it names a broker we can reach. A group must not give up for good, so retriable errors
   * are retried with backoff until `signal` aborts; after {@link STALL_ROUNDS} failures in a row `onStall` hears of it.
   */
  private async findWithRetry(signal?: AbortSignal): Promise<Broker> {
    const backoff = this.backoff();
    const since = Date.now();
    for (;;) {
      signal?.throwIfAborted();
      try {
        this.current = await this.find();
        return this.current;
      } catch (err) {
        if (err instanceof KafkaError && !err.retriable) throw err;
        this.options.onRetry?.(err);
        const pause = backoff.next();
        this.reportStall('FindCoordinator', backoff.attempt, since, this.asked, err);
        await sleep(pause, signal);
      }
    }
  }

  /** Tells `onStall` of a loop that failed `rounds` times in a row, at most once per `requestTimeoutMs`. */
  private reportStall(what: string, rounds: number, since: number, broker: string, err: unknown): void {
    const now = Date.now();
    if (rounds < STALL_ROUNDS || !this.options.onStall || now - this.lastStallReport < this.requestTimeoutMs) return;
    this.lastStallReport = now;
    const last = err instanceof Error ? err.message : String(err);
    this.options.onStall(new KafkaError(
      `group ${this.groupId}: ${what} made no progress in ${rounds} attempts over ${now - since} ms (broker ${broker}: ${last}); still retrying`,
      'ERR_KAFKA_COORDINATOR_STALLED', { retriable: true, cause: err }));
  }

  private get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs ?? 30_000;
  }

  /** One FindCoordinator round trip to any broker. */
  private async find(): Promise<Broker> {
    const any = await this.cluster.anyBroker();
    this.asked = any.address;
    const version = await any.versionFor(FindCoordinator);
    const res = await any.request(FindCoordinator, version >= 4
      ? { keyType: this.options.keyType ?? GROUP_KEY_TYPE, coordinatorKeys: [this.groupId] }
      : { key: this.groupId, keyType: this.options.keyType ?? GROUP_KEY_TYPE }, { timeoutMs: this.requestTimeoutMs });
    const found = version >= 4 ? res.coordinators.find((c) => c.key === this.groupId) : { ...res, key: this.groupId };
    if (!found) throw brokerError(errorCodes.COORDINATOR_NOT_AVAILABLE, { api: 'FindCoordinator', groupId: this.groupId });
    if (found.errorCode !== 0) throw brokerError(found.errorCode, { api: 'FindCoordinator', groupId: this.groupId, brokerMessage: found.errorMessage });
    try {
      return this.cluster.broker(found.nodeId);
    } catch {
      await this.cluster.refresh(); // a broker we have not seen in metadata yet
      return this.cluster.broker(found.nodeId);
    }
  }

  /**
   * Runs `fn` against the coordinator, retrying while errors say the coordinator moved (rediscover first) or is
   * loading (same broker, after a pause). Other errors are thrown to the caller, who knows what they mean for the
   * group (rejoin, fatal). Stops retrying when `signal` aborts or after `deadlineMs`; without a deadline it keeps
   * retrying and tells `onStall` after {@link STALL_ROUNDS} failed rounds in a row (each pause is at most `retryMaxMs`).
   */
  async call<T>(fn: (broker: Broker) => Promise<T>, options: { signal?: AbortSignal; deadlineMs?: number } = {}): Promise<T> {
    const until = options.deadlineMs === undefined ? Infinity : Date.now() + options.deadlineMs;
    const since = Date.now();
    const backoff = this.backoff();
    for (;;) {
      const broker = await this.broker(options.signal);
      try {
        return await fn(broker);
      } catch (err) {
        const moved = isCoordinatorMoved(err);
        if (!moved && !isRetryInPlace(err)) throw err;
        if (moved && this.current === broker) this.markUnknown();
        const pause = backoff.next();
        if (Date.now() + pause > until) throw err;
        this.options.onRetry?.(err);
        this.reportStall('a coordinator request', backoff.attempt, since, broker.address, err);
        await sleep(pause, options.signal);
      }
    }
  }

  private backoff(): Backoff {
    return new Backoff({ minRetryPeriod: this.options.retryMinMs ?? 100, maxRetryPeriod: this.options.retryMaxMs ?? 1_000 });
  }
}
