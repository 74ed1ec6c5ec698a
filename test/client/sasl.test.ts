import * as assert from 'uvu/assert';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { suite } from '../kit.js';
import {
  createSaslMechanism, oauthBearerInitialResponse, OAuthBearerMechanism, PlainMechanism, saslName, ScramMechanism,
  type SaslMechanism,
} from '../../src/client/sasl/index.js';
import { AuthenticationError, InvalidArgumentError } from '../../src/errors.js';

const s = suite('sasl');
const isAuthError = (e: unknown): boolean => e instanceof AuthenticationError;
const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));

async function rejects(p: Promise<unknown>, check: (e: unknown) => boolean, pattern?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(check(e), `wrong error: ${String(e)}`);
    if (pattern) assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable('expected a rejection');
}

s('PLAIN sends authzid NUL user NUL password and completes on the empty reply', async () => {
  const m = new PlainMechanism({ username: 'alice', password: 'pä$$' });
  assert.is(m.name, 'PLAIN');
  assert.is((await m.start()).toString('hex'), '00616c69636500' + Buffer.from('pä$$').toString('hex'));
  assert.not.ok(m.done);
  assert.is(await m.next(Buffer.alloc(0)), null);
  assert.ok(m.done);
  const z = new PlainMechanism({ username: 'u', password: 'p', authzid: 'u' });
  assert.is((await z.start()).toString('utf8'), 'u\0u\0p');
  assert.throws(() => new PlainMechanism({ username: 'a\0b', password: 'p' }), (e: unknown) => e instanceof InvalidArgumentError);
  assert.throws(() => new PlainMechanism({ username: '', password: 'p' }), (e: unknown) => e instanceof InvalidArgumentError);
});

