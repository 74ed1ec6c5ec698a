/**
 * SaslHandshake and SaslAuthenticate for the fake cluster: the PLAIN mechanism against a user table, with an
 * optional session lifetime (KIP-368: the client must re-authenticate on the same connection before it ends).
 * The fake does not demand authentication before other requests (it checks what a client sends, not what it
 * withholds); a failed authentication is answered SASL_AUTHENTICATION_FAILED, as Kafka answers it.
 *
 * ```ts
 * const sasl = saslSettings(c.state);
 * sasl.users.set('u', 'secret');
 * sasl.sessionLifetimeMs = 300;
 * ```
 */
import { errorCodes } from '../../src/protocol/error-codes.js';
import type { HandlerContext } from './handlers-data.js';
import type { ClusterState } from './state.js';

type Body = Record<string, any>;

/** What the cluster's SASL listener accepts (mutable: a test may change a password between two logins). */
export interface SaslSettings {
  /** Mechanisms enabled, as SaslHandshake lists them (only PLAIN is spoken). */
  mechanisms: string[];
  /** User name → password. */
  users: Map<string, string>;
  /** Session lifetime handed out by a successful SaslAuthenticate (0: none). */
  sessionLifetimeMs: number;
}

const settings = new WeakMap<ClusterState, SaslSettings>();

/** The SASL settings of a cluster (PLAIN enabled, no users, no session lifetime until a test sets them). */
export function saslSettings(state: ClusterState): SaslSettings {
  let s = settings.get(state);
  if (!s) settings.set(state, (s = { mechanisms: ['PLAIN'], users: new Map(), sessionLifetimeMs: 0 }));
  return s;
}

export function saslHandshake(ctx: HandlerContext): Body {
  const s = saslSettings(ctx.state);
  const enabled = s.mechanisms.includes(ctx.body.mechanism);
  return { errorCode: ctx.topError || (enabled ? 0 : errorCodes.UNSUPPORTED_SASL_MECHANISM), mechanisms: s.mechanisms };
}

export function saslAuthenticate(ctx: HandlerContext): Body {
  const s = saslSettings(ctx.state);
  const refused = { errorCode: errorCodes.SASL_AUTHENTICATION_FAILED, errorMessage: 'Authentication failed: Invalid username or password', authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n };
  if (ctx.topError) return { ...refused, errorCode: ctx.topError, errorMessage: null };
  // PLAIN (RFC 4616): authzid NUL authcid NUL passwd
  const parts = Buffer.from(ctx.body.authBytes as Uint8Array).toString('utf8').split('\0');
  if (parts.length !== 3 || !s.users.has(parts[1]!) || s.users.get(parts[1]!) !== parts[2]) return refused;
  return { errorCode: 0, errorMessage: null, authBytes: Buffer.alloc(0), sessionLifetimeMs: BigInt(s.sessionLifetimeMs) };
}
