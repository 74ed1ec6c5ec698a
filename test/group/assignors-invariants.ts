/**
 * Shared by the assignor unit tests and the comparison with Kafka's Java assignors: a seeded PRNG, random groups
 * (and whole rebalance histories driven by an assignor), and the properties every cooperative-sticky result must
 * have whatever equally good choice it made.
 */
import type { Assignor, GroupAssignment, GroupMember, TopicPartitions } from '../../src/group/assignors/index.js';
import { seededRandom } from '../../src/client/backoff.js';

/** The fixed-seed PRNG (mulberry32) shared with the library's backoff jitter. */
export const prng = seededRandom;

export const int = (rnd: () => number, lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
export const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

/** "topic:partition" keys of each member's assignment. */
export function flat(assignment: GroupAssignment): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [m, list] of assignment) out.set(m, keys(list));
  return out;
}

export function keys(list: readonly TopicPartitions[]): string[] {
  return list.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}:${p}`)).sort();
}

/** Assignment from member → ["topic", partition] pairs (the Java harness's shape). */
export function fromPairs(pairs: Record<string, Array<[string, number]>>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [m, list] of Object.entries(pairs)) out.set(m, list.map(([t, p]) => `${t}:${p}`).sort());
  return out;
}

/** Members for the next rebalance: each owns what it was given, at the next generation (a KIP-429 second round). */
export function nextRound(members: readonly GroupMember[], assignment: Map<string, string[]>): GroupMember[] {
  const generation = Math.max(0, ...members.map((m) => (m.subscription.generationId ?? -1) + 1));
  return members.map((m) => ({
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    subscription: { topics: m.subscription.topics, ownedPartitions: toTopicPartitions(assignment.get(m.memberId) ?? []), generationId: generation },
  }));
}

export function toTopicPartitions(list: readonly string[]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const k of list) {
    const i = k.lastIndexOf(':');
    const t = k.slice(0, i);
    byTopic.set(t, [...(byTopic.get(t) ?? []), Number(k.slice(i + 1))]);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

const claimsOf = (m: GroupMember): string[] => keys(m.subscription.ownedPartitions ?? []);

/** Problems with any assignment: unknown members or partitions, unsubscribed topics, a partition given twice. */
export function validityProblems(members: readonly GroupMember[], counts: ReadonlyMap<string, number>, a: Map<string, string[]>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  if (a.size !== members.length) problems.push(`${a.size} members in the result, ${members.length} in the group`);
  for (const m of members) {
    const mine = a.get(m.memberId);
    if (!mine) {
      problems.push(`${m.memberId} missing`);
      continue;
    }
    for (const k of mine) {
      const i = k.lastIndexOf(':');
      const topic = k.slice(0, i);
      const p = Number(k.slice(i + 1));
      if (!m.subscription.topics.includes(topic)) problems.push(`${k} given to ${m.memberId}, not subscribed`);
      if (!(p >= 0 && p < (counts.get(topic) ?? 0))) problems.push(`${k} does not exist`);
      if (seen.has(k)) problems.push(`${k} given to ${seen.get(k)} and ${m.memberId}`);
      seen.set(k, m.memberId);
    }
  }
  return problems;
}

/** KIP-429: a partition another member still claims is never given to a new owner in the same rebalance. */
export function cooperativeProblems(members: readonly GroupMember[], a: Map<string, string[]>): string[] {
  const claimedBy = new Map<string, string[]>();
  for (const m of members) for (const k of claimsOf(m)) claimedBy.set(k, [...(claimedBy.get(k) ?? []), m.memberId]);
  const problems: string[] = [];
  for (const m of members) {
    const mine = new Set(claimsOf(m));
    for (const k of a.get(m.memberId) ?? []) {
      const others = (claimedBy.get(k) ?? []).filter((o) => o !== m.memberId);
      if (!mine.has(k) && others.length > 0) problems.push(`${k} given to ${m.memberId} while ${others.join(',')} still own it`);
    }
  }
  return problems;
}

/** True when every member subscribes to the same topics (the sticky assignor's constrained case). */
export function equalSubscriptions(members: readonly GroupMember[]): boolean {
  const first = [...new Set(members[0]?.subscription.topics ?? [])].sort().join('\n');
  return members.every((m) => [...new Set(m.subscription.topics)].sort().join('\n') === first);
}

/** Partitions the subscribed members can take, in total. */
export function assignableTotal(members: readonly GroupMember[], counts: ReadonlyMap<string, number>): number {
  const topics = new Set(members.flatMap((m) => m.subscription.topics));
  return [...topics].reduce((sum, t) => sum + (counts.get(t) ?? 0), 0);
}

/** Equal subscriptions: nobody above ceil(total/n), and after the second round everybody within one. */
export function quotaProblems(members: readonly GroupMember[], counts: ReadonlyMap<string, number>, a: Map<string, string[]>, complete: boolean): string[] {
  if (members.length === 0 || !equalSubscriptions(members)) return [];
  const total = assignableTotal(members, counts);
  const maxQuota = Math.ceil(total / members.length);
  const sizes = members.map((m) => a.get(m.memberId)?.length ?? 0);
  const problems: string[] = [];
  if (Math.max(...sizes) > maxQuota) problems.push(`a member has ${Math.max(...sizes)} > ${maxQuota} partitions`);
  if (complete && Math.max(...sizes) - Math.min(...sizes) > 1) problems.push(`unbalanced: ${sizes.join(',')}`);
  if (complete && sizes.reduce((x, y) => x + y, 0) !== total) problems.push(`${sizes.reduce((x, y) => x + y, 0)} of ${total} assigned`);
  return problems;
}

/**
 * Equal subscriptions and claims that no two members share: the most owned partitions any balanced assignment can
 * leave in place (each member keeps up to its quota; `total % n` members may keep one more).
 */
export function mostKeepable(members: readonly GroupMember[], counts: ReadonlyMap<string, number>): number | undefined {
  if (members.length === 0 || !equalSubscriptions(members)) return undefined;
  const all = members.flatMap(claimsOf);
  if (new Set(all).size !== all.length) return undefined;
  const total = assignableTotal(members, counts);
  const minQuota = Math.floor(total / members.length);
  const valid = members.map((m) => claimsOf(m).filter((k) => {
    const i = k.lastIndexOf(':');
    return m.subscription.topics.includes(k.slice(0, i)) && Number(k.slice(i + 1)) < (counts.get(k.slice(0, i)) ?? 0);
  }).length);
  const extraSlots = total % members.length;
  return valid.reduce((s, v) => s + Math.min(v, minQuota), 0) + Math.min(extraSlots, valid.filter((v) => v > minQuota).length);
}

/** Claimed partitions that stayed with their claimant. */
export function kept(members: readonly GroupMember[], a: Map<string, string[]>): number {
  return members.reduce((sum, m) => {
    const mine = new Set(a.get(m.memberId) ?? []);
    return sum + claimsOf(m).filter((k) => mine.has(k)).length;
  }, 0);
}

/** Every property of one cooperative-sticky rebalance and of the second round that completes it. */
export function stickyProblems(assignor: Assignor, members: readonly GroupMember[], counts: ReadonlyMap<string, number>,
  first: Map<string, string[]>, second?: Map<string, string[]>): string[] {
  const round2 = nextRound(members, first);
  const followUp = second ?? flat(assignor.assign(round2, counts));
  const problems = [
    ...validityProblems(members, counts, first),
    ...cooperativeProblems(members, first),
    ...quotaProblems(members, counts, first, false),
    ...validityProblems(round2, counts, followUp).map((p) => `second round: ${p}`),
    ...cooperativeProblems(round2, followUp).map((p) => `second round: ${p}`),
    ...quotaProblems(round2, counts, followUp, true).map((p) => `second round: ${p}`),
  ];
  const best = mostKeepable(members, counts);
  if (best !== undefined && kept(members, followUp) !== best) {
    problems.push(`kept ${kept(members, followUp)} owned partitions over two rounds, ${best} could stay`);
  }
  return problems;
}

/**
 * Any subscriptions, complete assignment: no member could take a partition of one of its topics from a member
 * holding two or more partitions more than it (Java's `isBalanced` criterion).
 */
export function generalBalanceProblems(members: readonly GroupMember[], a: Map<string, string[]>): string[] {
  const owner = new Map<string, string>();
  for (const [m, list] of a) for (const k of list) owner.set(k, m);
  const size = (m: string): number => a.get(m)?.length ?? 0;
  const problems: string[] = [];
  for (const m of members) {
    for (const [k, other] of owner) {
      const topic = k.slice(0, k.lastIndexOf(':'));
      if (other !== m.memberId && m.subscription.topics.includes(topic) && size(m.memberId) + 1 < size(other)) {
        problems.push(`${k} could move from ${other} (${size(other)}) to ${m.memberId} (${size(m.memberId)})`);
        break;
      }
    }
  }
  return problems;
}
