/**
 * SASL under the runtime running this file: SCRAM-SHA-256 over SASL_PLAINTEXT and SCRAM-SHA-512 over SASL_SSL
 * carry records through Producer and ConsumerGroup; PLAIN logs in; a wrong SCRAM password is an
 * AuthenticationError.
 */
import * as assert from 'uvu/assert';
import { suite } from '../../test/kit.js';
import { Broker } from '../../src/client/broker.js';
import { Metadata } from '../../src/protocol/apis/metadata.js';
import { AuthenticationError } from '../../src/errors.js';
import type { SaslConfig } from '../../src/client/sasl/index.js';
import { checkAll, createTopic, roundTrip, runtimeBroker, runtimeName, topicName } from './kit.js';

const s = suite(`runtime ${runtimeName()}: SASL`, { timeoutMs: 90_000 });

s('SCRAM-SHA-256 over SASL_PLAINTEXT: 200 records through Producer and ConsumerGroup', async () => {
  const broker = await runtimeBroker();
  const topic = topicName('scram256');
  await createTopic(broker, topic, 2);
  const cfg = { brokerAddrs: [broker.endpoints.saslPlaintext], sasl: { mechanism: 'scram-sha-256' as const, ...broker.users.scram } };
  assert.is(checkAll(await roundTrip(topic, 200, cfg, cfg), 200), undefined);
});

s('SCRAM-SHA-512 over SASL_SSL: 200 records through Producer and ConsumerGroup', async () => {
  const broker = await runtimeBroker();
  const topic = topicName('scram512');
  await createTopic(broker, topic, 2);
  const cfg = { brokerAddrs: [broker.endpoints.saslSsl], securityConfig: { rootCACerts: broker.tls.caPem }, sasl: { mechanism: 'scram-sha-512' as const, ...broker.users.scram } };
  assert.is(checkAll(await roundTrip(topic, 200, cfg, cfg), 200), undefined);
});

async function login(address: string, sasl: SaslConfig): Promise<Error | null> {
  const i = address.lastIndexOf(':');
  const b = new Broker({ host: address.slice(0, i), port: Number(address.slice(i + 1)), sasl, connectTimeoutMs: 10_000, requestTimeoutMs: 10_000 });
  try {
    return await b.request(Metadata, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }).then(() => null, (e: Error) => e);
  } finally {
    await b.close();
  }
}

s('PLAIN over SASL_PLAINTEXT logs in', async () => {
  const broker = await runtimeBroker();
  assert.is(await login(broker.endpoints.saslPlaintext, { mechanism: 'PLAIN', ...broker.users.plain }), null);
});

s('a wrong SCRAM-SHA-512 password is an AuthenticationError', async () => {
  const broker = await runtimeBroker();
  const err = await login(broker.endpoints.saslPlaintext, { mechanism: 'SCRAM-SHA-512', username: broker.users.scram.username, password: 'wrong' });
  assert.instance(err, AuthenticationError, String(err));
  assert.match(err!.message, /SCRAM-SHA-512 authentication .* failed/);
});

s.run();
