/**
 * The messages of a {@link ShareGroup} (KIP-932 share groups). A share group hands out records, not partitions:
 * any member may get any record, several members read one partition at once, and each record is acknowledged on
 * its own. So a {@link ShareMessage} has no `mark`/`commit`/`release` (a ConsumerGroup message's `release()` frees
 * its partition for the next message; nothing of the kind exists here). It has three acknowledgements instead,
 * named for what happens to the record:
 *
 * - `accept()`: done; no member sees it again (Kafka's ACCEPT).
 * - `redeliver()`: hand it back for another delivery, to this member or another (Kafka's RELEASE), until the
 *   group's delivery limit; at the limit the broker archives it.
 * - `reject()`: unprocessable; archived at once, never delivered again (Kafka's REJECT).
 *
 * The first acknowledgement of a message counts; repeating it is a no-op that returns the same outcome, and a
 * different one throws {@link InvalidArgumentError} (a record cannot be both accepted and rejected). Each returns
 * a promise that never rejects: true once the broker applied it, false when it was not applied (the reason went to
 * the group's `errors` channel, e.g. INVALID_RECORD_STATE after the acquisition lock expired, or the group closed).
 * A message nobody acknowledges comes back after the broker's acquisition lock timeout, with a higher delivery count.
 */
import type { Buffer } from 'node:buffer';
import { InvalidArgumentError, KafkaError } from '../errors.js';
import type { KafkaRecord } from '../protocol/record-batch.js';
import { AcknowledgeType, type AcknowledgeTypeCode } from '../group/share/acknowledgements.js';
import type { AcknowledgeTarget } from '../group/share/share-session.js';
import { headerValue, type DeliveredRecord, type MessageHeader } from './message.js';

/** How a share message was acknowledged. */
export type ShareAcknowledgement = 'accept' | 'redeliver' | 'reject';

/** A record delivered by a share group. */
export interface ShareMessage extends DeliveredRecord {
  /** The broker's delivery count: 1 on the first delivery, one more each time the record came back. */
  readonly deliveryCount: number;
  /**
   * The group's delivery limit (Kafka's `share.delivery.count.limit`, broker default
   * `group.share.delivery.count.limit`, 5 out of the box), or undefined when the group could not read it. A record
   * delivered this many times is archived instead of redelivered.
   */
  readonly deliveryLimit: number | undefined;
  /** True when this is the last delivery the limit allows: `redeliver()` now archives the record. */
  readonly isLastDelivery: boolean;
  /** How this message was acknowledged so far (undefined: not yet). */
  readonly acknowledgement: ShareAcknowledgement | undefined;
  /** Processed: the record is done for the whole group. */
  accept(): Promise<boolean>;
  /** Give the record back for another delivery (Kafka's RELEASE); archived instead at the delivery limit. */
  redeliver(): Promise<boolean>;
  /** The record cannot be processed: archive it, never deliver it again. */
  reject(): Promise<boolean>;
}

/**
 * Throw this from a share-group handler to reject the message (or the whole batch): the record is archived and
 * never delivered again. Any other error from a handler redelivers; returning normally accepts.
 */
export class RejectRecordError extends KafkaError {
  constructor(message = 'the handler rejected the record', options: { cause?: unknown } = {}) {
    super(message, 'ERR_KAFKA_SHARE_REJECT', { retriable: false, cause: options.cause });
  }
}

const TYPE_OF: Readonly<Record<ShareAcknowledgement, AcknowledgeTypeCode>> = {
  accept: AcknowledgeType.accept, redeliver: AcknowledgeType.release, reject: AcknowledgeType.reject,
};

/** The share-message implementation: one object per record, holding the decoded record (views made on read). */
export class AcquiredMessage implements ShareMessage {
  readonly offset: number;
  readonly timestamp: number;
  private ack: ShareAcknowledgement | undefined = undefined;
  private outcome: Promise<boolean> | undefined = undefined;

  constructor(
    private readonly target: AcknowledgeTarget, readonly topic: string, readonly partition: number, private readonly record: KafkaRecord,
    readonly deliveryCount: number, readonly deliveryLimit: number | undefined,
  ) {
    this.offset = record.offset;
    this.timestamp = record.timestamp;
  }

  get key(): Buffer | null { return this.record.key; }
  get value(): Buffer | null { return this.record.value; }
  get headers(): readonly MessageHeader[] { return this.record.headers; }
  get acknowledgement(): ShareAcknowledgement | undefined { return this.ack; }
  get isLastDelivery(): boolean { return this.deliveryLimit !== undefined && this.deliveryCount >= this.deliveryLimit; }

  getHeader(key: string): string | undefined {
    return headerValue(this.headers, key);
  }

  accept(): Promise<boolean> { return this.acknowledge('accept'); }
  redeliver(): Promise<boolean> { return this.acknowledge('redeliver'); }
  reject(): Promise<boolean> { return this.acknowledge('reject'); }

  private acknowledge(kind: ShareAcknowledgement): Promise<boolean> {
    if (this.ack !== undefined) {
      if (this.ack === kind) return this.outcome!;
      throw new InvalidArgumentError(`${this.topic}-${this.partition}@${this.offset} was already acknowledged with ${this.ack}(); it cannot also be ${kind}ed`);
    }
    this.ack = kind;
    this.outcome = this.target.acknowledge(this.partition, this.offset, TYPE_OF[kind]);
    return this.outcome;
  }
}
