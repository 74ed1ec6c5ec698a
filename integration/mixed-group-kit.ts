/**
 * Shared pieces of the mixed consumer-group suites (dpkafka-group.test.ts, cooperative-java.test.ts): polling for a
 * condition, the group as the coordinator describes it, and Kafka's Java console consumer as a group member.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Admin } from '../src/client/admin.js';
import { OffsetManager, tpKey } from '../src/group/offsets.js';
import { Cluster } from '../src/client/cluster.js';
import { GroupCoordinator } from '../src/group/coordinator.js';
import { decodeAssignment } from '../src/group/consumer-protocol.js';
import { kafkaClasspath, tools } from './harness/index.js';

/** Polls `cond` every 200 ms until it holds; rejects after `ms` with `what` and the diagnostics. */
export function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms: number, diag: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = async (): Promise<void> => {
      let ok = false;
      try { ok = await cond(); } catch { ok = false; }
      if (ok) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`${what}: not met in ${ms} ms\n${diag()}`));
      else setTimeout(() => void tick(), 200);
    };
    void tick();
  });
}

/**
 * Creates `topic` with `partitions` and waits until a fresh client sees all of them in metadata (a node can lag the
 * controller for a moment, and a producer made earlier would auto-create the topic with one partition).
 */
export async function createTopicAndWait(bootstrap: string[], topic: string, partitions: number, ms: number): Promise<void> {
  const cl = new Cluster({ bootstrap });
  try {
    await new Admin(cl).createTopics([{ name: topic, numPartitions: partitions }], { ignoreExisting: true });
  } finally {
    await cl.close();
  }
  let seen = '';
  await waitFor(`topic ${topic} with ${partitions} partitions in metadata`, async () => {
    const fresh = new Cluster({ bootstrap });
    try {
      const n = (await fresh.topic(topic, { deadlineMs: 5000 })).partitions.length;
      seen = `${n} partitions`;
      return n === partitions;
    } catch (err) {
      seen = String(err);
      return false;
    } finally {
      await fresh.close();
    }
  }, ms, () => seen);
}

/**
 * Waits up to `ms` for `group` to commit the log end offset of every partition of `topic` (every record produced so
 * far read and its commit landed), and returns how many records each partition still lacks then (empty: all
 * committed). A member reports a record before its commit lands (dp-kafka commits after its handler returns, Java
 * every 200 ms), so a rebalance started as soon as the last record is seen could hand a record out again: the
 * mixed-group suites wait here before each planned membership change, and what is still behind afterwards is that
 * member's own uncommitted window (Sarama drops a mark whose commit a rebalance refused).
 */
export async function commitsBehind(cl: Cluster, group: string, topic: string, partitions: number, ms: number): Promise<Map<number, number>> {
  const all = Array.from({ length: partitions }, (_, i) => i);
  const deadline = Date.now() + ms;
  for (;;) {
    const behind = new Map<number, number>();
    try {
      const end = await new Admin(cl).listOffsets(topic);
      const committed = await new OffsetManager(cl, new GroupCoordinator(cl, group), { groupId: group }).fetchCommitted([{ topic, partitions: all }]);
      for (const p of all) {
        const lag = Number((end.get(p) ?? 0n) - (committed.get(tpKey(topic, p))?.offset ?? 0n));
        if (lag !== 0) behind.set(p, lag);
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
      behind.set(-1, 0);
    }
    if (behind.size === 0 || Date.now() > deadline) return behind;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A group as DescribeGroups reports it: state, protocol (assignor) name, and partitions held per member client id. */
export interface GroupView { state: string; protocol: string; members: Map<string, number> }

/** The group as the coordinator sees it: its state and each member's client id with the partitions it holds. */
export async function describe(cl: Cluster, group: string): Promise<GroupView> {
  const broker = await new GroupCoordinator(cl, group).broker();
  const [g] = await new Admin(cl).describeGroups(broker, [group]);
  const members = new Map<string, number>();
  for (const m of g!.members) {
    const held = m.memberAssignment.length > 0 ? decodeAssignment(Buffer.from(m.memberAssignment)).assignedPartitions : [];
    members.set(m.clientId, held.reduce((n, tp) => n + tp.partitions.length, 0));
  }
  return { state: g!.groupState, protocol: g!.protocolData, members };
}

/** A Java console consumer in a group. */
export interface JavaMember {
  /** Record values printed so far (only those matching the suite's pattern), in order. */
  values(): string[];
  /** SIGTERM: its shutdown hook closes the consumer, which commits and sends LeaveGroup. */
  leave(): Promise<void>;
  /** SIGKILL: no LeaveGroup. */
  kill(): Promise<void>;
  /** The last lines of its stderr. */
  diagnostics(): string;
}

/**
 * Starts Kafka's ConsoleConsumer (from the harness's Kafka classpath) in `group` on `topic`, printing one value a
 * line; `assignorClass` is the simple name of a class in `org.apache.kafka.clients.consumer`; `valuePattern` picks
 * the record lines out of stdout (the tool may print other lines, a shutdown summary); `props` adds consumer
 * properties.
 */
export function javaConsumer(opts: {
  name: string; bootstrap: string[]; topic: string; group: string; assignorClass: string; sessionMs: number;
  valuePattern: RegExp; props?: string[];
} | {
  /** KIP-848 (`group.protocol=consumer`): the broker assigns and owns the session and heartbeat timings. */
  name: string; bootstrap: string[]; topic: string; group: string; groupProtocol: 'consumer'; valuePattern: RegExp; props?: string[];
}): JavaMember {
  const classic = 'assignorClass' in opts
    ? [`partition.assignment.strategy=org.apache.kafka.clients.consumer.${opts.assignorClass}`, `session.timeout.ms=${opts.sessionMs}`, 'heartbeat.interval.ms=1000']
    : ['group.protocol=consumer'];
  const props = [`client.id=${opts.name}`, ...classic, 'auto.commit.interval.ms=200', 'auto.offset.reset=earliest', ...(opts.props ?? [])];
  const child: ChildProcess = spawn('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Dlog4j2.level=warn',
    '-cp', kafkaClasspath(), tools.consoleConsumer, '--bootstrap-server', opts.bootstrap.join(','), '--topic', opts.topic,
    '--group', opts.group, ...props.flatMap((p) => ['--consumer-property', p])], { stdio: ['ignore', 'pipe', 'pipe'] });
  const values: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => { if (opts.valuePattern.test(l)) values.push(l); });
  createInterface({ input: child.stderr! }).on('line', (l) => { if (stderr.length < 2000) stderr.push(l); });
  let done = false;
  const exited = new Promise<void>((resolve) => child.on('exit', () => { done = true; resolve(); }));
  const stop = async (signal: NodeJS.Signals): Promise<void> => { if (!done) child.kill(signal); await exited; };
  return {
    values: () => values,
    leave: () => stop('SIGTERM'),
    kill: () => stop('SIGKILL'),
    diagnostics: () => `${opts.name}${done ? ` (exited ${child.exitCode ?? child.signalCode})` : ''}: ${stderr.slice(-10).join('\n')}`,
  };
}
