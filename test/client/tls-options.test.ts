/**
 * TLS settings → tls.connect options, with dp-kafka's SecurityConfig rules: inline PEM (with literal `\n`
 * expanded) or a file path per value, both cert and key for mutual TLS, problems reported together.
 * A real TLS handshake with these options is in integration/security.test.ts.
 */
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from '../kit.js';
import { expandPem, isInlinePem, resolveTlsOptions } from '../../src/client/tls-options.js';
import { InvalidArgumentError } from '../../src/errors.js';

// A throwaway self-signed P-256 certificate and key (openssl req -x509 -newkey ec), for parsing only.
const CERT = `-----BEGIN CERTIFICATE-----
MIIBkzCCATmgAwIBAgIUCJmgpfGyLca4rxbx/Wy5xI3uIwMwCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTa2Fma2EtY2hhbm5lbHMtdGVzdDAgFw0yNjExMjgwMzIwNDZa
GA8yMTI2MTEwNDAzMjA0NlowHjEcMBoGA1UEAwwTa2Fma2EtY2hhbm5lbHMtdGVz
dDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHT54r2MMymg8hL/FMRdhzOKj3XU
xqC7YJx9f48jESZMycoJnyKZaXE2JATn3tK9fnd+chFkD+Pdr65tYq3pxl2jUzBR
MB0GA1UdDgQWBBQOf/Yv5omK/0fagsZHN9is9a9xvTAfBgNVHSMEGDAWgBQOf/Yv
5omK/0fagsZHN9is9a9xvTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gA
MEUCIQCGF/nXan3pV2585g1Nv2+gyMATl6ly9xmcej+ve0LrNQIgFaIESLP1UQro
Rm4lUeUoGUh7reYRYKu9Jacy2FgOC4k=
-----END CERTIFICATE-----\n`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgEdmT5YTvsQEN6itb
dAkxraPR12wt/YSjQPnD584idyahRANCAAR0+eK9jDMpoPIS/xTEXYczio911Mag
u2CcfX+PIxEmTMnKCZ8imWlxNiQE597SvX53fnIRZA/j3a+ubWKt6cZd
-----END PRIVATE KEY-----\n`;

const s = suite('tls-options');
let dir: string;
s.before(() => { dir = mkdtempSync(join(tmpdir(), 'kc-tls-')); });
s.after(() => rmSync(dir, { recursive: true, force: true }));

s('inline PEM is recognised by its BEGIN line; anything else is a path', () => {
  assert.ok(isInlinePem(CERT));
  assert.ok(isInlinePem(`  ${CERT}`));
  assert.not.ok(isInlinePem('/etc/ssl/ca.pem'));
  assert.not.ok(isInlinePem('BEGIN CERTIFICATE'));
});

s('literal \\n sequences (as in environment variables) become newlines', () => {
  const oneLine = CERT.replace(/\n/g, '\\n');
  assert.not.ok(oneLine.includes('\n'));
  assert.is(expandPem(oneLine), CERT);
});

s('inline CA, cert and key give Node options with TLS 1.2 at least', async () => {
  const o = await resolveTlsOptions({ ca: CERT.replace(/\n/g, '\\n'), cert: CERT, key: KEY, servername: 'kafka.local' });
  assert.equal(o.ca, [CERT]);
  assert.is(o.cert, CERT);
  assert.is(o.key, KEY);
  assert.is(o.minVersion, 'TLSv1.2');
  assert.is(o.servername, 'kafka.local');
  assert.is(o.rejectUnauthorized, undefined, 'verification stays on by default');
});

s('file paths are read', async () => {
  writeFileSync(join(dir, 'ca.pem'), CERT);
  writeFileSync(join(dir, 'key.pem'), KEY);
  const o = await resolveTlsOptions({ ca: [join(dir, 'ca.pem'), CERT], cert: join(dir, 'ca.pem'), key: join(dir, 'key.pem') });
  assert.equal(o.ca, [CERT, CERT]);
  assert.is(o.cert, CERT);
  assert.is(o.key, KEY);
});

s('a custom file reader (runtimes without node:fs)', async () => {
  const asked: string[] = [];
  const o = await resolveTlsOptions({ ca: 'mem://ca' }, async (p) => { asked.push(p); return CERT; });
  assert.equal(asked, ['mem://ca']);
  assert.equal(o.ca, [CERT]);
});

s('empty values mean system roots and no client certificate', async () => {
  const o = await resolveTlsOptions({ ca: '', cert: '', key: '' });
  assert.is(o.ca, undefined);
  assert.is(o.cert, undefined);
});

s('every problem is reported at once', async () => {
  const err = await resolveTlsOptions({ ca: join(dir, 'missing.pem'), cert: '-----BEGIN CERTIFICATE-----\\nnope\\n-----END CERTIFICATE-----' })
    .then(() => null, (e: Error) => e);
  assert.instance(err, InvalidArgumentError);
  const problems = (err as InvalidArgumentError).problems;
  assert.is(problems.length, 2, problems.join('; '));
  assert.match(problems[0]!, /tls\.ca: cannot read file/);
  assert.match(problems[1]!, /key is missing/);
  const bad = await resolveTlsOptions({ ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', cert: CERT, key: CERT })
    .then(() => null, (e: Error) => e) as InvalidArgumentError;
  assert.equal(bad.problems.map((p) => p.split(':')[0]), ['tls.ca', 'tls.key']);
});

s('insecureSkipVerify turns off chain and host name checks', async () => {
  const o = await resolveTlsOptions({ insecureSkipVerify: true });
  assert.is(o.rejectUnauthorized, false);
  assert.is(o.checkServerIdentity!('x', {} as never), undefined);
});

s.run();
