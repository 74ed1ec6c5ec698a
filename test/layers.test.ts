/**
 * The design's layering, enforced: imports point down only (channels → group → client → protocol), the protocol
 * does no I/O, chan.ts and select.ts import nothing but errors, and nothing imports a runtime dependency.
 */
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { suite } from './kit.js';
import { repoRoot as root } from '../integration/harness/paths.js';

const src = join(root, 'src');
const rank: Record<string, number> = { protocol: 0, client: 1, group: 2, channels: 3, testing: 4 };
const ioModules = new Set(['node:net', 'node:tls', 'node:fs', 'node:child_process', 'node:http', 'node:https', 'node:dgram']);
const allowedNode = new Set(['node:buffer', 'node:zlib', 'node:crypto', 'node:diagnostics_channel', 'node:net', 'node:tls', 'node:fs',
  'node:fs/promises', 'node:events', 'node:util', 'node:timers', 'node:timers/promises']);
// The Workers runtime's own module, imported only by the entry that binds it (src/client/transports/cloudflare.ts).
const runtimeModules = new Map([['cloudflare:sockets', 'client/transports/cloudflare.ts']]);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  return importsIn(readFileSync(file, 'utf8'));
}

function importsIn(text: string): string[] {
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g), ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)]
    .map((m) => m[1]!);
}

function layerOf(file: string): string {
  return relative(src, file).split('/')[0]!.replace(/\.ts$/, '');
}

const s = suite('layers');
const files = sources(src);

s('src has files in every layer, and every layer\'s files are seen (the checks below are not vacuous)', () => {
  const perLayer = new Map<string, number>();
  for (const f of files) perLayer.set(layerOf(f), (perLayer.get(layerOf(f)) ?? 0) + 1);
  for (const layer of Object.keys(rank)) assert.ok((perLayer.get(layer) ?? 0) >= 3, `${layer}: ${perLayer.get(layer) ?? 0} files`);
  assert.ok(perLayer.has('errors') && perLayer.has('index'), 'src/errors.ts and src/index.ts');
  assert.ok(files.length >= 100, `${files.length} files under src`);
  // The import parser sees what a real file imports (a parser that finds nothing would pass every check below).
  const seen = importsOf(join(src, 'client', 'producer-engine.ts'));
  assert.ok(seen.includes('../errors.js') && seen.some((x) => x.startsWith('../protocol/')), `imports of producer-engine.ts: ${seen}`);
});

/** What is wrong with the imports of `file` (its text given, or read). */
function layerProblems(file: string, specs = importsOf(file)): string[] {
  const problems: string[] = [];
  const from = layerOf(file);
  for (const spec of specs) {
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(src)) { problems.push(`${relative(root, file)} imports outside src: ${spec}`); continue; }
      const to = layerOf(target);
      if (rank[from] !== undefined && rank[to] !== undefined && rank[to]! > rank[from]!) {
        problems.push(`${relative(root, file)} (${from}) imports up into ${to}: ${spec}`);
      }
    } else if (runtimeModules.get(spec) === relative(src, file)) {
      continue;
    } else if (!allowedNode.has(spec)) {
      problems.push(`${relative(root, file)} imports '${spec}' (runtime dependencies and other built-ins are not allowed)`);
    }
  }
  return problems;
}

s('imports point down only, and only to node built-ins or our own files', () => {
  assert.equal(files.flatMap((f) => layerProblems(f)), []);
});

s('the layer check finds an upward import, a runtime dependency and a forbidden built-in', () => {
  const fake = join(src, 'protocol', 'fake.ts');
  const text = "import { Producer } from '../channels/producer.js';\nimport x from 'left-pad';\nexport { y } from 'node:http';\nimport { a } from './ok.js';\n";
  assert.is(layerProblems(fake, importsIn(text)).length, 3);
});

s('src/protocol does no I/O', () => {
  const bad = files.filter((f) => layerOf(f) === 'protocol')
    .flatMap((f) => importsOf(f).filter((spec) => ioModules.has(spec)).map((spec) => `${relative(root, f)}: ${spec}`));
  assert.equal(bad, []);
});

s('chan.ts and select.ts import nothing but errors.ts and each other', () => {
  const bad = files.filter((f) => /channels\/(chan|select)\.ts$/.test(f))
    .flatMap((f) => importsOf(f).filter((spec) => !/^\.\.?\/(\.\.\/)?(errors|chan|select)\.js$/.test(spec)).map((spec) => `${relative(root, f)}: ${spec}`));
  assert.equal(bad, []);
});

s('package.json has no runtime dependencies', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
    assert.equal(Object.keys(pkg[field] ?? {}), [], field);
  }
});

s.run();
