import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { suite } from '../kit.js';
import {
  builtInAssignor, CooperativeStickyAssignor, RangeAssignor, rebalanceProtocolOf, RoundRobinAssignor, stickyMemberGeneration,
  type Assignor, type GroupMember,
} from '../../src/group/assignors/index.js';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  flat, generalBalanceProblems, int, nextRound, pick, prng, stickyProblems, toTopicPartitions,
} from './assignors-invariants.js';

const s = suite('assignors');

/** A member from a compact spec: topics, and owned partitions as "topic:partition". */
function member(memberId: string, topics: string[], owned: string[] = [], generationId = -1, groupInstanceId?: string): GroupMember {
  return { memberId, groupInstanceId, subscription: { topics, ownedPartitions: toTopicPartitions(owned), generationId } };
}

const counts = (o: Record<string, number>): Map<string, number> => new Map(Object.entries(o));
const run = (a: Assignor, members: GroupMember[], c: Record<string, number>): Record<string, string[]> =>
  Object.fromEntries(flat(a.assign(members, counts(c))));
const all = (id: string, topics: string[], owned?: string[], gen?: number): GroupMember => member(id, topics, owned, gen);

s('protocol names are those of the Java client and Sarama; cooperative only for cooperative-sticky', () => {
  assert.is(builtInAssignor('range').name, 'range');
  assert.is(builtInAssignor('roundrobin').name, 'roundrobin');
  assert.is(builtInAssignor('cooperative-sticky').name, 'cooperative-sticky');
  assert.equal(new RangeAssignor().supportedProtocols, ['eager']);
  assert.equal(new RoundRobinAssignor().supportedProtocols, ['eager']);
  assert.equal(new CooperativeStickyAssignor().supportedProtocols, ['cooperative', 'eager']);
});

s('rebalance protocol: cooperative only when every configured assignor supports it (Java\'s rule)', () => {
  assert.is(rebalanceProtocolOf([new CooperativeStickyAssignor()]), 'cooperative');
  assert.is(rebalanceProtocolOf([new CooperativeStickyAssignor(), new RangeAssignor()]), 'eager');
  const custom: Assignor = { name: 'mine', supportedProtocols: ['cooperative'], assign: () => new Map() };
  assert.throws(() => rebalanceProtocolOf([custom, new RangeAssignor()]), (e: unknown) => e instanceof InvalidArgumentError);
  assert.throws(() => rebalanceProtocolOf([]), (e: unknown) => e instanceof InvalidArgumentError);
});

s('range: the example of RangeAssignor\'s documentation', () => {
  const t = ['t0', 't1'];
  assert.equal(run(new RangeAssignor(), [all('C0', t), all('C1', t)], { t0: 3, t1: 3 }),
    { C0: ['t0:0', 't0:1', 't1:0', 't1:1'], C1: ['t0:2', 't1:2'] });
});

s('range: static members are ordered by group.instance.id, whatever their member ids (KIP-345)', () => {
  const t = ['t0', 't1'];
  // After a rolling bounce C0 became C3 and C1 became C2; instance ids keep I0 first (the documentation's example).
  const members = [member('C3', t, [], -1, 'I0'), member('C2', t, [], -1, 'I1')];
  assert.equal(run(new RangeAssignor(), members, { t0: 3, t1: 3 }), { C3: ['t0:0', 't0:1', 't1:0', 't1:1'], C2: ['t0:2', 't1:2'] });
  // Static members come before dynamic ones.
  assert.equal(run(new RangeAssignor(), [member('a', ['t']), member('z', ['t'], [], -1, 'I9')], { t: 3 }), { z: ['t:0', 't:1'], a: ['t:2'] });
});

