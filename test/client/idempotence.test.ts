/**
 * InitProducerId answers that give no usable producer id: the engine must ask again with the one backoff (a few
 * requests a second however fast records arrive), never in a tight loop, and the records that wait for an id
 * fail at their delivery timeout with the broker's answer as the cause.
 */
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { DeliveryTimeoutError, ProducerEngine, type ProducerCluster } from '../../src/client/producer-engine.js';
import type { DeliveryReport } from '../../src/client/accumulator.js';
import { ProducerIdentity } from '../../src/client/idempotence.js';
import { KafkaError } from '../../src/errors.js';
import type { Broker } from '../../src/client/broker.js';
import type { ApiDef } from '../../src/protocol/schema-types.js';

const s = suite('idempotence (InitProducerId without a usable id)', { timeoutMs: 15_000 });

/** A broker that answers every InitProducerId with `answer`, counting them. */
function clusterAnswering(answer: { errorCode: number; producerId: bigint; producerEpoch: number }) {
  const seen = { initProducerId: 0 };
  const broker = {
    request: async (api: ApiDef) => {
      await new Promise((r) => setImmediate(r));
      if (api.name !== 'InitProducerId') throw new Error(`unexpected ${api.name}`);
      seen.initProducerId++;
      return { throttleTimeMs: 0, ...answer };
    },
  } as unknown as Pick<Broker, 'request'>;
  const cluster: ProducerCluster = {
    topic: async (name) => ({ name, topicId: '', partitions: [{ partition: 0, leaderId: 1 }] }),
    broker: () => broker,
    anyBroker: async () => broker,
    invalidate: () => {},
  };
  return { cluster, seen };
}

s('error 0 with producer id -1: a few InitProducerId a second while records keep coming, then a delivery timeout that says why', async () => {
  const { cluster, seen } = clusterAnswering({ errorCode: 0, producerId: -1n, producerEpoch: -1 });
  const engine = new ProducerEngine({ cluster, lingerMs: 0, retryBackoffMs: 100, retryBackoffMaxMs: 1_000, deliveryTimeoutMs: 2_000 });
  const reports: DeliveryReport[] = [];
  const t0 = Date.now();
  // Records every 5 ms, as a busy application sends: each one wakes the sender.
  const sender = setInterval(() => engine.send([{ topic: 't', value: Buffer.from('v') }], (r) => reports.push(r)), 5);
  await new Promise((r) => setTimeout(r, 3_000));
  clearInterval(sender);
  const perSecond = seen.initProducerId / ((Date.now() - t0) / 1000);
  await engine.close().catch(() => {});
  assert.ok(perSecond <= 5, `${seen.initProducerId} InitProducerId requests in 3 s (${perSecond.toFixed(1)}/s)`);
  assert.ok(seen.initProducerId >= 2, 'asked again');
  const failed = reports.flatMap((r) => (r.errors ?? []).filter((e): e is Error => e !== undefined));
  assert.ok(failed.length > 0, 'records waiting for an id fail at their delivery timeout');
  assert.instance(failed[0], DeliveryTimeoutError);
  const cause = (failed[0] as Error).cause as KafkaError;
  assert.instance(cause, KafkaError);
  assert.is(cause.code, 'ERR_KAFKA_NO_PRODUCER_ID');
  assert.match(cause.message, /id -1, epoch -1/);
});

s('ProducerIdentity refuses an unusable id and keeps a pause between rounds', async () => {
  const id = new ProducerIdentity();
  for (const [producerId, producerEpoch] of [[-1n, -1], [5n, -1], [-7n, 0], [5n, 0x8000]] as const) {
    const { cluster } = clusterAnswering({ errorCode: 0, producerId, producerEpoch });
    const err = await id.init(await cluster.anyBroker()).then(() => null, (e: unknown) => e);
    assert.instance(err, KafkaError, `id ${producerId} epoch ${producerEpoch}`);
    assert.ok((err as KafkaError).retriable);
    assert.is(id.hasId, false);
  }
  const pause = id.failed(new Error('x'), 100, 1_000);
  assert.ok(pause >= 75 && !id.mayInit() && id.mayInit(Date.now() + pause + 1), `pause ${pause}`);
  const { cluster } = clusterAnswering({ errorCode: 0, producerId: 9n, producerEpoch: 0 });
  await id.init(await cluster.anyBroker());
  assert.equal([id.producerId, id.epoch, id.failures, id.mayInit()], [9, 0, 0, true]);
});

s.run();
