/**
 * The Worker that integration/workerd.test.ts bundles (esbuild, from the compiled package) and runs under workerd.
 * POST a JSON {@link RunRequest}: it produces `count` records to `topic` through our client over the Workers
 * sockets transport (`cloudflare:sockets`), reads every partition back from offset 0 through the same transport, and
 * answers a {@link RunResult}. Nothing here touches node:net or node:tls: every byte goes through `connect()`.
 */
import { Cluster } from '../../src/client/cluster.js';
import { ProducerEngine } from '../../src/client/producer-engine.js';
import { Fetcher } from '../../src/client/fetcher.js';
import { fetchedRecords } from '../../src/client/fetch-buffer.js';
import { Compression, type CompressionCodec } from '../../src/protocol/compression/index.js';
import { connect } from 'cloudflare:sockets';
import { cloudflareTransport } from '../../src/client/transports/cloudflare.js';
import { workersTransport } from '../../src/client/transports/workers.js';
import type { Transport } from '../../src/client/transport.js';
import { Producer } from '../../src/channels/producer.js';
import { ConsumerGroup } from '../../src/channels/consumer-group.js';

/** What the test asks for. */
export interface RunRequest {
  brokers: string[];
  topic: string;
  partitions: number;
  count: number;
  compression?: keyof typeof Compression;
  /** Connect with TLS (the runtime checks the broker against workerd's trusted certificates). */
  tls?: boolean;
  /** TLS set up by `startTls()` on a plain socket instead of `secureTransport: 'on'`. */
  starttls?: boolean;
  /** The name the broker's certificate is checked against (tls.servername), when not the host connected to. */
  servername?: string;
  /** SASL/SCRAM credentials, when the brokers are a SASL listener. */
  sasl?: { mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'PLAIN'; username: string; password: string };
  /** 'client' (default): Cluster, ProducerEngine and Fetcher; 'channels': the public Producer and ConsumerGroup. */
  api?: 'client' | 'channels';
}

/** What the Worker saw. */
export interface RunResult {
  produced: Array<{ key: string; partition: number; offset: number }>;
  consumed: Array<{ key: string; value: string; partition: number; offset: number }>;
  produceMs: number;
  consumeMs: number;
  /** `typeof` of the runtime globals that tell workerd from Node (a run under Node would show 'object' for process.versions.node). */
  runtime: { navigatorUserAgent: string; nodeVersion: string };
  /** Connections opened through the Workers sockets transport (the only transport the client was given). */
  transportConnects: number;
}

function runtimeInfo(): RunResult['runtime'] {
  const g = globalThis as { navigator?: { userAgent?: string }; process?: { versions?: { node?: string } } };
  return { navigatorUserAgent: String(g.navigator?.userAgent), nodeVersion: String(g.process?.versions?.node) };
}

/** The public API: a Producer sends, a ConsumerGroup reads everything back and commits, both over `transport`. */
async function runChannels(req: RunRequest, transport: Transport, counted: () => number): Promise<RunResult> {
  const t0 = Date.now();
  const producer = new Producer({ brokerAddrs: req.brokers, topic: req.topic, transport, minBrokersHealthy: 1, compression: req.compression ?? 'none' });
  const errors: string[] = [];
  try {
    await producer.initialise();
    for (let i = 0; i < req.count; i++) await producer.send({ key: `k-${i}`, value: `workerd-${i}` });
  } finally {
    await producer.close({ signal: AbortSignal.timeout(30_000) });
  }
  for (let e; (e = producer.channels.errors.tryRecv()) !== undefined && !e.done;) errors.push(String(e.value));
  if (errors.length > 0) throw new Error(`producer errors: ${errors.join('; ')}`);
  const t1 = Date.now();
  const group = new ConsumerGroup({ brokerAddrs: req.brokers, topic: req.topic, groupName: `${req.topic}-g`, transport, minBrokersHealthy: 1, offset: 'oldest' });
  const consumed: RunResult['consumed'] = [];
  try {
    group.start();
    const deadline = AbortSignal.timeout(40_000);
    while (consumed.length < req.count) {
      const r = await group.channels.upstream.recv(deadline);
      if (r.done) throw new Error('upstream closed');
      const m = r.value;
      consumed.push({ key: String(m.key), value: String(m.value), partition: m.partition, offset: m.offset });
      await m.commitAndRelease();
    }
  } finally {
    await group.close({ signal: AbortSignal.timeout(20_000) });
  }
  const produced = consumed.map((c) => ({ key: c.key, partition: c.partition, offset: c.offset }));
  return { produced, consumed, produceMs: t1 - t0, consumeMs: Date.now() - t1, runtime: runtimeInfo(), transportConnects: counted() };
}

async function run(req: RunRequest): Promise<RunResult> {
  let transportConnects = 0;
  const inner = req.starttls ? workersTransport(connect, { secureTransport: 'starttls' }) : cloudflareTransport;
  const transport: Transport = { connect: (o) => { transportConnects++; return inner.connect(o); } };
  if (req.api === 'channels') return runChannels(req, transport, () => transportConnects);
  const cluster = new Cluster({
    bootstrap: req.brokers, transport, clientId: 'workerd-test',
    tls: req.tls ? { minVersion: 'TLSv1.2', servername: req.servername } : undefined, sasl: req.sasl,
  });
  const compression: CompressionCodec = Compression[req.compression ?? 'none'];
  const engine = new ProducerEngine({ cluster, compression, lingerMs: 5, deliveryTimeoutMs: 30_000 });
  const fetcher = new Fetcher(cluster, { maxWaitMs: 100 });
  try {
    const t0 = Date.now();
    const produced: RunResult['produced'] = [];
    await Promise.all(Array.from({ length: req.count }, (_, i) => new Promise<void>((resolve, reject) => {
      const key = `k-${i}`;
      engine.send([{ key, value: `workerd-${i}` }], (r) => {
        if (r.errors) return reject(r.errors.find((e) => e !== undefined));
        produced.push({ key, partition: r.partitions[0]!, offset: r.offsets[0]! });
        resolve();
      }, { topic: req.topic });
    })));
    await engine.flush();
    const t1 = Date.now();
    fetcher.assign(Array.from({ length: req.partitions }, (_, partition) => ({ topic: req.topic, partition, offset: 0 })));
    const consumed: RunResult['consumed'] = [];
    const deadline = AbortSignal.timeout(30_000);
    while (consumed.length < req.count) {
      const batch = await fetcher.next(deadline);
      for (const r of fetchedRecords(batch)) {
        consumed.push({ key: new TextDecoder().decode(r.key!), value: new TextDecoder().decode(r.value!), partition: batch.partition, offset: r.offset });
      }
      fetcher.consumed(batch, batch.nextOffset);
    }
    return {
      produced, consumed, produceMs: t1 - t0, consumeMs: Date.now() - t1, runtime: runtimeInfo(),
      transportConnects,
    };
  } finally {
    await fetcher.close();
    await engine.close();
    await cluster.close();
  }
}

export default {
  async fetch(request: Request): Promise<Response> {
    try {
      return Response.json(await run(await request.json() as RunRequest));
    } catch (err) {
      const e = err as Error & { code?: string };
      return Response.json({ error: `${e.name} ${e.code ?? ''}: ${e.message}`, stack: e.stack }, { status: 500 });
    }
  },
};
