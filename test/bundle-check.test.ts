/**
 * The package bundled for a browser-like target (scripts/bundle-check.ts, issue 19 point 5): no static import of a
 * Node built-in, the bundle evaluates with Web globals only, and its minified size stays within the budget the
 * README states. The known blockers are written down below: a fix or a regression both make this test fail, so
 * whoever changes them updates the list (and the README) on purpose.
 */
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from './kit.js';
import { bundleCheck, formatReport, type BundleReport } from '../scripts/bundle-check.js';

/** Minified and gzipped budgets for the main entry (measured size + ~10%; README "Bundle size"). */
export const BUDGET = { minifiedBytes: 395_000, gzippedBytes: 113_000 };
/** Static imports of Node built-ins still on the load path (`importer imports module`). */
const KNOWN_OFFENDERS: string[] = [];
/** What stops the bundle from evaluating without Node's globals, or undefined once it loads. */
const KNOWN_LOAD_BLOCKER: string | undefined = undefined; // the top-level Buffer uses are guarded since 850ed2f

const s = suite('bundle for a browser-like target (esbuild, no Node built-ins)', { timeoutMs: 30_000 });
let report: BundleReport | undefined;

s('the main entry bundles without static Node built-ins, within the size budget; it loads or fails exactly as known', async () => {
  report = await bundleCheck();
  console.log(`  ${formatReport(report).replace(/\n/g, '\n  ')}`);
  assert.equal(report.offenders.map((o) => `${o.importer} imports ${o.module}`), KNOWN_OFFENDERS);
  assert.ok(report.minifiedBytes <= BUDGET.minifiedBytes, `minified ${report.minifiedBytes} > budget ${BUDGET.minifiedBytes}`);
  assert.ok(report.gzippedBytes <= BUDGET.gzippedBytes, `gzipped ${report.gzippedBytes} > budget ${BUDGET.gzippedBytes}`);
  assert.ok((report.layerBytes.protocol ?? 0) > 0 && (report.layerBytes.client ?? 0) > 0 && (report.layerBytes.channels ?? 0) > 0, JSON.stringify(report.layerBytes));
  assert.is(report.loadError, KNOWN_LOAD_BLOCKER);
  if (KNOWN_LOAD_BLOCKER === undefined) {
    for (const name of ['Producer', 'ConsumerGroup', 'Chan', 'KafkaError']) assert.ok(report.exports.includes(name), `exports ${report.exports.join(', ')}`);
  }
});

s('the check itself: a static node: import is an offender, a dynamic one is not, a top-level Buffer is a load error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-check-'));
  try {
    const write = (name: string, text: string) => { writeFileSync(join(dir, name), text); return join(dir, name); };
    write('uses-net.js', "import { connect } from 'node:net';\nexport const open = () => connect(1);\n");
    const bad = await bundleCheck(write('entry.js', "export { open } from './uses-net.js';\nexport const lazy = () => import('node:tls');\nexport const n = 1;\n"));
    assert.equal(bad.offenders.map((o) => [o.importer.split('/').pop(), o.module]), [['uses-net.js', 'node:net']]);
    assert.equal(bad.lazy.map((l) => l.split('/').pop()), ['entry.js → node:tls']);
    assert.ok(bad.loadError !== undefined, 'a bundle needing node:net does not load');
    const buf = await bundleCheck(write('buf.js', 'export const b = Buffer.alloc(1);\n'));
    assert.equal(buf.offenders, []);
    assert.match(buf.loadError ?? '', /^ReferenceError: Buffer is not defined \(in .*buf\.js: var b = Buffer\.alloc\(1\);\)$/);
    const ok = await bundleCheck(write('ok.js', 'export const sum = (a, b) => a + b;\nexport const te = new TextEncoder();\n'));
    assert.equal([ok.offenders, ok.loadError, ok.exports], [[], undefined, ['sum', 'te']]);
    assert.ok(ok.minifiedBytes > 0 && ok.gzippedBytes > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

s.run();
