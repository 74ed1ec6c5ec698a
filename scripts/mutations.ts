/**
 * The mutations `scripts/mutate.ts` applies, one realistic bug each, in the mechanisms issue 23 names. A mutation
 * replaces `find` (an exact snippet that must occur exactly once in `file`) by `replace`; the unit suite should
 * then fail. `tests` are the test files (without `.test.ts`) to run first: when one of them fails, the whole
 * suite need not run. When the code a mutation targets changes, the script reports it as `invalid`: update the
 * snippet rather than deleting the mutation.
 */

/** One deliberate bug. */
export interface Mutation {
  /** Short unique name, for `--only`. */
  id: string;
  /** The mechanism it breaks, for `--mechanism` and the report's grouping. */
  mechanism: string;
  /** Repository-relative path of the source file. */
  file: string;
  /** Exact snippet of the file, occurring exactly once. */
  find: string;
  /** What replaces it. */
  replace: string;
  /** The bug it stands for, in a sentence. */
  why: string;
  /** Test files run first (repository-relative, without `.test.ts`). */
  tests: string[];
}

const CRC = 'src/protocol/crc32c.ts';
const DECODER = 'src/protocol/record-batch-decoder.ts';
const ENCODER = 'src/protocol/record-batch-encoder.ts';
const PARTITIONER = 'src/client/partitioner.ts';
const IDEMPOTENCE = 'src/client/idempotence.ts';
const ENGINE = 'src/client/producer-engine.ts';
const OFFSETS = 'src/group/offsets.ts';
const SESSION = 'src/client/fetch-session.ts';
const MEMBERSHIP = 'src/group/membership.ts';
const HEADERS = 'src/protocol/headers.ts';
const FEEDER = 'src/channels/claim-feeder.ts';
const BACKOFF = 'src/client/backoff.ts';
const SELECT = 'src/channels/select.ts';
const ACCUMULATOR = 'src/client/accumulator.ts';

const crcTests = ['test/protocol/crc32c', 'test/protocol/record-batch'];
const producerTests = ['test/client/producer-engine', 'test/client/accumulator'];
const sessionTests = ['test/client/fetch-session', 'test/client/fetcher'];
const groupTests = ['test/group/membership'];
const headerTests = ['test/protocol/headers', 'test/protocol/schema', 'test/protocol/apis', 'test/client/connection'];
const feederTests = ['test/channels/claim-feeder'];
const varintTests = ['test/protocol/primitives', 'test/protocol/schema', 'test/protocol/record-batch'];