s('range and roundrobin: members with different subscriptions (expected values recorded from Kafka 4.3.1)', () => {
  const members = [all('A', ['t', 'u']), all('B', ['u']), all('C', ['t', 'u']), all('D', ['u'])];
  assert.equal(run(new RangeAssignor(), members, { t: 2, u: 5 }), { A: ['t:0', 'u:0', 'u:1'], B: ['u:2'], C: ['t:1', 'u:3'], D: ['u:4'] });
  assert.equal(run(new RoundRobinAssignor(), members, { t: 2, u: 5 }), { A: ['t:0', 'u:1'], B: ['u:2'], C: ['t:1', 'u:3'], D: ['u:0', 'u:4'] });
});

s('roundrobin: the examples of RoundRobinAssignor\'s documentation', () => {
  const t = ['t0', 't1'];
  assert.equal(run(new RoundRobinAssignor(), [all('C0', t), all('C1', t)], { t0: 3, t1: 3 }),
    { C0: ['t0:0', 't0:2', 't1:1'], C1: ['t0:1', 't1:0', 't1:2'] });
  const members = [all('C0', ['t0']), all('C1', ['t0', 't1']), all('C2', ['t0', 't1', 't2'])];
  assert.equal(run(new RoundRobinAssignor(), members, { t0: 1, t1: 2, t2: 3 }),
    { C0: ['t0:0'], C1: ['t1:0'], C2: ['t1:1', 't2:0', 't2:1', 't2:2'] });
  assert.equal(run(new RoundRobinAssignor(), [all('C0', t), all('C1', t), all('C2', t)], { t0: 3, t1: 3 }),
    { C0: ['t0:0', 't1:0'], C1: ['t0:1', 't1:1'], C2: ['t0:2', 't1:2'] });
});

s('edge cases: no members, more members than partitions, empty and unknown topics', () => {
  for (const name of ['range', 'roundrobin', 'cooperative-sticky'] as const) {
    const a = builtInAssignor(name);
    assert.equal(a.assign([], counts({ t: 3 })), new Map(), name);
    const many = run(a, ['A', 'B', 'C', 'D'].map((id) => all(id, ['t'])), { t: 2 });
    assert.equal(Object.values(many).flat().sort(), ['t:0', 't:1'], name);
    assert.equal(Object.values(many).map((l) => l.length).sort(), [0, 0, 1, 1], name);
    // A topic with 0 partitions and one missing from metadata are skipped; a member subscribed to nothing gets nothing.
    const r = run(a, [all('A', ['t', 'u', 'missing']), all('B', ['t', 'u', 'missing']), all('C', [])], { t: 0, u: 2 });
    assert.equal(r, { A: ['u:0'], B: ['u:1'], C: [] }, name);
    assert.throws(() => a.assign([all('A', ['t']), all('A', ['t'])], counts({ t: 1 })), (e: unknown) => e instanceof InvalidArgumentError);
    assert.throws(() => a.assign([all('A', ['t'])], counts({ t: -1 })), (e: unknown) => e instanceof InvalidArgumentError);
  }
});

s('cooperative-sticky: fresh assignment and a member leaving (StickyAssignor\'s example 1, values from Kafka 4.3.1)', () => {
  const t = ['t0', 't1', 't2', 't3'];
  const c = { t0: 2, t1: 2, t2: 2, t3: 2 };
  const a = new CooperativeStickyAssignor();
  assert.equal(run(a, [all('C0', t), all('C1', t), all('C2', t)], c),
    { C0: ['t0:0', 't1:1', 't3:0'], C1: ['t0:1', 't2:0', 't3:1'], C2: ['t1:0', 't2:1'] });
  // C1 leaves: nobody else claims its partitions, so they move at once and C0/C2 keep everything they had.
  assert.equal(run(a, [all('C0', t, ['t0:0', 't1:1', 't3:0'], 1), all('C2', t, ['t1:0', 't2:1'], 1)], c),
    { C0: ['t0:0', 't0:1', 't1:1', 't3:0'], C2: ['t1:0', 't2:0', 't2:1', 't3:1'] });
});

