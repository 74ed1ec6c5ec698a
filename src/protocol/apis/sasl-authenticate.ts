/**
 * SaslAuthenticate (API key 36): carries SASL tokens in Kafka frames (KIP-152, re-authentication KIP-368).
 * Mirrors Kafka's SaslAuthenticateRequest/SaslAuthenticateResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const SaslAuthenticate = defineApi({
  apiKey: 36,
  name: 'SaslAuthenticate',
  validVersions: '0-2',
  flexibleVersions: '2+',
  request: {
    fields: [
      { name: 'authBytes', type: 'bytes', versions: '0+' },
    ],
  },
  response: {
    fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
      { name: 'authBytes', type: 'bytes', versions: '0+' },
      { name: 'sessionLifetimeMs', type: 'int64', versions: '1+', default: 0n, ignorable: true },
    ],
  },
});
