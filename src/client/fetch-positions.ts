/**
 * Fetch positions: where each assigned partition reads next, and the two requests that fix a position the
 * fetcher cannot trust: ListOffsets (no position yet, or OFFSET_OUT_OF_RANGE: reset to earliest or latest) and
 * OffsetForLeaderEpoch (the leader changed: did the new leader's log diverge below us? KIP-320).
 */
import { KafkaError, LogTruncationError } from '../errors.js';
import { ListOffsets } from '../protocol/apis/list-offsets.js';
import { OffsetForLeaderEpoch } from '../protocol/apis/offset-for-leader-epoch.js';
import { brokerError, errorByCode } from '../protocol/error-codes.js';
import type { Broker } from './broker.js';
import type { BufferedPartition } from './fetch-buffer.js';

/** What happens without a valid position: Kafka's auto.offset.reset. 'none' reports an error instead. */
export type OffsetResetPolicy = 'earliest' | 'latest' | 'none';

/**
 * The life of a partition in the fetcher: `route` (find its leader), `reset` (ask for an offset), `validate`
 * (check the log did not diverge after a leader change), `fetch`, or `failed` (a non-retriable error was reported;
 * a seek starts it again).
 */
export type PartitionPhase = 'route' | 'reset' | 'validate' | 'fetch' | 'failed';

export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly buf: BufferedPartition;
  phase: PartitionPhase;
  /** For `reset`: which end. */
  resetTo: 'earliest' | 'latest';
  /** Next offset to fetch (-1 before the first reset). */
  fetchOffset: number;
  /** Leader epoch of the last batch fetched, or from ListOffsets / the caller (-1 unknown). */
  lastFetchedEpoch: number;
  leaderId: number;
  /** The leader epoch from metadata, sent as currentLeaderEpoch so stale leaders fence us (KIP-320). */
  leaderEpoch: number;
  topicId: string;
  /** Bumped on every seek, reset and re-route: answers to requests made before are dropped. */
  generation: number;
  /** Do not fetch before this time (after a retriable partition error). */
  retryAt: number;
  /** Fetches in a row that gave bytes but no progress (no complete batch past the position); 0 after progress. */
  stalls: number;
  /** When the current run of stalls began; and when one was last reported (0: never). */
  stalledSince: number;
  reportedAt: number;
  highWatermark: number;
}

/** Defined with every other error class in src/errors.ts; re-exported where it is raised. */
export { LogTruncationError };

/** The outcome of comparing our position with the leader's end offset for our last fetched epoch. */
export type EpochCheck =
  | { kind: 'ok' }
  | { kind: 'truncated'; offset: number; epoch: number }
  | { kind: 'unknown' };

/**
 * KIP-320's rule: the new leader's log ends at `endOffset` for our last fetched epoch (or the largest epoch
 * below it, `endEpoch`). A position beyond that end read records the new leader never had: continue from the
 * end. An undefined answer (-1) means the leader knows nothing of our epoch: the position cannot be trusted.
 */
export function checkEpochEnd(fetchOffset: number, endEpoch: number, endOffset: number): EpochCheck {
  if (endOffset < 0 || endEpoch < 0) return { kind: 'unknown' };
  if (endOffset < fetchOffset) return { kind: 'truncated', offset: endOffset, epoch: endEpoch };
  return { kind: 'ok' };
}

/** A partition's answer to ListOffsets / OffsetForLeaderEpoch, as the fetcher acts on it. */
export type PositionAnswer =
  | { state: PartitionState; ok: true; offset: number; epoch: number }
  | { state: PartitionState; ok: false; error: KafkaError; refreshMetadata: boolean };

function failure(state: PartitionState, code: number, api: string): PositionAnswer {
  return { state, ok: false, error: brokerError(code, { api, topic: state.topic, partition: state.partition }), refreshMetadata: errorByCode(code).refreshMetadata };
}

function byTopic(states: readonly PartitionState[]): Map<string, PartitionState[]> {
  const m = new Map<string, PartitionState[]>();
  for (const s of states) {
    const list = m.get(s.topic);
    if (list) list.push(s);
    else m.set(s.topic, [s]);
  }
  return m;
}

/** ListOffsets for `states` (all led by `broker`): the earliest or latest offset of each, per its `resetTo`. */
export async function listOffsets(broker: Broker, states: readonly PartitionState[], isolationLevel: number, timeoutMs: number): Promise<PositionAnswer[]> {
  const topics = byTopic(states);
  const res = await broker.request(ListOffsets, {
    replicaId: -1, isolationLevel, timeoutMs,
    topics: [...topics].map(([name, list]) => ({
      name, partitions: list.map((s) => ({ partitionIndex: s.partition, currentLeaderEpoch: s.leaderEpoch, timestamp: s.resetTo === 'earliest' ? -2n : -1n })),
    })),
  });
  const out: PositionAnswer[] = [];
  for (const t of res.topics) {
    for (const p of t.partitions) {
      const state = topics.get(t.name)?.find((s) => s.partition === p.partitionIndex);
      if (!state) continue;
      out.push(p.errorCode !== 0 ? failure(state, p.errorCode, 'ListOffsets') : { state, ok: true, offset: Number(p.offset), epoch: p.leaderEpoch });
    }
  }
  return out;
}

/** OffsetForLeaderEpoch for `states` (all led by `broker`): where the leader's log ends for each last fetched epoch. */
export async function epochEndOffsets(broker: Broker, states: readonly PartitionState[]): Promise<PositionAnswer[]> {
  const topics = byTopic(states);
  const res = await broker.request(OffsetForLeaderEpoch, {
    replicaId: -2,
    topics: [...topics].map(([topic, list]) => ({
      topic, partitions: list.map((s) => ({ partition: s.partition, currentLeaderEpoch: s.leaderEpoch, leaderEpoch: s.lastFetchedEpoch })),
    })),
  });
  const out: PositionAnswer[] = [];
  for (const t of res.topics) {
    for (const p of t.partitions) {
      const state = topics.get(t.topic)?.find((s) => s.partition === p.partition);
      if (!state) continue;
      out.push(p.errorCode !== 0 ? failure(state, p.errorCode, 'OffsetForLeaderEpoch') : { state, ok: true, offset: Number(p.endOffset), epoch: p.leaderEpoch });
    }
  }
  return out;
}
