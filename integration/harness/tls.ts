/**
 * Test certificates, made at set-up with the JDK's keytool (and openssl only to export the client key as PEM),
 * never committed: a CA, a broker certificate for localhost/127.0.0.1, and a client certificate for mutual TLS.
 * A second, unrelated CA lets tests prove that an untrusted broker certificate is refused.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from './paths.js';

export const TLS_PASSWORD = 'changeit';

export interface TlsMaterial {
  dir: string;
  /** PEM of the CA that signed the broker and client certificates. */
  caPem: string;
  /** PEM of a CA that signed nothing here: trusting only it must fail. */
  otherCaPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** PKCS12 files for the broker's JSSE listeners. */
  brokerKeystore: string;
  truststore: string;
  password: string;
}

function keytool(args: string[], cwd: string): void {
  execFileSync('keytool', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Creates a key pair signed by `ca.p12` into `<alias>.p12`, with the chain imported. */
function signedKeystore(dir: string, alias: string, cn: string, ext: string[]): void {
  const p = TLS_PASSWORD;
  keytool(['-genkeypair', '-alias', alias, '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650', '-dname', `CN=${cn}`,
    '-keystore', `${alias}.p12`, '-storetype', 'PKCS12', '-storepass', p], dir);
  keytool(['-certreq', '-alias', alias, '-keystore', `${alias}.p12`, '-storepass', p, '-file', `${alias}.csr`], dir);
  keytool(['-gencert', '-alias', 'ca', '-keystore', 'ca.p12', '-storepass', p, '-infile', `${alias}.csr`, '-outfile', `${alias}.pem`,
    '-rfc', '-validity', '3650', ...ext], dir);
  keytool(['-importcert', '-alias', 'ca', '-file', 'ca.pem', '-keystore', `${alias}.p12`, '-storepass', p, '-noprompt'], dir);
  keytool(['-importcert', '-alias', alias, '-file', `${alias}.pem`, '-keystore', `${alias}.p12`, '-storepass', p], dir);
}

function generate(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const p = TLS_PASSWORD;
  for (const ca of ['ca', 'other-ca']) {
    keytool(['-genkeypair', '-alias', 'ca', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650', '-dname', `CN=kafka-channels-test-${ca}`,
      '-ext', 'bc:c', '-keystore', `${ca}.p12`, '-storetype', 'PKCS12', '-storepass', p], dir);
    keytool(['-exportcert', '-alias', 'ca', '-keystore', `${ca}.p12`, '-storepass', p, '-rfc', '-file', `${ca}.pem`], dir);
  }
  signedKeystore(dir, 'broker', 'localhost', ['-ext', 'SAN=DNS:localhost,IP:127.0.0.1', '-ext', 'ku:c=digitalSignature,keyEncipherment',
    '-ext', 'eku=serverAuth,clientAuth']);
  signedKeystore(dir, 'client', 'kafka-channels-client', ['-ext', 'ku:c=digitalSignature,keyEncipherment', '-ext', 'eku=clientAuth']);
  keytool(['-importcert', '-alias', 'ca', '-file', 'ca.pem', '-keystore', 'truststore.p12', '-storetype', 'PKCS12', '-storepass', p, '-noprompt'], dir);
  // Node wants PEM (or a pfx); dp-kafka users pass PEM, so the tests do too.
  execFileSync('openssl', ['pkcs12', '-in', 'client.p12', '-nocerts', '-nodes', '-passin', `pass:${p}`, '-out', 'client-key.pem'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The test certificates, generated once into `.kafka/tls`. */
export function tlsMaterial(): TlsMaterial {
  const dir = paths.tls;
  if (!existsSync(join(dir, 'client-key.pem'))) generate(dir);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const keyPem = read('client-key.pem');
  const start = keyPem.indexOf('-----BEGIN');
  return {
    dir,
    caPem: read('ca.pem'),
    otherCaPem: read('other-ca.pem'),
    clientCertPem: read('client.pem'),
    clientKeyPem: keyPem.slice(start),
    brokerKeystore: join(dir, 'broker.p12'),
    truststore: join(dir, 'truststore.p12'),
    password: TLS_PASSWORD,
  };
}
