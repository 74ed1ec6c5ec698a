/**
 * Exactly-once consume-transform-produce (KIP-98, KIP-447): read KAFKA_INPUT, upper-case each value, write it to
 * KAFKA_OUTPUT. Each batch is handled inside a transaction of a transactional Producer, and the batch's consumed
 * offsets are committed in that same transaction (`{ transactionalProducer }`), not by the group: the output
 * records and the input offsets are committed together or not at all.
 *
 * Kill it (even with `kill -9`) and start it again with the same TRANSACTIONAL_ID: the new instance aborts what
 * the old one left open (and fences it, should it still be alive), the group resumes from the last committed
 * transaction, and a `read_committed` reader of KAFKA_OUTPUT sees every input record's output exactly once.
 * Readers with the default `read_uncommitted` also see aborted records: pair transactions with read_committed.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 KAFKA_INPUT=in KAFKA_OUTPUT=out TRANSACTIONAL_ID=upper-1 node .build/examples/consume-transform-produce.js
 *
 * integration/transactions-eos.test.ts runs it as a child process and kills it -9 mid-stream.
 */
import { ConsumerGroup, Producer } from '../src/index.js';

const brokerAddrs = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const input = process.env.KAFKA_INPUT ?? 'in';
const output = process.env.KAFKA_OUTPUT ?? 'out';
// One id per pipeline instance, the same after a restart (e.g. the pod's name): that is what fences a zombie.
const transactionalId = process.env.TRANSACTIONAL_ID ?? `${input}-to-${output}-1`;

const producer = new Producer({ brokerAddrs, topic: output, transactionalId, minBrokersHealthy: 1, traceHeader: false, lingerMs: 5 });
const group = new ConsumerGroup({
  brokerAddrs, topic: input, groupName: process.env.KAFKA_GROUP ?? `${input}-to-${output}`, minBrokersHealthy: 1, offset: 'oldest',
  // Static membership (KIP-345): a restarted instance takes its old place at once instead of waiting for the
  // dead member's session to expire.
  groupInstanceId: transactionalId,
  batchSize: Number(process.env.BATCH_SIZE ?? 500), batchWaitTime: 50,
});
group.logErrors();
producer.logErrors();

// A pause inside each transaction, after its records were sent (a slow transform; the kill test uses it to die mid-transaction).
const delayMs = Number(process.env.HANDLER_DELAY_MS ?? 0);
group.registerBatchHandler(async (batch) => {
  for (const m of batch) await producer.send({ key: m.key, value: (m.value?.toString() ?? '').toUpperCase() });
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
}, { transactionalProducer: producer });

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await group.close({ signal: AbortSignal.timeout(10_000) });
  await producer.close({ signal: AbortSignal.timeout(10_000) });
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
group.start();
console.log(`ready: ${input} -> ${output} as ${transactionalId}`);
