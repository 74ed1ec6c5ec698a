/**
 * A consumer group's offsets inside a producer's transaction (KIP-98, KIP-447): the records a pipeline wrote and
 * the offsets of the records it read commit together, or not at all.
 *
 * Protocol v1: AddOffsetsToTxn tells the transaction coordinator which group's offsets are part of the transaction,
 * then TxnOffsetCommit (v4 at most) gives them to the group coordinator. Protocol v2 (KIP-890): TxnOffsetCommit v5
 * alone, and the group is added implicitly. TxnOffsetCommit v3+ carries the group's generation and member id
 * (KIP-447), so a zombie member of an older generation cannot commit.
 */
import { InvalidArgumentError } from '../errors.js';
import { AddOffsetsToTxn } from '../protocol/apis/add-offsets-to-txn.js';
import { TxnOffsetCommit } from '../protocol/apis/txn-offset-commit.js';
import { brokerError, errorCodes } from '../protocol/error-codes.js';
import type { Broker } from './broker.js';
import { describeValue } from './record-check.js';

/** A coordinator (transaction or group) that routes its own moves: `GroupCoordinator` of src/group/coordinator.ts. */
export interface TransactionCoordinator {
  markUnknown(): void;
  call<T>(fn: (broker: Broker) => Promise<T>, options?: { signal?: AbortSignal; deadlineMs?: number }): Promise<T>;
}

/** The consumer group a member reads for (Java's ConsumerGroupMetadata). */
export interface GroupMetadata {
  groupId: string;
  /** The member's generation (-1 when unknown: then the broker cannot fence a zombie, KIP-447). */
  generationId: number;
  memberId: string;
  groupInstanceId?: string | null;
}

/** The next offset to read of one partition, as a commit carries it (the last record handled + 1). */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch?: number;
  metadata?: string | null;
}

/** TxnOffsetCommit's last version before protocol v2 (v5 adds the group implicitly). */
const TXN_OFFSET_COMMIT_MAX_TV1 = 4;

/** What {@link sendOffsets} needs: the ids, the two coordinators, and the manager's bounded retry loop. */
export interface SendOffsetsArgs {
  transactionalId: string;
  producerId: number;
  epoch: number;
  v2: boolean;
  offsets: readonly OffsetToCommit[];
  group: GroupMetadata;
  coordinator: TransactionCoordinator;
  groupCoordinator: TransactionCoordinator;
  run<T>(what: string, coordinator: TransactionCoordinator, fn: (broker: Broker) => Promise<T>): Promise<T>;
}

/** AddOffsetsToTxn (v1) then TxnOffsetCommit until every partition is accepted; a refusal is thrown as a BrokerError. */
export async function sendOffsets(a: SendOffsetsArgs): Promise<void> {
  const producerId = BigInt(a.producerId);
  if (!a.v2) {
    await a.run('AddOffsetsToTxn', a.coordinator, async (b) => {
      const r = await b.request(AddOffsetsToTxn, { transactionalId: a.transactionalId, producerId, producerEpoch: a.epoch, groupId: a.group.groupId });
      if (r.errorCode !== 0) throw brokerError(r.errorCode, { api: 'AddOffsetsToTxn', groupId: a.group.groupId });
    });
  }
  // Partitions still to commit; one accepted in a round is not sent again.
  const left = new Map(a.offsets.map((o) => [`${o.partition}:${o.topic}`, o]));
  await a.run('TxnOffsetCommit', a.groupCoordinator, async (b) => {
    const byTopic = new Map<string, OffsetToCommit[]>();
    for (const o of left.values()) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    const r = await b.request(TxnOffsetCommit, {
      transactionalId: a.transactionalId, groupId: a.group.groupId, producerId, producerEpoch: a.epoch,
      generationId: a.group.generationId, memberId: a.group.memberId, groupInstanceId: a.group.groupInstanceId ?? null,
      topics: [...byTopic].map(([name, list]) => ({ name, partitions: list.map((o) => ({
        partitionIndex: o.partition, committedOffset: BigInt(o.offset), committedLeaderEpoch: o.leaderEpoch ?? -1, committedMetadata: o.metadata ?? null,
      })) })),
    }, { version: a.v2 ? undefined : TXN_OFFSET_COMMIT_MAX_TV1 });
    let worst: { topic: string; partition: number; code: number } | undefined;
    for (const t of r.topics) {
      for (const p of t.partitions) {
        if (p.errorCode === 0) left.delete(`${p.partitionIndex}:${t.name}`);
        else if (worst === undefined || p.errorCode === errorCodes.PRODUCER_FENCED || p.errorCode === errorCodes.INVALID_PRODUCER_EPOCH) worst = { topic: t.name, partition: p.partitionIndex, code: p.errorCode };
      }
    }
    if (worst !== undefined) throw brokerError(worst.code, { api: 'TxnOffsetCommit', groupId: a.group.groupId, topic: worst.topic, partition: worst.partition });
    if (left.size > 0) throw brokerError(errorCodes.UNKNOWN_TOPIC_OR_PARTITION, { api: 'TxnOffsetCommit', groupId: a.group.groupId, brokerMessage: `${left.size} partition(s) not answered` });
  });
}

