/**
 * One of our consumers as a child process, for integration/kip848.test.ts to kill with SIGKILL (no leave, no
 * commit): a channel ConsumerGroup with `groupProtocol: 'consumer'` whose handler prints `V <value>` for each record
 * it handled (the handler commits it after it returns, as dp-kafka's). Config: one JSON argument
 * `{ bootstrap, topic, group, name, handleMs }`.
 */
import { ConsumerGroup } from '../src/channels/consumer-group.js';

const cfg = JSON.parse(process.argv[2] ?? '{}') as { bootstrap: string[]; topic: string; group: string; name: string; handleMs: number };
const g = new ConsumerGroup({
  brokerAddrs: cfg.bootstrap, topic: cfg.topic, groupName: cfg.group, clientId: cfg.name, groupProtocol: 'consumer',
  minBrokersHealthy: 1, autoCommitIntervalMs: 200,
});
g.registerHandler(async (m) => {
  if (cfg.handleMs > 0) await new Promise((r) => setTimeout(r, cfg.handleMs));
  process.stdout.write(`V ${m.value!.toString()}\n`);
});
g.start();
void (async () => {
  for await (const err of g.channels.errors) process.stderr.write(`${err.name}: ${err.message}\n`);
})();
