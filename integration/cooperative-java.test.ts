/**
 * A live consumer group mixing Kafka's Java 4.x consumer (ConsoleConsumer, `group.protocol=classic`) and ours under
 * `cooperative-sticky` (KIP-429 incremental rebalancing), on the real broker; assignors-mixed-java.test.ts checks
 * the same pairing byte by byte without a group. Two scenarios, leadership arranged by join order (the coordinator
 * makes the first member of an empty group its leader): ours leads, Java leads. Each goes through
 *   1. two members (one ours, one Java), a batch of records: every record consumed;
 *   2. a third member (ours) joins while a batch is produced, then another batch: the group is Stable again with
 *      three members each holding partitions under protocol `cooperative-sticky`, and every record is consumed;
 *   3. one of ours leaves cleanly (the leader in the first scenario, a follower in the second), then a batch: the
 *      two left hold every partition and every record is consumed.
 * Overall every record is consumed exactly once (leaves are clean and commits have time to land). Our handlers take
 * a while per record, so a partition handed to its new owner in the same rebalance that revokes it from its old one
 * (not KIP-429) shows up as a duplicate: with our assignor's withholding of moving partitions removed, "ours leads"
 * fails that way. The suite ends by printing the table of produced / consumed per member / lost / duplicated.
 */
import * as assert from 'uvu/assert';
import { suite } from '../test/kit.js';
import { Cluster } from '../src/client/cluster.js';
import { ConsumerGroup } from '../src/channels/consumer-group.js';
import { Producer } from '../src/channels/producer.js';
import type { Message } from '../src/channels/message.js';
import { brokers } from './harness/index.js';
import { commitsBehind, createTopicAndWait, describe, javaConsumer, type GroupView, waitFor } from './mixed-group-kit.js';

const s = suite('cooperative-sticky with Java, live', { timeoutMs: 300_000 });

const PARTITIONS = 6;
const BATCH = 60;
const SESSION_MS = 6000;
const PHASES = ['first', 'joining', 'joined', 'left'] as const;
/**
 * Our handler's time per record: records are still in hand when a partition moves, so a partition handed to its new
 * owner before the old one has revoked it (and committed) would be read twice.
 */
const HANDLE_MS = 20;

interface Member { name: string; values(): string[]; leave(): Promise<void>; diagnostics(): string }

function ours(name: string, bootstrap: string[], topic: string, group: string): Member {
  const values: string[] = [];
  const errors: string[] = [];
  const g = new ConsumerGroup({
    brokerAddrs: bootstrap, topic, groupName: group, clientId: name, assignors: ['cooperative-sticky'], minBrokersHealthy: 1,
    messageConsumeTimeout: SESSION_MS, heartbeatIntervalMs: 1000, autoCommitIntervalMs: 200,
  });
  const drain = (): void => {
    for (let r = g.channels.errors.tryRecv(); r !== undefined && !r.done; r = g.channels.errors.tryRecv()) errors.push(`${r.value.name}: ${r.value.message}`);
  };
  g.registerHandler(async (m: Message) => {
    values.push(m.value!.toString());
    await new Promise((r) => setTimeout(r, HANDLE_MS));
  });
  g.start();
  return {
    name, values: () => values, leave: () => g.close(),
    diagnostics: () => { drain(); return `state ${g.state}; errors: ${errors.slice(-5).join(' | ')}`; },
  };
}

function java(name: string, bootstrap: string[], topic: string, group: string): Member {
  const j = javaConsumer({
    name, bootstrap, topic, group, sessionMs: SESSION_MS, assignorClass: 'CooperativeStickyAssignor',
    valuePattern: new RegExp(`^(${PHASES.join('|')})-\\d+$`), props: ['group.protocol=classic'],
  });
  return { name, values: j.values, leave: j.leave, diagnostics: j.diagnostics };
}

interface Row { scenario: string; leader: string; produced: number; consumed: string; lost: number; duplicated: number }
const table: Row[] = [];

/** Join order (the first leads; a third member, ours, joins later) and the member that leaves cleanly. */
const SCENARIOS = [
  { scenario: 'ours leads', first: ours, second: java, firstName: 'ours-1', secondName: 'java-1', leaver: 'ours-1' },
  { scenario: 'Java leads', first: java, second: ours, firstName: 'java-1', secondName: 'ours-1', leaver: 'ours-1' },
];

