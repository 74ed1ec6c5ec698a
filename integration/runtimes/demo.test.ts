/**
 * The demo (scripts/demo.ts, `npm run demo`) under the runtime running this file, as a user runs it: a child
 * process of this same runtime binary, 20,000 records through Producer and a 6-worker ConsumerGroup against the
 * broker, every record verified; it must exit 0 and say so.
 */
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from '../../test/kit.js';
import { runtimeBroker, runtimeName } from './kit.js';

const demoJs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'demo.js');
const s = suite(`runtime ${runtimeName()}: demo`, { timeoutMs: 120_000 });

/** The command line that runs a script under this runtime (Deno needs `run -A`). */
function command(script: string): string[] {
  return (globalThis as { Deno?: unknown }).Deno ? ['run', '-A', script] : [script];
}

s('scripts/demo.js: 20,000 records produced, consumed and verified, exit 0', async () => {
  const broker = await runtimeBroker();
  const out = await new Promise<{ code: number; text: string }>((resolve) => {
    execFile(process.execPath, [...command(demoJs), '--records', '20000'], {
      env: { ...process.env, KAFKA_BROKERS: broker.endpoints.plaintext }, timeout: 100_000, maxBuffer: 16 << 20,
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, text: stdout + stderr }));
  });
  assert.is(out.code, 0, out.text);
  assert.match(out.text, 'verified: all 20,000 records arrived intact');
});

s.run();
