/**
 * The package bundled for a browser-like target (issue 19, point 5): esbuild bundles the compiled package's main
 * entry with no Node built-in available. A static import of one (`import … from 'node:net'`) is recorded as an
 * offender, with the module that makes it; a dynamic `import('node:…')` is allowed (the code loads it lazily and
 * feature-checks). The bundle is then evaluated in a fresh `vm` context holding only Web-standard globals (no
 * Buffer, process, require or setImmediate) and its exports are looked at. Sizes: minified and gzipped, with the
 * minified bytes each layer (src/protocol, src/client, src/channels, …) puts in the bundle.
 *
 * `node .build-NAME/scripts/bundle-check.js` prints the report; test/bundle-check.test.ts holds the budget.
 */
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'esbuild';

/** A static import of a Node built-in: `importer` (path under the package root, e.g. src/client/transport.js). */
export interface Offender {
  importer: string;
  module: string;
}

export interface BundleReport {
  /** Static imports of Node built-ins, sorted; empty when the bundle needs none. */
  offenders: Offender[];
  /** Dynamic `import()`s of Node built-ins (allowed: loaded on use), `importer → module`, sorted. */
  lazy: string[];
  /** Minified bundle size in bytes, and gzipped (level 9). */
  minifiedBytes: number;
  gzippedBytes: number;
  /** Minified bytes in the bundle per source folder: protocol, client, group, channels, and errors/index at the top. */
  layerBytes: Record<string, number>;
  /** Undefined when the bundle evaluated in the Web-only context; else the error it threw. */
  loadError: string | undefined;
  /** Names the bundle exports, when it loaded. */
  exports: string[];
}

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** The compiled package root beside this script (.build-NAME/, or dist/ for a packed build). */
const buildRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Globals a browser (or a Worker without nodejs_compat) has; nothing else is visible to the bundle. */
const WEB_GLOBALS = ['console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'structuredClone',
  'TextEncoder', 'TextDecoder', 'URL', 'URLSearchParams', 'AbortController', 'AbortSignal', 'EventTarget', 'Event',
  'DOMException', 'ReadableStream', 'WritableStream', 'TransformStream', 'ByteLengthQueuingStrategy', 'CountQueuingStrategy',
  'CompressionStream', 'DecompressionStream', 'crypto', 'performance', 'atob', 'btoa', 'fetch', 'Request', 'Response', 'Headers'] as const;

function noNodeBuiltins(offenders: Offender[], lazy: string[]): Plugin {
  return {
    name: 'no-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!builtins.has(args.path)) return undefined;
        const importer = relative(buildRoot, args.importer);
        if (args.kind === 'dynamic-import') lazy.push(`${importer} → ${args.path}`);
        else offenders.push({ importer, module: args.path });
        return { path: args.path, external: true };
      });
    },
  };
}

/** Bundles `entry` (default: the compiled src/index.js) and reports; never throws for what it finds. */
export async function bundleCheck(entry = join(buildRoot, 'src', 'index.js')): Promise<BundleReport> {
  const { build } = await import('esbuild');
  const offenders: Offender[] = [];
  const lazy: string[] = [];
  const result = await build({
    entryPoints: [entry], bundle: true, minify: true, write: false, metafile: true,
    platform: 'browser', format: 'iife', globalName: '__kafkaChannels', target: 'es2022',
    plugins: [noNodeBuiltins(offenders, lazy)], logLevel: 'silent',
  });
  const out = result.outputFiles[0]!;
  // Evaluated unminified, so that a load error can be traced to the module whose top level threw.
  const readable = await build({
    entryPoints: [entry], bundle: true, write: false, platform: 'browser', format: 'iife', globalName: '__kafkaChannels',
    target: 'es2022', plugins: [noNodeBuiltins([], [])], logLevel: 'silent',
  });
  const layerBytes: Record<string, number> = {};
  for (const [path, input] of Object.entries(Object.values(result.metafile.outputs)[0]!.inputs)) {
    const parts = relative(relative(process.cwd(), buildRoot), path).split('/');
    const layer = parts[0] === 'src' ? (parts.length > 2 ? parts[1]! : 'top') : parts[0]!;
    layerBytes[layer] = (layerBytes[layer] ?? 0) + input.bytesInOutput;
  }
  const { loadError, exports } = load(readable.outputFiles[0]!.text);
  const byKey = (a: Offender, b: Offender) => `${a.importer} ${a.module}`.localeCompare(`${b.importer} ${b.module}`);
  return {
    offenders: offenders.sort(byKey), lazy: [...new Set(lazy)].sort(),
    minifiedBytes: out.contents.byteLength, gzippedBytes: gzipSync(out.contents, { level: 9 }).byteLength,
    layerBytes, loadError, exports,
  };
}

