/**
 * What every consumer group shares, real or mock: the life cycle of every group of ours (GroupLifecycle in
 * group-lifecycle.ts: state machine, channels, start / stop / close, health, registration rules) with consumed
 * messages on `upstream`, plus the consumer group's own: a session is a {@link ConsumeSession}, handlers may be
 * transactional (KIP-447), and the group metadata. Subclasses say how to initialise, how a consume session
 * begins, and how healthy the brokers are: `ConsumerGroup` with the group protocol over the real client,
 * `MockConsumerGroup` with a queue.
 */
import { resolveConsumerGroupConfig, type ConsumerGroupConfig, type ResolvedConsumerGroupConfig } from './config.js';
import { GroupLifecycle } from './group-lifecycle.js';
import { startBatchWorker, startHandlerWorkers, type BatchHandler, type Handler, type HandlerFailure, type Workers } from './handlers.js';
import type { BrokerHealth, HealthView } from './health.js';
import type { IConsumerGroup, RegisterOptions } from './interfaces.js';
import type { Message } from './message.js';
import { checkTransactionalOption, transactionalCommit, type TransactionalCommit } from './transactional-handlers.js';
import type { GroupMetadata } from './producer-transactions.js';

export { checkRegistration } from './group-lifecycle.js';

/** A running consume session: `end()` asks it to finish; `done` settles once in-flight messages were released. */
export interface ConsumeSession {
  end(): void;
  readonly done: Promise<void>;
}

export abstract class ConsumerGroupBase extends GroupLifecycle<Message, ResolvedConsumerGroupConfig, Workers> implements IConsumerGroup {
  protected session: ConsumeSession | undefined;

  constructor(config: ConsumerGroupConfig) {
    super(resolveConsumerGroupConfig(config), 'consumer group');
  }

  /** Starts a consume session (state is Starting). The subclass moves the state to Consuming when it is. */
  protected abstract beginSession(): ConsumeSession;
  /** The broker view for `checker()`. */
  protected abstract healthView(): Promise<HealthView>;
  /** Called by a handler failure (the real group logs it; the mock records it). */
  protected abstract onHandlerFailure(failure: HandlerFailure): void;

  abstract pause(partitions: readonly number[]): void;
  abstract resume(partitions: readonly number[]): void;
  abstract paused(): number[];

  protected openSession(): void {
    this.session = this.beginSession();
  }

  /** The session ends (in-flight messages finish and their offsets are committed by it). */
  protected endSession(): Promise<void> | undefined {
    const s = this.session;
    this.session = undefined;
    if (s === undefined) return undefined;
    s.end();
    return s.done;
  }

  protected async probeBrokers(): Promise<readonly BrokerHealth[]> {
    return (await this.healthView()).brokers;
  }

  registerHandler(handler: Handler, options: RegisterOptions = {}): void {
    this.registerWorkers('registerHandler', handler, options, (signal) => startHandlerWorkers(this.channels.upstream, handler, {
      numWorkers: this.config.numWorkers, signal, onError: (f) => this.onHandlerFailure(f), transactional: this.transactional(options),
    }), () => checkTransactionalOption('registerHandler', options));
  }

  registerBatchHandler(handler: BatchHandler, options: RegisterOptions = {}): void {
    this.registerWorkers('registerBatchHandler', handler, options, (signal) => startBatchWorker(this.channels.upstream, handler, {
      batchSize: this.config.batchSize, batchWaitTime: this.config.batchWaitTime, signal,
      onError: (f) => this.onHandlerFailure(f), transactional: this.transactional(options),
    }), () => checkTransactionalOption('registerBatchHandler', options));
  }

  /**
   * The group's identity for offsets committed in a producer's transaction (KIP-447): the real group gives its
   * current generation and member id; without one, -1 and '' (the broker then cannot fence a zombie member).
   */
  groupMetadata(): GroupMetadata {
    return { groupId: this.groupName, generationId: -1, memberId: '', groupInstanceId: null };
  }

  private transactional(options: RegisterOptions): TransactionalCommit | undefined {
    const p = options.transactionalProducer;
    return p === undefined ? undefined : transactionalCommit(p, () => this.groupMetadata());
  }
}
