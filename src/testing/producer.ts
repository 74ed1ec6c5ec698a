/**
 * A functional producer without a broker (dp-kafka `kafkatest.NewProducer`): the code under test sends through
 * the same {@link IProducer} surface as the real client, and the test checks what was sent with
 * `waitForMessageSent` / `waitForJSONMessageSent` / `waitNoMessageSent`.
 *
 * Each sent message is recorded in `sent` (all of them) and queued for the `waitFor…` calls, which take them in
 * order, each once. Until initialised, messages wait in `output` (dp-kafka's producer dropped them with an
 * error on `Errors`); they are recorded once it initialises.
 */
import { Chan } from '../channels/chan.js';
import { sleep } from '../client/backoff.js';
import { resolveProducerConfig, type ProducerConfig, type ResolvedProducerConfig } from '../channels/config.js';
import { checkHealth, type BrokerHealth, type HealthCheck } from '../channels/health.js';
import type { CloseOptions, IProducer, ProducerChannels } from '../channels/interfaces.js';
import type { MessageHeader, ProducerMessage } from '../channels/message.js';
import { admitMessage, type OutputItem } from '../channels/producer-input.js';
import { pushError } from '../channels/error-channel.js';
import { ClosedError, InvalidArgumentError, KafkaError, MockExpectationError, ProducerError } from '../errors.js';

/** dp-kafka `kafkatest.ProducerConfig`. */
export interface MockProducerOptions {
  /** Capacity of `output`. Default 30. */
  channelBufferSize?: number;
  /** Initialise in the constructor; otherwise after `minRetryPeriod`, or on `initialise()`. Default true. */
  initAtCreation?: boolean;
}

/** A message as the mock recorded it: value, key and header values as Buffers. */
export interface SentMessage {
  readonly topic: string;
  readonly value: Buffer | null;
  readonly key: Buffer | null;
  readonly headers: readonly MessageHeader[];
  readonly partition: number | undefined;
  readonly timestamp: number | undefined;
}

/** Defined with every other error class in src/errors.ts; re-exported where it is raised. */
export { MockExpectationError };

