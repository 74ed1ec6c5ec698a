/**
 * What each integration suite needs beyond a broker, read from its compiled code (and that of the local kits it
 * imports), so the list cannot drift from the suites:
 * - `java`: Kafka's Java tools or classes run on the host (`runKafkaTool`, `tools`, `kafkaClasspath`,
 *   `kafkaLibsDir`, or a `java`/`javac` command): Java 17 and Kafka's jars (`npm run broker:setup`);
 * - `cluster`: the 3-node cluster, which only the JVM path starts (Java and the jars too);
 * - `go`: the dp-kafka peer built with Go (`harness/go-tools`).
 * The container path (testcontainers) gives the single node only: with a container engine but no Java and jars,
 * the test runner skips the `java` and `cluster` suites, each counted and named with this reason, instead of
 * letting them fail on a missing `java`. (The test certificates are made with the JDK's keytool too: see tls.ts.)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export type Need = 'java' | 'cluster' | 'go';

const JAVA_NAMES = ['runKafkaTool', 'tools', 'kafkaClasspath', 'kafkaLibsDir'];

/** The names a file imports from `./harness/index.js` (or `../harness/index.js`), aliases resolved to the export. */
function harnessImports(code: string): string[] {
  const names: string[] = [];
  for (const m of code.matchAll(/import\s*\{([^}]*)\}\s*from\s*['"](?:\.\.?\/)+harness\/index\.js['"]/g)) {
    for (const part of m[1]!.split(',')) {
      const name = part.trim().split(/\s+as\s+/)[0]!.replace(/^type\s+/, '').trim();
      if (name) names.push(name);
    }
  }
  return names;
}

/** What one file's code needs on its own (not counting the local files it imports). */
export function directNeeds(code: string): Set<Need> {
  const needs = new Set<Need>();
  const names = harnessImports(code);
  if (names.some((n) => JAVA_NAMES.includes(n)) || /['"`](java|javac)['"`]/.test(code) || /from\s*['"][./]*harness\/(java-tools|kafka-jars)\.js['"]/.test(code)) needs.add('java');
  if (names.includes('cluster')) needs.add('cluster');
  if (/from\s*['"][./]*harness\/go-tools\.js['"]/.test(code)) needs.add('go');
  return needs;
}

/** Relative imports of local (non-harness, non-src) files, resolved against `file`. */
function localImports(file: string, code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/from\s*['"](\.\.?\/[^'"]+\.js)['"]/g)) {
    const spec = m[1]!;
    if (spec.includes('/harness/') || spec.includes('/src/') || spec.includes('/test/')) continue;
    out.push(resolve(dirname(file), spec));
  }
  return out;
}

/** A file's needs, with those of the local kits it imports (mixed-group-kit, produce-helpers, …). */
export function suiteNeeds(file: string, read: (f: string) => string | undefined = (f) => (existsSync(f) ? readFileSync(f, 'utf8') : undefined)): Set<Need> {
  const needs = new Set<Need>();
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    const code = read(f);
    if (code === undefined) return;
    directNeeds(code).forEach((n) => needs.add(n));
    localImports(f, code).forEach(visit);
  };
  visit(file);
  return needs;
}

/** Why Kafka's Java tools cannot run on this host (no `java`, or no jars in the libs folder), or undefined. */
export function hostJavaProblem(libs: string): string | undefined {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore', timeout: 30_000 });
  } catch {
    return 'no `java` on this host';
  }
  const jars = existsSync(libs) && readdirSync(libs).some((f) => f.startsWith('kafka-clients-'));
  return jars ? undefined : `no Kafka jars in ${libs} (npm run broker:setup fetches them with Maven)`;
}

/** The files of `files` that need something the container-only path lacks, each with its reason. */
export function containerOnlySkips(files: string[], javaProblem: string): Array<{ file: string; reason: string }> {
  const out: Array<{ file: string; reason: string }> = [];
  for (const file of files) {
    const needs = suiteNeeds(file);
    const what = [needs.has('java') ? 'Kafka\'s Java tools' : '', needs.has('cluster') ? 'the 3-node cluster (JVMs from the jars)' : ''].filter(Boolean);
    if (what.length > 0) out.push({ file, reason: `needs ${what.join(' and ')}; only a container engine is here and ${javaProblem}` });
  }
  return out;
}

