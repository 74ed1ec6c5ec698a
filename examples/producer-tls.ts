/**
 * A producer over TLS (mutual TLS when a client certificate is given), as in dp-kafka's `SecurityConfig`.
 * Each PEM comes from an environment variable holding the PEM itself or a file path:
 *
 *   KAFKA_BROKERS=127.0.0.1:9093 KAFKA_CA_CERT=.kafka/tls/ca.pem \
 *   KAFKA_CLIENT_CERT=.kafka/tls/client.pem KAFKA_CLIENT_KEY=.kafka/tls/client-key.pem \
 *   KAFKA_TOPIC=example-tls node .build/examples/producer-tls.js
 */
import { Producer, type SecurityConfig } from '../src/index.js';

const brokerAddrs = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9093').split(',');
const topic = process.env.KAFKA_TOPIC ?? 'example-tls';

const securityConfig: SecurityConfig = {
  rootCACerts: process.env.KAFKA_CA_CERT, // undefined: trust the system roots
  clientCert: process.env.KAFKA_CLIENT_CERT, // both or neither
  clientKey: process.env.KAFKA_CLIENT_KEY,
};

const producer = new Producer({ brokerAddrs, topic, securityConfig, minBrokersHealthy: 1, logger: console });
producer.addHeader('source', 'examples/producer-tls'); // sent with every message
producer.logErrors(); // delivery failures go to the logger

await producer.channels.ready.wait(); // initialised in the background; sends before this are queued anyway
for (let i = 0; i < 10; i++) {
  await producer.sendJSON({ n: i, at: new Date().toISOString() }, { key: `order-${i % 3}` });
}
await producer.send({ value: 'bytes or strings', headers: [{ key: 'kind', value: 'text' }] });
await producer.close({ signal: AbortSignal.timeout(10_000) }); // flushes what was accepted
console.log(`sent 11 messages to ${topic} over TLS`);
