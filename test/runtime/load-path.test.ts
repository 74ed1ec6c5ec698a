/**
 * Issue 19: the package loads and runs where Node's built-ins are absent, given a transport. Each case runs in a
 * child process whose module loader REFUSES every built-in (`node:x` and bare `x` alike, through a
 * `module.register` resolve hook) and that has no `process.getBuiltinModule`: that is a runtime without Node's
 * modules. There the entry points must load, a Producer given an in-memory transport must be constructed and
 * must open its connections through it, a Producer without one must fail with UnsupportedRuntimeError, SCRAM must
 * run on Web Crypto, gzip on our own coder and diagnostics on the no-op channel. Without a global Buffer, the
 * package still loads and constructing a client throws UnsupportedRuntimeError naming the fix.
 */
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from '../kit.js';

const s = suite('runtime: load path without Node built-ins', { timeoutMs: 60_000 });
const builtSrc = fileURLToPath(new URL('../../src/', import.meta.url));
const entry = new URL('../../src/index.js', import.meta.url).href;
const testingEntry = new URL('../../src/testing/index.js', import.meta.url).href;

/** A resolve hook that refuses every built-in, by either spelling. */
const HOOK = `
const refused = new Set(${JSON.stringify(builtinModules)});
export async function resolve(specifier, context, next) {
  const bare = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  if (specifier.startsWith('node:') || refused.has(bare.split('/')[0])) {
    const err = new Error('refused built-in ' + specifier + ' (this test runtime has no Node modules)');
    err.code = 'ERR_TEST_REFUSED_BUILTIN';
    throw err;
  }
  return next(specifier, context);
}`;

