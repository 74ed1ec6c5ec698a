/**
 * One Kafka node run from Apache Kafka's jars: `kafka.tools.StorageTool format`, then `kafka.Kafka <config>` as a
 * detached JVM whose output goes to a log file. Ready when the log says `Kafka Server started` (logged only once
 * the broker is unfenced and its acceptors run; an open port proves nothing).
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { kafkaClasspath } from './kafka-jars.js';
import { paths } from './paths.js';
import { toPropertiesText, type Properties } from './broker-config.js';

const READY_LINE = 'Kafka Server started';

/** WARN everywhere, except the INFO line that tells us the server is up. */
const LOG4J = `status = error
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = OUT
logger.ready.name = kafka.server.KafkaRaftServer
logger.ready.level = info
`;

function log4jConfig(): string {
  const file = join(paths.run, 'log4j2.properties');
  mkdirSync(paths.run, { recursive: true });
  if (!existsSync(file) || readFileSync(file, 'utf8') !== LOG4J) writeFileSync(file, LOG4J);
  return file;
}

/** JVM options; KAFKA_JVM_OPTS replaces them (e.g. a bigger heap for benchmarks). */
function jvmOptions(): string[] {
  const custom = process.env.KAFKA_JVM_OPTS;
  const base = custom ? custom.split(/\s+/).filter(Boolean)
    : ['-Xms256m', '-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError'];
  return [...base, '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4jConfig()}`];
}

/** A cluster id as StorageTool's random-uuid prints it: 22 characters of base64url, no leading '-'. */
export function newClusterId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return 'K' + Buffer.from(bytes).toString('base64url').slice(1);
}

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Record of a running node, so stale JVMs from a crashed run can be found and killed. */
interface PidRecord { pid: number; ownerPid: number; keep: boolean; name: string }

export class JvmKafkaNode {
  readonly configPath: string;
  readonly logPath: string;
  private readonly pidPath: string;
  pid: number | undefined;

  constructor(readonly name: string, readonly props: Properties, readonly dataDir: string) {
    this.configPath = join(paths.run, `${name}.properties`);
    this.logPath = join(paths.logs, `${name}.log`);
    this.pidPath = join(paths.run, `${name}.pid.json`);
    this.pid = keptNode(name)?.pid;
  }

  /** Writes the config and formats fresh storage (the data dir is wiped first). */
  format(clusterId: string, extraArgs: string[] = []): void {
    rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { recursive: true });
    mkdirSync(dirname(this.configPath), { recursive: true });
    writeFileSync(this.configPath, toPropertiesText(this.props));
    try {
      execFileSync('java', [...jvmOptions(), '-cp', kafkaClasspath(), 'kafka.tools.StorageTool', 'format', '-t', clusterId,
        '-c', this.configPath, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    } catch (err) {
      const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
      throw new Error(`formatting ${this.name} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  }

  /** Starts the JVM and resolves once the broker is serving. `keep` leaves it running after this process exits. */
  async start(options: { keep?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (this.running) return;
    mkdirSync(paths.logs, { recursive: true });
    const from = existsSync(this.logPath) ? statSync(this.logPath).size : 0;
    const out = openSync(this.logPath, 'a');
    const child = spawn('java', [...jvmOptions(), '-cp', kafkaClasspath(), 'kafka.Kafka', this.configPath], {
      stdio: ['ignore', out, out], detached: true,
    });
    closeSync(out);
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not spawn java for ${this.name}`);
    this.pid = pid;
    const record: PidRecord = { pid, ownerPid: process.pid, keep: options.keep ?? false, name: this.name };
    writeFileSync(this.pidPath, JSON.stringify(record));
    await this.waitReady(from, options.timeoutMs ?? 120_000);
  }

  private async waitReady(from: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.logSince(from).includes(READY_LINE)) return;
      if (!this.running) throw new Error(`${this.name} exited before it was ready; log tail:\n${this.logTail(40)}`);
      await sleep(100);
    }
    this.kill9Sync();
    throw new Error(`${this.name} not ready after ${timeoutMs} ms; log tail:\n${this.logTail(40)}`);
  }

  private logSince(from: number): string {
    const fd = openSync(this.logPath, 'r');
    try {
      const size = statSync(this.logPath).size;
      const buf = Buffer.alloc(Math.max(0, size - from));
      readSync(fd, buf, 0, buf.length, from);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  /** The last `lines` lines of the node's log. */
  logTail(lines: number): string {
    if (!existsSync(this.logPath)) return '(no log)';
    return readFileSync(this.logPath, 'utf8').split('\n').slice(-lines - 1).join('\n');
  }

  get running(): boolean {
    return this.pid !== undefined && isAlive(this.pid);
  }

  /** Graceful stop (SIGTERM: controlled shutdown), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    if (isAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (isAlive(pid) && Date.now() < deadline) await sleep(100);
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(50);
    }
    this.forget();
  }

  /** A crash: SIGKILL, then wait until the process is gone. */
  async kill9(): Promise<void> {
    this.kill9Sync();
    const pid = this.pid;
    while (pid !== undefined && isAlive(pid)) await sleep(50);
    this.forget();
  }

  /** For process exit handlers, which cannot wait. */
  kill9Sync(): void {
    if (this.pid !== undefined && isAlive(this.pid)) process.kill(this.pid, 'SIGKILL');
  }

  private forget(): void {
    this.pid = undefined;
    if (existsSync(this.pidPath)) unlinkSync(this.pidPath);
  }

  /** Removes the node's data. */
  wipe(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Kills JVMs left by an earlier test run that died without cleaning up (kept `broker:start` nodes are spared). */
export function killStaleNodes(): void {
  if (!existsSync(paths.run)) return;
  for (const file of readdirSafe(paths.run)) {
    if (!file.endsWith('.pid.json')) continue;
    const full = join(paths.run, file);
    try {
      const rec = JSON.parse(readFileSync(full, 'utf8')) as PidRecord;
      if (rec.keep && isAlive(rec.pid)) continue;
      // Ours, or owned by a test process still running (helpers and CI may run side by side): leave it.
      if (rec.ownerPid === process.pid || isAlive(rec.ownerPid)) continue;
      if (isAlive(rec.pid)) process.kill(rec.pid, 'SIGKILL');
      unlinkSync(full);
    } catch {
      unlinkSync(full);
    }
  }
}

/** Reads a kept node's pid record, if that node is still alive. */
export function keptNode(name: string): PidRecord | undefined {
  const file = join(paths.run, `${name}.pid.json`);
  if (!existsSync(file)) return undefined;
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
    return isAlive(rec.pid) ? rec : undefined;
  } catch {
    return undefined;
  }
}

function readdirSafe(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}
