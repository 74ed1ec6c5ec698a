/**
 * The runtime shims (src/runtime): built-ins found with or without `process.getBuiltinModule`, the diagnostics
 * channel that forwards to Node's (and is a no-op without it), timers that are plain numbers (Deno, workers),
 * the Buffer and Web Crypto requirements.
 */
import * as assert from 'uvu/assert';
import * as dc from 'node:diagnostics_channel';
import { InvalidArgumentError, UnsupportedRuntimeError } from '../../src/errors.js';
import { Cluster } from '../../src/client/cluster.js';
import { resolveConsumerGroupConfig, resolveProducerConfig } from '../../src/channels/config.js';
import type { Transport } from '../../src/client/transport.js';
import { sleep } from '../../src/client/backoff.js';
import { forgetBuiltins, loadNodeBuiltin, nodeBuiltin, randomBase64url, randomUuid, requireBuffer, unrefTimer } from '../../src/runtime/builtins.js';
import { diagnosticsChannel } from '../../src/runtime/diagnostics.js';
import { channels } from '../../src/client/connection.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../integration/harness/paths.js';
import { suite } from '../kit.js';

const s = suite('runtime shims');

/** Runs `fn` as on a runtime without `process.getBuiltinModule` (older Node 20), then puts it back. */
async function withoutGetBuiltinModule<T>(fn: () => Promise<T> | T): Promise<T> {
  const proc = process as { getBuiltinModule?: unknown };
  const saved = Object.getOwnPropertyDescriptor(proc, 'getBuiltinModule');
  delete proc.getBuiltinModule;
  forgetBuiltins();
  try {
    return await fn();
  } finally {
    if (saved !== undefined) Object.defineProperty(proc, 'getBuiltinModule', saved);
    forgetBuiltins();
  }
}

s('a built-in is found synchronously where getBuiltinModule exists, and after a lazy import where it does not', async () => {
  if (typeof (process as { getBuiltinModule?: unknown }).getBuiltinModule === 'function') {
    assert.is(nodeBuiltin<typeof dc>('node:diagnostics_channel')?.channel, dc.channel);
  }
  await withoutGetBuiltinModule(async () => {
    assert.is(nodeBuiltin('node:zlib'), undefined, 'not yet: the import has only started');
    const zlib = await loadNodeBuiltin<{ gzipSync: unknown }>('node:zlib');
    assert.type(zlib?.gzipSync, 'function');
    assert.is(nodeBuiltin<{ gzipSync: unknown }>('node:zlib')?.gzipSync, zlib!.gzipSync, 'then found synchronously');
    assert.is(await loadNodeBuiltin('node:no-such-module'), undefined, 'an absent module resolves undefined, never rejects');
  });
});

s('diagnostics: on Node the channel is Node\'s own, so subscribers of the public names see the events', () => {
  const ours = diagnosticsChannel('kafka-channels:test:direct');
  const got: unknown[] = [];
  const listener = (m: unknown): void => void got.push(m);
  dc.subscribe('kafka-channels:test:direct', listener);
  try {
    assert.ok(ours.hasSubscribers);
    ours.publish({ n: 1 });
    assert.equal(got, [{ n: 1 }]);
  } finally {
    dc.unsubscribe('kafka-channels:test:direct', listener);
  }
  assert.not.ok(ours.hasSubscribers);
  // The connection's channels are the public names and Node's objects.
  assert.is(channels.requestStart.name, 'kafka-channels:request:start');
  assert.is(channels.requestStart as unknown, dc.channel('kafka-channels:request:start') as unknown);
});

s('diagnostics: without getBuiltinModule the shim forwards to Node\'s channel once the module has loaded', async () => {
  await withoutGetBuiltinModule(async () => {
    const shim = diagnosticsChannel('kafka-channels:test:shim');
    assert.is(shim.hasSubscribers, false);
    shim.publish({ early: true }); // before the import lands: dropped, no throw
    await loadNodeBuiltin('node:diagnostics_channel');
    await new Promise((r) => setImmediate(r));
    const got: unknown[] = [];
    const listener = (m: unknown): void => void got.push(m);
    dc.subscribe('kafka-channels:test:shim', listener);
    try {
      assert.is(shim.hasSubscribers, true);
      shim.publish({ late: true });
      assert.equal(got, [{ late: true }]);
    } finally {
      dc.unsubscribe('kafka-channels:test:shim', listener);
    }
  });
});

