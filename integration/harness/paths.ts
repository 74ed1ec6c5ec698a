/** Where the harness keeps what it fetches and runs: `.kafka/` at the repository root (git-ignored). */
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this file whether it runs from integration/ sources or a compiled copy. */
function findRoot(): string {
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    let dir = start;
    for (let i = 0; i < 6; i++) {
      if (existsSync(join(dir, 'integration', 'broker', 'pom.xml'))) return dir;
      dir = dirname(dir);
    }
  }
  throw new Error('kafka-channels harness: cannot find the repository root (integration/broker/pom.xml)');
}

export const repoRoot = findRoot();
export const kafkaHome = resolve(process.env.KAFKA_HARNESS_DIR ?? join(repoRoot, '.kafka'));
export const paths = {
  pom: join(repoRoot, 'integration', 'broker', 'pom.xml'),
  libs: join(kafkaHome, 'libs'),
  tls: join(kafkaHome, 'tls'),
  logs: join(kafkaHome, 'logs'),
  /** Broker log dirs; KAFKA_HARNESS_DATA moves them (the benchmarks put them on tmpfs, out of the disk's writeback). */
  data: resolve(process.env.KAFKA_HARNESS_DATA ?? join(kafkaHome, 'data')),
  run: join(kafkaHome, 'run'),
};
