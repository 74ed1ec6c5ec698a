/**
 * TLS, mutual TLS and SASL against the real broker's listeners: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 over
 * SASL_PLAINTEXT and SASL_SSL; CA, cert and key as inline PEM, `\n`-escaped PEM and file paths; an untrusted CA
 * and a missing client certificate as typed errors; a wrong password as ONE AuthenticationError, not a storm.
 * And health on every secured listener through Producer and ConsumerGroup `checker()`, before and after
 * initialisation (the probe connects with the client's TLS/SASL settings, issue 18).
 */
import * as assert from 'uvu/assert';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from '../test/kit.js';
import { singleNode } from './harness/index.js';
import { Broker, type BrokerOptions } from '../src/client/broker.js';
import { resolveTlsOptions, type TlsConfig } from '../src/client/tls-options.js';
import type { SaslConfig } from '../src/client/sasl/index.js';
import { Metadata } from '../src/protocol/apis/metadata.js';
import { AuthenticationError, KafkaError } from '../src/errors.js';
import { Admin } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { ConsumerGroup } from '../src/channels/consumer-group.js';
import { Producer } from '../src/channels/producer.js';
import type { ProducerConfig } from '../src/channels/config.js';
import { MSG_HEALTHY_CONSUMER_GROUP, MSG_HEALTHY_PRODUCER } from '../src/channels/health.js';

function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

const opened: Broker[] = [];
async function broker(address: string, tls: TlsConfig | undefined, sasl?: SaslConfig, extra: Partial<BrokerOptions> = {}): Promise<Broker> {
  const b = new Broker({ ...hostPort(address), tls: tls && await resolveTlsOptions(tls), sasl, connectTimeoutMs: 10_000, ...extra });
  opened.push(b);
  return b;
}

/** A request that needs an authenticated session: Metadata of the cluster. */
async function metadataOk(b: Broker): Promise<void> {
  const md = await b.request(Metadata, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  assert.ok(md.brokers.length >= 1);
  assert.ok(b.apiVersions!.size > 20);
}

const error = (p: Promise<unknown>) => p.then(() => null, (e: Error) => e);

const tlsSuite = suite('security: TLS (real broker)', { timeoutMs: 120_000 });
let dir: string;
tlsSuite.before(() => { dir = mkdtempSync(join(tmpdir(), 'kc-sec-')); });
tlsSuite.after(() => rmSync(dir, { recursive: true, force: true }));
tlsSuite.after.each(async () => { await Promise.all(opened.splice(0).map((b) => b.close())); });

tlsSuite('SSL listener with the CA as inline PEM', async () => {
  const node = await singleNode();
  await metadataOk(await broker(node.endpoints.ssl, { ca: node.tls.caPem }));
});

tlsSuite('SSL listener with the CA as a file path and as one-line PEM with literal \\n', async () => {
  const node = await singleNode();
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, node.tls.caPem);
  await metadataOk(await broker(node.endpoints.ssl, { ca: caFile }));
  await metadataOk(await broker(node.endpoints.ssl, { ca: node.tls.caPem.replace(/\r?\n/g, '\\n') }));
});

tlsSuite('mutual TLS with the client certificate and key (inline and as files)', async () => {
  const node = await singleNode();
  const { caPem, clientCertPem, clientKeyPem } = node.tls;
  await metadataOk(await broker(node.endpoints.mtls, { ca: caPem, cert: clientCertPem, key: clientKeyPem }));
  writeFileSync(join(dir, 'client.pem'), clientCertPem);
  writeFileSync(join(dir, 'client.key'), clientKeyPem);
  await metadataOk(await broker(node.endpoints.mtls, { ca: caPem, cert: join(dir, 'client.pem'), key: join(dir, 'client.key') }));
});

tlsSuite('mutual TLS without a client certificate fails with a typed error, not a hang', async () => {
  const node = await singleNode();
  const b = await broker(node.endpoints.mtls, { ca: node.tls.caPem }, undefined, { requestTimeoutMs: 10_000 });
  const err = await error(metadataOk(b));
  assert.instance(err, KafkaError);
  assert.ok(['ERR_KAFKA_AUTHENTICATION', 'ERR_KAFKA_CONNECTION'].includes((err as KafkaError).code), `${(err as KafkaError).code}: ${err!.message}`);
});

