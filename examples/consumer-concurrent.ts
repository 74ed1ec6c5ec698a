/**
 * A consumer group with a handler run by several workers (`numWorkers`): messages of one partition stay in
 * order, partitions are handled in parallel. A handler error is logged and the message is committed anyway,
 * unless the error is a Commiter saying `shouldCommit() === false` (then it comes back after a restart or
 * rebalance). Stops after MAX messages or Ctrl-C.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 KAFKA_TOPIC=example node .build/examples/consumer-concurrent.js
 */
import { ConsumerGroup, type Commiter } from '../src/index.js';

/** A transient failure: do not commit, so the message is consumed again later. */
class RetryLater extends Error implements Commiter {
  shouldCommit(): boolean { return false; }
}

const brokerAddrs = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const topic = process.env.KAFKA_TOPIC ?? 'example';
const max = Number(process.env.MAX ?? 10);

const group = new ConsumerGroup({ brokerAddrs, topic, groupName: `${topic}-concurrent`, numWorkers: 4, minBrokersHealthy: 1, logger: console });
let handled = 0;
let enough!: () => void;
const done = new Promise<void>((r) => (enough = r));

// Returning commits the message; throwing a plain Error too (logged); throwing RetryLater does not commit.
group.registerHandler(async (m, { workerId, signal }) => {
  if (signal.aborted) throw new RetryLater('stopping');
  if (m.value === null) throw new Error(`tombstone at ${m.partition}@${m.offset}: nothing to do`);
  console.log(`worker ${workerId}: ${m.partition}@${m.offset} ${m.value.toString()}`);
  if (++handled >= max) enough();
});
process.once('SIGINT', enough);
group.start();
await done;
await group.stopAndWait(AbortSignal.timeout(10_000)); // waits for running handlers and the session to end
await group.close({ signal: AbortSignal.timeout(10_000) });
console.log(`handled ${handled} messages`);