/** Evaluates the bundle where only {@link WEB_GLOBALS} exist. */
function load(code: string): { loadError: string | undefined; exports: string[] } {
  const sandbox: Record<string, unknown> = {};
  for (const name of WEB_GLOBALS) {
    const value = (globalThis as Record<string, unknown>)[name];
    if (value !== undefined) sandbox[name] = value;
  }
  const context = createContext(sandbox);
  try {
    runInContext(`${code}\n;globalThis.__kafkaChannels = __kafkaChannels;`, context, { filename: 'kafka-channels.bundle.js' });
    const mod = (context as { __kafkaChannels?: Record<string, unknown> }).__kafkaChannels ?? {};
    return { loadError: undefined, exports: Object.keys(mod).sort() };
  } catch (err) {
    // The context's own Error classes: not `instanceof` this realm's.
    const e = err as { name?: unknown; message?: unknown; stack?: unknown };
    if (typeof e?.stack !== 'string') return { loadError: String(err), exports: [] };
    return { loadError: `${String(e.name)}: ${String(e.message)}${moduleAt(code, e.stack)}`, exports: [] };
  }
}

/** ` (top level of <module>)` for the first bundle line in `stack`, from esbuild's `// <path>` module comments. */
function moduleAt(code: string, stack: string): string {
  const m = /kafka-channels\.bundle\.js:(\d+)/.exec(stack);
  if (!m) return '';
  const lines = code.split('\n');
  for (let i = Number(m[1]) - 1; i >= 0; i--) {
    const c = /^\s*\/\/ (\S+\.js)$/.exec(lines[i] ?? '');
    if (c) return ` (in ${relative(relative(process.cwd(), buildRoot), c[1]!)}: ${lines[Number(m[1]) - 1]!.trim().slice(0, 100)})`;
  }
  return '';
}

/** The report as text. */
export function formatReport(r: BundleReport): string {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const lines = [
    `minified ${r.minifiedBytes} bytes (${kib(r.minifiedBytes)}), gzipped ${r.gzippedBytes} bytes (${kib(r.gzippedBytes)})`,
    `per layer (minified): ${Object.entries(r.layerBytes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${kib(v)}`).join(', ')}`,
    r.offenders.length === 0 ? 'static imports of Node built-ins: none'
      : `static imports of Node built-ins (${r.offenders.length}):\n${r.offenders.map((o) => `  ${o.importer} imports ${o.module}`).join('\n')}`,
    `lazy (dynamic) imports of Node built-ins: ${r.lazy.length === 0 ? 'none' : `\n${r.lazy.map((l) => `  ${l}`).join('\n')}`}`,
    r.loadError === undefined ? `loads with Web globals only: yes (${r.exports.length} exports)` : `loads with Web globals only: NO: ${r.loadError}`,
  ];
  return lines.join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = await bundleCheck(process.argv[2]);
  console.log(formatReport(report));
  process.exitCode = report.offenders.length > 0 || report.loadError !== undefined ? 1 : 0;
}
