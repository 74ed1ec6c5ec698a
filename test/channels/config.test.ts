import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import {
  resolveConsumerGroupConfig, resolveProducerConfig, toClientSaslConfig, toTlsConfig, upstreamCapacity,
  type ConsumerGroupConfig, type ProducerConfig,
} from '../../src/channels/config.js';
import { InvalidArgumentError } from '../../src/errors.js';

const s = suite('config', { timeoutMs: 5_000 });

const producer = (extra: Record<string, unknown> = {}): ProducerConfig =>
  ({ brokerAddrs: ['a:9092', 'b:9092'], topic: 'orders', ...extra }) as ProducerConfig;
const consumer = (extra: Record<string, unknown> = {}): ConsumerGroupConfig =>
  ({ brokerAddrs: ['a:9092'], topic: 'orders', groupName: 'g', ...extra }) as ConsumerGroupConfig;

/** The problems a resolve call reports (fails the test if it does not throw InvalidArgumentError). */
function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    assert.instance(err, InvalidArgumentError);
    return (err as InvalidArgumentError).problems;
  }
  assert.unreachable('expected an InvalidArgumentError');
  return [];
}

/** Asserts exactly one problem is reported and that it matches `re`. */
function oneProblem(fn: () => unknown, re: RegExp): void {
  const list = problems(fn);
  assert.is(list.length, 1, `expected one problem, got: ${list.join(' | ')}`);
  assert.match(list[0]!, re);
}

s('producer defaults are dp-kafka\'s (and ours where dp-kafka has none)', () => {
  const c = resolveProducerConfig(producer());
  assert.is(c.minBrokersHealthy, 2);
  assert.is(c.minRetryPeriod, 200);
  assert.is(c.maxRetryPeriod, 32_000);
  assert.is(c.maxMessageBytes, 1_000_000);
  assert.is(c.compression, 'none');
  assert.is(c.acks, -1);
  assert.is(c.idempotent, true);
  assert.is(c.lingerMs, 5);
  assert.is(c.clientId, 'kafka-channels');
  assert.is(c.requestTimeoutMs, 30_000);
  assert.is(c.securityConfig, undefined);
  assert.is(c.sasl, undefined);
});

s('consumer-group defaults are dp-kafka\'s', () => {
  const c = resolveConsumerGroupConfig(consumer());
  assert.is(c.minBrokersHealthy, 1);
  assert.is(c.offset, 'oldest');
  assert.is(c.numWorkers, 1);
  assert.is(c.batchSize, 1);
  assert.is(c.batchWaitTime, 200);
  assert.is(c.minRetryPeriod, 200);
  assert.is(c.maxRetryPeriod, 32_000);
  assert.is(c.messageConsumeTimeout, 10_000);
  assert.is(c.heartbeatIntervalMs, 3_000);
  assert.is(c.fetchMaxWaitMs, 50);
  assert.is(c.errorsCapacity, 20);
  assert.equal([c.maxBufferedBytes, c.maxPartitionBufferedBytes], [64 << 20, 2 << 20]);
  assert.equal([...c.assignors], ['roundrobin']);
  assert.is(upstreamCapacity(c), 1);
  assert.is(upstreamCapacity({ numWorkers: 3, batchSize: 10 }), 10);
  assert.is(upstreamCapacity({ numWorkers: 8, batchSize: 2 }), 8);
});

s('given values win over defaults; the caller\'s object is not written to; the result is frozen', () => {
  const input = consumer({ numWorkers: 4, offset: 'newest', minRetryPeriod: 50, maxRetryPeriod: 100 });
  const copy = JSON.parse(JSON.stringify(input));
  const c = resolveConsumerGroupConfig(input);
  assert.is(c.numWorkers, 4);
  assert.is(c.offset, 'newest');
  assert.is(c.minRetryPeriod, 50);
  assert.equal(JSON.parse(JSON.stringify(input)), copy);
  assert.ok(Object.isFrozen(c));
  assert.ok(Object.isFrozen(c.brokerAddrs));
  (input.brokerAddrs as string[]).push('late:1');
  assert.is(c.brokerAddrs.length, 1, 'brokerAddrs was copied');
  const explicitUndefined = resolveConsumerGroupConfig(consumer({ numWorkers: undefined }));
  assert.is(explicitUndefined.numWorkers, 1, 'undefined means the default');
});

