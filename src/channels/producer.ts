/**
 * dp-kafka's Producer: write messages to `channels.output` (or call `send`), and they reach the topic; failures
 * arrive on `channels.errors`. The constructor validates the config and never fails for an unreachable cluster:
 * it initialises in the background with the cyclic backoff until it succeeds or the producer closes. Messages
 * sent before that wait in the bounded `output` channel and are delivered once initialised.
 *
 * The record path: `output` → the forward loop drains it in batches (`drainInto`, no await per record) →
 * `ProducerEngine.send` (partitioner, accumulator, one Produce request per broker) → delivery reports, whose
 * failures go to `errors` without ever blocking (see error-channel.ts).
 */
import type { Cluster } from '../client/cluster.js';
import { ProducerEngine } from '../client/producer-engine.js';
import type { DeliveryReport, SendContext } from '../client/accumulator.js';
import { retryForever, sleep } from '../client/backoff.js';
import { randomUuid, requireBuffer } from '../runtime/builtins.js';
import { ClosedError, InvalidArgumentError, KafkaError, ProducerError, TransactionStateError } from '../errors.js';
import { Compression } from '../protocol/compression/index.js';
import { untilAborted } from './abort.js';
import { Chan } from './chan.js';
import { clusterOptionsFor, connectForTopic } from './cluster-options.js';
import { resolveProducerConfig, type ProducerConfig, type ResolvedProducerConfig } from './config.js';
import { pushError } from './error-channel.js';
import { healthProbeFor, type BrokerHealthProbe } from './broker-health.js';
import { checkHealth, type HealthCheck } from './health.js';
import type { CloseOptions, IProducer, ProducerChannels } from './interfaces.js';
import type { ProducerMessage } from './message.js';
import { admitMessage, signalProblem, type OutputItem, type SendableMessage } from './producer-input.js';
import { ProducerTransactions, type GroupMetadata, type OffsetToCommit } from './producer-transactions.js';

/** dp-kafka's trace header: one id per producer, sent with every message. */
export const REQUEST_ID_HEADER = 'request-id';
const ERRORS_CAPACITY = 100;
const DRAIN_MAX = 4096;

/** Defined with every other error class in src/errors.ts; re-exported where it is raised. */
export { ProducerError };

export class Producer implements IProducer {
  readonly channels: ProducerChannels;
  readonly topic: string;
  private readonly config: ResolvedProducerConfig;
  /** Headers sent with every message; replaced, never mutated, so records already queued keep theirs. */
  private headers: readonly { key: string; value: Buffer }[];
  /** The topic and {@link headers}, handed to the engine with each drained run of messages (no object per message). */
  private defaults: SendContext;
  private cluster: Cluster | undefined;
  private engine: ProducerEngine | undefined;
  private initialising: Promise<void> | undefined;
  private forwarding: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private readonly probe: BrokerHealthProbe;
  private readonly healthCheck: () => Promise<HealthCheck>;
  private closing: Promise<void> | undefined;
  /** With `transactionalId`: the transactions (producer-transactions.ts). */
  private readonly txns: ProducerTransactions | undefined;
  /** The forward loop holds messages taken from `output` and not yet in the engine. */
  private inForward = false;
  /** Errors dropped because nobody read `errors` (counted, as the design promises). */
  droppedErrors = 0;

  /** Validates `config` (an InvalidArgumentError lists every problem) and starts initialising in the background. */
  constructor(config: ProducerConfig, options: { requestId?: string } = {}) {
    requireBuffer('Producer');
    this.config = resolveProducerConfig(config);
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('producer options must be an object such as { requestId }');
    if (options.requestId !== undefined && (typeof options.requestId !== 'string' || options.requestId.length === 0)) {
      throw new InvalidArgumentError('options.requestId must be a non-empty string');
    }
    this.topic = this.config.topic;
    this.channels = {
      output: new Chan<OutputItem>(this.config.outputCapacity),
      errors: new Chan<Error>(ERRORS_CAPACITY),
      ready: new Chan<never>(),
      closer: new Chan<never>(),
      closed: new Chan<never>(),
    };
    // Values encoded once here, not per record.
    this.headers = this.config.traceHeader ? [{ key: REQUEST_ID_HEADER, value: Buffer.from(options.requestId ?? randomUuid()) }] : [];
    this.defaults = this.defaultsFor(this.headers);
    this.probe = healthProbeFor(this.config);
    this.txns = this.config.transactionalId === undefined ? undefined : new ProducerTransactions({
      config: this.config, initialise: () => this.initialise(), forwarded: () => this.forwarded(), reportError: (e) => void pushError(this.channels.errors, e),
    });
    this.healthCheck = () => checkHealth('producer', {
      isInitialised: () => this.isInitialised(), initialise: (signal) => this.initialise(signal), probe: () => this.probe.check(),
      minBrokersHealthy: this.config.minBrokersHealthy, timeoutMs: this.config.requestTimeoutMs,
    });
    void this.initialiseInBackground();
  }

