/**
 * SaslHandshake (API key 17): picks the SASL mechanism (KIP-43).
 * Mirrors Kafka's SaslHandshakeRequest/SaslHandshakeResponse message definitions, every valid version.
 */
import { defineApi } from '../schema-types.js';

export const SaslHandshake = defineApi({
  apiKey: 17,
  name: 'SaslHandshake',
  validVersions: '0-1',
  flexibleVersions: 'none',
  request: {
    fields: [
      { name: 'mechanism', type: 'string', versions: '0+' },
    ],
  },
  response: {
    fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'mechanisms', type: '[]string', versions: '0+' },
    ],
  },
});