for (const sc of SCENARIOS) {
  s(`${sc.scenario}: a third member joins and one leaves, incrementally; every record exactly once`, async () => {
    const bootstrap = await brokers();
    const topic = `coop-java-${sc.firstName}-${Date.now()}`;
    const group = `${topic}-g`;
    const cl = new Cluster({ bootstrap });
    const members: Member[] = [];
    let producer: Producer | undefined; // made once the topic exists: its metadata lookup would auto-create it with 1 partition
    let produced = 0;
    const produce = async (phase: string): Promise<void> => {
      producer ??= new Producer({ brokerAddrs: bootstrap, topic, minBrokersHealthy: 1 });
      for (let i = 0; i < BATCH; i++, produced++) await producer.send({ key: `${phase}-${i}`, value: `${phase}-${i}` });
    };
    let lastView = '';
    const view = async (): Promise<GroupView> => {
      const d = await describe(cl, group);
      lastView = `${d.state} ${d.protocol} ${JSON.stringify([...d.members])}`;
      return d;
    };
    const diag = (): string => `group: ${lastView}\n${members.map((m) => `${m.name}: ${m.values().length} ${m.diagnostics()}`).join('\n')}`;
    const consumedAll = (): string[] => members.flatMap((m) => m.values());
    const expectAll = (what: string): Promise<void> => waitFor(what, () => new Set(consumedAll()).size >= produced, 30_000, diag);
    /** Stable under cooperative-sticky with exactly these members, each holding partitions, all partitions held. */
    const stableWith = (what: string, names: string[]): Promise<void> => waitFor(what, async () => {
      const d = await view();
      const held = [...d.members.values()].reduce((a, b) => a + b, 0);
      return d.state === 'Stable' && d.protocol === 'cooperative-sticky' && d.members.size === names.length
        && names.every((x) => (d.members.get(x) ?? 0) > 0) && held === PARTITIONS;
    }, 30_000, diag);
    try {
      await createTopicAndWait(bootstrap, topic, PARTITIONS, 30_000);

      members.push(sc.first(sc.firstName, bootstrap, topic, group));
      await stableWith(`${sc.firstName} joined`, [sc.firstName]);
      members.push(sc.second(sc.secondName, bootstrap, topic, group));
      await stableWith(`${sc.secondName} joined`, [sc.firstName, sc.secondName]);
      await produce('first');
      await expectAll('phase 1 (two members)');
      for (const m of members) assert.ok(m.values().length > 0, `${m.name} got a share`);

      const third = 'ours-2';
      members.push(ours(third, bootstrap, topic, group));
      await produce('joining'); // while the group rebalances
      await stableWith(`${third} joined`, [sc.firstName, sc.secondName, third]);
      await produce('joined');
      await expectAll('phase 2 (a third member joined)');

      assert.equal([...await commitsBehind(cl, group, topic, PARTITIONS, 30_000)], [], `commits landed before ${sc.leaver} leaves\n${diag()}`);
      const leaver = members.find((m) => m.name === sc.leaver)!;
      await leaver.leave();
      const stay = members.filter((m) => m !== leaver).map((m) => m.name);
      await stableWith(`${leaver.name} gone`, stay);
      await produce('left');
      await expectAll(`phase 3 (after ${leaver.name} left)`);
      await new Promise((r) => setTimeout(r, 1500)); // late duplicates would show now

      const all = consumedAll();
      const seen = new Map<string, number>();
      for (const v of all) seen.set(v, (seen.get(v) ?? 0) + 1);
      const duplicated = [...seen.values()].filter((n) => n > 1).length;
      let lost = 0;
      for (const phase of PHASES) for (let i = 0; i < BATCH; i++) if (!seen.has(`${phase}-${i}`)) lost++;
      table.push({
        scenario: sc.scenario, leader: sc.firstName, produced, lost, duplicated,
        consumed: members.map((m) => `${m.name}${m === leaver ? '(left)' : ''}=${m.values().length}`).join(' '),
      });
      assert.is(lost, 0, 'lost');
      const who = (v: string): string => `${v}: ${members.filter((m) => m.values().includes(v)).map((m) => `${m.name}×${m.values().filter((x) => x === v).length}`).join(' ')}`;
      assert.is(duplicated, 0, `duplicated: ${[...seen].filter(([, n]) => n > 1).slice(0, 5).map(([v]) => who(v)).join('; ')}\n${diag()}`);
      assert.is(all.length, produced);
      assert.is(produced, PHASES.length * BATCH);
    } finally {
      await producer?.close().catch(() => undefined);
      await Promise.all(members.map((m) => m.leave().catch(() => undefined)));
      await cl.close();
    }
  });
}

s('the table', () => {
  const head = ['scenario', 'leader', 'produced', 'consumed per member', 'lost', 'duplicated'];
  const rows = table.map((r) => [r.scenario, r.leader, String(r.produced), r.consumed, String(r.lost), String(r.duplicated)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(['', line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
  assert.is(table.length, SCENARIOS.length, 'every scenario reported');
});

s.run();