tlsSuite('a broker certificate from an untrusted CA is an AuthenticationError', async () => {
  const node = await singleNode();
  const err = await error(metadataOk(await broker(node.endpoints.ssl, { ca: node.tls.otherCaPem })));
  assert.instance(err, AuthenticationError, String(err));
  assert.is((err as AuthenticationError).retriable, false);
  assert.match(err!.message, /TLS handshake/);
});

tlsSuite('insecureSkipVerify accepts the untrusted certificate (tests only)', async () => {
  const node = await singleNode();
  await metadataOk(await broker(node.endpoints.ssl, { ca: node.tls.otherCaPem, insecureSkipVerify: true }));
});

tlsSuite.run();

const saslSuite = suite('security: SASL (real broker)', { timeoutMs: 120_000 });
saslSuite.after.each(async () => { await Promise.all(opened.splice(0).map((b) => b.close())); });

for (const listener of ['saslPlaintext', 'saslSsl'] as const) {
  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    saslSuite(`${mechanism} over ${listener === 'saslSsl' ? 'SASL_SSL' : 'SASL_PLAINTEXT'}`, async () => {
      const node = await singleNode();
      const user = mechanism === 'PLAIN' ? node.users.plain : node.users.scram;
      const tls = listener === 'saslSsl' ? { ca: node.tls.caPem } : undefined;
      const b = await broker(node.endpoints[listener], tls, { mechanism, ...user });
      await metadataOk(b);
      // Every lane authenticates its own socket.
      await b.request(Metadata, { topics: [], includeTopicAuthorizedOperations: false }, { lane: 'fetch' });
    });
  }
}

saslSuite('a wrong password: ONE AuthenticationError for every lane, and no new logins while it is held', async () => {
  const node = await singleNode();
  const events: string[] = [];
  const onConnect = () => events.push('connect');
  const onStart = (m: unknown) => { if ((m as { apiKey: number }).apiKey === 17) events.push('sasl-handshake'); };
  subscribe('kafka-channels:connection:connect', onConnect);
  subscribe('kafka-channels:request:start', onStart);
  try {
    const b = await broker(node.endpoints.saslPlaintext, undefined, { mechanism: 'SCRAM-SHA-256', username: node.users.scram.username, password: 'wrong' });
    const errs = await Promise.all((['control', 'produce', 'fetch'] as const).map((lane) =>
      error(b.request(Metadata, { topics: [], includeTopicAuthorizedOperations: false }, { lane }))));
    assert.instance(errs[0], AuthenticationError);
    assert.is(errs[1], errs[0], 'the same error object for every lane');
    assert.is(errs[2], errs[0]);
    assert.match(errs[0]!.message, /SCRAM-SHA-256 authentication .* failed/);
    assert.is(await error(metadataOk(b)), errs[0], 'held: a later request fails at once');
    assert.equal(events, ['connect', 'sasl-handshake'], 'one connection, one login attempt');
  } finally {
    unsubscribe('kafka-channels:connection:connect', onConnect);
    unsubscribe('kafka-channels:request:start', onStart);
  }
});

saslSuite('a wrong PLAIN password is an AuthenticationError too', async () => {
  const node = await singleNode();
  const b = await broker(node.endpoints.saslSsl, { ca: node.tls.caPem }, { mechanism: 'PLAIN', username: node.users.plain.username, password: 'nope' });
  const err = await error(metadataOk(b));
  assert.instance(err, AuthenticationError);
});

saslSuite('a mechanism the listener does not enable names the ones it does', async () => {
  const node = await singleNode();
  const b = await broker(node.endpoints.saslPlaintext, undefined, { mechanism: 'OAUTHBEARER', token: () => 'abc.def.ghi' });
  const err = await error(metadataOk(b));
  assert.instance(err, AuthenticationError);
  assert.match(err!.message, /PLAIN/);
});

