import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { suite } from '../kit.js';
import {
  CONSUMER_PROTOCOL_VERSION, decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, subscriptionVersionFor,
} from '../../src/group/consumer-protocol.js';
import { DecodeError, InvalidArgumentError } from '../../src/errors.js';
import { prng, int } from './assignors-invariants.js';

const s = suite('consumer-protocol');

// Recorded from Kafka 4.3.1's ConsumerProtocol.serializeSubscription / serializeAssignment (integration/java/
// Assignors.java) for topics [orders, audit], user data 00000007, owned/assigned [orders-2, audit-0, orders-1],
// generation 7, rack "rack-a". Java sorts the subscription's topics and owned partitions; it keeps the
// assignment's order, grouping partitions under the topic's first appearance.
const JAVA_SUBSCRIPTION = [
  '0000000000020005617564697400066f72646572730000000400000007',
  '0001000000020005617564697400066f726465727300000004000000070000000200056175646974000000010000000000066f7264657273000000020000000100000002',
  '0002000000020005617564697400066f726465727300000004000000070000000200056175646974000000010000000000066f726465727300000002000000010000000200000007',
  '0003000000020005617564697400066f726465727300000004000000070000000200056175646974000000010000000000066f72646572730000000200000001000000020000000700067261636b2d61',
];
const JAVA_ASSIGNMENT_BODY = '0000000200066f7264657273000000020000000200000001000561756469740000000100000000ffffffff';

const subscription = {
  topics: ['orders', 'audit'],
  userData: Buffer.from('00000007', 'hex'),
  ownedPartitions: [{ topic: 'orders', partitions: [2] }, { topic: 'audit', partitions: [0] }, { topic: 'orders', partitions: [1] }],
  generationId: 7,
  rackId: 'rack-a',
};

s('subscription bytes equal Java\'s at every version', () => {
  JAVA_SUBSCRIPTION.forEach((hex, version) => assert.is(encodeSubscription(subscription, version).toString('hex'), hex, `v${version}`));
  assert.is(encodeSubscription(subscription).toString('hex'), JAVA_SUBSCRIPTION[3]);
});

s('assignment bytes equal Java\'s at every version', () => {
  const assignedPartitions = [{ topic: 'orders', partitions: [2] }, { topic: 'audit', partitions: [0] }, { topic: 'orders', partitions: [1] }];
  for (let v = 0; v <= 3; v++) {
    assert.is(encodeAssignment({ assignedPartitions }, v).toString('hex'), `000${v}${JAVA_ASSIGNMENT_BODY}`);
  }
});

s('reads Java\'s subscription bytes, dropping what each version lacks', () => {
  JAVA_SUBSCRIPTION.forEach((hex, version) => {
    const d = decodeSubscription(Buffer.from(hex, 'hex'));
    assert.is(d.version, version);
    assert.equal(d.topics, ['audit', 'orders']);
    assert.is(d.userData!.toString('hex'), '00000007');
    assert.equal(d.ownedPartitions, version >= 1 ? [{ topic: 'audit', partitions: [0] }, { topic: 'orders', partitions: [1, 2] }] : []);
    assert.is(d.generationId, version >= 2 ? 7 : -1);
    assert.is(d.rackId, version >= 3 ? 'rack-a' : null);
  });
});

s('reads Java\'s assignment bytes', () => {
  const d = decodeAssignment(Buffer.from(`0003${JAVA_ASSIGNMENT_BODY}`, 'hex'));
  assert.equal(d, { version: 3, assignedPartitions: [{ topic: 'orders', partitions: [2, 1] }, { topic: 'audit', partitions: [0] }], userData: null });
});

s('hand-derived minimal messages from the spec', () => {
  // int16 version 0 | int32 1 topic | int16 1 "t" | int32 -1 (null user data)
  assert.is(encodeSubscription({ topics: ['t'] }, 0).toString('hex'), '0000' + '00000001' + '0001' + '74' + 'ffffffff');
  // v1 adds int32 0 owned topics; v2 int32 -1 generation; v3 int16 -1 null rack
  assert.is(encodeSubscription({ topics: [] }, 3).toString('hex'), '0003' + '00000000' + 'ffffffff' + '00000000' + 'ffffffff' + 'ffff');
  assert.is(encodeAssignment({ assignedPartitions: [], userData: Buffer.alloc(0) }, 1).toString('hex'), '0001' + '00000000' + '00000000');
  // A negative generation means none, written as -1 (as Java's Subscription does).
  assert.is(encodeSubscription({ topics: [], generationId: -9 }, 2).toString('hex').slice(-8), 'ffffffff');
});

s('versions newer than ours are read with our newest layout (Kafka\'s forward compatibility)', () => {
  const v3 = encodeSubscription(subscription, 3);
  const future = Buffer.concat([v3, Buffer.from('00000001deadbeef', 'hex')]);
  future.writeInt16BE(9, 0);
  const d = decodeSubscription(future);
  assert.is(d.version, 9);
  assert.is(d.rackId, 'rack-a');
  assert.is(d.generationId, 7);
  const asg = Buffer.from(`0004${JAVA_ASSIGNMENT_BODY}ffff`, 'hex');
  assert.is(decodeAssignment(asg).version, 4);
  assert.equal(decodeAssignment(asg).assignedPartitions.length, 2);
});

