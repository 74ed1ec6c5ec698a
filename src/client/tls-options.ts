/**
 * Turns the user's TLS settings into Node's `tls.connect` options, with dp-kafka's `SecurityConfig` conventions:
 * each of `ca`, `cert` and `key` is inline PEM when it starts with `-----BEGIN ` (a literal `\n`, as written in
 * environment variables, becomes a newline) and a file path otherwise; an empty CA means the system roots; a
 * client certificate needs both `cert` and `key` (mutual TLS); TLS 1.2 at least. Problems are reported together
 * as one {@link InvalidArgumentError} before any socket is opened.
 */
import type * as NodeCrypto from 'node:crypto';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { InvalidArgumentError } from '../errors.js';
import { loadNodeBuiltin } from '../runtime/builtins.js';

/**
 * node:crypto's parsers check certificates and keys up front where the runtime has them (loaded on first use, never
 * statically); elsewhere the material is passed on unchecked and the transport's TLS handshake judges it.
 */
type PemParsers = Pick<typeof NodeCrypto, 'createPrivateKey' | 'X509Certificate'>;

/** TLS settings as users give them (dp-kafka's RootCACerts, ClientCert, ClientKey, InsecureSkipVerify). */
export interface TlsConfig {
  /** CA certificate(s) to trust instead of the system roots: PEM text or a file path. */
  ca?: string | readonly string[];
  /** Client certificate chain for mutual TLS: PEM text or a file path. Needs `key`. */
  cert?: string;
  /** Client private key for mutual TLS: PEM text or a file path. Needs `cert`. */
  key?: string;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /** SNI and the name checked against the broker's certificate when it differs from the host connected to. */
  servername?: string;
  /** Accept any broker certificate. For tests only: it gives up the authentication TLS exists for. */
  insecureSkipVerify?: boolean;
}

/** Reads a file as text; the default loads node:fs lazily, so runtimes without a file system can pass their own. */
export type ReadTextFile = (path: string) => Promise<string>;

const PEM_PREFIX = '-----BEGIN ';

/** dp-kafka's rule: a value starting with `-----BEGIN ` is PEM, anything else a path. */
export function isInlinePem(value: string): boolean {
  return value.trimStart().startsWith(PEM_PREFIX);
}

/** Inline PEM from env vars often carries `\n` as two characters; PEM parsers need real newlines. */
export function expandPem(value: string): string {
  return value.trimStart().replace(/\\n/g, '\n');
}

const defaultReadFile: ReadTextFile = async (path) => {
  const fs = await loadNodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises');
  if (fs === undefined) throw new Error('this runtime has no file system (node:fs/promises); give the PEM inline');
  return fs.readFile(path, 'utf8');
};

async function load(label: string, value: string, readFile: ReadTextFile, problems: string[]): Promise<string | undefined> {
  if (isInlinePem(value)) return expandPem(value);
  try {
    return await readFile(value);
  } catch (err) {
    problems.push(`tls.${label}: cannot read file ${JSON.stringify(value)} (${(err as Error).message}); inline PEM must start with "${PEM_PREFIX}"`);
    return undefined;
  }
}

function checkCertificates(crypto: PemParsers | undefined, label: string, pem: string, problems: string[]): void {
  if (crypto === undefined) return;
  try {
    new crypto.X509Certificate(pem);
  } catch (err) {
    problems.push(`tls.${label}: not a PEM certificate (${(err as Error).message})`);
  }
}

/**
 * Builds `tls.connect` options from {@link TlsConfig}. Rejects with {@link InvalidArgumentError} listing every
 * problem: unreadable files, text that is not PEM, a cert without a key or the reverse.
 */
export async function resolveTlsOptions(config: TlsConfig, readFile: ReadTextFile = defaultReadFile): Promise<TlsConnectionOptions> {
  const problems: string[] = [];
  const options: TlsConnectionOptions = { minVersion: 'TLSv1.2' };
  const crypto = await loadNodeBuiltin<PemParsers>('node:crypto');
  const cas = config.ca === undefined ? [] : (typeof config.ca === 'string' ? [config.ca] : [...config.ca]).filter((c) => c.trim() !== '');
  if (cas.length > 0) {
    const loaded = await Promise.all(cas.map((c, i) => load(cas.length > 1 ? `ca[${i}]` : 'ca', c, readFile, problems)));
    loaded.forEach((pem, i) => pem !== undefined && checkCertificates(crypto, cas.length > 1 ? `ca[${i}]` : 'ca', pem, problems));
    options.ca = loaded.filter((p): p is string => p !== undefined);
  }
  const cert = config.cert?.trim() ? config.cert : undefined;
  const key = config.key?.trim() ? config.key : undefined;
  if ((cert === undefined) !== (key === undefined)) {
    problems.push(`tls: a client certificate needs both cert and key (${cert ? 'key' : 'cert'} is missing)`);
  } else if (cert !== undefined && key !== undefined) {
    const [certPem, keyPem] = await Promise.all([load('cert', cert, readFile, problems), load('key', key, readFile, problems)]);
    if (certPem !== undefined) checkCertificates(crypto, 'cert', certPem, problems);
    if (keyPem !== undefined && crypto !== undefined) {
      try {
        crypto.createPrivateKey({ key: keyPem, passphrase: config.passphrase });
      } catch (err) {
        problems.push(`tls.key: not a usable PEM private key (${(err as Error).message})`);
      }
    }
    options.cert = certPem;
    options.key = keyPem;
    if (config.passphrase !== undefined) options.passphrase = config.passphrase;
  }
  if (config.servername) options.servername = config.servername;
  if (config.insecureSkipVerify) {
    options.rejectUnauthorized = false;
    options.checkServerIdentity = () => undefined;
  }
  if (problems.length > 0) throw new InvalidArgumentError(problems);
  return options;
}