/** The input boundary of `sendOffsetsToTransaction`: every problem of the offsets and the group, or none. */
export function offsetsProblems(offsets: unknown, group: unknown): string[] {
  const problems: string[] = [];
  if (!Array.isArray(offsets)) problems.push(`offsets must be an array of { topic, partition, offset }, got ${describeValue(offsets)}`);
  else {
    offsets.forEach((o: unknown, i) => {
      const r = o as Partial<OffsetToCommit> | null;
      if (typeof r !== 'object' || r === null) return void problems.push(`offsets[${i}] must be an object, got ${describeValue(o)}`);
      if (typeof r.topic !== 'string' || r.topic.length === 0) problems.push(`offsets[${i}].topic must be a non-empty string`);
      if (!isInt(r.partition, 0, 2 ** 31 - 1)) problems.push(`offsets[${i}].partition must be an integer 0 … 2^31-1`);
      if (!isInt(r.offset, 0, Number.MAX_SAFE_INTEGER)) problems.push(`offsets[${i}].offset must be a whole number 0 … 2^53-1`);
      if (r.leaderEpoch !== undefined && !isInt(r.leaderEpoch, -1, 2 ** 31 - 1)) problems.push(`offsets[${i}].leaderEpoch must be an integer -1 … 2^31-1`);
      if (r.metadata !== undefined && r.metadata !== null && typeof r.metadata !== 'string') problems.push(`offsets[${i}].metadata must be a string or null`);
    });
  }
  const g = group as Partial<GroupMetadata> | null;
  if (typeof g !== 'object' || g === null) problems.push(`group must be { groupId, generationId, memberId }, got ${describeValue(group)}`);
  else {
    if (typeof g.groupId !== 'string' || g.groupId.length === 0) problems.push('group.groupId must be a non-empty string');
    if (!isInt(g.generationId, -1, 2 ** 31 - 1)) problems.push('group.generationId must be an integer -1 … 2^31-1');
    if (typeof g.memberId !== 'string') problems.push('group.memberId must be a string');
    if (g.groupInstanceId !== undefined && g.groupInstanceId !== null && typeof g.groupInstanceId !== 'string') problems.push('group.groupInstanceId must be a string or null');
  }
  return problems;
}

function isInt(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** Throws one InvalidArgumentError listing every problem of a `sendOffsetsToTransaction` call. */
export function checkOffsets(offsets: unknown, group: unknown): void {
  const problems = offsetsProblems(offsets, group);
  if (problems.length > 0) throw new InvalidArgumentError(problems.map((p) => `sendOffsetsToTransaction: ${p}`));
}
