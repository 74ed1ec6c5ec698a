/**
 * Every error the library raises is a {@link KafkaError}: a stable `code` to branch on, a `retriable` flag that
 * the retry helpers trust, and the underlying `cause`. Subclasses add only what their callers need to see.
 */

export interface KafkaErrorOptions {
  retriable?: boolean;
  cause?: unknown;
}

/** Base class: `code` is a stable string (e.g. `ERR_KAFKA_DECODE`), never a message to parse. */
export class KafkaError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(message: string, code = 'ERR_KAFKA', options: KafkaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Where a broker error came from, for logs and for routing retries (metadata refresh, coordinator lookup). */
export interface BrokerErrorContext {
  api?: string;
  topic?: string;
  partition?: number;
  groupId?: string;
  brokerMessage?: string | null;
}

/** A non-zero Kafka error code returned by a broker; `errorName` is Kafka's name, e.g. NOT_LEADER_OR_FOLLOWER. */
export class BrokerError extends KafkaError {
  readonly errorCode: number;
  readonly errorName: string;
  readonly api?: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly groupId?: string;

  constructor(errorCode: number, errorName: string, message: string, retriable: boolean, context: BrokerErrorContext = {}) {
    const where = [context.api, context.topic, context.partition, context.groupId].filter((x) => x !== undefined);
    const suffix = context.brokerMessage ? `: ${context.brokerMessage}` : '';
    super(`${errorName} (${errorCode})${where.length ? ` [${where.join(' ')}]` : ''}: ${message}${suffix}`, 'ERR_KAFKA_BROKER', { retriable });
    this.errorCode = errorCode;
    this.errorName = errorName;
    this.api = context.api;
    this.topic = context.topic;
    this.partition = context.partition;
    this.groupId = context.groupId;
  }
}

/** The socket failed, closed, or could not be opened. Retriable: another attempt may reach the broker. */
export class ConnectionError extends KafkaError {
  readonly broker?: string;
  constructor(message: string, options: KafkaErrorOptions & { broker?: string } = {}) {
    super(message, 'ERR_KAFKA_CONNECTION', { retriable: options.retriable ?? true, cause: options.cause });
    this.broker = options.broker;
  }
}

/** No response within the request timeout. The late response, if it comes, is consumed and dropped. */
export class RequestTimeoutError extends KafkaError {
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options: KafkaErrorOptions = {}) {
    super(message, 'ERR_KAFKA_REQUEST_TIMEOUT', { retriable: options.retriable ?? true, cause: options.cause });
    this.timeoutMs = timeoutMs;
  }
}

