/**
 * TLS under the runtime running this file: records through Producer and ConsumerGroup over the broker's SSL
 * listener and its mutual-TLS listener (PEM CA, client certificate and key), and a broker certificate from an
 * untrusted CA refused with a typed AuthenticationError, not a hang.
 */
import * as assert from 'uvu/assert';
import { suite } from '../../test/kit.js';
import { Broker } from '../../src/client/broker.js';
import { resolveTlsOptions } from '../../src/client/tls-options.js';
import { Metadata } from '../../src/protocol/apis/metadata.js';
import { AuthenticationError } from '../../src/errors.js';
import { checkAll, createTopic, roundTrip, runtimeBroker, runtimeName, topicName } from './kit.js';

const s = suite(`runtime ${runtimeName()}: TLS`, { timeoutMs: 90_000 });

s('SSL listener (CA as PEM): 200 records through Producer and ConsumerGroup, lz4', async () => {
  const broker = await runtimeBroker();
  const topic = topicName('tls');
  await createTopic(broker, topic, 2);
  const cfg = { brokerAddrs: [broker.endpoints.ssl], securityConfig: { rootCACerts: broker.tls.caPem } };
  const seen = await roundTrip(topic, 200, { ...cfg, compression: 'lz4' }, cfg);
  assert.is(checkAll(seen, 200), undefined);
});

s('mutual TLS listener (client certificate and key as PEM): 200 records through Producer and ConsumerGroup', async () => {
  const broker = await runtimeBroker();
  const topic = topicName('mtls');
  await createTopic(broker, topic, 2);
  const { caPem, clientCertPem, clientKeyPem } = broker.tls;
  const cfg = { brokerAddrs: [broker.endpoints.mtls], securityConfig: { rootCACerts: caPem, clientCert: clientCertPem, clientKey: clientKeyPem } };
  const seen = await roundTrip(topic, 200, cfg, cfg);
  assert.is(checkAll(seen, 200), undefined);
});

s('a broker certificate from an untrusted CA is an AuthenticationError naming the TLS handshake', async () => {
  const broker = await runtimeBroker();
  const i = broker.endpoints.ssl.lastIndexOf(':');
  const b = new Broker({ host: broker.endpoints.ssl.slice(0, i), port: Number(broker.endpoints.ssl.slice(i + 1)),
    tls: await resolveTlsOptions({ ca: broker.tls.otherCaPem }), connectTimeoutMs: 10_000, requestTimeoutMs: 10_000 });
  try {
    const err = await b.request(Metadata, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }).then(() => null, (e: Error) => e);
    assert.instance(err, AuthenticationError, String(err));
    assert.match(err!.message, /TLS handshake/);
  } finally {
    await b.close();
  }
});

s.run();