s('cooperative-sticky: different subscriptions (StickyAssignor\'s example 2, values from Kafka 4.3.1)', () => {
  const a = new CooperativeStickyAssignor();
  const c = { t0: 1, t1: 2, t2: 3 };
  assert.equal(run(a, [all('C0', ['t0']), all('C1', ['t0', 't1']), all('C2', ['t0', 't1', 't2'])], c),
    { C0: ['t0:0'], C1: ['t1:0', 't1:1'], C2: ['t2:0', 't2:1', 't2:2'] });
  // C0 leaves: 5 of the 6 assignments stay (round robin would keep 3).
  assert.equal(run(a, [all('C1', ['t0', 't1'], ['t1:0', 't1:1'], 1), all('C2', ['t0', 't1', 't2'], ['t2:0', 't2:1', 't2:2'], 1)], c),
    { C1: ['t0:0', 't1:0', 't1:1'], C2: ['t2:0', 't2:1', 't2:2'] });
});

s('cooperative-sticky: KIP-429, a partition that moves is revoked in one rebalance and assigned in the next', () => {
  const a = new CooperativeStickyAssignor();
  const first = [all('C0', ['t'], ['t:0', 't:1', 't:2'], 1), all('C1', ['t'])];
  const r1 = run(a, first, { t: 3 });
  assert.equal(r1, { C0: ['t:0', 't:1'], C1: [] }); // t:2 leaves C0 but is not yet C1's
  const r2 = run(a, [all('C0', ['t'], r1.C0, 2), all('C1', ['t'], r1.C1, 2)], { t: 3 });
  assert.equal(r2, { C0: ['t:0', 't:1'], C1: ['t:2'] });
  // The same across topics when subscriptions differ (the general builder; values from Kafka 4.3.1).
  const g1 = run(a, [all('C0', ['t0', 't1'], ['t0:0', 't0:1', 't0:2', 't1:0', 't1:1', 't1:2'], 3), all('C1', ['t1'])], { t0: 3, t1: 3 });
  assert.equal(g1, { C0: ['t0:0', 't0:1', 't0:2'], C1: [] });
  const g2 = run(a, [all('C0', ['t0', 't1'], g1.C0, 4), all('C1', ['t1'], g1.C1, 4)], { t0: 3, t1: 3 });
  assert.equal(g2, { C0: ['t0:0', 't0:1', 't0:2'], C1: ['t1:0', 't1:1', 't1:2'] });
});

s('cooperative-sticky: conflicting claims settle by generation (values from Kafka 4.3.1)', () => {
  const a = new CooperativeStickyAssignor();
  // B's claim on t:1 is from an older generation: A keeps it; B's stale claim still blocks nothing else.
  assert.equal(run(a, [all('A', ['t'], ['t:0', 't:1'], 5), all('B', ['t'], ['t:1', 't:2'], 4), all('C', ['t'], [], 5)], { t: 4 }),
    { A: ['t:0', 't:1'], B: ['t:2'], C: ['t:3'] });
  // Same generation: neither keeps t:1, and whoever gets it must wait a rebalance.
  assert.equal(run(a, [all('A', ['t'], ['t:0', 't:1'], 5), all('B', ['t'], ['t:1', 't:2'], 5)], { t: 4 }), { A: ['t:0'], B: ['t:2', 't:3'] });
  // A member that dropped a topic gives its partitions up; they go to B only in the next round.
  assert.equal(run(a, [all('A', ['t0'], ['t0:0', 't0:1', 't1:0'], 2), all('B', ['t0', 't1'], ['t1:1'], 2)], { t0: 2, t1: 2 }),
    { A: ['t0:0', 't0:1'], B: ['t1:1'] });
});

