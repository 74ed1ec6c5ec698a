/**
 * testcontainers path, for machines with a container runtime: one cp-kafka 8.x (Apache Kafka 4.x) container,
 * configured from the same server.properties map as the JVM node, its listeners published on the same host ports
 * so the advertised 127.0.0.1 addresses work from the host. `stop()`/`start()` stop and start that same container
 * (its data and SCRAM users kept, same ports), as the JVM node's do.
 *
 * What this path does NOT give (see integration/harness/needs.ts, which the test runner uses to skip, counted and
 * explained, the suites that need them when only a container engine is here): Kafka's Java tools (they run as
 * `java -cp .kafka/libs/*` on the host), the 3-node cluster (JVMs from the jars), and the test certificates
 * (made with the JDK's keytool on the host, integration/harness/tls.ts).
 */
import type { SingleNode } from './topology.js';
import { freePorts } from './topology.js';
import { singleNodeProperties, users, type SinglePorts } from './broker-config.js';
import { tlsMaterial } from './tls.js';

export const CONTAINER_IMAGE = process.env.KAFKA_IMAGE ?? 'confluentinc/cp-kafka:8.1.0';
const NO_RUNTIME = 'Could not find a working container runtime strategy';

/** Minimal view of the parts of testcontainers used here (it is a dev dependency loaded on demand). */
interface StartedContainer { getId(): string; stop(): Promise<unknown>; restart(): Promise<unknown>; exec(cmd: string[]): Promise<{ exitCode: number; output: string }> }

/** The container client calls used to stop and start the same container (testcontainers' own `stop()` removes it). */
interface RuntimeClient { container: { getById(id: string): unknown; stop(c: unknown, opts?: { timeout: number /* ms */ }): Promise<void>; start(c: unknown): Promise<void> } }

/** Resolves once the broker in the container answers on its plaintext listener (its own tool, inside), or throws. */
async function waitForBroker(started: StartedContainer, plaintext: number, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    const r = await started.exec(['kafka-broker-api-versions', '--bootstrap-server', `127.0.0.1:${plaintext}`]).catch((e: Error) => ({ exitCode: -1, output: e.message }));
    if (r.exitCode === 0) return;
    last = r.output;
    await new Promise((res) => setTimeout(res, 1_000));
  }
  throw new Error(`the container's broker did not answer within ${timeoutMs} ms: ${last.slice(-500)}`);
}

/** True when testcontainers finds a container runtime; false on its "no runtime" error; rethrows anything else. */
export async function containerRuntimeAvailable(): Promise<boolean> {
  if (process.env.KAFKA_HARNESS === 'jvm') return false;
  try {
    const tc = await import('testcontainers');
    await tc.getContainerRuntimeClient();
    return true;
  } catch (err) {
    if (err instanceof Error && err.message.includes(NO_RUNTIME)) return false;
    throw err;
  }
}

/** Kafka's property names as the image's environment: KAFKA_ + upper case, '.'→'_', '_'→'__', '-'→'___'. */
function toEnv(props: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) {
    env['KAFKA_' + k.replace(/_/g, '__').replace(/-/g, '___').replace(/\./g, '_').toUpperCase()] = v;
  }
  return env;
}

/** Starts the single node in a container; resolves with the same shape as the JVM topology. */
export async function startContainerNode(): Promise<{ node: SingleNode; stop: () => Promise<void> }> {
  const tc = await import('testcontainers');
  const { GenericContainer, Wait } = tc;
  const client = await tc.getContainerRuntimeClient() as unknown as RuntimeClient;
  const tls = tlsMaterial();
  const [plaintext, controller, saslPlaintext, ssl, saslSsl, mtls] = await freePorts(6);
  const ports: SinglePorts = { plaintext: plaintext!, controller: controller!, saslPlaintext: saslPlaintext!, ssl: ssl!, saslSsl: saslSsl!, mtls: mtls! };
  const secrets = '/etc/kafka/secrets';
  const hostTls = { ...tls, brokerKeystore: `${secrets}/broker.p12`, truststore: `${secrets}/truststore.p12` };
  const props = singleNodeProperties(ports, '/var/lib/kafka/data', hostTls);
  // Inside the container the listeners bind all interfaces; the advertised addresses stay 127.0.0.1:<host port>.
  props.listeners = props.listeners!.replace(/127\.0\.0\.1/g, '0.0.0.0').replace(`CONTROLLER://0.0.0.0`, 'CONTROLLER://127.0.0.1');
  const started = await new GenericContainer(CONTAINER_IMAGE)
    .withEnvironment({ ...toEnv(props), CLUSTER_ID: 'kafka-channels-test-cl' })
    .withCopyFilesToContainer([
      { source: tls.brokerKeystore, target: `${secrets}/broker.p12` },
      { source: tls.truststore, target: `${secrets}/truststore.p12` },
    ])
    .withExposedPorts(...[ports.plaintext, ports.saslPlaintext, ports.ssl, ports.saslSsl, ports.mtls].map((p) => ({ container: p, host: p })))
    .withWaitStrategy(Wait.forLogMessage('Kafka Server started'))
    .withStartupTimeout(180_000)
    .start() as unknown as StartedContainer;
  // SCRAM users cannot be added at format time in the image; add them through the broker.
  for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
    const r = await started.exec(['kafka-configs', '--bootstrap-server', `127.0.0.1:${ports.plaintext}`, '--alter', '--entity-type', 'users',
      '--entity-name', users.scram.username, '--add-config', `${mech}=[password=${users.scram.password}]`]);
    if (r.exitCode !== 0) throw new Error(`adding SCRAM user failed: ${r.output}`);
  }
  const at = (p: number) => `127.0.0.1:${p}`;
  const node: SingleNode = {
    endpoints: { plaintext: at(ports.plaintext), saslPlaintext: at(ports.saslPlaintext), ssl: at(ports.ssl), saslSsl: at(ports.saslSsl), mtls: at(ports.mtls) },
    tls, users,
    restart: async () => { await started.restart(); },
    // `docker stop` / `docker start` of the same container: data, users and port bindings stay.
    stop: async () => { await client.container.stop(client.container.getById(started.getId()), { timeout: 10_000 }); },
    start: async () => {
      await client.container.start(client.container.getById(started.getId()));
      await waitForBroker(started, ports.plaintext);
    },
    logPaths: [],
  };
  void controller;
  return { node, stop: async () => { await started.stop(); } };
}
