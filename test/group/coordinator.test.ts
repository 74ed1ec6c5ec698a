/**
 * The coordinator lookup on the fake cluster (issue 17 point 2): a FindCoordinator that keeps failing with a
 * retriable error is retried with backoff for good, reported on the group's `errors` channel (group, error,
 * broker) at most once per requestTimeoutMs, and the group consumes once the broker answers again.
 */
import * as assert from 'uvu/assert';
import { eventually, suite } from '../kit.js';
import { ConsumerGroup } from '../../src/channels/consumer-group.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { FakeCluster } from '../fake-cluster/fake-cluster.js';

let c: FakeCluster;
const closers: (() => Promise<unknown>)[] = [];
const s = suite('group coordinator lookup on the fake cluster', { timeoutMs: 25_000 });
s.before.each(async () => { c = await FakeCluster.start({ brokers: 2, topics: { t: 1 } }); });
s.after.each(async () => {
  await Promise.allSettled(closers.splice(0).map((f) => f()));
  await c.close();
});

const REQUEST_TIMEOUT_MS = 2_000;

function group(): ConsumerGroup {
  const g = new ConsumerGroup({
    brokerAddrs: c.bootstrap, topic: 't', groupName: 'g-lookup', minRetryPeriod: 20, maxRetryPeriod: 500, heartbeatIntervalMs: 100,
    messageConsumeTimeout: 1_000, rebalanceTimeoutMs: 2_000, autoCommitIntervalMs: 100, requestTimeoutMs: REQUEST_TIMEOUT_MS,
  });
  closers.push(() => g.close({ signal: AbortSignal.timeout(3_000) }));
  return g;
}

const produce = (values: string[]): Promise<void> => c.append('t', 0, values);

function drainErrors(g: ConsumerGroup): Error[] {
  const out: Error[] = [];
  for (let r; (r = g.channels.errors.tryRecv()) !== undefined && !r.done;) out.push(r.value);
  return out;
}

/** Runs the scenario with `fault` on FindCoordinator; `seen` must match the report's message. */
async function stalledLookup(fault: () => { remove(): void }, seen: RegExp): Promise<void> {
  await produce(['a']);
  const handle = fault();
  const g = group();
  const got: string[] = [];
  g.registerHandler(async (m) => { got.push(m.value!.toString()); });
  const started = Date.now();
  g.start();
  const r = await g.channels.errors.recv(AbortSignal.timeout(6_000)).catch(() => undefined);
  assert.ok(r && !r.done, 'a report on errors within 6 s');
  const e = r.value;
  const reportedAfter = Date.now() - started;
  assert.is((e as { code?: string }).code, 'ERR_KAFKA_COORDINATOR_STALLED', String(e));
  assert.match(e.message, /g-lookup/);
  assert.match(e.message, seen);
  assert.match(e.message, /broker 127\.0\.0\.1:\d+/);
  // Keep it failing: the rate stays at a few/s and the reports at most one per requestTimeoutMs.
  const since = Date.now();
  await new Promise((r) => setTimeout(r, 4_000));
  const rate = (c.log.count('FindCoordinator', { since }) * 1000) / (Date.now() - since);
  const reports = drainErrors(g).filter((x) => (x as { code?: string }).code === 'ERR_KAFKA_COORDINATOR_STALLED').length;
  console.log(`    reported after ${reportedAfter} ms; FindCoordinator ${rate.toFixed(1)}/s; ${reports} report(s) in 4 s`);
  assert.ok(rate > 0, 'still retrying');
  assert.ok(rate <= 10, `FindCoordinator ${rate.toFixed(1)}/s`);
  assert.ok(reports >= 1 && reports <= 3, `${reports} reports in 4 s with requestTimeoutMs ${REQUEST_TIMEOUT_MS}`);
  assert.is(got.length, 0);
  handle.remove();
  await eventually('consumed once FindCoordinator answers', () => got.includes('a'), 10_000);
}

s('FindCoordinator answering COORDINATOR_NOT_AVAILABLE for good: reported on errors, paced, consumes once it stops', async () => {
  await stalledLookup(() => c.fault({ api: 'FindCoordinator', action: 'error', code: errorCodes.COORDINATOR_NOT_AVAILABLE }), /COORDINATOR_NOT_AVAILABLE/);
});

s('FindCoordinator naming a node missing from metadata: reported on errors, paced, consumes once it stops', async () => {
  await stalledLookup(() => c.fault({
    api: 'FindCoordinator', action: 'mutate',
    mutate: (res) => {
      const all = [res, ...((res.coordinators ?? []) as Record<string, unknown>[])];
      for (const x of all) Object.assign(x, { nodeId: 99, host: '127.0.0.1', port: 1, errorCode: 0 });
    },
  }), /99/);
});

s.run();