s('acks "all" becomes -1; 0 and 1 are accepted without idempotence', () => {
  assert.is(resolveProducerConfig(producer({ acks: 'all' })).acks, -1);
  assert.is(resolveProducerConfig(producer({ acks: 1, idempotent: false })).acks, 1);
  assert.is(resolveProducerConfig(producer({ acks: 0, idempotent: false })).acks, 0);
});

// --- one test per rule: each bad value gives exactly one problem naming the option ---

const producerRules: [string, Record<string, unknown>, RegExp][] = [
  ['missing brokerAddrs', { brokerAddrs: undefined }, /brokerAddrs is required/],
  ['empty brokerAddrs', { brokerAddrs: [] }, /brokerAddrs must be a non-empty array/],
  ['brokerAddrs not an array', { brokerAddrs: 'a:9092' }, /brokerAddrs must be a non-empty array/],
  ['broker without port', { brokerAddrs: ['a:9092', 'b'] }, /brokerAddrs\[1\] must be "host:port"/],
  ['broker with port 0', { brokerAddrs: ['a:9092', 'b:0'] }, /brokerAddrs\[1\]/],
  ['broker with port 70000', { brokerAddrs: ['a:70000', 'b:1'] }, /brokerAddrs\[0\]/],
  ['missing topic', { topic: undefined }, /topic is required/],
  ['empty topic', { topic: '' }, /topic must be a non-empty string/],
  ['illegal topic characters', { topic: 'my topic!' }, /not a legal Kafka topic name/],
  ['topic "."', { topic: '.' }, /not a legal Kafka topic name/],
  ['topic "..', { topic: '..' }, /not a legal Kafka topic name/],
  ['topic too long', { topic: 'x'.repeat(250) }, /not a legal Kafka topic name/],
  ['minRetryPeriod 0', { minRetryPeriod: 0 }, /minRetryPeriod must be greater than 0/],
  ['maxRetryPeriod negative', { maxRetryPeriod: -1 }, /maxRetryPeriod must be greater than 0/],
  ['min > max retry', { minRetryPeriod: 5000, maxRetryPeriod: 1000 }, /minRetryPeriod \(5000\) must not be greater than maxRetryPeriod \(1000\)/],
  ['min retry above default max', { minRetryPeriod: 40_000 }, /must not be greater than maxRetryPeriod \(32000\)/],
  ['minBrokersHealthy 0', { minBrokersHealthy: 0 }, /minBrokersHealthy must be at least 1/],
  ['minBrokersHealthy fractional', { minBrokersHealthy: 1.5 }, /minBrokersHealthy must be an integer/],
  ['minBrokersHealthy above broker count', { minBrokersHealthy: 3 }, /minBrokersHealthy \(3\) must not exceed the number of brokerAddrs \(2\)/],
  ['default minBrokersHealthy with one broker', { brokerAddrs: ['a:9092'] }, /minBrokersHealthy \(2, the default\) must not exceed/],
  ['NaN requestTimeoutMs', { requestTimeoutMs: Number.NaN }, /requestTimeoutMs must be a finite number/],
  ['string connectTimeoutMs', { connectTimeoutMs: '10' }, /connectTimeoutMs must be a finite number/],
  ['negative retryBackoffMs', { retryBackoffMs: -5 }, /retryBackoffMs must be zero or more/],
  ['empty clientId', { clientId: '' }, /clientId must be a non-empty string/],
  ['maxMessageBytes 0', { maxMessageBytes: 0 }, /maxMessageBytes must be at least 1/],
  ['unknown compression', { compression: 'brotli' }, /compression must be one of "none", "gzip", "snappy", "lz4", "zstd"/],
  ['bad acks', { acks: 2 }, /acks must be one of 0, 1, -1, "all"/],
  ['acks 1 with idempotence', { acks: 1 }, /acks 1 needs idempotent: false/],
  ['acks 0 with idempotence explicitly on', { acks: 0, idempotent: true }, /acks 0 needs idempotent: false/],
  ['idempotent not a boolean', { idempotent: 'yes' }, /idempotent must be a boolean/],
  ['traceHeader not a boolean', { traceHeader: 'no' }, /traceHeader must be a boolean/],
  ['negative lingerMs', { lingerMs: -1 }, /lingerMs must be zero or more/],
  ['outputCapacity fractional', { outputCapacity: 1.5 }, /outputCapacity must be an integer/],
  ['unknown key', { brokers: ['x:1'] }, /unknown option "brokers"/],
  ['consumer-only key on a producer', { groupName: 'g' }, /unknown option "groupName"/],
  ['securityConfig not an object', { securityConfig: 'tls' }, /securityConfig must be an object/],
  ['clientCert without clientKey', { securityConfig: { clientCert: '/c.pem' } }, /clientCert and securityConfig.clientKey must be given together/],
  ['clientKey without clientCert', { securityConfig: { clientKey: '/k.pem' } }, /must be given together/],
  ['rootCACerts not a string', { securityConfig: { rootCACerts: 42 } }, /securityConfig.rootCACerts must be a string/],
  ['insecureSkipVerify not a boolean', { securityConfig: { insecureSkipVerify: 'true' } }, /insecureSkipVerify must be a boolean/],
  ['typo inside securityConfig', { securityConfig: { rootCaCerts: 'x' } }, /unknown option "rootCaCerts"/],
  ['sasl without mechanism', { sasl: { username: 'u', password: 'p' } }, /sasl.mechanism is required/],
  ['unknown sasl mechanism', { sasl: { mechanism: 'gssapi' } }, /sasl.mechanism must be one of/],
  ['plain without username', { sasl: { mechanism: 'plain', password: 'p' } }, /sasl.username is required/],
  ['scram without password', { sasl: { mechanism: 'scram-sha-512', username: 'u' } }, /sasl.password is required/],
  ['oauthbearer without provider', { sasl: { mechanism: 'oauthbearer' } }, /sasl.oauthBearerProvider \(a function\) is required/],
  ['logger without methods', { logger: { log: () => undefined } }, /logger must have debug, info, warn and error methods/],
];