/** Runs `body` (an async module body) in a child without built-ins; returns what it printed last, as JSON. */
function withoutBuiltins(body: string, options: { deleteBuffer?: boolean } = {}): Record<string, unknown> {
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));
    delete process.getBuiltinModule;
    ${options.deleteBuffer ? 'delete globalThis.Buffer;' : ''}
    const out = {};
    try { await import('node:net'); out.hookRefusesNet = false; } catch { out.hookRefusesNet = true; }
    try { await import('zlib'); out.hookRefusesBareZlib = false; } catch { out.hookRefusesBareZlib = true; }
    out.getBuiltinModule = typeof process.getBuiltinModule;
    try {
      ${body}
    } catch (err) {
      out.failed = String(err && err.stack || err);
    }
    console.log(JSON.stringify(out));
    process.exit(0);`;
  const stdout = execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 50_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

s('the child really has no built-ins (the checks below are not vacuous)', () => {
  const out = withoutBuiltins('');
  assert.equal(out, { hookRefusesNet: true, hookRefusesBareZlib: true, getBuiltinModule: 'undefined' });
});

s('the entry points load; a Producer takes an in-memory transport and connects through it only', () => {
  const out = withoutBuiltins(`
    const k = await import(${JSON.stringify(entry)});
    await import(${JSON.stringify(testingEntry)});
    out.loaded = typeof k.Producer === 'function' && typeof k.ConsumerGroup === 'function' && typeof k.Cluster === 'function';
    const calls = [];
    const transport = { async connect(o) { calls.push(o.host + ':' + o.port + (o.tls ? '+tls' : '')); throw new k.ConnectionError('in-memory transport: no broker here'); } };
    const producer = new k.Producer({ brokerAddrs: ['kafka-a:9092', 'kafka-b:9093'], topic: 't', minBrokersHealthy: 1, transport });
    const err = await producer.initialise().then(() => undefined, (e) => e);
    out.initialiseError = err && err.code;
    out.calls = [...new Set(calls)].sort();
    const before = calls.length;
    out.health = (await producer.checker()).status;
    out.probeCalls = calls.length - before; // the health checker's probe connects through the transport too
    await producer.close();
    const group = new k.ConsumerGroup({ brokerAddrs: ['kafka-a:9092'], topic: 't', groupName: 'g', transport });
    await group.close();
    out.groupConstructed = true;
    try { new k.Producer({ brokerAddrs: ['a:1'], topic: 't', minBrokersHealthy: 1, transport: { connect: 1 } }); } catch (e) { out.badTransport = e.code + ': ' + e.message; }
  `);
  assert.is(out.failed, undefined, String(out.failed));
  assert.is(out.loaded, true);
  assert.is(out.initialiseError, 'ERR_KAFKA_CONNECTION');
  assert.equal(out.calls, ['kafka-a:9092', 'kafka-b:9093']);
  assert.is(out.health, 'WARNING');
  assert.ok((out.probeCalls as number) >= 2, `probe connections through the transport: ${out.probeCalls}`);
  assert.is(out.groupConstructed, true);
  assert.match(String(out.badTransport), /^ERR_KAFKA_INVALID_ARGUMENT: .*transport must be an object with a connect/);
});

s('without a transport, connecting fails with UnsupportedRuntimeError naming the transport option', () => {
  const out = withoutBuiltins(`
    const k = await import(${JSON.stringify(entry)});
    const producer = new k.Producer({ brokerAddrs: ['127.0.0.1:1'], topic: 't', minBrokersHealthy: 1 });
    const err = await producer.initialise().then(() => undefined, (e) => e);
    out.error = err && (err.constructor.name + ' ' + err.code + ' retriable=' + err.retriable + ': ' + err.message);
    await producer.close();
  `);
  assert.is(out.failed, undefined, String(out.failed));
  assert.match(String(out.error), /^UnsupportedRuntimeError ERR_KAFKA_UNSUPPORTED_RUNTIME retriable=false: .*node:net.*`transport` option/);
});

s('SCRAM runs on Web Crypto (RFC 7677 example), gzip on our own coder, diagnostics on the no-op channel', () => {
  const out = withoutBuiltins(`
    const { ScramMechanism } = await import(${JSON.stringify(new URL('../../src/client/sasl/index.js', import.meta.url).href)});
    const m = new ScramMechanism({ username: 'user', password: 'pencil', hash: 'sha256', nonce: 'rOprNGfwEbeRWgbNEkqO' });
    await m.start();
    const final = await m.next(Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
    out.clientFinal = final.toString();
    out.verified = (await m.next(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))) === null && m.done;
    const m1 = new ScramMechanism({ username: 'user', password: 'pencil', hash: 'sha1', nonce: 'fyko+d2lbbFgONRv9qkxdawL' });
    await m1.start();
    out.sha1Final = (await m1.next(Buffer.from('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'))).toString();
    out.sha1Verified = (await m1.next(Buffer.from('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='))) === null && m1.done;
    out.badSignature = await m1.next(Buffer.from('v=x')).then(() => 'accepted', (e) => e.constructor.name);
    const c = await import(${JSON.stringify(new URL('../../src/protocol/compression/index.js', import.meta.url).href)});
    const data = Buffer.from('kafka '.repeat(1000));
    const gz = c.compress(1, data);
    out.gzipRoundTrip = c.decompress(1, gz).equals(data) && gz.length < data.length / 10;
    out.gzipHeader = gz.subarray(0, 3).toString('hex');
    const d = await import(${JSON.stringify(new URL('../../src/runtime/diagnostics.js', import.meta.url).href)});
    const ch = d.diagnosticsChannel('kafka-channels:test');
    ch.publish({ x: 1 });
    out.diagnostics = ch.hasSubscribers;
    out.zstd = c.decompress(4, c.compress(4, data)).equals(data);
  `);
  assert.is(out.failed, undefined, String(out.failed));
  assert.is(out.clientFinal, 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
  assert.is(out.verified, true);
  assert.is(out.sha1Final, 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
  assert.is(out.sha1Verified, true);
  assert.is(out.badSignature, 'AuthenticationError');
  assert.is(out.gzipRoundTrip, true);
  assert.is(out.gzipHeader, '1f8b08');
  assert.is(out.diagnostics, false);
  assert.is(out.zstd, true);
});

s('without a global Buffer the package loads, and constructing a client says what to do', () => {
  const out = withoutBuiltins(`
    const k = await import(${JSON.stringify(entry)});
    out.loaded = typeof k.Producer === 'function';
    for (const make of [() => new k.Producer({ brokerAddrs: ['a:1'], topic: 't', minBrokersHealthy: 1 }),
      () => new k.ConsumerGroup({ brokerAddrs: ['a:1'], topic: 't', groupName: 'g' }), () => new k.Cluster({ bootstrap: ['a:1'] })]) {
      try { make(); out.errors = [...(out.errors ?? []), 'constructed']; } catch (e) { out.errors = [...(out.errors ?? []), e.constructor.name + ': ' + e.message]; }
    }
  `, { deleteBuffer: true });
  assert.is(out.failed, undefined, String(out.failed));
  assert.is(out.loaded, true);
  const errors = out.errors as string[];
  assert.is(errors.length, 3);
  for (const e of errors) assert.match(e, /^UnsupportedRuntimeError: (Producer|ConsumerGroup|Cluster) needs a global Buffer.*nodejs_compat/);
});

/** Every compiled module of src, for the static check. */
function compiled(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? compiled(full) : name.endsWith('.js') ? [full] : [];
  });
}

s('no compiled module of src imports a built-in statically (dynamic loads go through src/runtime/builtins.ts)', () => {
  const files = compiled(builtSrc);
  assert.ok(files.length > 100, `${files.length} files`);
  const bad = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/^\s*(?:import|export)\s(?:[^;]*?from\s+)?['"]([^'"]+)['"]/gm)]
    .map((m) => m[1]!).filter((spec) => spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)).map((spec) => `${f.slice(builtSrc.length)}: ${spec}`));
  assert.equal(bad, []);
});

s.run();
