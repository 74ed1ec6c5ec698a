import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import {
  CONSUMER_GROUP_DEFAULTS, PRODUCER_DEFAULTS, SETTING_RANGES, resolveConsumerGroupConfig, resolveProducerConfig, toClientSaslConfig, toTlsConfig, upstreamCapacity,
  type ConsumerGroupConfig, type ProducerConfig,
} from '../../src/channels/config.js';
import { resolveOptions } from '../../src/client/producer-options.js';
import { CLIENT_SETTINGS, COMPRESSION_NAMES, PRODUCER_SETTINGS } from '../../src/client/settings.js';
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
  ['negative retryBackoffMs', { retryBackoffMs: -5 }, /retryBackoffMs must be at least 1/],
  ['retryBackoffMs 0 (a retry loop without a pause)', { retryBackoffMs: 0 }, /retryBackoffMs must be at least 1/],
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

// --- ranges: every numeric setting has an upper bound (issue 17: timers past 2^31-1 ms become 1 ms in Node,
// capacities of 2^32 run the heap out, a delivery timeout of 1e12 never fires) ---
const TIMER_MAX = 2 ** 31 - 1;
producerRules.push(
  ['lingerMs past the longest timer', { lingerMs: 2 ** 31 }, new RegExp(`lingerMs must be at most ${TIMER_MAX}`)],
  ['requestTimeoutMs past the longest timer', { requestTimeoutMs: 2 ** 31 }, /requestTimeoutMs must be at most 2147483647/],
  ['connectTimeoutMs past the longest timer', { connectTimeoutMs: 1e10 }, /connectTimeoutMs must be at most/],
  ['metadataMaxAgeMs past the longest timer', { metadataMaxAgeMs: 2 ** 32 }, /metadataMaxAgeMs must be at most/],
  ['maxRetryPeriod past the longest timer', { maxRetryPeriod: 2 ** 31 }, /maxRetryPeriod must be at most/],
  ['retryBackoffMs past the longest timer', { retryBackoffMs: 2 ** 31 }, /retryBackoffMs must be at most/],
  ['deliveryTimeoutMs 1e12', { deliveryTimeoutMs: 1e12 }, /deliveryTimeoutMs must be at most 2147483647/],
  ['outputCapacity 2^32', { outputCapacity: 2 ** 32 }, /outputCapacity must be at most 1000000/],
  ['outputCapacity 1e8', { outputCapacity: 1e8 }, /outputCapacity must be at most 1000000/],
  ['batchBytes past int32', { batchBytes: 2 ** 31 }, /batchBytes must be at most/],
  ['maxMessageBytes past int32', { maxMessageBytes: 2 ** 31 }, /maxMessageBytes must be at most/],
  ['compression as a number', { compression: 4 }, /compression must be one of "none", "gzip", "snappy", "lz4", "zstd", got 4/],
  ['acks as a bigint', { acks: 1n }, /acks must be one of 0, 1, -1, "all", got 1n/],
);

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

consumerRules.push(
  ['numWorkers 1e6', { numWorkers: 1e6 }, /numWorkers must be at most 10000/],
  ['batchSize 1e8', { batchSize: 1e8 }, /batchSize must be at most 100000/],
  ['errorsCapacity 2^32', { errorsCapacity: 2 ** 32 }, /errorsCapacity must be at most 1000000/],
  ['messageConsumeTimeout past the longest timer', { messageConsumeTimeout: 2 ** 31 }, /messageConsumeTimeout must be at most 2147483647/],
  ['rebalanceTimeoutMs past int32', { rebalanceTimeoutMs: 2 ** 31 }, /rebalanceTimeoutMs must be at most/],
  ['autoCommitIntervalMs past the longest timer', { autoCommitIntervalMs: 1e12 }, /autoCommitIntervalMs must be at most/],
  ['batchWaitTime past the longest timer', { batchWaitTime: 2 ** 31 }, /batchWaitTime must be at most/],
  ['fetchMaxWaitMs past int32', { fetchMaxWaitMs: 2 ** 31 }, /fetchMaxWaitMs must be at most/],
  ['fetchMaxBytes past int32', { fetchMaxBytes: 2 ** 31 }, /fetchMaxBytes must be at most 2147483647/],
  ['maxPartitionFetchBytes past int32', { maxPartitionFetchBytes: 2 ** 31 }, /maxPartitionFetchBytes must be at most/],
  ['maxBufferedBytes 2^40', { maxBufferedBytes: 2 ** 40 }, /maxBufferedBytes must be at most/],
  ['maxPartitionBufferedBytes Infinity', { maxPartitionBufferedBytes: Infinity }, /maxPartitionBufferedBytes must be a finite number/],
);

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

