/**
 * Share-group acknowledgements (src/group/share/acknowledgements.ts) and the share session epoch: how
 * acknowledged offsets become Kafka's AcknowledgementBatches, and what each acknowledgement's promise says.
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { AcknowledgeType, PendingAcknowledgements, toBatches, type AcknowledgeTypeCode } from '../../src/group/share/acknowledgements.js';
import { nextShareEpoch, saneRanges } from '../../src/group/share/share-session.js';

const s = suite('share group acknowledgements');

const types = (entries: [number, AcknowledgeTypeCode][]): Map<number, AcknowledgeTypeCode> => new Map(entries);

s('runs of consecutive offsets become one batch; one type when the run agrees, one per offset when not', () => {
  const { accept, release, reject } = AcknowledgeType;
  assert.equal(toBatches(types([[5, accept], [3, accept], [4, accept], [9, reject]])), [
    { firstOffset: 3n, lastOffset: 5n, acknowledgeTypes: [accept] },
    { firstOffset: 9n, lastOffset: 9n, acknowledgeTypes: [reject] },
  ]);
  assert.equal(toBatches(types([[10, accept], [11, release], [12, accept]])), [
    { firstOffset: 10n, lastOffset: 12n, acknowledgeTypes: [accept, release, accept] },
  ]);
  assert.equal(toBatches(new Map()), []);
});

s('pending acknowledgements: one outcome per partition and request; taking empties; abandon settles false', async () => {
  const p = new PendingAcknowledgements();
  const a = p.add(0, 1, AcknowledgeType.accept);
  const b = p.add(0, 2, AcknowledgeType.accept);
  const c = p.add(1, 7, AcknowledgeType.reject);
  assert.is(a, b, 'messages of one partition in one request share one outcome');
  assert.is(p.size, 3);
  const t0 = p.take(0)!;
  assert.is(t0.count, 2);
  assert.equal(t0.batches, [{ firstOffset: 1n, lastOffset: 2n, acknowledgeTypes: [1] }]);
  assert.is(p.take(0), undefined);
  const later = p.add(0, 3, AcknowledgeType.release);
  assert.is.not(later, a, 'an acknowledgement after the take waits for the next request');
  t0.settle(true);
  assert.is(await a, true);
  assert.is(p.abandon(), 2);
  assert.is(await c, false);
  assert.is(await later, false);
  assert.is(p.size, 0);
});

s('the same offset twice before it is sent counts once (the last type wins)', () => {
  const p = new PendingAcknowledgements();
  void p.add(0, 4, AcknowledgeType.gap);
  void p.add(0, 4, AcknowledgeType.release);
  assert.is(p.size, 1);
  assert.equal(p.take(0)!.batches, [{ firstOffset: 4n, lastOffset: 4n, acknowledgeTypes: [AcknowledgeType.release] }]);
});

s('a range (a gap) is one batch however long, sorted among the record batches, counted by its length', async () => {
  const p = new PendingAcknowledgements();
  const out = p.add(0, 100, AcknowledgeType.accept);
  p.addRange(0, 1_000, 9_000_000, AcknowledgeType.gap);
  p.addRange(0, 0, 99, AcknowledgeType.gap);
  assert.is(p.size, 1 + 8_999_001 + 100);
  const t = p.take(0)!;
  assert.equal(t.batches, [
    { firstOffset: 0n, lastOffset: 99n, acknowledgeTypes: [0] },
    { firstOffset: 100n, lastOffset: 100n, acknowledgeTypes: [1] },
    { firstOffset: 1_000n, lastOffset: 9_000_000n, acknowledgeTypes: [0] },
  ]);
  assert.is(p.size, 0);
  t.settle(true);
  assert.is(await out, true);
});

s('acquired ranges from the broker: sorted; reversed, overlapping, negative, past 2^53 or with a delivery count below 1 are dropped', () => {
  const r = (first: bigint, last: bigint, deliveryCount = 1): { firstOffset: bigint; lastOffset: bigint; deliveryCount: number } => ({ firstOffset: first, lastOffset: last, deliveryCount });
  assert.equal(saneRanges([r(10n, 19n, 2), r(0n, 4n), r(3n, 8n), r(30n, 20n), r(-1n, 2n), r(40n, 2n ** 60n), r(50n, 50n, 0)]), [
    { first: 0, last: 4, count: 1 }, { first: 10, last: 19, count: 2 },
  ]);
});

s('share session epochs count up from 1 and wrap past int32 max to 1, never to 0 (open) or -1 (close)', () => {
  assert.is(nextShareEpoch(0), 1);
  assert.is(nextShareEpoch(41), 42);
  assert.is(nextShareEpoch(0x7fffffff), 1);
});

s.run();
