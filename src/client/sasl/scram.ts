/**
 * SASL/SCRAM (RFC 5802, RFC 7677; Kafka's KIP-84): the password never crosses the wire, and the client checks the
 * server's signature on the last message, so a server that does not know the credential cannot pass as the broker.
 * Kafka's delegation tokens (KIP-48) authenticate through SCRAM with the `tokenauth=true` extension.
 *
 *   C: n,,n=<user>,r=<client nonce>[,ext=value...]          client-first
 *   S: r=<client nonce + server nonce>,s=<salt>,i=<iterations> server-first
 *   C: c=biws,r=<nonce>,p=<ClientProof>                      client-final
 *   S: v=<ServerSignature> | e=<error>                       server-final
 */
import { AuthenticationError, InvalidArgumentError } from '../../errors.js';
import { randomBase64url, webCrypto } from '../../runtime/builtins.js';
import type { SaslMechanism } from './index.js';

/** The hash behind the mechanism. Kafka offers SHA-256 and SHA-512; SHA-1 is here for RFC 5802's test vector. */
export type ScramHash = 'sha1' | 'sha256' | 'sha512';

const MECHANISM_NAMES: Record<ScramHash, string> = { sha1: 'SCRAM-SHA-1', sha256: 'SCRAM-SHA-256', sha512: 'SCRAM-SHA-512' };
const KEY_LENGTHS: Record<ScramHash, number> = { sha1: 20, sha256: 32, sha512: 64 };
/** Web Crypto's names of the hashes (the key derivation and HMACs run on Web Crypto: Node, Bun, Deno, workerd). */
const WEB_HASHES: Record<ScramHash, string> = { sha1: 'SHA-1', sha256: 'SHA-256', sha512: 'SHA-512' };

/** Kafka's minimum (ScramMechanism.minIterations); RFC 7677 asks for at least 4096 as well. */
const MIN_ITERATIONS = 4096;
/** Bound on the work a server can ask of us (Kafka creates credentials with at most 16384). */
const MAX_ITERATIONS = 1_000_000;

export interface ScramOptions {
  readonly username: string;
  readonly password: string;
  /** `sha256` (SCRAM-SHA-256) or `sha512` (SCRAM-SHA-512). */
  readonly hash: ScramHash;
  /** Authorization identity; usually empty. */
  readonly authzid?: string;
  /** SCRAM extensions for client-first, e.g. `{ tokenauth: 'true' }` for a Kafka delegation token (KIP-48). */
  readonly extensions?: Readonly<Record<string, string>>;
  /** The client nonce; random by default. Fixed only in tests reproducing the RFC examples. */
  readonly nonce?: string;
}

/** RFC 5802 saslname: `=` becomes `=3D` and `,` becomes `=2C` so a name cannot break the attribute syntax. */
export function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

type State = 'new' | 'client-first-sent' | 'client-final-sent' | 'done' | 'failed';

export class ScramMechanism implements SaslMechanism {
  readonly name: string;
  private state: State = 'new';
  private readonly options: ScramOptions;
  private readonly clientNonce: string;
  private clientFirstBare = '';
  private expectedServerSignature: Buffer | undefined;

  constructor(options: ScramOptions) {
    const problems: string[] = [];
    if (!(options.hash in MECHANISM_NAMES)) problems.push(`SCRAM hash must be sha256 or sha512, not ${String(options.hash)}`);
    if (!options.username) problems.push('SASL SCRAM needs a username');
    if (typeof options.password !== 'string') problems.push('SASL SCRAM needs a password');
    for (const [key, value] of Object.entries(options.extensions ?? {})) {
      if (!/^[A-Za-z]{2,}$/.test(key)) problems.push(`SCRAM extension name ${JSON.stringify(key)} is invalid`);
      if (value.includes(',')) problems.push(`SCRAM extension ${key} must not contain ","`);
    }
    if (options.nonce !== undefined && !/^[\x21-\x2b\x2d-\x7e]+$/.test(options.nonce)) problems.push('SCRAM nonce must be printable and have no ","');
    if (problems.length) throw new InvalidArgumentError(problems);
    this.options = options;
    this.name = MECHANISM_NAMES[options.hash];
    // base64url: printable and free of ',' as RFC 5802 requires of a nonce.
    this.clientNonce = options.nonce ?? randomBase64url(24);
  }

  get done(): boolean {
    return this.state === 'done';
  }

  private get gs2Header(): string {
    return this.options.authzid ? `n,a=${saslName(this.options.authzid)},` : 'n,,';
  }

