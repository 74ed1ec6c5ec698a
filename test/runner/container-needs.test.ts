/**
 * integration/harness/needs.ts reads what each integration suite needs beyond the broker from its code, so that
 * with only a container engine the runner skips (counted, explained) exactly the suites that need Java's tools or
 * the 3-node cluster. Checked on small made-up files and on the real compiled suites.
 */
import * as assert from 'uvu/assert';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { suite } from '../kit.js';
import { containerOnlySkips, directNeeds, suiteNeeds } from '../../integration/harness/needs.js';

const build = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const s = suite('integration needs (container-only path)');

s('imports from the harness say what a file needs: aliases, Java tools, the cluster, Go, nothing', () => {
  assert.equal([...directNeeds(`import { cluster as threeNodes, brokers } from './harness/index.js';`)], ['cluster']);
  assert.equal([...directNeeds(`import { brokers, runKafkaTool, tools } from './harness/index.js';`)], ['java']);
  assert.equal([...directNeeds(`import { goTool } from './harness/go-tools.js';`)], ['go']);
  assert.equal([...directNeeds(`execFile('javac', ['-d', out]);`)], ['java']);
  assert.equal([...directNeeds(`import { brokers, singleNode } from './harness/index.js';`)], []);
});

s('a local kit\'s needs count for the files importing it (once, even in a cycle)', () => {
  const files: Record<string, string> = {
    '/i/a.test.js': `import { brokers } from './harness/index.js';\nimport { consume } from './kit.js';`,
    '/i/kit.js': `import { runKafkaTool } from './harness/index.js';\nimport { x } from './a.test.js';`,
  };
  assert.equal([...suiteNeeds('/i/a.test.js', (f) => files[f])], ['java']);
});

s('on the real suites: the Java-tool and cluster suites are skipped with the reason; the runtime suites never', () => {
  const dir = join(build, 'integration');
  const all = readdirSync(dir).filter((f) => f.endsWith('.test.js')).map((f) => join(dir, f));
  const runtimes = readdirSync(join(dir, 'runtimes')).filter((f) => f.endsWith('.test.js')).map((f) => join(dir, 'runtimes', f));
  const skips = containerOnlySkips([...all, ...runtimes], 'no `java` on this host');
  const skipped = new Map(skips.map((x) => [x.file.slice(dir.length + 1), x.reason]));
  assert.match(skipped.get('producer.test.js') ?? '', "needs Kafka's Java tools; only a container engine is here and no `java` on this host");
  assert.match(skipped.get('health.test.js') ?? '', 'the 3-node cluster');
  for (const free of ['security.test.js', 'protocol-live-broker.test.js', 'reauthentication.test.js']) assert.not.ok(skipped.has(free), free);
  assert.equal(runtimes.filter((f) => skipped.has(f.slice(dir.length + 1))), [], 'the runtime suites need the broker only');
});

s.run();
