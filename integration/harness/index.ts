/**
 * The integration harness: real Apache Kafka 4.x brokers for the suites, chosen in this order:
 *   1. `KAFKA_BROKERS=host:port,...`: that cluster serves the plaintext suites (`brokers()`);
 *   2. testcontainers, when a container runtime answers;
 *   3. Kafka's own jars from Maven Central, run as JVMs (Java 17 + Maven).
 * Suites that need every listener kind (`singleNode()`) or a cluster they can crash (`cluster()`) use 2 or 3.
 * Brokers started here stop when the process exits, on Ctrl-C and on failure; `npm run broker:start` keeps one.
 */
import { readFileSync, existsSync } from 'node:fs';
import { containerRuntimeAvailable, startContainerNode } from './container-broker.js';
import { killStaleNodes } from './jvm-node.js';
import { ClusterTopology, SingleNodeTopology, type Cluster, type SingleNode } from './topology.js';

export { kafkaLibsDir, kafkaClasspath, kafkaVersion } from './kafka-jars.js';
export type { Cluster, ClusterNode, SingleNode } from './topology.js';

let single: Promise<SingleNode> | undefined;
let clusterUp: Promise<ReturnType<typeof trackedCluster>> | undefined;
const stoppers: Array<() => Promise<void>> = [];
const syncKillers: Array<() => void> = [];
const logFiles = new Set<string>();

/** Bootstrap addresses of a plaintext cluster: KAFKA_BROKERS if set, else the harness's single node. */
export async function brokers(): Promise<string[]> {
  const env = process.env.KAFKA_BROKERS?.trim();
  if (env) return env.split(',').map((s) => s.trim()).filter(Boolean);
  return [(await singleNode()).endpoints.plaintext];
}

/**
 * One node with PLAINTEXT, SASL_PLAINTEXT (PLAIN, SCRAM-SHA-256/512), SSL, SASL_SSL and mutual-TLS listeners.
 * A test that stops it must start it again itself (in a `finally`); but a test that timed out keeps running in
 * the background (test/kit.ts cannot cancel it), so before handing the node out this waits for a stop or start
 * still in flight and starts the node again if an earlier test left it stopped. A test holding the node down on
 * purpose must therefore not call `singleNode()` or `brokers()` until it has started it again.
 */
export async function singleNode(): Promise<SingleNode> {
  single ??= startSingle().then(tracked).catch((err) => { single = undefined; throw err; });
  const node = await single;
  await settled();
  if (singleStopped) {
    console.warn('harness: an earlier test left the shared broker stopped; starting it again');
    await node.start();
  }
  return node;
}

/** Stops and starts of the harness's brokers run one at a time, so the checks above see a settled state. */
let transition: Promise<unknown> = Promise.resolve();
let singleStopped = false;

function serially<T>(fn: () => Promise<T>): Promise<T> {
  const next = transition.catch(() => undefined).then(fn);
  transition = next;
  return next;
}

async function settled(): Promise<void> {
  for (let seen = transition; ; seen = transition) {
    await seen.catch(() => undefined);
    if (seen === transition) return;
  }
}

/** The node with its stop/start serialised and its state remembered (a failed start leaves it stopped). */
function tracked(node: SingleNode): SingleNode {
  return {
    ...node,
    stop: () => serially(async () => { await node.stop(); singleStopped = true; }),
    start: () => serially(async () => { await node.start(); singleStopped = false; }),
    restart: () => serially(() => node.restart()),
  };
}

async function startSingle(): Promise<SingleNode> {
  killStaleNodes();
  if (await containerRuntimeAvailable()) {
    const { node, stop } = await startContainerNode();
    stoppers.push(stop);
    return node;
  }
  const topo = new SingleNodeTopology();
  // Registered before start-up, so a Ctrl-C during it leaves no JVM behind.
  syncKillers.push(() => { if (topo.owned) topo.node?.kill9Sync(); });
  const node = await topo.up();
  node.logPaths.forEach((p) => logFiles.add(p));
  if (topo.owned) stoppers.push(() => topo.down());
  return node;
}

/**
 * Three combined nodes (replication 3, min.insync.replicas 2) from Kafka's jars; nodes can be killed and restarted.
 * As with {@link singleNode}, nodes an earlier (perhaps timed-out) test left killed are started again first.
 */
export async function cluster(): Promise<Cluster> {
  clusterUp ??= startCluster().then(trackedCluster).catch((err) => { clusterUp = undefined; throw err; });
  const c = await clusterUp;
  await settled();
  const down = c.nodes.filter((n) => !c.isRunning(n.id)).map((n) => n.id);
  if (down.length > 0) {
    console.warn(`harness: an earlier test left node(s) ${down.join(', ')} of the cluster down; starting them again`);
    await c.startAll(down);
  }
  return c;
}

/** Kills and starts serialised; `startAll` starts nodes together (two lone controllers wait for each other). */
function trackedCluster(c: Cluster): Cluster & { startAll(ids: number[]): Promise<void> } {
  return {
    ...c,
    kill: (id) => serially(() => c.kill(id)),
    start: (id) => serially(() => c.start(id)),
    startAll: (ids) => serially(async () => { await Promise.all(ids.map((id) => c.start(id))); }),
  };
}

async function startCluster(): Promise<Cluster> {
  killStaleNodes();
  const topo = new ClusterTopology();
  syncKillers.push(() => { if (topo.owned) topo.nodes.forEach((n) => n.kill9Sync()); });
  const c = await topo.up();
  c.logPaths.forEach((p) => logFiles.add(p));
  if (topo.owned) stoppers.push(() => topo.down());
  return c;
}

/** Stops every broker this process started (kept `broker:start` brokers stay up). */
export async function stopAll(): Promise<void> {
  const list = stoppers.splice(0);
  await Promise.allSettled(list.map((stop) => stop()));
  syncKillers.splice(0);
  single = undefined;
  singleStopped = false;
  clusterUp = undefined;
}

/** The tail of every broker log this process used, for failure reports. */
export function brokerLogTails(lines = 60): string {
  return [...logFiles].filter(existsSync).map((f) => {
    const text = readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n');
    return `==> ${f} <==\n${text}`;
  }).join('\n\n');
}

let installed = false;
/** Kills this process's brokers however it ends: normal exit, Ctrl-C, SIGTERM, an uncaught error. */
export function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  const killAll = () => { for (const k of syncKillers.splice(0)) { try { k(); } catch { /* already gone */ } } };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => { killAll(); process.exit(sig === 'SIGINT' ? 130 : 143); });
  }
  process.on('uncaughtException', (err) => { console.error(err); killAll(); process.exit(1); });
}

export { runKafkaTool, tools } from './java-tools.js';