  async start(): Promise<Buffer> {
    if (this.state !== 'new') throw new AuthenticationError(`${this.name}: start() called twice`);
    const ext = Object.entries(this.options.extensions ?? {}).map(([k, v]) => `,${k}=${v}`).join('');
    this.clientFirstBare = `n=${saslName(this.options.username)},r=${this.clientNonce}${ext}`;
    this.state = 'client-first-sent';
    return Buffer.from(this.gs2Header + this.clientFirstBare, 'utf8');
  }

  /** server-first gives client-final; server-final is verified and gives null. Any problem throws AuthenticationError. */
  async next(serverMessage: Buffer): Promise<Buffer | null> {
    try {
      if (this.state === 'client-first-sent') return await this.onServerFirst(serverMessage.toString('utf8'));
      if (this.state === 'client-final-sent') return this.onServerFinal(serverMessage.toString('utf8'));
      throw new AuthenticationError(`${this.name}: unexpected server message in state ${this.state}`);
    } catch (err) {
      this.state = 'failed';
      throw err;
    }
  }

  private async onServerFirst(serverFirst: string): Promise<Buffer> {
    const attrs = parseAttributes(serverFirst, this.name);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (attrs.has('m')) throw this.fail('the server requires an extension we do not support');
    if (nonce === undefined || salt === undefined || !attrs.has('i')) throw this.fail(`malformed server-first message ${JSON.stringify(serverFirst)}`);
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) {
      throw this.fail('the server nonce does not extend ours');
    }
    if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
      throw this.fail(`iteration count ${attrs.get('i')} is outside ${MIN_ITERATIONS}..${MAX_ITERATIONS}`);
    }
    const saltBytes = Buffer.from(salt, 'base64');
    if (saltBytes.length === 0) throw this.fail('the server sent an empty salt');

    const { hash, password } = this.options;
    // Kafka applies no SASLprep: the password is hashed as its UTF-8 bytes.
    const salted = await pbkdf2(Buffer.from(password, 'utf8'), saltBytes, iterations, hash);
    const withoutProof = `c=${Buffer.from(this.gs2Header, 'utf8').toString('base64')},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientKey = await hmac(hash, salted, 'Client Key');
    const storedKey = Buffer.from(await webCrypto().subtle.digest(WEB_HASHES[hash], clientKey));
    const clientSignature = await hmac(hash, storedKey, authMessage);
    const proof = Buffer.allocUnsafe(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.expectedServerSignature = await hmac(hash, await hmac(hash, salted, 'Server Key'), authMessage);
    this.state = 'client-final-sent';
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  private onServerFinal(serverFinal: string): null {
    const attrs = parseAttributes(serverFinal, this.name);
    const error = attrs.get('e');
    if (error !== undefined) throw this.fail(`server error: ${error}`);
    const v = attrs.get('v');
    if (v === undefined) throw this.fail(`malformed server-final message ${JSON.stringify(serverFinal)}`);
    const got = Buffer.from(v, 'base64');
    const want = this.expectedServerSignature!;
    if (!constantTimeEqual(got, want)) {
      throw this.fail('the server signature does not verify: the server does not know the credential');
    }
    this.state = 'done';
    return null;
  }

  private fail(reason: string): AuthenticationError {
    return new AuthenticationError(`${this.name}: ${reason}`);
  }
}

/**
 * `a=x,b=y` into a map; values may contain `=` (base64), so each attribute splits at its first `=`. RFC 5802's
 * attributes are one letter; Kafka's extensions (e.g. `tokenauth`) are longer, so any name is accepted.
 */
function parseAttributes(message: string, mechanism: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 1) throw new AuthenticationError(`${mechanism}: malformed attribute ${JSON.stringify(part.slice(0, 100))}`);
    const key = part.slice(0, eq);
    if (!out.has(key)) out.set(key, part.slice(eq + 1));
  }
  return out;
}

/** HMAC over Web Crypto (`data` as UTF-8 text when a string). */
async function hmac(hash: ScramHash, key: Uint8Array, data: string | Uint8Array): Promise<Buffer> {
  const subtle = webCrypto().subtle;
  const k = await subtle.importKey('raw', key, { name: 'HMAC', hash: WEB_HASHES[hash] }, false, ['sign']);
  return Buffer.from(await subtle.sign('HMAC', k, typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
}

/** RFC 5802's Hi(): PBKDF2 with the mechanism's HMAC, one hash length of output (Web Crypto runs it off the event loop). */
async function pbkdf2(password: Uint8Array, salt: Uint8Array, iterations: number, hash: ScramHash): Promise<Buffer> {
  const subtle = webCrypto().subtle;
  const k = await subtle.importKey('raw', password, 'PBKDF2', false, ['deriveBits']);
  return Buffer.from(await subtle.deriveBits({ name: 'PBKDF2', hash: WEB_HASHES[hash], salt, iterations }, k, KEY_LENGTHS[hash] * 8));
}

/** Compares two byte strings in time that depends on their length only (the server signature check). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
