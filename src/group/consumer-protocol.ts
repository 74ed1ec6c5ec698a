/**
 * The consumer protocol: the opaque bytes that the classic group protocol carries for consumers ("protocol type"
 * `consumer`). Each member puts a {@link ConsumerProtocolSubscription} in JoinGroup's protocol metadata; the leader
 * runs an assignor and hands each member a {@link ConsumerProtocolAssignment} through SyncGroup. The broker never
 * reads either, so these bytes are a contract between clients: ours must be exactly what Kafka's Java client writes
 * (`ConsumerProtocol.serializeSubscription/serializeAssignment`) for mixed groups to work.
 *
 * Layout (Kafka's ConsumerProtocolSubscription.json / ConsumerProtocolAssignment.json, never flexible): an int16
 * version, then the fields of that version. Subscription v1 added owned partitions (KIP-429, cooperative
 * rebalancing), v2 the generation id (KIP-792), v3 the rack id (KIP-881). Assignment v0-v3 share one layout.
 *
 * Forward compatibility as Kafka defines it: a version newer than ours is read with our newest layout and the bytes
 * after it are ignored (new versions may only append fields). Hostile bytes fail with a {@link DecodeError}.
 */
import { DecodeError, InvalidArgumentError } from '../errors.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

/** The protocol type that JoinGroup carries for consumer groups. */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** Newest ConsumerProtocolSubscription / ConsumerProtocolAssignment version we write (Kafka 4.3 also stops at 3). */
export const CONSUMER_PROTOCOL_VERSION = 3;

/**
 * Assignor names that Go's Sarama also implements (its `BalanceStrategy` names). A Sarama leader up to at least
 * 1.38 (the one dp-kafka v4 pins) decodes subscriptions strictly with versions 0-1 only: it reads the topics, the
 * user data and, from v1, the owned partitions, then fails the whole JoinGroup round with "invalid length" when any
 * byte is left (a v2 generation id, a v3 rack). These protocols are eager, so owned partitions and the generation
 * serve no assignor of theirs; Java's sticky assignors fall back to the generation in their user data.
 */
const SARAMA_SHARED_ASSIGNORS: ReadonlySet<string> = new Set(['range', 'roundrobin', 'sticky']);

/**
 * The subscription version a member writes for the assignor (JoinGroup protocol) `assignorName`: 1 for the
 * protocols a Sarama/dp-kafka member can share (`range`, `roundrobin`, `sticky`), so that any member of a mixed group
 * can lead and read everyone's metadata; {@link CONSUMER_PROTOCOL_VERSION} for the others (`cooperative-sticky`
 * relies on KIP-429 owned partitions and KIP-792's generation, which only v2+ carries outside the user data; Sarama
 * cannot choose those protocols, so it never reads these bytes). The cost of v1: a Java leader running a rack-aware
 * `range` assignment (KIP-881) does not see our `rackId`; the assignment stays correct, only not rack-aware.
 */
export function subscriptionVersionFor(assignorName: string): number {
  return SARAMA_SHARED_ASSIGNORS.has(assignorName) ? 1 : CONSUMER_PROTOCOL_VERSION;
}

/** A topic and some of its partitions: Kafka's `TopicPartition` struct inside both messages. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** What a member tells the leader it wants (JoinGroup protocol metadata). */
export interface ConsumerProtocolSubscription {
  /** Subscribed topics. */
  topics: string[];
  /** Assignor-specific bytes (the sticky assignors' generation), or null. */
  userData: Buffer | null;
  /** Partitions the member owns now (v1+): lets cooperative assignors avoid moving them (KIP-429). */
  ownedPartitions: TopicPartitions[];
  /** Generation in which the owned partitions were assigned (v2+); -1 when unknown. */
  generationId: number;
  /** The member's `client.rack` (v3+), or null. */
  rackId: string | null;
}

/** What the leader hands a member (SyncGroup assignment). */
export interface ConsumerProtocolAssignment {
  assignedPartitions: TopicPartitions[];
  userData: Buffer | null;
}

/** What {@link encodeSubscription} takes: only the topics are required. */
export interface SubscriptionInput {
  topics: readonly string[];
  userData?: Uint8Array | null;
  ownedPartitions?: ReadonlyArray<{ readonly topic: string; readonly partitions: readonly number[] }>;
  generationId?: number;
  rackId?: string | null;
}

/** What {@link encodeAssignment} takes. */
export interface AssignmentInput {
  assignedPartitions: ReadonlyArray<{ readonly topic: string; readonly partitions: readonly number[] }>;
  userData?: Uint8Array | null;
}

/** A decoded message and the version it was written with (which may be newer than {@link CONSUMER_PROTOCOL_VERSION}). */
export type Versioned<T> = T & { version: number };