// RFC 7677 §3: SCRAM-SHA-256, user "user", password "pencil".
s('SCRAM-SHA-256 reproduces RFC 7677\'s example exchange', async () => {
  const m = new ScramMechanism({ username: 'user', password: 'pencil', hash: 'sha256', nonce: 'rOprNGfwEbeRWgbNEkqO' });
  assert.is(m.name, 'SCRAM-SHA-256');
  assert.is(text(await m.start()), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
  const final = await m.next(Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
  assert.is(text(final), 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
  assert.not.ok(m.done);
  assert.is(await m.next(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')), null);
  assert.ok(m.done);
});

// RFC 5802 §5: SCRAM-SHA-1, same user and password (the structure is shared by every SCRAM hash).
s('SCRAM-SHA-1 reproduces RFC 5802\'s example exchange', async () => {
  const m = new ScramMechanism({ username: 'user', password: 'pencil', hash: 'sha1', nonce: 'fyko+d2lbbFgONRv9qkxdawL' });
  assert.is(text(await m.start()), 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
  const final = await m.next(Buffer.from('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'));
  assert.is(text(final), 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
  assert.is(await m.next(Buffer.from('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')), null);
  assert.ok(m.done);
});

async function rfc7677UpToFinal(): Promise<ScramMechanism> {
  const m = new ScramMechanism({ username: 'user', password: 'pencil', hash: 'sha256', nonce: 'rOprNGfwEbeRWgbNEkqO' });
  await m.start();
  await m.next(Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
  return m;
}

s('a tampered or truncated server signature is rejected', async () => {
  const sig = Buffer.from('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=', 'base64');
  sig[5]! ^= 1;
  const m = await rfc7677UpToFinal();
  await rejects(m.next(Buffer.from(`v=${sig.toString('base64')}`)), isAuthError, /signature does not verify/);
  assert.not.ok(m.done);
  const short = await rfc7677UpToFinal();
  await rejects(short.next(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn')), isAuthError, /signature/);
  const none = await rfc7677UpToFinal();
  await rejects(none.next(Buffer.from('x=1')), isAuthError, /malformed server-final/);
});

s('a server e= error becomes an AuthenticationError naming it', async () => {
  const m = await rfc7677UpToFinal();
  await rejects(m.next(Buffer.from('e=invalid-proof')), isAuthError, /SCRAM-SHA-256: server error: invalid-proof/);
  await rejects(m.next(Buffer.from('v=x')), isAuthError, /unexpected server message/);
});

s('server-first messages that break the rules are refused', async () => {
  const cases: Array<[string, RegExp]> = [
    ['r=someoneElsesNonce123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /nonce does not extend ours/],
    ['r=abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /nonce does not extend ours/], // server added nothing
    ['r=abcXYZ,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000', /iteration count 1000/],
    ['r=abcXYZ,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999', /iteration count/],
    ['r=abcXYZ,s=,i=4096', /empty salt/],
    ['r=abcXYZ,i=4096', /malformed server-first/],
    ['m=ext,r=abcXYZ,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /extension we do not support/],
    ['garbage', /malformed attribute/],
  ];
  for (const [serverFirst, pattern] of cases) {
    const m = new ScramMechanism({ username: 'u', password: 'p', hash: 'sha256', nonce: 'abc' });
    await m.start();
    await rejects(m.next(Buffer.from(serverFirst)), isAuthError, pattern);
  }
});

s('saslname escapes = and , in user names and authzid; extensions go into client-first', async () => {
  assert.is(saslName('a=b,c'), 'a=3Db=2Cc');
  assert.is(saslName('=,'), '=3D=2C');
  const m = new ScramMechanism({ username: 'us=er,x', password: 'p', hash: 'sha512', authzid: 'a,b', nonce: 'N', extensions: { tokenauth: 'true' } });
  assert.is(m.name, 'SCRAM-SHA-512');
  assert.is(text(await m.start()), 'n,a=a=2Cb,n=us=3Der=2Cx,r=N,tokenauth=true');
  assert.throws(() => new ScramMechanism({ username: 'u', password: 'p', hash: 'sha256', extensions: { r: 'x' } }), (e: unknown) => e instanceof InvalidArgumentError);
  assert.throws(() => new ScramMechanism({ username: 'u', password: 'p', hash: 'md5' as 'sha256' }), (e: unknown) => e instanceof InvalidArgumentError);
});

s('random client nonces are long, printable, comma-free and differ per mechanism', async () => {
  const first = (m: SaslMechanism): Promise<string> => m.start().then((b) => /,r=([^,]+)/.exec(b.toString())![1]!);
  const a = await first(new ScramMechanism({ username: 'u', password: 'p', hash: 'sha256' }));
  const b = await first(new ScramMechanism({ username: 'u', password: 'p', hash: 'sha256' }));
  assert.is.not(a, b);
  assert.ok(a.length >= 24);
  assert.match(a, /^[\x21-\x2b\x2d-\x7e]+$/);
});

// A server-side check written from RFC 5802's definitions: ClientProof XOR ClientSignature must hash to StoredKey.
s('SCRAM-SHA-512 produces a proof a server holding only StoredKey/ServerKey accepts', async () => {
  const password = 'correct horse ☃';
  const salt = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 8192, 64, 'sha512');
  const hmac = (k: Buffer, d: string): Buffer => createHmac('sha512', k).update(d).digest();
  const storedKey = createHash('sha512').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');

  const m = createSaslMechanism({ mechanism: 'SCRAM-SHA-512', username: 'bob', password });
  const clientFirst = text(await m.start())!;
  const clientNonce = /r=([^,]+)/.exec(clientFirst)![1]!;
  const serverFirst = `r=${clientNonce}srvNONCE,s=${salt.toString('base64')},i=8192`;
  const clientFinal = text(await m.next(Buffer.from(serverFirst)))!;
  const [withoutProof, proofB64] = clientFinal.split(',p=') as [string, string];
  const authMessage = `${clientFirst.slice(3)},${serverFirst},${withoutProof}`;
  const clientSignature = hmac(storedKey, authMessage);
  const proof = Buffer.from(proofB64, 'base64');
  const clientKey = Buffer.from(proof.map((x, i) => x ^ clientSignature[i]!));
  assert.is(createHash('sha512').update(clientKey).digest('hex'), storedKey.toString('hex'));
  assert.is(await m.next(Buffer.from(`v=${hmac(serverKey, authMessage).toString('base64')}`)), null);
  assert.ok(m.done);
});

// Bytes recorded from Kafka 4.3.1's OAuthBearerClientInitialResponse.toBytes().
s('OAUTHBEARER initial response matches Kafka\'s bytes, with and without extensions and authzid', () => {
  assert.is(oauthBearerInitialResponse('eyJhbGciOi.xyz.sig').toString('hex'),
    '6e2c2c01617574683d4265617265722065794a68624763694f692e78797a2e7369670101');
  assert.is(oauthBearerInitialResponse('tok', { traceId: 'abc', logicalCluster: 'lc-1' }).toString('hex'),
    '6e2c2c01617574683d42656172657220746f6b01747261636549643d616263016c6f676963616c436c75737465723d6c632d310101');
  assert.is(oauthBearerInitialResponse('tok', {}, 'alice').toString('hex'), '6e2c613d616c6963652c01617574683d42656172657220746f6b0101');
  const bad = (f: () => unknown): void => assert.throws(f, (e: unknown) => e instanceof InvalidArgumentError);
  bad(() => oauthBearerInitialResponse(''));
  bad(() => oauthBearerInitialResponse('has space'));
  bad(() => oauthBearerInitialResponse('tok', { auth: 'x' }));
  bad(() => oauthBearerInitialResponse('tok', { 'bad-name': 'x' }));
  bad(() => oauthBearerInitialResponse('tok', { ok: 'ctl\x01' }));
});

s('OAUTHBEARER takes its token from the async callback and completes on the empty reply', async () => {
  let calls = 0;
  const m = createSaslMechanism({
    mechanism: 'OAUTHBEARER',
    token: async () => {
      calls++;
      return { value: 'tok', extensions: { traceId: 'abc' } };
    },
  });
  assert.is(m.name, 'OAUTHBEARER');
  assert.is(text(await m.start()), 'n,,\x01auth=Bearer tok\x01traceId=abc\x01\x01');
  assert.is(calls, 1);
  assert.is(await m.next(Buffer.alloc(0)), null);
  assert.ok(m.done);
});

s('OAUTHBEARER: server error JSON and a failing callback become AuthenticationErrors', async () => {
  const m = new OAuthBearerMechanism({ token: () => 'tok' });
  await m.start();
  await rejects(m.next(Buffer.from('{"status":"invalid_token","scope":"kafka"}')), isAuthError, /status=invalid_token, scope=kafka/);
  assert.not.ok(m.done);
  const raw = new OAuthBearerMechanism({ token: () => 'tok' });
  await raw.start();
  await rejects(raw.next(Buffer.from('nope')), isAuthError, /"nope"/);
  const boom = new OAuthBearerMechanism({ token: () => Promise.reject(new Error('idp down')) });
  await rejects(boom.start(), (e) => isAuthError(e) && (e as Error).cause instanceof Error, /token callback failed/);
});

s('createSaslMechanism rejects unknown mechanisms; a mechanism cannot be restarted', async () => {
  assert.throws(() => createSaslMechanism({ mechanism: 'GSSAPI' } as never), (e: unknown) => e instanceof InvalidArgumentError && /GSSAPI/.test((e as Error).message));
  const m = createSaslMechanism({ mechanism: 'PLAIN', username: 'u', password: 'p' });
  await m.start();
  await rejects(m.start(), isAuthError);
  await rejects(new PlainMechanism({ username: 'u', password: 'p' }).next(Buffer.alloc(0)), isAuthError);
});

s.run();
