/**
 * Consumer groups (classic protocol): coordinator lookup, membership, assignors, offsets and sessions.
 * The channel layer's ConsumerGroup is built on {@link GroupConsumer}.
 */
export { GroupCoordinator, isCoordinatorMoved, type CoordinatorOptions } from './coordinator.js';
export {
  GroupMembership, isFatalGroupError, toTopicPartitions,
  type Generation, type MembershipListener, type MembershipOptions,
} from './membership.js';
export {
  OffsetManager, RebalanceNeededError, asRebalanceNeeded, splitKey, tpKey,
  type CommitIdentity, type InitialOffset, type OffsetAndEpoch, type OffsetManagerOptions,
} from './offsets.js';
export { ClaimedRecord, Claim, GroupSession, SessionManager, type GroupHandler, type SessionManagerOptions } from './session.js';
export { GroupConsumer, type GroupConsumerOptions } from './group-consumer.js';
export { RetryingGroupSession, isSlowRetryCause, type SessionRetryOptions } from './session-retry.js';
export * from './consumer-protocol.js';
export * from './assignors/index.js';
