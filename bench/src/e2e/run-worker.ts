/**
 * One benchmark run in a fresh process (bench/src/e2e/worker.ts), under this Node or another runtime: the e2e and
 * the runtimes benchmarks both start their runs here.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult, RunSpec } from './spec.js';

const worker = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');

/** A runtime to run the worker under: its binary and the arguments before the script (e.g. `run -A` for Deno). */
export interface WorkerRuntime { name: string; bin: string; args: string[] }

/** This process's own Node. */
export const THIS_NODE: WorkerRuntime = { name: 'node', bin: process.execPath, args: [] };

/** Runs `spec` in a new process of `runtime`, killed after 4 minutes; resolves with the result line it prints. */
export function runWorker(spec: RunSpec, runtime: WorkerRuntime = THIS_NODE): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(runtime.bin, [...runtime.args, worker, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)) as RunResult);
      else reject(new Error(`${runtime.name} ${spec.lib} ${spec.scenario} exited ${code}: ${out.slice(-500)}`));
    });
  });
}
