/**
 * testcontainers path, for machines with a container runtime: one cp-kafka 8.x (Apache Kafka 4.x) container,
 * configured from the same server.properties map as the JVM node, its listeners published on the same host ports
 * so the advertised 127.0.0.1 addresses work from the host.
 */
import type { SingleNode } from './topology.js';
import { freePorts } from './topology.js';
import { singleNodeProperties, users, type SinglePorts } from './broker-config.js';
import { tlsMaterial } from './tls.js';

export const CONTAINER_IMAGE = process.env.KAFKA_IMAGE ?? 'confluentinc/cp-kafka:8.1.0';
const NO_RUNTIME = 'Could not find a working container runtime strategy';

/** Minimal view of the parts of testcontainers used here (it is a dev dependency loaded on demand). */
interface StartedContainer { stop(): Promise<unknown>; restart(): Promise<unknown>; exec(cmd: string[]): Promise<{ exitCode: number; output: string }> }

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
  const { GenericContainer, Wait } = await import('testcontainers');
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
    stop: async () => { throw new Error('stop/start of the broker needs the JVM harness (KAFKA_HARNESS=jvm)'); },
    start: async () => { throw new Error('stop/start of the broker needs the JVM harness (KAFKA_HARNESS=jvm)'); },
    logPaths: [],
  };
  void controller;
  return { node, stop: async () => { await started.stop(); } };
}