for (const [name, extra, re] of producerRules) {
  s(`producer: ${name}`, () => oneProblem(() => resolveProducerConfig(producer(extra)), re));
}

const consumerRules: [string, Record<string, unknown>, RegExp][] = [
  ['missing groupName', { groupName: undefined }, /groupName is required/],
  ['empty groupName', { groupName: '' }, /groupName must be a non-empty string/],
  ['bad offset', { offset: 'latest' }, /offset must be one of "oldest", "newest"/],
  ['numWorkers 0', { numWorkers: 0 }, /numWorkers must be at least 1/],
  ['numWorkers fractional', { numWorkers: 2.5 }, /numWorkers must be an integer/],
  ['batchSize 0', { batchSize: 0 }, /batchSize must be at least 1/],
  ['negative batchWaitTime', { batchWaitTime: -1 }, /batchWaitTime must be zero or more/],
  ['messageConsumeTimeout 0', { messageConsumeTimeout: 0 }, /messageConsumeTimeout must be greater than 0/],
  ['heartbeat not below session timeout', { heartbeatIntervalMs: 10_000 }, /heartbeatIntervalMs \(10000\) must be less than messageConsumeTimeout \(10000\)/],
  ['unknown assignor', { assignors: ['roundrobin', 'RoundRobinAssigner'] }, /assignors\[\] must be one of/],
  ['empty assignors', { assignors: [] }, /assignors must be a non-empty array/],
  ['repeated assignor', { assignors: ['range', 'range'] }, /assignors must not repeat a name/],
  ['bad isolationLevel', { isolationLevel: 'serializable' }, /isolationLevel must be one of/],
  ['empty groupInstanceId', { groupInstanceId: '' }, /groupInstanceId must be a non-empty string/],
  ['minBrokersHealthy above broker count', { minBrokersHealthy: 2 }, /minBrokersHealthy \(2\) must not exceed the number of brokerAddrs \(1\)/],
  ['producer-only key on a consumer', { compression: 'gzip' }, /unknown option "compression"/],
  ['errorsCapacity negative', { errorsCapacity: -1 }, /errorsCapacity must be zero or more/],
  ['maxBufferedBytes zero', { maxBufferedBytes: 0 }, /maxBufferedBytes must be/],
  ['missing topic', { topic: undefined }, /topic is required/],
];