  private initialiseInBackground(): Promise<void> {
    return retryForever(() => this.initialise(), {
      minRetryPeriod: this.config.minRetryPeriod, maxRetryPeriod: this.config.maxRetryPeriod, signal: this.abort.signal, unref: true,
      onRetry: (err, attempt, delay) => this.config.logger?.warn('producer not initialised yet; retrying', { err: String(err), attempt, delay }),
    }).catch(() => undefined);
  }

  isInitialised(): boolean {
    return this.channels.ready.closed;
  }

  /**
   * Connects, checks the topic's metadata and starts the forward loop. A no-op once initialised; concurrent
   * calls share one attempt. Rejects (retriably) while the cluster cannot be reached. `signal` ends this
   * caller's wait (rejecting with its reason), not the shared attempt.
   */
  initialise(signal?: AbortSignal): Promise<void> {
    const bad = signalProblem(signal);
    if (bad !== undefined) return Promise.reject(bad);
    if (this.isInitialised()) return Promise.resolve();
    if (this.abort.signal.aborted) return Promise.reject(new ClosedError('the producer is closed'));
    this.initialising ??= this.connect().finally(() => { this.initialising = undefined; });
    return untilAborted(this.initialising, signal);
  }

  private async connect(): Promise<void> {
    const cluster = await connectForTopic(await clusterOptionsFor(this.config), this.topic, this.abort.signal,
      () => new ClosedError('the producer is closed'));
    this.cluster = cluster;
    this.engine = new ProducerEngine({
      cluster, acks: this.config.acks, idempotent: this.config.idempotent && this.config.acks === -1,
      compression: Compression[this.config.compression], lingerMs: this.config.lingerMs, batchBytes: this.config.batchBytes,
      maxMessageBytes: this.config.maxMessageBytes, requestTimeoutMs: this.config.requestTimeoutMs,
      deliveryTimeoutMs: this.config.deliveryTimeoutMs, retryBackoffMs: this.config.retryBackoffMs,
      transactions: this.txns?.manager(cluster),
    });
    this.forwarding = this.forward(this.engine);
    this.channels.ready.close();
  }

  /**
   * Drains `output` in batches into the engine, waiting only when the engine's memory bound is reached. Messages
   * written to `output` directly are checked here by the rule `send` applies (producer-input.ts): a bad one goes to
   * `errors` with its cause, and the loop goes on.
   */
  private async forward(engine: ProducerEngine): Promise<void> {
    const output = this.channels.output;
    for (;;) {
      this.inForward = false;
      const first = await output.recv();
      if (first.done) return;
      this.inForward = true;
      const items = [first.value];
      output.drainInto(items, DRAIN_MAX);
      const messages = this.admit(items);
      if (messages.length === 0) continue;
      // The messages are the records: the engine takes the topic and the producer's headers from `defaults`.
      let room = true;
      try {
        room = engine.send(messages, (report) => this.onDelivery(report, messages), this.defaults);
      } catch (err) {
        for (const m of messages) this.report(m, err);
      }
      if (!room) await engine.waitForSpace();
    }
  }

  /** Resolves once every message written to `output` so far is in the engine (a commit's records are all there). */
  private async forwarded(): Promise<void> {
    // One macrotask first: a message just handed to a waiting forward loop is taken in a microtask after the send.
    do await sleep(1); while (this.channels.output.length > 0 || this.inForward);
  }

  /** Replaces each message by the one to send (bytes or a string become the value) and drops, reporting, the bad. */
  private admit(items: OutputItem[]): ProducerMessage[] {
    // In place: the batch array is reused as the messages (no second allocation per batch).
    const messages = items as unknown[] as ProducerMessage[];
    let kept = 0;
    for (let i = 0; i < items.length; i++) {
      const m = admitMessage(items[i]);
      if (m instanceof InvalidArgumentError) this.report(items[i], m);
      else messages[kept++] = m;
    }
    messages.length = kept;
    return messages;
  }

