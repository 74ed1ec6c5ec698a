/**
 * Apache Kafka's own jars from Maven Central: the broker, its tools and kafka-clients, copied by Maven into
 * `.kafka/libs`. A stamp holds the pom's hash, so changing the pinned version refetches.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from './paths.js';

let cached: string | undefined;

/** The Kafka version the pom pins (e.g. 4.3.1). */
export function kafkaVersion(): string {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(paths.pom, 'utf8'));
  if (!m) throw new Error(`no <kafka.version> in ${paths.pom}`);
  return m[1]!;
}

/** Absolute path of the folder holding Kafka's jars, fetching them with Maven the first time. */
export function kafkaLibsDir(): string {
  if (cached) return cached;
  const stamp = join(paths.libs, '.pom-sha256');
  const want = createHash('sha256').update(readFileSync(paths.pom)).digest('hex');
  const have = existsSync(stamp) ? readFileSync(stamp, 'utf8') : '';
  const hasClients = existsSync(paths.libs) && readdirSync(paths.libs).some((f) => f.startsWith('kafka-clients-'));
  if (have !== want || !hasClients) {
    rmSync(paths.libs, { recursive: true, force: true });
    mkdirSync(paths.libs, { recursive: true });
    try {
      execFileSync('mvn', ['-q', '-B', '-f', paths.pom, 'dependency:copy-dependencies', '-DincludeScope=runtime',
        `-DoutputDirectory=${paths.libs}`], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10 * 60_000 });
    } catch (err) {
      const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
      throw new Error(`Maven could not fetch Kafka's jars (needs mvn and Maven Central): ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    writeFileSync(stamp, want);
  }
  cached = paths.libs;
  return cached;
}

/** The `-cp` value for java: every jar in the libs folder (java expands the quoted wildcard itself). */
export function kafkaClasspath(): string {
  return join(kafkaLibsDir(), '*');
}