export const MUTATIONS: Mutation[] = [
  // CRC-32C and its checks
  { id: 'crc-ieee-poly', mechanism: 'crc', file: CRC, find: 'const POLY = 0x82f63b78;', replace: 'const POLY = 0xedb88320;',
    why: 'CRC-32 (IEEE, zlib\'s) instead of CRC-32C (Castagnoli)', tests: crcTests },
  { id: 'crc-no-final-xor', mechanism: 'crc', file: CRC, find: 'return ~c >>> 0;', replace: 'return c >>> 0;',
    why: 'the final inversion forgotten', tests: crcTests },
  { id: 'crc-word-path-skips', mechanism: 'crc', file: CRC, find: 'i += done << 2;', replace: 'i += done << 3;',
    why: 'the slicing fast path (inputs of 128 bytes and more) advances twice too far', tests: crcTests },
  { id: 'crc-table-slice', mechanism: 'crc', file: CRC, find: 't[768 + (k & 0xff)]!', replace: 't[512 + (k & 0xff)]!',
    why: 'one wrong table in the 32-byte fold', tests: crcTests },
  { id: 'decoder-ignores-crc', mechanism: 'crc', file: DECODER, find: 'if (expected !== actual) throw', replace: 'if (expected !== actual && actual === 0) throw',
    why: 'a CRC mismatch is not an error', tests: crcTests },
  { id: 'encoder-crc-range', mechanism: 'crc', file: ENCODER, find: 'out.writeUInt32BE(crc32c(out, CRC_START, out.length), 17);',
    replace: 'out.writeUInt32BE(crc32c(out, CRC_START, out.length - 1), 17);', why: 'the produced CRC misses the last byte', tests: crcTests },
  { id: 'stamp-keeps-old-crc', mechanism: 'epoch-bump', file: IDEMPOTENCE, find: '  batch.writeUInt32BE(crc32c(batch, CRC_START, batch.length), 17);\n',
    replace: '', why: 're-stamping a batch after an epoch bump leaves the old CRC (the broker rejects it as corrupt)', tests: ['test/client/producer-engine', 'test/protocol/record-batch'] },
  { id: 'verify-crc-default-off', mechanism: 'verify-crc', file: DECODER, find: 'const verify = options.verifyCrc ?? true;',
    replace: 'const verify = options.verifyCrc ?? false;', why: 'the decoder checks no CRC unless asked', tests: crcTests },
  { id: 'fetcher-verify-crc-off', mechanism: 'verify-crc', file: 'src/client/fetcher.ts', find: 'verifyCrc: options.verifyCrc ?? true,',
    replace: 'verifyCrc: options.verifyCrc ?? false,', why: 'the fetcher checks no CRC by default (Java: check.crcs=true)', tests: ['test/client/fetcher'] },
  { id: 'corrupt-batch-skipped', mechanism: 'corrupt-batch', file: 'src/client/fetch-loop.ts',
    find: 'this.host.fail(st, partitionDecodeError(st, err));',
    replace: '', why: 'a batch that cannot be decoded is dropped silently (the partition refetches it forever, nobody is told)', tests: ['test/client/fetcher'] },

  // murmur2 and the key's partition
  { id: 'murmur-seed-no-length', mechanism: 'murmur2', file: PARTITIONER, find: 'let h = SEED ^ length;', replace: 'let h = SEED;',
    why: 'the seed is not mixed with the length', tests: ['test/client/partitioner'] },
  { id: 'murmur-signed-shift', mechanism: 'murmur2', file: PARTITIONER, find: 'k ^= k >>> 24;', replace: 'k ^= k >> 24;',
    why: "a signed shift where Java's is unsigned (>>>)", tests: ['test/client/partitioner'] },
  { id: 'murmur-tail-shift', mechanism: 'murmur2', file: PARTITIONER, find: 'if (tail === 3) h ^= data[end4 + 2]! << 16;',
    replace: 'if (tail === 3) h ^= data[end4 + 2]! << 8;', why: 'the third tail byte mixed in at the wrong position', tests: ['test/client/partitioner'] },
  { id: 'to-positive-abs', mechanism: 'murmur2', file: PARTITIONER, find: 'return n & 0x7fffffff;', replace: 'return Math.abs(n);',
    why: "Math.abs instead of Kafka's toPositive (sign bit cleared)", tests: ['test/client/partitioner'] },
  { id: 'utf8-surrogate-pair', mechanism: 'murmur2', file: PARTITIONER, find: 'c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);',
    replace: 'c = ((c - 0xd800) << 10) + (d - 0xdc00);', why: 'a string key outside the BMP (an emoji) is hashed as the wrong UTF-8 bytes', tests: ['test/client/partitioner'] },

  // idempotent sequences and epochs
  { id: 'seq-per-batch', mechanism: 'sequence', file: IDEMPOTENCE, find: 'this.next = addSequence(base, count);', replace: 'this.next = addSequence(base, 1);',
    why: 'sequences counted per batch instead of per record', tests: producerTests },
  { id: 'seq-wrap-negative', mechanism: 'sequence', file: IDEMPOTENCE, find: 'return (sequence + delta) % SEQUENCE_MODULUS;', replace: 'return (sequence + delta) | 0;',
    why: 'sequences wrap to negative numbers instead of 0 after 2^31 - 1', tests: producerTests },
  { id: 'seq-ack-off-by-one', mechanism: 'sequence', file: IDEMPOTENCE, find: 'const last = addSequence(baseSequence, count - 1);',
    replace: 'const last = addSequence(baseSequence, count);', why: "the acknowledged batch's last sequence is one too high", tests: producerTests },
  { id: 'seq-next-expected', mechanism: 'sequence', file: IDEMPOTENCE, find: 'return baseSequence === addSequence(this.lastAcked, 1);',
    replace: 'return baseSequence === this.lastAcked;', why: 'the "next expected sequence" test is off by one, so a real gap never bumps the epoch', tests: producerTests },
  { id: 'seq-not-restamped', mechanism: 'sequence', file: ENGINE, find: 'if (this.o.idempotent && batch.generation !== id.generation) {',
    replace: 'if (this.o.idempotent && batch.baseSequence < 0) {', why: 'a queued batch keeps its old sequence after an epoch bump', tests: producerTests },
  { id: 'seq-first-batch-not-alone', mechanism: 'sequence', file: ENGINE, find: 'q.inFlight >= (q.retrying > 0 || !q.sequence.hasAcknowledged ? 1 : this.o.maxInFlight)',
    replace: 'q.inFlight >= (q.retrying > 0 ? 1 : this.o.maxInFlight)', why: "an epoch's first batch does not go alone (a later one can overtake a refused first)", tests: producerTests },
  { id: 'epoch-sequences-kept', mechanism: 'epoch-bump', file: ENGINE, find: 'for (const q of this.accumulator.queues) q.sequence.reset();',
    replace: '', why: 'after an epoch bump the partitions do not start again at sequence 0', tests: producerTests },
  { id: 'epoch-overflow', mechanism: 'epoch-bump', file: IDEMPOTENCE, find: 'if (!this.hasId || this.epoch >= MAX_EPOCH) return false;',
    replace: 'if (!this.hasId) return false;', why: 'the epoch is bumped past the int16 maximum instead of asking for a new producer id', tests: producerTests },
  { id: 'epoch-unknown-producer', mechanism: 'epoch-bump', file: ENGINE, find: 'if (code === UNKNOWN_PRODUCER || q.sequence.isNextExpected(b.baseSequence))',
    replace: 'if (q.sequence.isNextExpected(b.baseSequence))', why: 'UNKNOWN_PRODUCER_ID (the broker lost our state) does not bump the epoch', tests: producerTests },
  { id: 'epoch-failed-batch-gap', mechanism: 'epoch-bump', file: ENGINE, find: "if (this.o.idempotent && b.attempts > 0) this.requestEpochChange('bump');",
    replace: '', why: 'a batch that failed after being sent leaves a sequence gap and no epoch bump', tests: producerTests },
  { id: 'stamp-epoch-offset', mechanism: 'epoch-bump', file: IDEMPOTENCE, find: 'const PRODUCER_EPOCH_OFFSET = 51;', replace: 'const PRODUCER_EPOCH_OFFSET = 50;',
    why: 're-stamping writes the epoch one byte early', tests: producerTests },

  // commit rule
  { id: 'mark-goes-back', mechanism: 'commit-rule', file: OFFSETS, find: 'if (next > m.next) {', replace: 'if (next !== m.next) {',
    why: 'an older mark moves the pending offset backwards', tests: ['test/group/offsets', 'test/group/session'] },
  { id: 'mark-below-committed', mechanism: 'commit-rule', file: OFFSETS, find: 'if (c && c.offset >= BigInt(next)) return undefined;',
    replace: '', why: 'a mark at or below the committed offset is committed again (the group rewinds)', tests: ['test/group/offsets'] },
  { id: 'commit-drops-newer-mark', mechanism: 'commit-rule', file: OFFSETS, find: 'if (m?.next === Number(o.offset)) this.dropMark(k, m);',
    replace: 'if (m) this.dropMark(k, m);', why: 'a mark made while a commit was on the wire is dropped when that commit ends', tests: ['test/group/offsets'] },
  { id: 'revoke-no-commit', mechanism: 'commit-rule', file: 'src/group/session.ts', find: 'await this.offsets.commit(stopped.map((c) => c.key));',
    replace: 'void stopped;', why: 'revoked partitions are released without committing their marks', tests: ['test/group/session', 'test/group/membership'] },
  { id: 'feeder-marks-offset', mechanism: 'commit-rule', file: FEEDER, find: 'this.claim.markNext(m.offset + 1,', replace: 'this.claim.markNext(m.offset,',
    why: "a message's mark commits its own offset rather than the next one (redelivered after a restart)", tests: ['test/channels/claim-feeder', 'test/channels/message'] },

  // fetch sessions (KIP-227)
  { id: 'session-ignores-last-epoch', mechanism: 'fetch-session', file: SESSION, find: 'a.lastFetchedEpoch !== b.lastFetchedEpoch || ', replace: '',
    why: 'a change of only lastFetchedEpoch is not sent in an incremental request', tests: sessionTests },
  { id: 'session-topic-id-error', mechanism: 'fetch-session', file: SESSION,
    find: 'errorCode === errorCodes.INVALID_FETCH_SESSION_EPOCH || errorCode === errorCodes.FETCH_SESSION_TOPIC_ID_ERROR',
    replace: 'errorCode === errorCodes.INVALID_FETCH_SESSION_EPOCH', why: 'FETCH_SESSION_TOPIC_ID_ERROR not treated as session loss', tests: sessionTests },
  { id: 'session-epoch-no-wrap', mechanism: 'fetch-session', file: SESSION, find: 'this.epoch = this.epoch >= 0x7fffffff ? 1 : this.epoch + 1;',
    replace: 'this.epoch = this.epoch + 1;', why: 'the session epoch passes the int32 maximum instead of wrapping to 1', tests: sessionTests },
  { id: 'session-no-forgotten', mechanism: 'fetch-session', file: SESSION, find: 'for (const [key, p] of this.held) if (!next.has(key)) forgotten.push(p);',
    replace: '', why: 'partitions no longer wanted are never named as forgotten (the broker keeps fetching them)', tests: sessionTests },
  { id: 'session-survives-lost-request', mechanism: 'fetch-session', file: SESSION, find: 'this.pending = undefined;\n    this.restart(this.id);\n  }\n\n  private',
    replace: 'this.pending = undefined;\n  }\n\n  private', why: 'after a request lost on the way the next request stays incremental, on a session of unknown state', tests: sessionTests },
  { id: 'session-unknown-id-kept', mechanism: 'fetch-session', file: SESSION, find: 'if (errorCode === errorCodes.FETCH_SESSION_ID_NOT_FOUND) { this.restart(0); return false; }',
    replace: 'if (errorCode === errorCodes.FETCH_SESSION_ID_NOT_FOUND) { this.restart(this.id); return false; }',
    why: 'a session the broker does not know is asked to be closed again instead of a new one being created', tests: sessionTests },

  // rejoin paths
  { id: 'coop-no-second-rebalance', mechanism: 'rejoin', file: MEMBERSHIP, find: "this.requestRejoin('partitions revoked');", replace: '',
    why: 'a cooperative revoke never asks for the second rebalance (the revoked partitions stay unowned)', tests: groupTests },
  { id: 'join-unknown-member-kept', mechanism: 'rejoin', file: MEMBERSHIP,
    find: "case errorCodes.UNKNOWN_MEMBER_ID:\n        this.requestRejoin('unknown member id', { memberId: true });",
    replace: "case errorCodes.UNKNOWN_MEMBER_ID:\n        this.requestRejoin('unknown member id');", why: 'JoinGroup UNKNOWN_MEMBER_ID keeps the stale member id (rejoins forever)', tests: groupTests },
  { id: 'leader-partition-growth', mechanism: 'rejoin', file: MEMBERSHIP, find: 'if (now !== n) {', replace: 'if (now < n) {',
    why: "the leader's partition-count check never rejoins when a topic grows", tests: groupTests },
  { id: 'heartbeat-rebalance-ignored', mechanism: 'rejoin', file: MEMBERSHIP,
    find: "this.lastHeartbeatOk = Date.now();\n        this.requestRejoin('rebalance in progress');", replace: 'this.lastHeartbeatOk = Date.now();',
    why: 'a heartbeat answered REBALANCE_IN_PROGRESS does not rejoin (the member is left out of the generation)', tests: groupTests },
  { id: 'failed-round-no-rejoin', mechanism: 'rejoin', file: MEMBERSHIP, find: 'this.rejoinNeeded = true;\n      if (this.retryAtOnce)', replace: 'if (this.retryAtOnce)',
    why: 'a failed join/sync round (undecodable assignment, void generation) leaves the member waiting in Starting for good', tests: groupTests },
  { id: 'join-void-generation', mechanism: 'rejoin', file: MEMBERSHIP, find: 'if (res.generationId < 0 || !res.memberId) {', replace: 'if (false) {',
    why: 'a JoinGroup accepted with generation -1 is taken as a generation', tests: groupTests },
  { id: 'start-offsets-all-or-nothing', mechanism: 'rejoin', file: 'src/group/session.ts', find: 'const starting: Promise<void>[] = [];',
    replace: 'await this.offsets.startOffsets(added);\n    const starting: Promise<void>[] = [];', why: 'one topic whose start offsets fail blocks (and hands back) the whole assignment', tests: groupTests },
  { id: 'start-offsets-no-split', mechanism: 'rejoin', file: 'src/group/session.ts', find: 'if (left.length > 1) {', replace: 'if (false) {',
    why: "one partition whose start offset cannot be had holds the other partitions of its topic", tests: groupTests },
  { id: 'session-not-retried', mechanism: 'session-retry', file: 'src/group/session-retry.ts', find: 'this.options.onRetrying?.(cause, delay);', replace: 'return;',
    why: 'a failed session (a fatal group error) ends consumption for good', tests: ['test/group/session-retry'] },
  { id: 'session-retry-slow-cause', mechanism: 'session-retry', file: 'src/group/session-retry.ts',
    find: 'const delay = isSlowRetryCause(cause) ? this.options.maxRetryPeriod : backoff.next();', replace: 'const delay = backoff.next();',
    why: 'an authorisation / fenced failure is retried at the fast end of the backoff', tests: ['test/group/session-retry'] },

  // health rules
  { id: 'health-has-topic-always', mechanism: 'health', file: 'src/channels/broker-health.ts', find: 'return t !== undefined && t.errorCode === 0 && t.partitions.length > 0;',
    replace: 'return true;', why: 'the health probe says every reachable broker has the topic', tests: ['test/channels/health'] },
  { id: 'health-no-init-from-check', mechanism: 'health', file: 'src/channels/health.ts', find: 'initialised = await source.initialise',
    replace: 'initialised = false && await source.initialise', why: "checker() never initialises when every broker is healthy (the seed's rule)", tests: ['test/channels/health'] },
  { id: 'health-probe-default-timeout', mechanism: 'health', file: 'src/channels/broker-health.ts', find: '}, config.requestTimeoutMs);', replace: '});',
    why: "the probe ignores the client's requestTimeoutMs (a silent broker holds checker() for the default)", tests: ['test/channels/health'] },
  { id: 'health-min-brokers', mechanism: 'health', file: 'src/channels/health.ts', find: "healthy >= view.minBrokersHealthy ? 'OK' : 'CRITICAL'",
    replace: "healthy > view.minBrokersHealthy ? 'OK' : 'CRITICAL'", why: 'exactly minBrokersHealthy healthy brokers is CRITICAL', tests: ['test/channels/health'] },
  { id: 'health-reachable-is-healthy', mechanism: 'health', file: 'src/channels/health.ts', find: 'if (b.reachable && b.hasTopic) healthy++;',
    replace: 'if (b.reachable) healthy++;', why: 'a reachable broker without the topic counts as healthy', tests: ['test/channels/health'] },

  // header encoding
  { id: 'header-api-versions-v1', mechanism: 'headers', file: HEADERS, find: 'flexible && api.apiKey !== API_VERSIONS_KEY ? 1 : 0', replace: 'flexible ? 1 : 0',
    why: 'the ApiVersions response read with header v1 (KIP-511: it is always v0)', tests: headerTests },
  { id: 'header-request-no-tags', mechanism: 'headers', file: HEADERS, find: 'w.int16(h.apiKey).int16(h.apiVersion).int32(h.correlationId).nullableString(h.clientId);\n  if (headerVersion >= 2)',
    replace: 'w.int16(h.apiKey).int16(h.apiVersion).int32(h.correlationId).nullableString(h.clientId);\n  if (headerVersion > 2)',
    why: 'request header v2 written without its tagged-field section', tests: headerTests },
  { id: 'header-tags-unsorted', mechanism: 'headers', file: HEADERS, find: 'for (const t of [...tags].sort((a, b) => a.tag - b.tag))', replace: 'for (const t of tags)',
    why: 'tagged fields written in the caller\'s order (Kafka requires ascending tags)', tests: headerTests },
  { id: 'record-header-key-utf16', mechanism: 'headers', file: ENCODER, find: "writeData(w, header.key, Buffer.byteLength(header.key, 'utf8'));",
    replace: 'writeData(w, header.key, header.key.length);', why: "a record header key's length in UTF-16 units instead of UTF-8 bytes", tests: ['test/protocol/record-batch', 'test/protocol/headers'] },
  { id: 'record-leading-headers-count', mechanism: 'headers', file: ENCODER, find: 'w.varint(leading.length + (headers === undefined ? 0 : headers.length));',
    replace: 'w.varint(headers === undefined ? 0 : headers.length);', why: "a producer's leading headers are written but not counted", tests: ['test/protocol/record-batch', 'test/client/producer-engine'] },

  // varints and compact lengths (every flexible request, every record)
  { id: 'varint-size-boundary', mechanism: 'varint', file: 'src/protocol/varint.ts', find: 'if (v < 0x4000) return 2;', replace: 'if (v <= 0x4000) return 2;',
    why: 'the size of the unsigned varint 16384 taken as 2 bytes (it is 3): a size prefix or tagged-field size one short', tests: varintTests },
  { id: 'varlong-number-size', mechanism: 'varint', file: 'src/protocol/varint.ts', find: 'Math.floor((value < 0 ? -value - 1 : value) / 64)',
    replace: 'Math.floor((value < 0 ? -value - 1 : value) / 128)', why: "a varlong's size counted as if zig-zag kept 7 bits in the first byte", tests: varintTests },
  { id: 'compact-bytes-length', mechanism: 'varint', file: 'src/protocol/writer.ts', find: 'return this.uvarint(b.length + 1).raw(b);',
    replace: 'return this.uvarint(b.length).raw(b);', why: 'compact bytes written without the +1 of their length prefix', tests: varintTests },

  // claim feeder
  { id: 'feeder-release-any', mechanism: 'claim-feeder', file: FEEDER, find: 'if (m !== this.out) return;', replace: '',
    why: 'releasing an old message again delivers the next one while another is still out', tests: feederTests },
  { id: 'feeder-no-withdraw', mechanism: 'claim-feeder', file: FEEDER, find: '      this.upstream.dequeue(this);\n', replace: '',
    why: 'a message queued when its claim ends is still delivered after the partition moved on', tests: feederTests },
  { id: 'feeder-runs-not-returned', mechanism: 'claim-feeder', file: FEEDER, find: '      if (this.cursor !== undefined) this.claim.consumed(this.cursor.run);\n', replace: '',
    why: 'walked fetched runs never go back to the fetcher (its byte budget runs out: the partition stalls)', tests: feederTests },

  // backoff
  { id: 'backoff-no-cycle', mechanism: 'backoff', file: BACKOFF, find: 'const step = (n - 1) % backoffCycleLength(minMs, maxMs);', replace: 'const step = Math.min(n - 1, 30);',
    why: 'the backoff never starts its cycle again (settles on the longest pause)', tests: ['test/client/backoff'] },
  { id: 'backoff-jitter-of-pause', mechanism: 'backoff', file: BACKOFF, find: 'Math.trunc((jitterPercent * minMs) / 100)', replace: 'Math.trunc((jitterPercent * 2 ** step * minMs) / 100)',
    why: 'jitter as a share of the pause instead of the minimum', tests: ['test/client/backoff'] },
  { id: 'backoff-cycle-length', mechanism: 'backoff', file: BACKOFF, find: 'Math.floor(Math.log2(ratio)) + 1', replace: 'Math.ceil(Math.log2(ratio)) + 1',
    why: 'one doubling too many per cycle (a pause past the maximum, capped)', tests: ['test/client/backoff'] },

  // channel select and the producer's accumulator
  { id: 'select-first-ready', mechanism: 'select', file: SELECT, find: 'if (ok && Math.random() * ++ready < 1) chosen = i;', replace: 'if (ok && chosen < 0) chosen = i;',
    why: 'select always takes the first ready case (a busy channel starves the others)', tests: ['test/channels/select'] },
  { id: 'select-losers-linked', mechanism: 'select', file: SELECT, find: '    this.release();\n    this.resolve(', replace: '    this.resolve(',
    why: "a waiting select's losing cases stay queued and later take values nobody receives", tests: ['test/channels/select'] },
  { id: 'acc-leading-headers-mixed', mechanism: 'accumulator', file: ACCUMULATOR, find: ' || batch.leadingHeaders !== leading\n', replace: '\n',
    why: 'records of sends with different leading headers share a batch (and its headers)', tests: ['test/client/accumulator'] },
  { id: 'acc-release-bytes', mechanism: 'accumulator', file: ACCUMULATOR, find: 'this.bufferedBytes -= batch.sizeBytes - RECORD_BATCH_HEADER_SIZE;',
    replace: 'this.bufferedBytes -= batch.sizeBytes;', why: 'the memory bound counts a batch header it never added (buffered bytes drift negative)', tests: ['test/client/accumulator'] },
  { id: 'acc-requeue-at-back', mechanism: 'accumulator', file: ACCUMULATOR, find: 'list.splice(i, 0, batch);', replace: 'list.push(batch);',
    why: 'a retried batch goes behind newer ones (records reordered)', tests: ['test/client/accumulator', 'test/client/producer-engine'] },
];
