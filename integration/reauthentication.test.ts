/**
 * KIP-368 against the real broker: the SASL_PLAINTEXT listener grants SCRAM-SHA-512 sessions of 3 s
 * (see the harness's broker-config.ts), and a client that keeps working for 8 s must re-authenticate on the same
 * socket before each session ends, so every request succeeds and no new connection is opened.
 */
import * as assert from 'uvu/assert';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { suite } from '../test/kit.js';
import { Broker } from '../src/client/broker.js';
import { Metadata } from '../src/protocol/apis/metadata.js';
import { SaslAuthenticate } from '../src/protocol/apis/sasl-authenticate.js';
import { singleNode } from './harness/index.js';

const s = suite('SASL re-authentication (KIP-368, real broker)', { timeoutMs: 60_000 });

s('SCRAM-SHA-512 sessions of 3 s are renewed on the same connection while requests keep succeeding', async () => {
  const node = await singleNode();
  const i = node.endpoints.saslPlaintext.lastIndexOf(':');
  let connects = 0;
  let saslRounds = 0;
  const onConnect = (): void => { connects++; };
  const onRequest = (e: unknown): void => { if ((e as { apiKey: number }).apiKey === SaslAuthenticate.apiKey) saslRounds++; };
  subscribe('kafka-channels:connection:connect', onConnect);
  subscribe('kafka-channels:request:start', onRequest);
  const b = new Broker({
    host: node.endpoints.saslPlaintext.slice(0, i), port: Number(node.endpoints.saslPlaintext.slice(i + 1)),
    sasl: { mechanism: 'SCRAM-SHA-512', username: node.users.scram.username, password: node.users.scram.password },
  });
  try {
    const until = Date.now() + 8_000;
    let ok = 0;
    while (Date.now() < until) {
      const md = await b.request(Metadata, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      assert.ok(md.brokers.length >= 1);
      ok++;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ok > 20);
    assert.is(connects, 1, 'one socket for the whole run');
    // SCRAM takes 2 SaslAuthenticate rounds; 8 s of 3 s sessions need at least 2 renewals after the first login.
    assert.ok(saslRounds >= 6, `SaslAuthenticate rounds: ${saslRounds}`);
  } finally {
    unsubscribe('kafka-channels:connection:connect', onConnect);
    unsubscribe('kafka-channels:request:start', onRequest);
    await b.close();
  }
});
s.run();