s('cooperative-sticky: a member subscribed to nothing gets nothing, even first in order (Java gets this wrong)', () => {
  // Kafka 4.3.1 answers A: [t:2], C: [t:3] here: A, first in its HashMap, makes everyone look equally subscribed.
  const a = new CooperativeStickyAssignor();
  const r = run(a, [all('A', []), all('B', ['t'], ['t:0', 't:1'], 3), all('C', ['t'], [], 3)], { t: 4 });
  assert.equal(r, { A: [], B: ['t:0', 't:1'], C: ['t:2', 't:3'] });
});

s('cooperative-sticky: generation from the subscription (v2+), else from Java\'s user data', () => {
  const ud = (hex: string): Buffer => Buffer.from(hex, 'hex');
  assert.is(stickyMemberGeneration({ topics: [], generationId: 4, userData: ud('00000009') }), 4);
  assert.is(stickyMemberGeneration({ topics: [], generationId: -1, userData: ud('00000009') }), 9);
  assert.is(stickyMemberGeneration({ topics: [], userData: ud('0000') }), -1);
  assert.is(stickyMemberGeneration({ topics: [] }), -1);
  const a = new CooperativeStickyAssignor();
  assert.is(a.subscriptionUserData().toString('hex'), 'ffffffff');
  a.onAssignment({ assignedPartitions: [], userData: null }, 7);
  assert.is(a.subscriptionUserData().toString('hex'), '00000007');
});

/** Random rebalance histories through our own assignor; every round must keep the sticky and cooperative rules. */
s('cooperative-sticky: properties hold over 300 random rebalance histories', () => {
  const rnd = prng(0x68697374);
  const a = new CooperativeStickyAssignor();
  let rounds = 0;
  for (let h = 0; h < 300; h++) {
    const c = new Map<string, number>();
    for (let t = int(rnd, 1, 6); t > 0; t--) c.set(`topic-${t}`, int(rnd, 0, 12));
    const topics = [...c.keys()];
    const equal = rnd() < 0.5;
    const subscribe = (): string[] => (equal ? topics : topics.filter(() => rnd() < 0.6));
    let members: GroupMember[] = Array.from({ length: int(rnd, 1, 8) }, (_, i) => all(`m-${h}-${i}`, subscribe()));
    for (let r = 0; r < 6; r++, rounds++) {
      const first = flat(a.assign(members, c));
      const second = flat(a.assign(nextRound(members, first), c));
      const problems = [...stickyProblems(a, members, c, first, second), ...generalBalanceProblems(members, second)];
      assert.equal(problems, [], `history ${h} round ${r}: ${JSON.stringify(members)}`);
      members = nextRound(nextRound(members, first), second);
      const event = rnd();
      if (event < 0.3) members.push(all(`m-${h}-new${r}`, subscribe()));
      else if (event < 0.5 && members.length > 1) members.splice(int(rnd, 0, members.length - 1), 1);
      else if (event < 0.7 && !equal) pick(rnd, members).subscription.topics = subscribe();
      else if (event < 0.8) {
        const t = pick(rnd, topics);
        c.set(t, c.get(t)! + 1);
      }
    }
  }
  assert.is(rounds, 1800);
});

s('cooperative-sticky: a large group stays fast', () => {
  const topics = Array.from({ length: 20 }, (_, i) => `topic-${i}`);
  const c = new Map(topics.map((t) => [t, 50]));
  const members = Array.from({ length: 100 }, (_, i) => all(`member-${String(i).padStart(3, '0')}`, topics));
  const a = new CooperativeStickyAssignor();
  let t0 = performance.now();
  const first = flat(a.assign(members, c));
  const fresh = performance.now() - t0;
  // A member leaves and one with different topics joins: the general builder.
  const next = nextRound(members, first).slice(1);
  next.push(all('member-new', topics.slice(0, 5)));
  t0 = performance.now();
  const second = flat(a.assign(next, c));
  const general = performance.now() - t0;
  assert.equal(stickyProblems(a, next, c, second), []);
  assert.ok(fresh < 1000 && general < 5000, `fresh ${fresh.toFixed(0)} ms, general ${general.toFixed(0)} ms`);
});

s.run();
