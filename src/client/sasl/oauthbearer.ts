/**
 * SASL/OAUTHBEARER (RFC 7628, KIP-255): the client sends a bearer token it obtained from the user's callback, with
 * optional SASL extensions (KIP-342). On success the server replies with nothing; on failure it replies with an
 * error JSON (`{"status":"invalid_token",...}`), which we surface as an AuthenticationError.
 */
import { AuthenticationError, InvalidArgumentError } from '../../errors.js';
import type { SaslMechanism } from './index.js';

/** What the token callback returns: the token, or the token with SASL extensions (KIP-342). */
export type OAuthBearerToken = string | { readonly value: string; readonly extensions?: Readonly<Record<string, string>> };

export interface OAuthBearerOptions {
  /** Called once per authentication (so a refreshed token is used on reconnect); may fetch from an identity provider. */
  readonly token: () => OAuthBearerToken | Promise<OAuthBearerToken>;
  /** Authorization identity; usually empty. */
  readonly authzid?: string;
}

const SEP = '\x01';
// RFC 7628 §3.1: key = 1*(ALPHA); value = *(VCHAR / SP / HTAB / CR / LF). Kafka reserves "auth".
const KEY = /^[A-Za-z]+$/;
const VALUE = /^[\x21-\x7e \t\r\n]*$/;
// RFC 6750 b64token, the bearer token's syntax.
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Builds the client initial response, `n,[a=authzid],\x01auth=Bearer <token>[\x01key=value...]\x01\x01`,
 * byte for byte as Kafka's `OAuthBearerClientInitialResponse.toBytes()`.
 */
export function oauthBearerInitialResponse(token: string, extensions: Readonly<Record<string, string>> = {}, authzid = ''): Buffer {
  const problems: string[] = [];
  if (!TOKEN.test(token)) problems.push('OAUTHBEARER token is empty or not a valid bearer token (RFC 6750 b64token)');
  if (/[,=]/.test(authzid)) problems.push('OAUTHBEARER authzid must not contain "," or "="');
  let ext = '';
  for (const [key, value] of Object.entries(extensions)) {
    if (!KEY.test(key) || key === 'auth') problems.push(`OAUTHBEARER extension name ${JSON.stringify(key)} is invalid`);
    else if (!VALUE.test(value)) problems.push(`OAUTHBEARER extension ${key} has an invalid value`);
    ext += `${SEP}${key}=${value}`;
  }
  if (problems.length) throw new InvalidArgumentError(problems);
  const gs2 = authzid ? `n,a=${authzid},` : 'n,,';
  return Buffer.from(`${gs2}${SEP}auth=Bearer ${token}${ext}${SEP}${SEP}`, 'utf8');
}

export class OAuthBearerMechanism implements SaslMechanism {
  readonly name = 'OAUTHBEARER';
  private state: 'new' | 'sent' | 'done' | 'failed' = 'new';
  private readonly options: OAuthBearerOptions;

  constructor(options: OAuthBearerOptions) {
    if (typeof options.token !== 'function') throw new InvalidArgumentError('SASL OAUTHBEARER needs a token callback');
    this.options = options;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  async start(): Promise<Buffer> {
    if (this.state !== 'new') throw new AuthenticationError('SASL OAUTHBEARER: start() called twice');
    this.state = 'sent';
    let token: OAuthBearerToken;
    try {
      token = await this.options.token();
    } catch (err) {
      throw new AuthenticationError('SASL OAUTHBEARER: the token callback failed', { cause: err });
    }
    const value = typeof token === 'string' ? token : token.value;
    const extensions = typeof token === 'string' ? undefined : token.extensions;
    return oauthBearerInitialResponse(value, extensions, this.options.authzid);
  }

  /**
   * An empty reply means the token was accepted. A non-empty one is the server's error JSON (RFC 7628 §3.2.2);
   * we fail at once rather than send the dummy `\x01` reply, since the connection is closed on failure anyway.
   */
  async next(serverMessage: Buffer): Promise<Buffer | null> {
    if (this.state !== 'sent') throw new AuthenticationError(`SASL OAUTHBEARER: unexpected server message in state ${this.state}`);
    if (serverMessage.length === 0) {
      this.state = 'done';
      return null;
    }
    this.state = 'failed';
    throw new AuthenticationError(`SASL OAUTHBEARER rejected the token: ${describeServerError(serverMessage)}`);
  }
}

/** `status` (and `scope`, `openid-configuration` when present) from the server's error JSON, or the raw text. */
function describeServerError(message: Buffer): string {
  const text = message.toString('utf8');
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const parts = ['status', 'scope', 'openid-configuration']
      .filter((k) => typeof json[k] === 'string')
      .map((k) => `${k}=${json[k] as string}`);
    if (parts.length) return parts.join(', ');
  } catch {
    // not JSON: fall through to the raw text
  }
  return JSON.stringify(text.slice(0, 500));
}
