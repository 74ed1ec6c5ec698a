/**
 * Our error table against Kafka's own: `java/ErrorCodes.java` prints every entry of the kafka-clients jar's
 * `Errors` enum, and every code, name, retriable flag and InvalidMetadataException membership must match.
 */
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { suite } from '../test/kit.js';
import { kafkaLibsDir } from './harness/index.js';
import { repoRoot } from './harness/paths.js';
import { allErrors, errorByCode } from '../src/protocol/error-codes.js';

// The compiled test may live in any outDir; the Java source stays in the repository.
const javaFile = join(repoRoot, 'integration', 'java', 'ErrorCodes.java');

interface JavaRow { code: number; name: string; retriable: boolean; invalidMetadata: boolean; message: string }

function javaRows(): JavaRow[] {
  const out = execFileSync('java', ['-cp', join(kafkaLibsDir(), '*'), javaFile], { encoding: 'utf8', timeout: 60_000 });
  return out.trim().split('\n').map((line) => {
    const [code, name, retriable, invalidMetadata, message] = line.split('\t');
    return { code: Number(code), name: name!, retriable: retriable === 'true', invalidMetadata: invalidMetadata === 'true', message: message ?? '' };
  });
}

const s = suite('error-codes-java', { timeoutMs: 90_000 });

s('every entry of Kafka\'s Errors enum matches our table, and nothing extra', () => {
  const java = javaRows();
  assert.ok(java.length > 130, `Java printed ${java.length} rows`);
  const ours = allErrors();
  assert.equal(ours.map((e) => [e.code, e.name, e.retriable]), java.map((j) => [j.code, j.name, j.retriable]));
  for (const j of java) {
    const e = errorByCode(j.code);
    assert.ok(j.message.startsWith(e.message), `${j.name}: "${e.message}" is not the start of Kafka's "${j.message}"`);
    if (j.invalidMetadata) assert.ok(e.refreshMetadata, `${j.name} is an InvalidMetadataException but does not refresh metadata`);
  }
  const extras = ours.filter((e) => e.refreshMetadata && !java.find((j) => j.code === e.code)!.invalidMetadata).map((e) => e.name);
  assert.equal(extras, ['OFFSET_NOT_AVAILABLE']);
});

s.run();