/** Bytes that do not parse: truncated, out of range, or hostile. `offset` is where the reader stopped. */
export class DecodeError extends KafkaError {
  readonly offset?: number;
  constructor(message: string, offset?: number, options: KafkaErrorOptions = {}) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`, 'ERR_KAFKA_DECODE', options);
    this.offset = offset;
  }
}

/** Neither side supports a common version of an API (or of a feature such as a compression codec). */
export class UnsupportedVersionError extends KafkaError {
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, 'ERR_KAFKA_UNSUPPORTED_VERSION', options);
  }
}

/** SASL or TLS authentication was refused. Never retried automatically: wrong credentials stay wrong. */
export class AuthenticationError extends KafkaError {
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, 'ERR_KAFKA_AUTHENTICATION', { retriable: false, cause: options.cause });
  }
}

/** A caller's mistake (config, argument). `problems` lists every problem found, not just the first. */
export class InvalidArgumentError extends KafkaError {
  readonly problems: readonly string[];
  constructor(problems: string | readonly string[], options: KafkaErrorOptions = {}) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.length === 1 ? list[0]! : `${list.length} problems:\n- ${list.join('\n- ')}`, 'ERR_KAFKA_INVALID_ARGUMENT', options);
    this.problems = list;
  }
}

/** An operation on something already closed (a channel, a producer, a connection). */
export class ClosedError extends KafkaError {
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, 'ERR_KAFKA_CLOSED', options);
  }
}

/** A record was not written within the delivery timeout (Kafka's delivery.timeout.ms, KIP-91); `cause` is the last error seen. */
export class DeliveryTimeoutError extends KafkaError {
  constructor(message: string, cause?: unknown) {
    super(message, 'ERR_KAFKA_DELIVERY_TIMEOUT', { retriable: true, cause });
  }
}

/** A message the channel-API producer could not deliver: `produced` is what the application sent, `cause` why. */
export class ProducerError extends KafkaError {
  constructor(readonly produced: unknown, readonly topic: string, cause: unknown) {
    super(`could not deliver a message to ${topic}: ${cause instanceof Error ? cause.message : String(cause)}`, 'ERR_KAFKA_PRODUCE', { cause });
  }
}

/**
 * The open transaction cannot commit (KIP-98). `abortable` true: abort it and start a new one (a record that could
 * not be written, TRANSACTION_ABORTABLE, a refused offset commit); false: the transactional producer is finished
 * (see {@link ProducerFencedError}, INVALID_TXN_STATE, an authorization failure) and can only be closed.
 */
export class TransactionError extends KafkaError {
  constructor(message: string, readonly abortable: boolean, options: KafkaErrorOptions & { code?: string } = {}) {
    super(message, options.code ?? (abortable ? 'ERR_KAFKA_TXN_ABORTABLE' : 'ERR_KAFKA_TXN_FATAL'), { retriable: false, cause: options.cause });
  }
}

/** Another producer with the same `transactionalId` took over (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH): this one is finished. */
export class ProducerFencedError extends TransactionError {
  constructor(transactionalId: string, cause?: unknown) {
    super(`transactional id ${JSON.stringify(transactionalId)}: a newer producer with this id fenced this one; it writes nothing more`, false,
      { code: 'ERR_KAFKA_PRODUCER_FENCED', cause });
  }
}

/** A transactional method called in the wrong state: commit without begin, begin twice, a send outside a transaction. */
export class TransactionStateError extends KafkaError {
  constructor(message: string) {
    super(message, 'ERR_KAFKA_TXN_STATE', { retriable: false });
  }
}

/**
 * The transaction itself failed (its commit, the offsets, the producer fenced), not the handler: the message is
 * not committed by the group (`shouldCommit` false), and no later run is attempted, since a later transaction's
 * offsets would skip this message. The application sees it on `errors` and restarts the pipeline, which resumes
 * from the last committed transaction.
 */
export class TransactionalHandlingError extends KafkaError {
  constructor(cause: unknown) {
    super(`the handler's transaction failed; the pipeline stops committing until restarted: ${cause instanceof Error ? cause.message : String(cause)}`,
      'ERR_KAFKA_TXN_HANDLER', { retriable: false, cause });
  }

  shouldCommit(): boolean {
    return false;
  }
}

/** The new leader's log ends before our fetch position (KIP-320): records were truncated; reading resumes there. */
export class LogTruncationError extends KafkaError {
  constructor(readonly topic: string, readonly partition: number, readonly fetchOffset: number, readonly truncatedTo: number) {
    super(`log truncation on ${topic}-${partition}: fetch position ${fetchOffset} is beyond the new leader's end ${truncatedTo}; resuming from ${truncatedTo}`,
      'ERR_KAFKA_LOG_TRUNCATION', { retriable: false });
  }
}

/** An offset commit was refused because the group moved on: the member must rejoin before committing again. */
export class RebalanceNeededError extends KafkaError {
  /** `generationId`: the generation the refused commit was sent with (a later one makes the refusal moot). */
  constructor(override readonly cause: BrokerError, readonly resetGeneration: boolean, readonly resetMemberId: boolean, readonly generationId = -1) {
    super(`commit refused, the member must rejoin: ${cause.message}`, 'ERR_KAFKA_REBALANCE_NEEDED', { retriable: true, cause });
  }
}

/** A consumer-group state change that dp-kafka's state machine does not allow. */
export class StateTransitionError extends KafkaError {
  constructor(readonly from: string, readonly to: string, reason = 'is not allowed') {
    super(`consumer state transition from ${from} to ${to} ${reason}`, 'ERR_KAFKA_STATE_TRANSITION');
  }
}

/**
 * The runtime lacks something the client needs and cannot do without: a global `Buffer`, Web Crypto, or sockets
 * (no `transport` was given and `node:net` cannot be loaded). The message names the fix. Never retriable.
 */
export class UnsupportedRuntimeError extends KafkaError {
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, 'ERR_KAFKA_UNSUPPORTED_RUNTIME', { retriable: false, cause: options.cause });
  }
}

/** A `kafka-channels/testing` expectation that did not hold (e.g. no message sent in time). */
export class MockExpectationError extends KafkaError {
  constructor(message: string) {
    super(message, 'ERR_KAFKA_MOCK_EXPECTATION');
  }
}