s('out-of-range values are all listed in one error at construction', () => {
  const list = problems(() => resolveProducerConfig(producer({ lingerMs: 2 ** 31, outputCapacity: 2 ** 32, deliveryTimeoutMs: 1e12, batchBytes: -1 })));
  assert.is(list.length, 4, list.join(' | '));
  for (const word of ['lingerMs', 'outputCapacity', 'deliveryTimeoutMs', 'batchBytes']) assert.ok(list.some((p) => p.includes(word)), word);
});

s('minBrokersHealthy has a maximum too', () => {
  assert.ok(problems(() => resolveProducerConfig(producer({ minBrokersHealthy: 1e9 }))).some((p) => /minBrokersHealthy must be at most 1000/.test(p)));
});

s('every numeric setting has a range, and every default lies within it', () => {
  for (const defaults of [PRODUCER_DEFAULTS, CONSUMER_GROUP_DEFAULTS] as Record<string, unknown>[]) {
    for (const [name, value] of Object.entries(defaults)) {
      if (typeof value !== 'number' || name === 'acks') continue;
      const range = SETTING_RANGES[name];
      assert.ok(range, `${name} has no documented range`);
      assert.ok(value >= range!.min && value <= range!.max, `${name}'s default ${value} is outside ${range!.min}..${range!.max}`);
      assert.ok(range!.max <= 2 ** 34, `${name}'s maximum ${range!.max} is not a sane bound`);
    }
  }
});

s('one owner per producer setting: the channel config and the engine take the same defaults and names from one table', () => {
  const engine = resolveOptions({ cluster: undefined as never });
  const channel = resolveProducerConfig(producer());
  const shared = { batchBytes: channel.batchBytes, maxMessageBytes: channel.maxMessageBytes, lingerMs: channel.lingerMs,
    deliveryTimeoutMs: channel.deliveryTimeoutMs, requestTimeoutMs: channel.requestTimeoutMs, retryBackoffMs: channel.retryBackoffMs, acks: channel.acks };
  for (const [name, value] of Object.entries(shared)) {
    assert.is((engine as Record<string, unknown>)[name], value, `${name}: engine default differs from the channel's`);
    const row = (PRODUCER_SETTINGS as Record<string, { default: unknown }>)[name] ?? (CLIENT_SETTINGS as Record<string, { default: unknown }>)[name];
    assert.is(row?.default, value, `${name} is not owned by the settings table`);
  }
  assert.equal([...COMPRESSION_NAMES], ['none', 'gzip', 'snappy', 'lz4', 'zstd']);
  // The engine checks the same ranges when built directly.
  assert.throws(() => resolveOptions({ cluster: undefined as never, lingerMs: 2 ** 31 }), (e: unknown) => e instanceof InvalidArgumentError && /lingerMs must be at most/.test((e as Error).message));
  assert.throws(() => resolveOptions({ cluster: undefined as never, deliveryTimeoutMs: 1e12, maxBufferedBytes: -1 }), (e: unknown) => e instanceof InvalidArgumentError && (e as InvalidArgumentError).problems.length === 2);
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
