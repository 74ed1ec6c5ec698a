/**
 * kafka-channels: the public API. Everything exported here is supported; deeper modules are internal.
 * Mocks for users' own tests live at `kafka-channels/testing`.
 */
export * from './errors.js';

// Channels (Go-style) and select.
export { Chan, DONE } from './channels/chan.js';
export type { RecvResult } from './channels/chan.js';
export { select, trySelect } from './channels/select.js';
export type { SelectCase, RecvCase, SendCase, DefaultCase, Selected } from './channels/select.js';

// dp-kafka's Producer and ConsumerGroup.
export { Producer, REQUEST_ID_HEADER } from './channels/producer.js';
export { ConsumerGroup } from './channels/consumer-group.js';
export type {
  ProducerConfig, ConsumerGroupConfig, ClientConfig, SecurityConfig, SaslConfig, Logger, OffsetReset, Compression, Acks,
  SaslMechanism, AssignorName,
} from './channels/config.js';
export { PRODUCER_DEFAULTS, CONSUMER_GROUP_DEFAULTS } from './channels/config.js';
export type { IProducer, IConsumerGroup, ProducerChannels, ConsumerGroupChannels, CloseOptions, RegisterOptions } from './channels/interfaces.js';
export type { Message, MessageHeader, ProducerMessage } from './channels/message.js';
export type { HeadersObject, OutputItem, SendableMessage } from './channels/producer-input.js';
export { ConsumerState, CONSUMER_STATES } from './channels/state.js';
export type { Handler, BatchHandler, Commiter, HandlerContext } from './channels/handlers.js';
export { shouldCommit } from './channels/handlers.js';
export type { GroupMetadata, OffsetToCommit } from './channels/producer-transactions.js';
export type { TransactionalProducer } from './channels/transactional-handlers.js';
export type { HealthCheck, HealthStatus, BrokerHealth } from './channels/health.js';

// Share groups (KIP-932): records shared by any number of workers, each acknowledged on its own.
export { ShareGroup, type ShareGroupChannels } from './channels/share-group.js';
export { SHARE_GROUP_DEFAULTS, type ShareGroupConfig } from './channels/share-group-config.js';
export { RejectRecordError, type ShareMessage, type ShareAcknowledgement } from './channels/share-message.js';
export type { ShareHandler, ShareBatchHandler } from './channels/share-workers.js';
export { ShareGroupAdmin, type ShareGroupDescription, type ShareGroupMember, type SharePartitionOffset } from './group/share/share-admin.js';

// Lower layers, for users who want the client without channels.
export { Cluster, type ClusterOptions } from './client/cluster.js';
export { Admin, OffsetSpec, ConfigResource, type NewTopic } from './client/admin.js';
export {
  GroupAdmin, type GroupType, type ListedGroup, type ListGroupsOptions, type GroupDescription, type GroupMemberDescription,
} from './group/group-admin.js';
export { retryDelay, sleep } from './client/backoff.js';

// Runtimes: how connections are opened (the `transport` option of Producer, ConsumerGroup and Cluster). The default
// is node:net / node:tls, loaded on first use; see Transport for a worked example on another runtime.
export type { Transport, TransportSocket, TransportConnectOptions, SocketReader } from './client/transport.js';
