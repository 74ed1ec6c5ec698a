import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { suite } from '../kit.js';
import {
  CONSUMER_PROTOCOL_VERSION, decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription,
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

s.run();