saslSuite.run();

const healthSuite = suite('security: health through Producer and ConsumerGroup on secured listeners (real broker)', { timeoutMs: 120_000 });
let healthTopic = '';
healthSuite.before(async () => {
  const node = await singleNode();
  healthTopic = `health-secure-${Date.now()}`;
  const cl = new Cluster({ bootstrap: [node.endpoints.plaintext] });
  try { await new Admin(cl).createTopics([{ name: healthTopic, numPartitions: 2 }]); } finally { await cl.close(); }
});

type Secured = Pick<ProducerConfig, 'securityConfig' | 'sasl'> & { address: string };
const listeners: [string, (node: Awaited<ReturnType<typeof singleNode>>) => Secured][] = [
  ['TLS', (n) => ({ address: n.endpoints.ssl, securityConfig: { rootCACerts: n.tls.caPem } })],
  ['mutual TLS', (n) => ({ address: n.endpoints.mtls, securityConfig: { rootCACerts: n.tls.caPem, clientCert: n.tls.clientCertPem, clientKey: n.tls.clientKeyPem } })],
  ['SASL_PLAINTEXT PLAIN', (n) => ({ address: n.endpoints.saslPlaintext, sasl: { mechanism: 'plain', ...n.users.plain } })],
  ['SASL_PLAINTEXT SCRAM-SHA-256', (n) => ({ address: n.endpoints.saslPlaintext, sasl: { mechanism: 'scram-sha-256', ...n.users.scram } })],
  ['SASL_SSL SCRAM-SHA-512', (n) => ({ address: n.endpoints.saslSsl, securityConfig: { rootCACerts: n.tls.caPem }, sasl: { mechanism: 'scram-sha-512', ...n.users.scram } })],
  ['SASL_SSL PLAIN', (n) => ({ address: n.endpoints.saslSsl, securityConfig: { rootCACerts: n.tls.caPem }, sasl: { mechanism: 'plain', ...n.users.plain } })],
];

for (const [name, secured] of listeners) {
  healthSuite(`${name}: checker() OK before initialisation (it initialises) and after, for Producer and ConsumerGroup`, async () => {
    const node = await singleNode();
    const { address, ...security } = secured(node);
    const common = { brokerAddrs: [address], topic: healthTopic, minBrokersHealthy: 1, requestTimeoutMs: 10_000, ...security };
    const made: (Producer | ConsumerGroup)[] = [];
    try {
      const clients = [[() => new Producer(common), MSG_HEALTHY_PRODUCER], [() => new ConsumerGroup({ ...common, groupName: `${healthTopic}-g` }), MSG_HEALTHY_CONSUMER_GROUP]] as const;
      for (const [make, healthy] of clients) {
        const client = make();
        made.push(client);
        assert.not.ok(client.isInitialised(), 'just constructed');
        const before = await client.checker();
        assert.equal([before.status, before.message], ['OK', healthy], `before initialisation: ${before.message}`);
        assert.equal(before.brokers.map((b) => [b.address, b.reachable, b.hasTopic]), [[address, true, true]]);
        assert.ok(client.isInitialised());
        const after = await client.checker();
        assert.equal([after.status, after.message], ['OK', healthy], `after initialisation: ${after.message}`);
      }
    } finally {
      await Promise.all(made.map((c) => c.close()));
    }
  });
}

healthSuite('wrong credentials: the probe cannot log in, the broker counts as unreachable (WARNING, not initialised)', async () => {
  const node = await singleNode();
  const producer = new Producer({ brokerAddrs: [node.endpoints.saslPlaintext], topic: healthTopic, minBrokersHealthy: 1, requestTimeoutMs: 10_000,
    sasl: { mechanism: 'scram-sha-256', username: node.users.scram.username, password: 'wrong' } });
  try {
    const h = await producer.checker();
    assert.equal([h.status, h.message], ['WARNING', 'kafka producer is not initialised']);
    assert.equal(h.brokers.map((b) => b.reachable), [false]);
  } finally {
    await producer.close({ signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  }
});

healthSuite.run();