s('user data is a view into the bytes (no copy)', () => {
  const buf = Buffer.from(JAVA_SUBSCRIPTION[3]!, 'hex');
  const d = decodeSubscription(buf);
  assert.is(d.userData!.buffer, buf.buffer);
});

s('rejects versions it cannot write, and negative versions on read', () => {
  assert.throws(() => encodeSubscription({ topics: [] }, 4), (e: unknown) => e instanceof InvalidArgumentError);
  assert.throws(() => encodeAssignment({ assignedPartitions: [] }, -1), (e: unknown) => e instanceof InvalidArgumentError);
  assert.throws(() => decodeSubscription(Buffer.from('ffff00000000ffffffff', 'hex')), (e: unknown) => e instanceof DecodeError);
  assert.is(CONSUMER_PROTOCOL_VERSION, 3);
});

s('hostile counts and lengths fail at once with DecodeError', () => {
  const bad = [
    '0000' + '7fffffff', // 2^31-1 topics in 0 bytes
    '0000' + 'ffffffff' + 'ffffffff', // null topic array
    '0000' + '00000001' + 'ffff' + 'ffffffff', // null topic name
    '0000' + '00000001' + '7fff', // topic name longer than the frame
    '0000' + '00000000' + '7ffffff0', // user data longer than the frame
    '0001' + '00000000' + 'ffffffff' + '00000001' + '0001' + '74' + '40000000', // 2^30 owned partitions
    '0003' + '00000000' + 'ffffffff' + '00000000' + '00000001' + 'fffe', // rack length -2
    '00', '',
  ];
  for (const hex of bad) {
    assert.throws(() => decodeSubscription(Buffer.from(hex, 'hex')), (e: unknown) => e instanceof DecodeError, hex);
  }
  assert.throws(() => decodeAssignment(Buffer.from('0000' + '00000001' + '0001' + '74' + '7fffffff', 'hex')), (e: unknown) => e instanceof DecodeError);
});

s('random mutations and truncations decode or fail with DecodeError, never anything else', () => {
  const rnd = prng(0x6d757461);
  const seeds = [...JAVA_SUBSCRIPTION.map((h) => Buffer.from(h, 'hex')), Buffer.from(`0002${JAVA_ASSIGNMENT_BODY}`, 'hex')];
  let failures = 0;
  for (let i = 0; i < 5000; i++) {
    const base = seeds[i % seeds.length]!;
    const b = Buffer.from(base.subarray(0, rnd() < 0.3 ? int(rnd, 0, base.length) : base.length));
    for (let k = int(rnd, 1, 4); k > 0 && b.length > 0; k--) b[int(rnd, 0, b.length - 1)] = int(rnd, 0, 255);
    for (const decode of [decodeSubscription, decodeAssignment]) {
      try {
        decode(b);
      } catch (err) {
        assert.ok(err instanceof DecodeError, String(err));
        failures++;
      }
    }
  }
  assert.ok(failures > 1000, `${failures} rejections`);
});

// --- Sarama 1.38.1 (pinned by dp-kafka v4) ------------------------------------------------------------------------
// Facts from its source (consumer_group_members.go, encoder_decoder.go, real_decoder.go, consumer_group.go):
// - JoinGroupResponse.GetMembers decodes every member's metadata with `decode`, which fails with "invalid length"
//   unless every byte was read. ConsumerGroupMemberMetadata.decode reads int16 version, string array, bytes and,
//   for version >= 1 only, the owned partitions (an array of string + int32 array); nothing after that.
// - SyncGroupResponse.GetMemberAssignment decodes the assignment as int16 version, array of (string, int32 array),
//   bytes, strictly too, whatever the version.
// - It writes ConsumerGroupMemberMetadata{Topics, UserData} with Version 0, topics in the order given; assignments
//   with Version 0 and user data nil for range / roundrobin (written as length -1).
// The model below is that decoder, so these tests say what a dp-kafka member does with our bytes.

/** Sarama 1.38's strict subscription decoder: the topics and owned partitions, or the error it would report. */
function saramaDecodeSubscription(buf: Buffer): { topics: string[]; owned: Record<string, number[]> } | string {
  const r = strictReader(buf);
  try {
    const version = r.int16();
    const topics = r.array(() => r.string());
    r.bytes();
    const owned: Record<string, number[]> = {};
    if (version >= 1) {
      if (r.left() < 4) return r.end({ topics, owned }); // its "misbehaving 3rd party" allowance
      r.array(() => { const t = r.string(); owned[t] = r.array(() => r.int32()); });
    }
    return r.end({ topics, owned });
  } catch (err) {
    return (err as Error).message;
  }
}

/** Sarama 1.38's strict assignment decoder. */
function saramaDecodeAssignment(buf: Buffer): Record<string, number[]> | string {
  const r = strictReader(buf);
  try {
    r.int16();
    const topics: Record<string, number[]> = {};
    r.array(() => { const t = r.string(); topics[t] = r.array(() => r.int32()); });
    r.bytes();
    return r.end(topics);
  } catch (err) {
    return (err as Error).message;
  }
}