s('timers that are numbers (web timers) are left alone; Node\'s are unref\'d', async () => {
  unrefTimer(5);
  unrefTimer(undefined);
  let unrefs = 0;
  unrefTimer({ unref: () => unrefs++ });
  unrefTimer({}); // an object without unref
  assert.is(unrefs, 1);
  // sleep() with unref on a runtime whose setTimeout returns numbers.
  const realSet = globalThis.setTimeout, realClear = globalThis.clearTimeout;
  const live = new Map<number, ReturnType<typeof realSet>>();
  let next = 1;
  globalThis.setTimeout = ((fn: () => void, ms: number) => { const id = next++; live.set(id, realSet(fn, ms)); return id; }) as unknown as typeof setTimeout;
  globalThis.clearTimeout = ((id: number) => { realClear(live.get(id)); live.delete(id); }) as unknown as typeof clearTimeout;
  try {
    await sleep(5, undefined, { unref: true });
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal, { unref: true });
    ac.abort(new Error('stop'));
    await p.then(() => assert.unreachable('resolved'), (e: Error) => assert.is(e.message, 'stop'));
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
});

s('requireBuffer names the fix where Buffer is missing; random ids come from Web Crypto', () => {
  requireBuffer('X');
  const saved = globalThis.Buffer;
  delete (globalThis as { Buffer?: unknown }).Buffer;
  try {
    assert.throws(() => requireBuffer('Producer'), (e: unknown) => e instanceof UnsupportedRuntimeError && /Producer needs a global Buffer.*nodejs_compat/.test((e as Error).message));
  } finally {
    globalThis.Buffer = saved;
  }
  assert.match(randomUuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const id = randomBase64url(16);
  assert.match(id, /^[A-Za-z0-9_-]{22}$/);
  assert.is.not(randomBase64url(16), id);
});

s('the transport option is checked at the boundary (Producer and ConsumerGroup configs, Cluster) and kept as given', () => {
  const transport: Transport = { connect: () => Promise.reject(new Error('unused')) };
  assert.is(resolveProducerConfig({ brokerAddrs: ['a:1'], topic: 't', minBrokersHealthy: 1, transport }).transport, transport);
  assert.is(resolveConsumerGroupConfig({ brokerAddrs: ['a:1'], topic: 't', groupName: 'g', transport }).transport, transport);
  for (const bad of [1, 'net', null, {}, { connect: 'x' }]) {
    const isBad = (e: unknown): boolean => e instanceof InvalidArgumentError && /transport must be an object with a connect/.test((e as Error).message);
    assert.throws(() => resolveProducerConfig({ brokerAddrs: ['a:1'], topic: 't', minBrokersHealthy: 1, transport: bad as unknown as Transport }), isBad, String(bad));
    assert.throws(() => resolveConsumerGroupConfig({ brokerAddrs: ['a:1'], topic: 't', groupName: 'g', transport: bad as unknown as Transport }), isBad, String(bad));
    assert.throws(() => new Cluster({ bootstrap: ['a:1'], transport: bad as unknown as Transport }), isBad, String(bad));
  }
});

s('src/runtime sits below every layer: it imports only errors.ts, its own files and Node types', () => {
  const dir = join(repoRoot, 'src', 'runtime');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 2, files.join(', '));
  const bad = files.flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/^\s*import\s(type\s)?[^;]*?from\s+'([^']+)'/gm)]
    .filter((m) => !(m[2] === '../errors.js' || /^\.\/[a-z-]+\.js$/.test(m[2]!) || (m[1] !== undefined && m[2]!.startsWith('node:'))))
    .map((m) => `${f}: ${m[0].trim()}`));
  assert.equal(bad, []);
});

s.run();
