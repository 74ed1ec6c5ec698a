/**
 * SASL/PLAIN (RFC 4616): one message, `[authzid] NUL username NUL password`, and nothing back from the server.
 * Sends the password in clear: use it over TLS.
 */
import { AuthenticationError, InvalidArgumentError } from '../../errors.js';
import type { SaslMechanism } from './index.js';

/** Credentials for PLAIN. `authzid` is optional; Kafka accepts it only when empty or equal to the username. */
export interface PlainOptions {
  readonly username: string;
  readonly password: string;
  readonly authzid?: string;
}

export class PlainMechanism implements SaslMechanism {
  readonly name = 'PLAIN';
  private state: 'new' | 'sent' | 'done' = 'new';
  private readonly options: PlainOptions;

  constructor(options: PlainOptions) {
    const problems: string[] = [];
    if (!options.username) problems.push('SASL PLAIN needs a username');
    for (const field of ['username', 'password', 'authzid'] as const) {
      if (options[field]?.includes('\0')) problems.push(`SASL PLAIN ${field} must not contain NUL`);
    }
    if (problems.length) throw new InvalidArgumentError(problems);
    this.options = options;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  async start(): Promise<Buffer> {
    if (this.state !== 'new') throw new AuthenticationError('SASL PLAIN: start() called twice');
    this.state = 'sent';
    const { authzid = '', username, password } = this.options;
    return Buffer.from(`${authzid}\0${username}\0${password}`, 'utf8');
  }

  /** The server's (empty) reply ends the exchange; a broker that rejects the password answers with an error code instead. */
  async next(serverMessage: Buffer): Promise<Buffer | null> {
    if (this.state !== 'sent') throw new AuthenticationError(`SASL PLAIN: unexpected server message in state ${this.state}`);
    if (serverMessage.length !== 0) throw new AuthenticationError('SASL PLAIN: the server sent data where none is defined');
    this.state = 'done';
    return null;
  }
}
