/**
 * Version negotiation (KIP-35): use min(our max, the broker's max, a caller's pin), provided it is at least
 * both minimums. Brokers of Kafka 4.0+ dropped many old versions (KIP-896) and close the connection on them;
 * they advertise their real minimums in ApiVersions, except Produce, which is advertised from 0 but rejected
 * below 3 (KAFKA-18659). Our definitions keep every version Kafka's JSON lists, so the floors below decide.
 */
import { UnsupportedVersionError } from '../errors.js';
import { parseVersions } from './schema.js';
import type { ApiDef } from './schema-types.js';

/** Lowest versions a broker accepts although it may advertise lower ones (KAFKA-18659: Produce below v3). */
const EFFECTIVE_BROKER_MIN: Readonly<Record<number, number>> = { 0: 3 };

/** Our [min, max] for an API; the max leaves out a version Kafka marks unstable (`latestVersionUnstable`). */
export function supportedVersions(api: ApiDef): [number, number] {
  const [lo, hi] = parseVersions(api.validVersions);
  return [lo, api.latestVersionUnstable ? hi - 1 : hi];
}

/**
 * The version to send: min(our max, brokerMax, pin), checked against our min and the broker's (effective)
 * min. Throws {@link UnsupportedVersionError} when no version fits.
 */
export function chooseVersion(api: ApiDef, brokerMin: number, brokerMax: number, pin?: number): number {
  const [ourMin, ourMax] = supportedVersions(api);
  const floor = Math.max(ourMin, brokerMin, EFFECTIVE_BROKER_MIN[api.apiKey] ?? 0);
  const version = Math.min(ourMax, brokerMax, pin ?? Infinity);
  if (version < floor || (pin !== undefined && pin < floor)) {
    const pinned = pin === undefined ? '' : `, pinned to ${pin}`;
    throw new UnsupportedVersionError(`${api.name}: no common version (client ${ourMin}-${ourMax}, broker ${brokerMin}-${brokerMax}${pinned})`);
  }
  return version;
}
