/**
 * server.properties for the two topologies the suites use, as key/value maps (one source for the JVM broker and
 * for the container's KAFKA_* environment). KRaft combined mode (broker + controller), static quorum.
 */
import type { TlsMaterial } from './tls.js';

export type Properties = Record<string, string>;

/** Credentials the single node accepts. PLAIN users live in JAAS; SCRAM users are added when storage is formatted. */
export const users = {
  plain: { username: 'alice', password: 'alice-secret' },
  scram: { username: 'scram-alice', password: 'scram-alice-secret' },
  admin: { username: 'admin', password: 'admin-secret' },
};

export interface SinglePorts { plaintext: number; controller: number; saslPlaintext: number; ssl: number; saslSsl: number; mtls: number }

/** Settings that keep a test broker small and quick (Kafka's own TestUtils does the same). */
function common(): Properties {
  return {
    'process.roles': 'broker,controller',
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'num.partitions': '1',
    'auto.create.topics.enable': 'true',
    'group.initial.rebalance.delay.ms': '0',
    'offsets.topic.num.partitions': '5',
    'transaction.state.log.num.partitions': '5',
    'log.cleaner.dedupe.buffer.size': '2097152',
    'num.network.threads': '2',
    'num.io.threads': '4',
    'background.threads': '2',
    'group.consumer.min.heartbeat.interval.ms': '500',
    'group.consumer.heartbeat.interval.ms': '500',
    'group.min.session.timeout.ms': '1000',
    // KIP-848 groups: a member that dies is expelled after 6 s (Kafka's 45 s default, which is also its minimum)
    'group.consumer.min.session.timeout.ms': '1000',
    'group.consumer.session.timeout.ms': '6000',
    // KIP-932 share groups (on by default since Kafka 4.2): heartbeats every 500 ms rather than 5 s, so a new member
    // gets its assignment (computed after the join) within a second, as consumer groups above.
    'group.share.min.heartbeat.interval.ms': '500',
    'group.share.heartbeat.interval.ms': '500',
  };
}

/** One node with PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL and mutual-TLS listeners on 127.0.0.1. */
export function singleNodeProperties(ports: SinglePorts, logDir: string, tls: TlsMaterial): Properties {
  const host = '127.0.0.1';
  const listeners = `PLAINTEXT://${host}:${ports.plaintext},SASL_PLAINTEXT://${host}:${ports.saslPlaintext},SSL://${host}:${ports.ssl},` +
    `SASL_SSL://${host}:${ports.saslSsl},MTLS://${host}:${ports.mtls}`;
  const plainJaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required ' +
    `user_${users.admin.username}="${users.admin.password}" user_${users.plain.username}="${users.plain.password}";`;
  const scramJaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  const props: Properties = {
    ...common(),
    'node.id': '1',
    'controller.quorum.voters': `1@${host}:${ports.controller}`,
    listeners: `${listeners},CONTROLLER://${host}:${ports.controller}`,
    'advertised.listeners': listeners,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,MTLS:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
    'log.dirs': logDir,
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': tls.brokerKeystore,
    'ssl.keystore.password': tls.password,
    'ssl.key.password': tls.password,
    'ssl.truststore.type': 'PKCS12',
    'ssl.truststore.location': tls.truststore,
    'ssl.truststore.password': tls.password,
    'listener.name.mtls.ssl.client.auth': 'required',
  };
  for (const listener of ['sasl_plaintext', 'sasl_ssl']) {
    props[`listener.name.${listener}.plain.sasl.jaas.config`] = plainJaas;
    props[`listener.name.${listener}.scram-sha-256.sasl.jaas.config`] = scramJaas;
    props[`listener.name.${listener}.scram-sha-512.sasl.jaas.config`] = scramJaas;
  }
  // KIP-368: SCRAM-SHA-512 sessions on SASL_PLAINTEXT last 3 s, so a test can watch the client re-authenticate.
  props['listener.name.sasl_plaintext.scram-sha-512.connections.max.reauth.ms'] = '3000';
  return props;
}

/** `--add-scram` arguments for kafka-storage format: the SCRAM user under both hash functions. */
export function scramFormatArgs(): string[] {
  const { username, password } = users.scram;
  return ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${username},password=${password}]`]);
}

export interface ClusterPorts { plaintext: number; controller: number }

/** Node `id` of a 3-node cluster: replication 3, min.insync.replicas 2, fast fencing of a killed node. */
export function clusterNodeProperties(id: number, all: ClusterPorts[], logDir: string): Properties {
  const host = '127.0.0.1';
  const me = all[id - 1]!;
  return {
    ...common(),
    'node.id': String(id),
    'controller.quorum.voters': all.map((p, i) => `${i + 1}@${host}:${p.controller}`).join(','),
    listeners: `PLAINTEXT://${host}:${me.plaintext},CONTROLLER://${host}:${me.controller}`,
    'advertised.listeners': `PLAINTEXT://${host}:${me.plaintext}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': logDir,
    'default.replication.factor': '3',
    'min.insync.replicas': '2',
    'offsets.topic.replication.factor': '3',
    'transaction.state.log.replication.factor': '3',
    'transaction.state.log.min.isr': '2',
    'share.coordinator.state.topic.replication.factor': '3',
    'share.coordinator.state.topic.min.isr': '2',
    'broker.session.timeout.ms': '3000',
    'broker.heartbeat.interval.ms': '500',
  };
}

/** Java .properties text. Values here never hold newlines; backslashes are escaped. */
export function toPropertiesText(props: Properties): string {
  return Object.entries(props).map(([k, v]) => `${k}=${v.replace(/\\/g, '\\\\')}`).join('\n') + '\n';
}