function checkVersion(version: number): void {
  if (!Number.isInteger(version) || version < 0 || version > CONSUMER_PROTOCOL_VERSION) {
    throw new InvalidArgumentError(`consumer protocol version ${version} is not in 0..${CONSUMER_PROTOCOL_VERSION}`);
  }
}

/**
 * Subscription bytes as Java's `ConsumerProtocol.serializeSubscription(subscription, version)` writes them: topics
 * sorted, owned partitions sorted by topic then partition and grouped per topic. Fields the version lacks are
 * dropped, as Java drops them (they are "ignorable").
 */
export function encodeSubscription(sub: SubscriptionInput, version = CONSUMER_PROTOCOL_VERSION): Buffer {
  checkVersion(version);
  const w = new Writer(64);
  w.int16(version);
  w.array([...sub.topics].sort(compareStrings), (wr, t) => wr.string(t));
  w.nullableBytes(sub.userData ?? null);
  if (version >= 1) writeTopicPartitions(w, groupSorted(sub.ownedPartitions ?? []));
  // Java keeps a negative generation as "none" and writes -1 for it.
  if (version >= 2) w.int32(sub.generationId !== undefined && sub.generationId >= 0 ? sub.generationId : -1);
  if (version >= 3) w.nullableString(sub.rackId ?? null);
  return Buffer.from(w.finish());
}

/**
 * Assignment bytes as Java's `ConsumerProtocol.serializeAssignment` writes them: topics in the order they first
 * appear (entries for one topic merged), partitions in the order given.
 */
export function encodeAssignment(assignment: AssignmentInput, version = CONSUMER_PROTOCOL_VERSION): Buffer {
  checkVersion(version);
  const w = new Writer(64);
  w.int16(version);
  writeTopicPartitions(w, mergeByTopic(assignment.assignedPartitions));
  w.nullableBytes(assignment.userData ?? null);
  return Buffer.from(w.finish());
}

/** Reads subscription bytes; `userData` is a view into `buf`. */
export function decodeSubscription(buf: Buffer): Versioned<ConsumerProtocolSubscription> {
  const r = new Reader(buf);
  const version = readVersion(r);
  const topics = r.array((x) => x.string(), 2);
  const userData = r.nullableBytes();
  const ownedPartitions = version >= 1 ? readTopicPartitions(r) : [];
  const generationId = version >= 2 ? r.int32() : -1;
  const rackId = version >= 3 ? r.nullableString() : null;
  return { version, topics, userData, ownedPartitions, generationId, rackId };
}

/** Reads assignment bytes; `userData` is a view into `buf`. */
export function decodeAssignment(buf: Buffer): Versioned<ConsumerProtocolAssignment> {
  const r = new Reader(buf);
  const version = readVersion(r);
  const assignedPartitions = readTopicPartitions(r);
  const userData = r.nullableBytes();
  return { version, assignedPartitions, userData };
}

function readVersion(r: Reader): number {
  const version = r.int16();
  if (version < 0) throw new DecodeError(`unsupported consumer protocol version ${version}`, 0);
  return version;
}

function readTopicPartitions(r: Reader): TopicPartitions[] {
  // Smallest element: an empty topic name (2 bytes) and an empty partition array (4 bytes).
  return r.array((x) => ({ topic: x.string(), partitions: x.array((y) => y.int32(), 4) }), 6);
}

function writeTopicPartitions(w: Writer, list: readonly TopicPartitions[]): void {
  w.array(list, (wr, tp) => {
    wr.string(tp.topic);
    wr.array(tp.partitions, (wp, p) => wp.int32(p));
  });
}

/** Java's String.compareTo: UTF-16 code units, which is also how JavaScript compares strings. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Owned partitions sorted by topic then partition, one entry per topic (Java sorts before grouping). */
function groupSorted(list: AssignmentInput['assignedPartitions']): TopicPartitions[] {
  const merged = mergeByTopic(list);
  merged.sort((a, b) => compareStrings(a.topic, b.topic));
  for (const tp of merged) tp.partitions.sort((a, b) => a - b);
  return merged;
}

/** One entry per topic in the order of its first partition, partitions concatenated (copies; the input is not touched). */
function mergeByTopic(list: AssignmentInput['assignedPartitions']): TopicPartitions[] {
  const byTopic = new Map<string, TopicPartitions>();
  for (const tp of list) {
    if (tp.partitions.length === 0) continue; // Java builds from a flat partition list: no empty entries
    const have = byTopic.get(tp.topic);
    if (have) have.partitions.push(...tp.partitions);
    else byTopic.set(tp.topic, { topic: tp.topic, partitions: [...tp.partitions] });
  }
  return [...byTopic.values()];
}
