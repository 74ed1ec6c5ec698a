/**
 * Share-group configuration: the consumer group's client settings and worker settings (one table owns them:
 * config.ts, whose resolver checks them here too), minus what belongs to partition-owning groups only (offsets,
 * assignors, session and rebalance timeouts: a share group's coordinator owns those, KIP-932), plus the
 * share fetch's record bound. Checked at once; one {@link InvalidArgumentError} lists every problem.
 */
import { InvalidArgumentError } from '../errors.js';
import { describeValue } from '../client/record-check.js';
import { resolveConsumerGroupConfig, type ConsumerGroupConfig, type ResolvedConsumerGroupConfig } from './config.js';

/** Settings of a {@link ShareGroup}. Durations in milliseconds. */
export interface ShareGroupConfig extends Omit<ConsumerGroupConfig, (typeof CONSUMER_ONLY)[number]> {
  /** The share group id (a share group's id must not be used by a consumer group). Required. */
  groupName: string;
  /** Longest a ShareFetch waits on the broker for records. Default 500 ms (Java's share consumer `fetch.max.wait.ms`); 0 … 2^31-1 ms. */
  fetchMaxWaitMs?: number;
  /** Records one ShareFetch may acquire (Java's `max.poll.records`): more means fewer requests, and more records under lock at once. Default 500; 1 … 100,000. */
  maxRecords?: number;
  /**
   * Where the group starts on partitions it has no state for, set on the group (its `share.auto.offset.reset`
   * config) at initialisation: 'oldest' = earliest, 'newest' = latest. A group-wide setting: it applies to every
   * member, Java's too. Default: unset, the group's config stands (Kafka's default is latest, so records written
   * before the group's first fetch are not delivered).
   */
  offset?: 'oldest' | 'newest';
}

/** Consumer-group settings a share group has no use for ('offset' it takes, with its own meaning: see ShareGroupConfig) (refused, so a copied config does not silently mislead). */
const CONSUMER_ONLY = ['messageConsumeTimeout', 'heartbeatIntervalMs', 'rebalanceTimeoutMs', 'autoCommitIntervalMs', 'assignors',
  'groupInstanceId', 'isolationLevel', 'maxPartitionFetchBytes', 'maxPartitionBufferedBytes', 'groupProtocol', 'groupRemoteAssignor'] as const;

/** Share-group defaults for what differs from a consumer group's. */
export const SHARE_GROUP_DEFAULTS = Object.freeze({ fetchMaxWaitMs: 500, maxRecords: 500 });
/** maxRecords range. */
export const MAX_RECORDS_RANGE = Object.freeze({ min: 1, max: 100_000 });

/** A resolved share-group config: the consumer-group fields it shares, resolved by config.ts, plus `maxRecords`. */
export type ResolvedShareGroupConfig = Omit<ResolvedConsumerGroupConfig, 'offset'> & {
  readonly maxRecords: number;
  readonly offset: 'oldest' | 'newest' | undefined;
  /** The client and worker settings as config.ts resolved them (what the shared connection and health helpers take). */
  readonly client: ResolvedConsumerGroupConfig;
};

/** Validates `config` and fills in the defaults; throws one InvalidArgumentError listing every problem. */
export function resolveShareGroupConfig(config: ShareGroupConfig): ResolvedShareGroupConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new InvalidArgumentError('share group config must be an object');
  const problems: string[] = [];
  let rest: Record<string, unknown>;
  let maxRecords: unknown;
  let offset: unknown;
  try {
    ({ maxRecords, offset, ...rest } = config as unknown as Record<string, unknown>);
  } catch (err) {
    throw new InvalidArgumentError(`share group config could not be read: ${err instanceof Error ? err.message : describeValue(err)}`, { cause: err });
  }
  for (const key of CONSUMER_ONLY) if (rest[key] !== undefined) problems.push(`${key} is a consumer group setting; a share group does not take it`);
  const records = maxRecords ?? SHARE_GROUP_DEFAULTS.maxRecords;
  if (typeof records !== 'number' || !Number.isInteger(records) || records < MAX_RECORDS_RANGE.min || records > MAX_RECORDS_RANGE.max) {
    problems.push(`maxRecords must be an integer in ${MAX_RECORDS_RANGE.min} … ${MAX_RECORDS_RANGE.max}, got ${describeValue(records)}`);
  }
  if (offset !== undefined && offset !== 'oldest' && offset !== 'newest') problems.push(`offset must be 'oldest' or 'newest', got ${describeValue(offset)}`);
  let resolved: ResolvedConsumerGroupConfig | undefined;
  try {
    resolved = resolveConsumerGroupConfig({ ...rest, fetchMaxWaitMs: rest.fetchMaxWaitMs ?? SHARE_GROUP_DEFAULTS.fetchMaxWaitMs } as unknown as ConsumerGroupConfig);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    problems.unshift(err.message.replace(/^invalid consumer group config:?\s*/, ''));
  }
  if (problems.length > 0 || resolved === undefined) throw new InvalidArgumentError(`invalid share group config: ${problems.join('; ')}`);
  return Object.freeze({ ...resolved, maxRecords: records as number, offset: offset as 'oldest' | 'newest' | undefined, client: resolved });
}