for (const [name, extra, re] of consumerRules) {
  s(`consumer group: ${name}`, () => oneProblem(() => resolveConsumerGroupConfig(consumer(extra)), re));
}

s('every problem is listed at once, in one error', () => {
  let err: unknown;
  try {
    resolveConsumerGroupConfig({ brokerAddrs: [], topic: 'bad topic', numWorkers: 0, offset: 'x', minRetryPeriod: -1 } as unknown as ConsumerGroupConfig);
  } catch (e) {
    err = e;
  }
  assert.instance(err, InvalidArgumentError);
  const e = err as InvalidArgumentError;
  assert.is(e.code, 'ERR_KAFKA_INVALID_ARGUMENT');
  assert.is(e.problems.length, 6, e.problems.join(' | '));
  for (const word of ['brokerAddrs', 'topic', 'groupName', 'numWorkers', 'offset', 'minRetryPeriod']) {
    assert.ok(e.problems.some((p) => p.includes(word)), `missing a problem about ${word}`);
  }
  assert.ok(e.problems.every((p) => p.startsWith('invalid consumer group config: ')));
  assert.match(e.message, /6 problems/);
});

s('a config that is not an object is refused', () => {
  oneProblem(() => resolveProducerConfig(null as unknown as ProducerConfig), /producer config must be an object/);
  oneProblem(() => resolveConsumerGroupConfig('x' as unknown as ConsumerGroupConfig), /consumer group config must be an object/);
});

s('IPv6 and host names are accepted as broker addresses', () => {
  const c = resolveConsumerGroupConfig(consumer({ brokerAddrs: ['[::1]:9092', 'kafka-0.kafka.svc.cluster.local:9093', '10.0.0.1:1'] }));
  assert.is(c.brokerAddrs.length, 3);
});

s('valid SASL settings pass and map onto the client layer\'s mechanisms', () => {
  const token = (): string => 'abc';
  const o = resolveProducerConfig(producer({ sasl: { mechanism: 'oauthbearer', oauthBearerProvider: token } }));
  assert.equal(toClientSaslConfig(o.sasl!), { mechanism: 'OAUTHBEARER', token, authzid: undefined });
  const sc = resolveProducerConfig(producer({ sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' } }));
  assert.equal(toClientSaslConfig(sc.sasl!), { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p', authzid: undefined });
  assert.is(toClientSaslConfig({ mechanism: 'scram-sha-512', username: 'u', password: 'p' }).mechanism, 'SCRAM-SHA-512');
  assert.equal(toClientSaslConfig({ mechanism: 'plain', username: 'u', password: '', authzid: 'z' }),
    { mechanism: 'PLAIN', username: 'u', password: '', authzid: 'z' });
});

s('securityConfig maps onto the TLS settings of the connection layer', () => {
  assert.equal(toTlsConfig({ rootCACerts: 'ca', clientCert: 'c', clientKey: 'k', insecureSkipVerify: true }),
    { ca: 'ca', cert: 'c', key: 'k', insecureSkipVerify: true });
  assert.equal(toTlsConfig({}), {}, 'empty securityConfig = TLS with system roots');
});

s.run();
