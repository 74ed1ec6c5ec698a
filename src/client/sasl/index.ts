/**
 * SASL mechanisms as pure state machines: no sockets, no timers. The connection drives them with Kafka's
 * SaslHandshake (announce `mechanism.name`) and SaslAuthenticate (carry the bytes) requests (KIP-152):
 *
 * ```ts
 * const mechanism = createSaslMechanism(config);
 * await saslHandshake(mechanism.name);             // broker lists its mechanisms if it lacks ours
 * let out: Buffer | null = await mechanism.start();
 * while (out !== null) {
 *   const res = await saslAuthenticate(out);      // non-zero errorCode → AuthenticationError(res.errorMessage)
 *   out = await mechanism.next(res.authBytes);    // throws AuthenticationError on a bad server reply
 * }
 * // mechanism.done === true: authenticated (for SCRAM, the server's signature has been verified)
 * ```
 * Every mechanism answers each server message with its next message or `null` when it has nothing more to say,
 * so the loop above is the same for all. A mechanism object serves one authentication; make a new one per
 * connection (and per KIP-368 re-authentication).
 */
import { InvalidArgumentError } from '../../errors.js';
import { OAuthBearerMechanism, type OAuthBearerOptions } from './oauthbearer.js';
import { PlainMechanism, type PlainOptions } from './plain.js';
import { ScramMechanism } from './scram.js';

export { PlainMechanism, type PlainOptions } from './plain.js';
export { ScramMechanism, saslName, type ScramHash, type ScramOptions } from './scram.js';
export { OAuthBearerMechanism, oauthBearerInitialResponse, type OAuthBearerOptions, type OAuthBearerToken } from './oauthbearer.js';

/** One SASL exchange, client side. */
export interface SaslMechanism {
  /** The name sent in SaslHandshake, e.g. `SCRAM-SHA-256`. */
  readonly name: string;
  /** True once the exchange completed and, where the mechanism allows, the server was verified. */
  readonly done: boolean;
  /** The client's first message (SaslAuthenticate `auth_bytes`). Async: OAUTHBEARER may fetch a token. */
  start(): Promise<Buffer>;
  /**
   * Feeds the server's `auth_bytes` from the response to our last message. Returns the next message to send, or
   * `null` when the exchange is complete. Throws `AuthenticationError` when the server's reply is an error, is
   * malformed, or (SCRAM) fails verification. Async: SCRAM's key derivation runs off the event loop.
   */
  next(serverMessage: Buffer): Promise<Buffer | null>;
}

/** User-facing SASL settings; `mechanism` picks the state machine. */
export type SaslConfig =
  | ({ readonly mechanism: 'PLAIN' } & PlainOptions)
  | {
      readonly mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
      readonly username: string;
      readonly password: string;
      readonly authzid?: string;
      /** e.g. `{ tokenauth: 'true' }` to authenticate with a delegation token (KIP-48). */
      readonly extensions?: Readonly<Record<string, string>>;
    }
  | ({ readonly mechanism: 'OAUTHBEARER' } & OAuthBearerOptions);

/** Mechanism names this client implements, as SaslHandshake spells them. */
export const saslMechanisms = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;

/** A fresh mechanism for one authentication. Throws InvalidArgumentError for an unknown mechanism or bad settings. */
export function createSaslMechanism(config: SaslConfig): SaslMechanism {
  switch (config.mechanism) {
    case 'PLAIN':
      return new PlainMechanism(config);
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512':
      return new ScramMechanism({
        username: config.username,
        password: config.password,
        authzid: config.authzid,
        extensions: config.extensions,
        hash: config.mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512',
      });
    case 'OAUTHBEARER':
      return new OAuthBearerMechanism(config);
    default:
      throw new InvalidArgumentError(
        `unknown SASL mechanism ${JSON.stringify((config as { mechanism?: unknown }).mechanism)}; expected one of ${saslMechanisms.join(', ')}`,
      );
  }
}
