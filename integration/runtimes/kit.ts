/**
 * What the runtime suites (integration/runtimes/*.test.ts) share. These suites run under the host Node with the
 * rest of the integration suites, and again, unchanged, under every other runtime test/run.ts finds (Node 22, 24,
 * 26, Bun, Deno; see test/runner/runtimes.ts) against the broker the host run started. So they use only the
 * public channel API and the plaintext Admin, and never the harness in a child runtime: the broker's listeners,
 * its CA and client certificate, and its users come from `KAFKA_RUNTIME_BROKER` (JSON of {@link RuntimeBroker})
 * that the host runner sets; without it (the host run itself) the harness's single node serves.
 */
import { Admin } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { ConsumerGroup } from '../../src/channels/consumer-group.js';
import { Producer } from '../../src/channels/producer.js';
import type { ConsumerGroupConfig, ProducerConfig } from '../../src/channels/config.js';
import type { Message } from '../../src/channels/message.js';

/** The broker's listeners and secrets, as a child runtime receives them. */
export interface RuntimeBroker {
  endpoints: { plaintext: string; saslPlaintext: string; ssl: string; saslSsl: string; mtls: string };
  tls: { caPem: string; otherCaPem: string; clientCertPem: string; clientKeyPem: string };
  users: { plain: { username: string; password: string }; scram: { username: string; password: string } };
}

/** The env variable a host runner passes the broker in. */
export const RUNTIME_BROKER_ENV = 'KAFKA_RUNTIME_BROKER';

/** The broker these suites use: the host runner's (env), else the harness's single node (host runs only). */
export async function runtimeBroker(): Promise<RuntimeBroker> {
  const env = process.env[RUNTIME_BROKER_ENV];
  if (env) return JSON.parse(env) as RuntimeBroker;
  // A runtime child (test/runner/runtimes.ts) must use its runner's broker, never start one of its own.
  if (process.env.TEST_RUNTIME_CHILD) throw new Error(`${RUNTIME_BROKER_ENV} is not set in this runtime child (${process.env.TEST_RUNTIME_CHILD}): its runner passes none`);
  const { singleNode } = await import('../harness/index.js');
  const node = await singleNode();
  return { endpoints: node.endpoints, tls: node.tls, users: node.users };
}

/** Which runtime runs this file, for titles and messages: `bun 1.4.5`, `deno 2.9.6` or `node v22.23.3`. */
export function runtimeName(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return `node ${process.version}`;
}

/** A topic name unique to this runtime and moment. */
export function topicName(what: string): string {
  const rt = runtimeName().split(' ')[0];
  return `rt-${rt}-${what}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}

/** Creates a topic through the plaintext listener. */
export async function createTopic(broker: RuntimeBroker, topic: string, partitions: number): Promise<void> {
  const cl = new Cluster({ bootstrap: [broker.endpoints.plaintext] });
  try { await new Admin(cl).createTopics([{ name: topic, numPartitions: partitions, replicationFactor: 1 }]); } finally { await cl.close(); }
}

/** Resolves once `cond` holds; rejects naming `what` after `ms`. */
export async function waitUntil(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One record as the consumer saw it. */
export interface Seen { key: string; value: string; header: string | undefined; partition: number; offset: number }

/**
 * Produces `count` records (key, value and a header) through `Producer.channels.output` with `producer`'s
 * settings, then consumes them with one ConsumerGroup using `consumer`'s; returns what arrived, in arrival order.
 * Fails on any error reported by either side.
 */
export async function roundTrip(topic: string, count: number, producer: Omit<ProducerConfig, 'topic'>,
  consumer: Omit<ConsumerGroupConfig, 'topic' | 'groupName'>): Promise<Seen[]> {
  const errors: unknown[] = [];
  const p = new Producer({ minBrokersHealthy: 1, ...producer, topic });
  void (async () => { for await (const e of p.channels.errors) errors.push(e); })();
  try {
    await p.channels.ready.wait();
    for (let i = 0; i < count; i++) {
      const msg = { key: `k${i}`, value: `value-${i}-${'x'.repeat(i % 50)}`, headers: [{ key: 'h', value: `h${i}` }] };
      if (!p.channels.output.trySend(msg)) await p.channels.output.send(msg);
    }
  } finally {
    await p.close();
  }
  if (errors.length > 0) throw new Error(`producer reported ${errors.length} error(s), first: ${String(errors[0])}`);
  const seen: Seen[] = [];
  const g = new ConsumerGroup({ minBrokersHealthy: 1, ...consumer, topic, groupName: `${topic}-g`, heartbeatIntervalMs: 1000 });
  void (async () => { for await (const e of g.channels.errors) errors.push(e); })();
  g.registerHandler(async (m: Message) => {
    seen.push({ key: m.key?.toString() ?? '', value: m.value?.toString() ?? '', header: m.getHeader('h'), partition: m.partition, offset: m.offset });
  });
  try {
    g.start();
    await waitUntil(`${count} records (have ${seen.length})`, () => seen.length >= count || errors.length > 0, 60_000);
  } finally {
    await g.close({ signal: AbortSignal.timeout(20_000) });
  }
  if (errors.length > 0) throw new Error(`consumer reported ${errors.length} error(s), first: ${String(errors[0])}`);
  return seen;
}

/** Checks that `seen` holds each of the `count` records {@link roundTrip} sent, once, intact. */
export function checkAll(seen: Seen[], count: number): string | undefined {
  if (seen.length !== count) return `got ${seen.length} records, sent ${count}`;
  const byKey = new Map(seen.map((s) => [s.key, s]));
  for (let i = 0; i < count; i++) {
    const s = byKey.get(`k${i}`);
    if (!s) return `record k${i} missing`;
    if (s.value !== `value-${i}-${'x'.repeat(i % 50)}`) return `record k${i} has value ${s.value}`;
    if (s.header !== `h${i}`) return `record k${i} has header ${String(s.header)}`;
  }
  return undefined;
}
