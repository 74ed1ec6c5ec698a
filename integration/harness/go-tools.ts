/**
 * Go programs the interop suites drive (integration/go/): built once with the machine's `go` from their committed
 * go.mod / go.sum (modules from the Go module proxy), cached in the harness directory under a hash of their sources,
 * so a rebuild happens only when they change. `npm run broker:setup` builds them up front.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { kafkaHome, repoRoot } from './paths.js';

/** The dp-kafka v4 peer (integration/go/dpkafka-peer). */
export const DPKAFKA_PEER = 'dpkafka-peer';

const building = new Map<string, Promise<string>>();

/** Path of the built program `name` (integration/go/NAME), building it first if its sources changed. */
export function goTool(name: string): Promise<string> {
  let p = building.get(name);
  if (!p) {
    p = build(name);
    building.set(name, p);
    p.catch(() => building.delete(name));
  }
  return p;
}

async function build(name: string): Promise<string> {
  const src = join(repoRoot, 'integration', 'go', name);
  const hash = createHash('sha256');
  for (const f of readdirSync(src).filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum').sort()) {
    hash.update(f).update(readFileSync(join(src, f)));
  }
  const dir = join(kafkaHome, 'go');
  const bin = join(dir, `${name}-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}`;
  const env = { ...process.env, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false', CGO_ENABLED: '0' };
  await new Promise<void>((resolve, reject) => {
    execFile('go', ['build', '-o', tmp, '.'], { cwd: src, env, timeout: 15 * 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`go build of integration/go/${name} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
  renameSync(tmp, bin); // atomic: a concurrent build of the same sources writes the same program
  for (const old of readdirSync(dir)) {
    if (old.startsWith(`${name}-`) && join(dir, old) !== bin && !old.includes('.tmp-')) rmSync(join(dir, old), { force: true });
  }
  return bin;
}

/** One JSON line a Go peer printed. */
export type PeerLine = Record<string, unknown> & { type: string };

/** A running Go peer: its JSON lines as they come, stdin for commands, and ways to end it. */
export class GoPeer {
  readonly lines: PeerLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(bin: string, args: string[]) {
    this.child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (l) => {
      try { this.lines.push(JSON.parse(l) as PeerLine); } catch { this.stderr.push(`(stdout) ${l}`); }
    });
    createInterface({ input: this.child.stderr }).on('line', (l) => { if (this.stderr.length < 5000) this.stderr.push(l); });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** The lines of one type seen so far. */
  of(type: string): PeerLine[] { return this.lines.filter((l) => l.type === type); }

  /** Writes raw text on stdin. */
  write(text: string): void { this.child.stdin.write(text); }

  /** Sends one command line on stdin. */
  send(line: string): void { this.child.stdin.write(`${line}\n`); }

  /** Closes stdin (the peer closes its group, so it leaves it) and waits for the exit. */
  async close(): Promise<number | null> { this.child.stdin.end(); return this.exited; }

  /** SIGKILL: no LeaveGroup, the coordinator finds out at the session timeout. */
  async kill(): Promise<void> { this.child.kill('SIGKILL'); await this.exited; }

  /** The last stderr lines, for failure messages. */
  tail(n = 30): string { return this.stderr.slice(-n).join('\n'); }
}

/** Runs the dp-kafka peer to completion; resolves with its JSON lines, rejects with stderr on a non-zero exit. */
export async function runDpKafkaPeer(args: string[], input = '', timeoutMs = 120_000): Promise<PeerLine[]> {
  const peer = new GoPeer(await goTool(DPKAFKA_PEER), args);
  if (input) peer.write(input);
  const timer = setTimeout(() => void peer.kill(), timeoutMs);
  const code = await peer.close().finally(() => clearTimeout(timer));
  if (code !== 0) throw new Error(`dpkafka-peer ${args.join(' ')} exited ${code}: ${JSON.stringify(peer.of('error').slice(0, 5))}\n${peer.tail()}`);
  return peer.lines;
}

/** Starts a dp-kafka peer (consume) and leaves it running. */
export async function startDpKafkaPeer(args: string[]): Promise<GoPeer> {
  return new GoPeer(await goTool(DPKAFKA_PEER), args);
}
