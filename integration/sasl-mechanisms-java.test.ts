/**
 * Our SASL client mechanisms against Kafka's own broker-side SASL servers (PlainSaslServer, ScramSaslServer,
 * OAuthBearerSaslServer from the kafka-clients jar), driven by `java/SaslServers.java`: the same code a broker runs
 * for SaslAuthenticate, without the network. Successful exchanges must complete on both sides; wrong credentials
 * must fail on the server; and Kafka's error replies must surface as our AuthenticationError.
 */
import * as assert from 'uvu/assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { suite } from '../test/kit.js';
import { kafkaLibsDir } from './harness/index.js';
import { repoRoot } from './harness/paths.js';
import { createSaslMechanism, type SaslConfig } from '../src/client/sasl/index.js';
import { AuthenticationError } from '../src/errors.js';

const hex = (s: string | Buffer): string => Buffer.from(s).toString('hex');

/** One JVM serving many sessions, one request line and one reply line at a time. */
class KafkaSaslServers {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<{ resolve: (line: string) => void; reject: (err: Error) => void }> = [];
  private stderr = '';

  constructor() {
    const javaFile = join(repoRoot, 'integration', 'java', 'SaslServers.java');
    this.proc = spawn('java', ['-cp', join(kafkaLibsDir(), '*'), javaFile]);
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.proc.stdout }).on('line', (line) => this.waiting.shift()?.resolve(line));
    this.proc.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`SaslServers.java exited ${code}: ${this.stderr}`));
    });
  }

  private ask(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.proc.stdin.write(`${line}\n`, (err) => err && reject(err));
    });
  }

  async session(mechanism: string, user: string, secret: string): Promise<void> {
    assert.is(await this.ask(`NEW ${mechanism} ${hex(user)} ${hex(secret)}`), 'READY');
  }

  /** The server's reply to one client message. */
  async send(message: Buffer): Promise<{ ok: true; reply: Buffer; complete: boolean; authzid?: string } | { ok: false; error: string }> {
    const [kind, a, b, c] = (await this.ask(`MSG ${message.toString('hex')}`)).split(' ');
    if (kind === 'ERR') return { ok: false, error: Buffer.from(a ?? '', 'hex').toString('utf8') };
    return { ok: true, reply: Buffer.from(a ?? '', 'hex'), complete: b === 'true', authzid: c === '-' ? undefined : Buffer.from(c!, 'hex').toString() };
  }

  stop(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }
}

/**
 * The connection's loop (see src/client/sasl/index.ts) against Kafka's server. Returns how it ended: the
 * server's authorization id on success, or the side and message of the failure.
 */
async function authenticate(servers: KafkaSaslServers, config: SaslConfig, serverUser: string, serverSecret: string): Promise<string> {
  await servers.session(config.mechanism, serverUser, serverSecret);
  const mechanism = createSaslMechanism(config);
  let out: Buffer | null = await mechanism.start();
  let rounds = 0;
  while (out !== null) {
    const res = await servers.send(out);
    if (!res.ok) return `server refused: ${res.error}`;
    try {
      out = await mechanism.next(res.reply);
    } catch (err) {
      assert.instance(err, AuthenticationError);
      return `client refused: ${(err as Error).message}`;
    }
    if (out === null) {
      assert.ok(res.complete, 'client finished before the server');
      assert.ok(mechanism.done);
      return `ok ${res.authzid}`;
    }
    assert.ok(++rounds < 5, 'too many rounds');
  }
  return 'unreachable';
}

const s = suite('sasl-mechanisms-java', { timeoutMs: 60_000 });
let servers: KafkaSaslServers;
s.before(() => {
  servers = new KafkaSaslServers();
});
s.after(() => servers.stop());

s('PLAIN: accepted with the right password, refused with a wrong one', async () => {
  assert.is(await authenticate(servers, { mechanism: 'PLAIN', username: 'alice', password: 'sécret' }, 'alice', 'sécret'), 'ok alice');
  assert.match(await authenticate(servers, { mechanism: 'PLAIN', username: 'alice', password: 'nope' }, 'alice', 'sécret'),
    /^server refused: .*Invalid username or password/);
});

for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
  s(`${mechanism}: Kafka's server accepts our proof and we verify its signature`, async () => {
    assert.is(await authenticate(servers, { mechanism, username: 'bob', password: 'pencil ☃' }, 'bob', 'pencil ☃'), 'ok bob');
    // A user name that needs saslname escaping reaches Kafka intact.
    assert.is(await authenticate(servers, { mechanism, username: 'o=dd,user', password: 'p' }, 'o=dd,user', 'p'), 'ok o=dd,user');
  });

  s(`${mechanism}: Kafka's server refuses a wrong password and an unknown user`, async () => {
    assert.match(await authenticate(servers, { mechanism, username: 'bob', password: 'wrong' }, 'bob', 'pencil'), /^server refused: .*Invalid client credentials/i);
    assert.match(await authenticate(servers, { mechanism, username: 'eve', password: 'pencil' }, 'bob', 'pencil'), /^server refused: /);
  });
}

s('OAUTHBEARER: a valid token with extensions is accepted; an invalid one gives Kafka\'s error JSON', async () => {
  const token = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJjYXJvbCJ9.';
  assert.is(await authenticate(servers, { mechanism: 'OAUTHBEARER', token: async () => ({ value: token, extensions: { traceId: 'abc' } }) }, 'carol', token), 'ok carol');
  assert.match(await authenticate(servers, { mechanism: 'OAUTHBEARER', token: () => 'other.token.x' }, 'carol', token),
    /^client refused: SASL OAUTHBEARER rejected the token: status=invalid_token, scope=kafka-scope$/);
  // An extension the server's validator rejects fails on the server (a broker answers with an error code): so
  // the extension really reached Kafka's extension validator.
  assert.match(await authenticate(servers, { mechanism: 'OAUTHBEARER', token: () => ({ value: token, extensions: { traceId: 'bad' } }) }, 'carol', token),
    /^server refused: .*extensions are invalid.*traceId: rejected/);
});

s.run();
