/**
 * What the core asks of the runtime, and how it asks without a static `node:` import: the package must load
 * where Node's built-ins do not exist (an edge worker, a browser-like bundle) and use them where they do.
 *
 * - A Node built-in is looked up synchronously with `process.getBuiltinModule` (Node >= 20.16 / 22.3, Bun, Deno)
 *   and cached; where that call is missing, a dynamic `import()` is started on the first lookup and its module is
 *   used once it has loaded. A runtime with neither simply gets `undefined`, and the caller takes its
 *   runtime-neutral path (our inflate, a no-op diagnostics channel) or says what is missing.
 * - A global `Buffer` (Node, Bun, Deno, workerd with `nodejs_compat`) is required: {@link requireBuffer}.
 * - Web Crypto (`globalThis.crypto`) is required for SCRAM and random ids: {@link webCrypto}.
 */
import { UnsupportedRuntimeError } from '../errors.js';

type GetBuiltinModule = (id: string) => unknown;
/** Web Crypto's `Crypto` (typed by @types/node; the DOM lib is not in our build). */
export type WebCrypto = typeof globalThis.crypto;

/** `process.getBuiltinModule`, read on each call: tests (and some runtimes) install or remove it after load. */
function getBuiltinModule(): GetBuiltinModule | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: unknown } }).process;
  return typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule as GetBuiltinModule).bind(proc) : undefined;
}

/** Modules found so far; `null` = known absent. */
const found = new Map<string, unknown>();
const loading = new Map<string, Promise<unknown>>();

/**
 * The specifier goes through a variable so that bundlers targeting a browser do not try to resolve `node:` modules:
 * the import happens only at run time, and only where asked.
 */
const dynamicImport = (specifier: string): Promise<unknown> => import(specifier);

/**
 * A Node built-in (`'node:zlib'`…) now, or `undefined` when the runtime has none (or it is still loading: see the
 * file's doc). Cached: one lookup per module per process, so hot paths may call it freely.
 */
export function nodeBuiltin<T>(specifier: string): T | undefined {
  const known = found.get(specifier);
  if (known !== undefined) return (known ?? undefined) as T | undefined;
  const get = getBuiltinModule();
  if (get !== undefined) {
    let mod: unknown;
    try {
      mod = get(specifier);
    } catch {
      mod = undefined;
    }
    if (mod !== undefined && mod !== null) {
      found.set(specifier, mod);
      return mod as T;
    }
  }
  void loadNodeBuiltin(specifier);
  return undefined;
}

/**
 * Loads a Node built-in (dynamic `import()` where `process.getBuiltinModule` cannot give it), once; resolves
 * `undefined` when the runtime has no such module. Never rejects.
 */
export function loadNodeBuiltin<T>(specifier: string): Promise<T | undefined> {
  const known = found.get(specifier);
  if (known !== undefined) return Promise.resolve((known ?? undefined) as T | undefined);
  let p = loading.get(specifier);
  if (p === undefined) {
    p = dynamicImport(specifier).then(
      (mod) => {
        found.set(specifier, mod);
        return mod;
      },
      () => {
        found.set(specifier, null);
        return undefined;
      },
    );
    loading.set(specifier, p);
  }
  return p as Promise<T | undefined>;
}

/** Whether this runtime can look built-ins up synchronously (`process.getBuiltinModule`). */
export function hasSyncBuiltins(): boolean {
  return getBuiltinModule() !== undefined;
}

/** Forgets what was found: for tests that remove or refuse built-ins in-process. */
export function forgetBuiltins(): void {
  found.clear();
  loading.clear();
}

/**
 * Throws {@link UnsupportedRuntimeError} unless the runtime has a global `Buffer`. Client constructors call it, so a
 * runtime without one fails at once with the fix, not deep inside a request.
 */
export function requireBuffer(what: string): void {
  if (typeof (globalThis as { Buffer?: unknown }).Buffer !== 'function') {
    throw new UnsupportedRuntimeError(`${what} needs a global Buffer, which this runtime lacks: on Cloudflare Workers enable the "nodejs_compat" compatibility flag; elsewhere install a Buffer polyfill as globalThis.Buffer before creating clients`);
  }
}

/** The Web Crypto object (Node >= 20, Bun, Deno, workerd); throws {@link UnsupportedRuntimeError} when absent. */
export function webCrypto(): WebCrypto {
  const c = (globalThis as { crypto?: WebCrypto }).crypto;
  if (c === undefined || typeof c.getRandomValues !== 'function' || c.subtle === undefined) {
    throw new UnsupportedRuntimeError('this runtime has no Web Crypto (globalThis.crypto with subtle): SCRAM and random ids need it');
  }
  return c;
}

/** `bytes` random bytes from Web Crypto as base64url text (printable, no `,`: member ids, SCRAM nonces). */
export function randomBase64url(bytes: number): string {
  return Buffer.from(webCrypto().getRandomValues(new Uint8Array(bytes))).toString('base64url');
}

/** A random UUID (v4) from Web Crypto. */
export function randomUuid(): string {
  return webCrypto().randomUUID();
}

/**
 * Lets the process exit while only `timer` is pending, where timers can be unref'd: Node's and Bun's timers are
 * objects with `unref()`, while Deno (web timers) and workers return plain numbers, which are left alone.
 */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === 'object' && timer !== null) (timer as { unref?: () => unknown }).unref?.();
}