function strictReader(buf: Buffer) {
  let off = 0;
  const need = (n: number): void => { if (off + n > buf.length) throw new Error('insufficient data'); };
  const self = {
    left: () => buf.length - off,
    int16: () => { need(2); off += 2; return buf.readInt16BE(off - 2); },
    int32: () => { need(4); off += 4; return buf.readInt32BE(off - 4); },
    string: () => { const n = self.int16(); if (n < 0) throw new Error('invalid string length'); need(n); off += n; return buf.toString('utf8', off - n, off); },
    bytes: () => { const n = self.int32(); if (n < 0) return null; need(n); off += n; return buf.subarray(off - n, off); },
    array: <T>(f: () => T): T[] => { const n = self.int32(); if (n > buf.length - off) throw new Error('insufficient data'); return Array.from({ length: Math.max(n, 0) }, f); },
    end: <T>(v: T): T | string => (off === buf.length ? v : `invalid length (off=${off}, len=${buf.length})`),
  };
  return self;
}

// What Sarama 1.38 writes, by its encoder above (integration/dpkafka-interop.test.ts checks that the real Sarama,
// through the dp-kafka peer's `codec` command, writes exactly these bytes and rejects v2/v3 as modelled here): a dp-kafka member subscribing to [orders, audit] (roundrobin;
// user data nil), and the assignment its leader hands out: {orders: [0, 2]} (one topic, so no map-order question),
// and the empty assignment for a member it gave nothing.
const SARAMA_SUBSCRIPTION = '0000' + '00000002' + '0006' + '6f7264657273' + '0005' + '6175646974' + 'ffffffff';
const SARAMA_ASSIGNMENT = '0000' + '00000001' + '0006' + '6f7264657273' + '00000002' + '00000000' + '00000002' + 'ffffffff';
const SARAMA_EMPTY_ASSIGNMENT = '0000' + '00000000' + 'ffffffff';

s('the model of Sarama\'s decoder rejects what it must (so the checks below can fail)', () => {
  assert.equal(saramaDecodeSubscription(Buffer.from(SARAMA_SUBSCRIPTION, 'hex')), { topics: ['orders', 'audit'], owned: {} });
  for (let v = 2; v <= 3; v++) {
    assert.match(saramaDecodeSubscription(encodeSubscription(subscription, v)) as string, /^invalid length/, `v${v}`);
  }
  assert.match(saramaDecodeAssignment(Buffer.from(SARAMA_ASSIGNMENT + '00', 'hex')) as string, /^invalid length/);
});

s('the subscription we write for range and roundrobin is one Sarama 1.38 decodes, owned partitions included', () => {
  for (const name of ['range', 'roundrobin']) {
    const version = subscriptionVersionFor(name);
    const bytes = encodeSubscription(subscription, version);
    assert.equal(saramaDecodeSubscription(bytes), { topics: ['audit', 'orders'], owned: { audit: [0], orders: [1, 2] } }, name);
    const ours = decodeSubscription(bytes);
    assert.equal([ours.version, ours.topics, ours.ownedPartitions.length], [1, ['audit', 'orders'], 2]);
  }
  // cooperative-sticky (which Sarama cannot choose) keeps the newest version: KIP-792's generation, KIP-881's rack.
  assert.is(subscriptionVersionFor('cooperative-sticky'), CONSUMER_PROTOCOL_VERSION);
  assert.is(subscriptionVersionFor('my-custom'), CONSUMER_PROTOCOL_VERSION);
});

s('the assignment our leader writes is one Sarama 1.38 decodes, at every version', () => {
  const assignedPartitions = [{ topic: 'orders', partitions: [2] }, { topic: 'audit', partitions: [0] }, { topic: 'orders', partitions: [1] }];
  for (let v = 0; v <= CONSUMER_PROTOCOL_VERSION; v++) {
    assert.equal(saramaDecodeAssignment(encodeAssignment({ assignedPartitions }, v)), { orders: [2, 1], audit: [0] }, `v${v}`);
    assert.equal(saramaDecodeAssignment(encodeAssignment({ assignedPartitions: [] }, v)), {}, `empty v${v}`);
  }
});

s('reads what Sarama 1.38 writes: its v0 subscription, its assignments with nil user data', () => {
  const sub = decodeSubscription(Buffer.from(SARAMA_SUBSCRIPTION, 'hex'));
  assert.equal(sub, { version: 0, topics: ['orders', 'audit'], userData: null, ownedPartitions: [], generationId: -1, rackId: null });
  assert.equal(decodeAssignment(Buffer.from(SARAMA_ASSIGNMENT, 'hex')), { version: 0, assignedPartitions: [{ topic: 'orders', partitions: [0, 2] }], userData: null });
  assert.equal(decodeAssignment(Buffer.from(SARAMA_EMPTY_ASSIGNMENT, 'hex')), { version: 0, assignedPartitions: [], userData: null });
});

s.run();
