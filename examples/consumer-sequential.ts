/**
 * A consumer group read in one loop from `channels.upstream`: each message is handled, committed and released
 * before the next (release lets its partition deliver the next message). Stops after MAX messages or Ctrl-C.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 KAFKA_TOPIC=example node .build/examples/consumer-sequential.js
 */
import { ConsumerGroup } from '../src/index.js';

const brokerAddrs = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const topic = process.env.KAFKA_TOPIC ?? 'example';
const max = Number(process.env.MAX ?? 10);

const group = new ConsumerGroup({ brokerAddrs, topic, groupName: `${topic}-sequential`, offset: 'oldest', minBrokersHealthy: 1 });
group.logErrors(); // commit failures and session errors, to the logger (silent without one)
process.once('SIGINT', () => void group.close({ signal: AbortSignal.timeout(5000) }));
group.start(); // starts consuming once initialised

let n = 0;
for await (const m of group.channels.upstream) { // ends when the group closes
  console.log(`${m.topic}[${m.partition}]@${m.offset} key=${m.key?.toString() ?? '-'} value=${m.value?.toString() ?? 'null'}`);
  await m.commitAndRelease();
  if (++n >= max) break;
}
await group.close({ signal: AbortSignal.timeout(10_000) });
console.log(`consumed ${n} messages; state ${group.state}`);