function bytes(v: Buffer | Uint8Array | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Buffer.from(v);
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export class MockProducer implements IProducer {
  readonly config: ResolvedProducerConfig;
  readonly channels: ProducerChannels;
  /** Every message sent, in order. */
  readonly sent: SentMessage[] = [];
  /** Errors drained by `logErrors()`. */
  readonly loggedErrors: Error[] = [];
  private readonly pending: SentMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private brokerHealth: BrokerHealth[];

  constructor(config: ProducerConfig, options: MockProducerOptions = {}) {
    this.config = resolveProducerConfig(config);
    this.channels = {
      output: new Chan<OutputItem>(options.channelBufferSize ?? 30),
      errors: new Chan<Error>(20),
      ready: new Chan<never>(),
      closer: new Chan<never>(),
      closed: new Chan<never>(),
    };
    this.brokerHealth = this.config.brokerAddrs.map((address) => ({ address, reachable: true, hasTopic: true }));
    if (options.initAtCreation ?? true) void this.initialise();
    else void sleep(this.config.minRetryPeriod, this.channels.closer.signal, { unref: true }).then(() => this.initialise(), () => undefined);
  }

  get topic(): string {
    return this.config.topic;
  }

  isInitialised(): boolean {
    return this.channels.ready.closed;
  }

  async initialise(): Promise<void> {
    if (this.isInitialised() || this.channels.closer.closed) return;
    this.channels.ready.close();
    void this.forward();
  }

  send(message: ProducerMessage, signal?: AbortSignal): Promise<void> {
    return this.channels.output.send(message, signal);
  }

  sendJSON(value: unknown, options: Omit<ProducerMessage, 'value'> = {}, signal?: AbortSignal): Promise<void> {
    return this.send({ ...options, value: JSON.stringify(value) }, signal);
  }

  sendBytes(value: Buffer | Uint8Array, options: Omit<ProducerMessage, 'value'> = {}, signal?: AbortSignal): Promise<void> {
    return this.send({ ...options, value }, signal);
  }

  /** Simulates broker health for `checker()` (all healthy by default). */
  setBrokerHealth(brokers: readonly BrokerHealth[]): void {
    this.brokerHealth = [...brokers];
  }

  /**
   * The real producer's rule (health.ts's checkHealth, on the simulated broker health): not initialised with every
   * broker healthy, the check initialises and says OK; not initialised otherwise, WARNING.
   */
  checker(): Promise<HealthCheck> {
    return checkHealth('producer', {
      isInitialised: () => this.isInitialised(), initialise: () => this.initialise(), probe: async () => this.brokerHealth,
      minBrokersHealthy: this.config.minBrokersHealthy, timeoutMs: this.config.requestTimeoutMs,
    });
  }

  logErrors(): void {
    void (async () => {
      for await (const err of this.channels.errors) {
        this.loggedErrors.push(err);
        this.config.logger?.error('kafka producer error', { err, topic: this.topic });
      }
    })();
  }

  /**
   * Resolves with the next sent message not yet taken by an earlier wait (dp-kafka `WaitForMessageSent`).
   * Rejects with {@link MockExpectationError} after `timeoutMs`, and with `ClosedError` if the producer closes.
   */
  async waitForMessageSent(timeoutMs: number): Promise<SentMessage> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = this.pending.shift();
      if (m !== undefined) return m;
      if (this.channels.closer.closed) throw new ClosedError('producer closed while waiting for a message to be sent');
      const left = deadline - performance.now();
      if (left <= 0 || !(await this.waitForActivity(left))) {
        throw new MockExpectationError(`no message was sent within ${timeoutMs} ms`);
      }
    }
  }

  /** {@link waitForMessageSent}, then `JSON.parse` of its value (dp-kafka v4.3 `WaitForJSONMessageSent`). */
  async waitForJSONMessageSent<T = unknown>(timeoutMs: number): Promise<T> {
    const m = await this.waitForMessageSent(timeoutMs);
    return JSON.parse(m.value?.toString('utf8') ?? 'null') as T;
  }

  /**
   * Resolves if nothing is sent for `windowMs` (dp-kafka `WaitNoMessageSent`); rejects with
   * {@link MockExpectationError} if a message is (or already was, untaken), and with `ClosedError` on close.
   */
  async waitNoMessageSent(windowMs: number): Promise<void> {
    const deadline = performance.now() + windowMs;
    for (;;) {
      if (this.pending.length > 0) throw new MockExpectationError(`a message was sent within ${windowMs} ms: ${this.pending[0]!.value?.toString('utf8')}`);
      if (this.channels.closer.closed) throw new ClosedError('producer closed while waiting for no message to be sent');
      const left = deadline - performance.now();
      if (left <= 0) return;
      await this.waitForActivity(left);
    }
  }

  async close(_options: CloseOptions = {}): Promise<void> {
    if (this.channels.closer.closed) return this.channels.closed.wait();
    this.channels.closer.close();
    this.channels.output.close();
    this.wake();
    this.channels.errors.close();
    this.channels.closed.close();
  }

  /**
   * Takes from `output` and records, until closed. Items are read by the real producer's rule (producer-input.ts):
   * bytes or a string is the value; an item that is not a message goes to `errors`, as it would for real.
   */
  private async forward(): Promise<void> {
    for await (const item of this.channels.output) {
      const m = admitMessage(item);
      if (m instanceof InvalidArgumentError) {
        pushError(this.channels.errors, new ProducerError(item, this.config.topic, m));
        continue;
      }
      const rec: SentMessage = {
        topic: this.config.topic,
        value: bytes(m.value),
        key: bytes(m.key),
        headers: (m.headers ?? []).map((h) => ({ key: h.key, value: bytes(h.value) })),
        partition: m.partition,
        timestamp: m.timestamp,
      };
      this.sent.push(rec);
      this.pending.push(rec);
      this.wake();
    }
  }

  /** Resolves true on a send or close, false when `ms` passed first. */
  private waitForActivity(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve(false);
      }, ms);
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.add(wake);
    });
  }

  private wake(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }
}

/** dp-kafka `kafkatest.NewProducer`. */
export function createMockProducer(config: ProducerConfig, options?: MockProducerOptions): MockProducer {
  return new MockProducer(config, options);
}