  /** Puts a message's failure on `errors` (never blocking; counted when nobody reads them). */
  private report(message: unknown, err: unknown): void {
    if (this.channels.errors.length >= this.channels.errors.capacity) this.droppedErrors++;
    pushError(this.channels.errors, new ProducerError(message, this.topic, err));
    this.config.logger?.error('message not delivered', { topic: this.topic, err: err instanceof Error ? err.message : String(err) });
  }

  private defaultsFor(headers: readonly { key: string; value: Buffer }[]): SendContext {
    // `checked`: the forward loop admits every message (producer-input.ts) before the engine sees it.
    return { topic: this.topic, headers: headers.length > 0 ? headers : undefined, checked: true };
  }

  private onDelivery(report: DeliveryReport, messages: readonly ProducerMessage[]): void {
    if (report.errors === null) return;
    report.errors.forEach((err, i) => {
      // Records an abort dropped are not reported: the application chose it (transaction-manager.ts abortedError).
      if (err !== undefined && (err as KafkaError).code !== 'ERR_KAFKA_TXN_ABORTED') this.report(messages[i], err);
    });
  }

  /**
   * Adds a header sent with every later message (dp-kafka's AddHeader); an empty key is ignored, as dp-kafka does.
   * Throws InvalidArgumentError unless `key` is a string and `value` a string or bytes.
   */
  addHeader(key: string, value: string | Uint8Array): void {
    if (typeof key !== 'string') throw new InvalidArgumentError(`addHeader: key must be a string, got ${typeof key}`);
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
      throw new InvalidArgumentError(`addHeader: value must be a string or bytes, got ${value === null ? 'null' : typeof value}`);
    }
    if (!key) return;
    this.headers = [...this.headers, { key, value: Buffer.from(value) }];
    this.defaults = this.defaultsFor(this.headers);
  }

  /**
   * Queues a message; resolves once `output` took it. A message that is not one (see producer-input.ts: bytes or a
   * string is taken as the value, `headers` may be an object) is rejected at once with an InvalidArgumentError
   * naming the field; after close, ClosedError.
   */
  send(message: SendableMessage | Uint8Array | string, signal?: AbortSignal): Promise<void> {
    const m = admitMessage(message);
    if (m instanceof InvalidArgumentError) return Promise.reject(m);
    const refused = this.txns?.sendProblem();
    if (refused !== undefined) return Promise.reject(refused);
    const bad = signalProblem(signal);
    if (bad !== undefined) return Promise.reject(bad);
    return this.channels.output.send(m, signal);
  }

  /** `JSON.stringify(value)` as the value; a value JSON cannot hold (a bigint, a cycle, undefined) is rejected at once. */
  sendJSON(value: unknown, options: Omit<SendableMessage, 'value'> = {}, signal?: AbortSignal): Promise<void> {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      return Promise.reject(new InvalidArgumentError(`sendJSON: the value cannot be written as JSON: ${err instanceof Error ? err.message : String(err)}`));
    }
    if (json === undefined) return Promise.reject(new InvalidArgumentError(`sendJSON: JSON has no form for ${typeof value}`));
    return this.withOptions('sendJSON', json, options, signal);
  }

  sendBytes(value: Buffer | Uint8Array, options: Omit<SendableMessage, 'value'> = {}, signal?: AbortSignal): Promise<void> {
    if (!(value instanceof Uint8Array)) return Promise.reject(new InvalidArgumentError(`sendBytes: value must be a Buffer or Uint8Array, got ${value === null ? 'null' : typeof value}`));
    return this.withOptions('sendBytes', value, options, signal);
  }

  private withOptions(method: string, value: string | Uint8Array, options: unknown, signal: AbortSignal | undefined): Promise<void> {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      return Promise.reject(new InvalidArgumentError(`${method}: options must be an object such as { key, headers }, got ${options === null ? 'null' : typeof options}`));
    }
    let message: SendableMessage;
    try {
      message = { ...(options as Omit<SendableMessage, 'value'>), value };
    } catch (err) {
      return Promise.reject(new InvalidArgumentError(`${method}: options could not be read: ${err instanceof Error ? err.message : String(err)}`));
    }
    return this.send(message, signal);
  }

  /**
   * Opens a transaction (needs `transactionalId`; the first call initialises the producer id, aborting what an
   * earlier instance with this id left open). Messages sent until commit or abort belong to it; sends outside
   * one are refused with TransactionStateError. Rejects with TransactionStateError when one is already open.
   */
  beginTransaction(): Promise<void> {
    return this.transactional('beginTransaction', (t) => t.begin());
  }

  /**
   * Waits until every message sent in the transaction is written, then commits it. A TransactionError with
   * `abortable` true means: call abortTransaction() and start again; false (ProducerFencedError): the producer is
   * finished, close it.
   */
  commitTransaction(): Promise<void> {
    return this.transactional('commitTransaction', (t) => t.commit());
  }

  /** Aborts the open transaction: messages not yet sent are dropped, those written are never read by read_committed consumers. */
  abortTransaction(): Promise<void> {
    return this.transactional('abortTransaction', (t) => t.abort());
  }

  /** Begins a transaction, runs `fn`, commits; aborts (and rethrows) when `fn` throws or the commit fails abortably. */
  transaction<T>(fn: (producer: this) => Promise<T> | T): Promise<T> {
    if (typeof fn !== 'function') return Promise.reject(new InvalidArgumentError(`transaction: expects a function, got ${fn === null ? 'null' : typeof fn}`));
    return this.transactional('transaction', (t) => t.run(() => fn(this)));
  }

  /**
   * Commits a consumer group's offsets inside the open transaction (KIP-447): they are committed with its records,
   * or not at all. `offsets`: the next offset to read per partition; `group`: the member's group id, generation
   * and member id (a member of an older generation is refused, so a zombie cannot commit).
   */
  sendOffsetsToTransaction(offsets: readonly OffsetToCommit[], group: GroupMetadata): Promise<void> {
    return this.transactional('sendOffsetsToTransaction', (t) => t.sendOffsets(offsets, group));
  }

  private async transactional<T>(what: string, run: (t: ProducerTransactions) => Promise<T>): Promise<T> {
    if (this.txns === undefined) throw new TransactionStateError(`${what}: the producer has no transactionalId`);
    if (this.closing !== undefined) throw new ClosedError('the producer is closed');
    return run(this.txns);
  }

  /** OK / WARNING / CRITICAL by dp-kafka's rules. */
  checker(): Promise<HealthCheck> {
    return this.healthCheck();
  }

  /** Logs every error from `errors` with the configured logger until the producer closes. */
  logErrors(): void {
    void (async () => {
      for await (const err of this.channels.errors) this.config.logger?.error('kafka producer error', { err: err.message });
    })();
  }

  /**
   * Stops accepting messages, delivers what `output` and the engine hold, and closes the connections. With a
   * signal, whatever is still pending when it aborts fails with ClosedError on `errors`. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) return Promise.reject(new InvalidArgumentError('close: options must be an object such as { signal }'));
    const bad = signalProblem(options.signal);
    if (bad !== undefined) return Promise.reject(bad);
    this.closing ??= this.shutdown(options.signal);
    return this.closing;
  }

  private async shutdown(signal?: AbortSignal): Promise<void> {
    this.channels.closer.close();
    this.channels.output.close();
    const drain = (async () => {
      // Messages accepted before initialisation are delivered once it succeeds (never silently dropped); without a
      // signal that wait is bounded by the delivery timeout, as a record's own wait would be.
      if (!this.isInitialised() && this.channels.output.length > 0) {
        await this.channels.ready.wait(AbortSignal.timeout(this.config.deliveryTimeoutMs));
      }
      await this.forwarding;
      await this.txns?.closing();
      await this.engine?.close();
    })();
    let gaveUp = false;
    try {
      if (signal) await Promise.race([drain, abortPromise(signal)]);
      else await drain;
    } catch {
      gaveUp = true;
      const lost = this.channels.output.length;
      if (lost > 0) pushError(this.channels.errors, new ClosedError(`the producer closed before it could deliver ${lost} message(s)`));
      this.config.logger?.warn('producer closed before delivering everything', { undelivered: lost });
      // What the engine holds fails now, each record reported on `errors` with a ClosedError, and no timer of
      // its outlives close().
      this.engine?.destroy(new ClosedError('the producer closed before the message was delivered'));
    } finally {
      this.abort.abort(new ClosedError('the producer is closed'));
      this.txns?.stop();
      // After the signal, requests still in flight are not waited for: they fail at once (and their records are
      // reported), so close() ends with its signal rather than a request timeout later.
      await Promise.allSettled([this.cluster?.close(gaveUp ? { timeoutMs: 0 } : {}), this.probe.close()]);
      if (gaveUp) await new Promise((resolve) => setImmediate(resolve)); // the failed requests' reports land first
      this.channels.errors.close();
      this.channels.closed.close();
    }
  }
}

function abortPromise(signal: AbortSignal): Promise<never> {
  return sleep(2 ** 31 - 1, signal, { unref: true }) as Promise<never>;
}
