import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import { apis, apiByKey, apisByKey, type ApiName } from '../../src/protocol/apis/index.js';
import { messageCodec, parseVersions, inVersions } from '../../src/protocol/schema.js';
import type { ApiDef, FieldDef } from '../../src/protocol/schema-types.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { expectedDecoded, prng, sampleStruct, type SampleOptions } from './schema-samples.js';

const s = suite('protocol apis: every API × version round-trips', { timeoutMs: 20_000 });

const REQUIRED: ApiName[] = ['ApiVersions', 'Metadata', 'Produce', 'Fetch', 'ListOffsets', 'OffsetForLeaderEpoch',
  'FindCoordinator', 'JoinGroup', 'SyncGroup', 'Heartbeat', 'LeaveGroup', 'OffsetCommit', 'OffsetFetch', 'DescribeGroups',
  'ListGroups', 'DeleteGroups', 'ConsumerGroupHeartbeat', 'ConsumerGroupDescribe', 'InitProducerId', 'AddPartitionsToTxn',
  'AddOffsetsToTxn', 'EndTxn', 'TxnOffsetCommit', 'SaslHandshake', 'SaslAuthenticate', 'CreateTopics', 'DeleteTopics',
  'CreatePartitions', 'DescribeConfigs', 'IncrementalAlterConfigs', 'DeleteRecords', 'DescribeCluster'];

function versionsOf(api: ApiDef): number[] {
  const [lo, hi] = parseVersions(api.validVersions);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/** Every field of a message valid at `version`, with nested ones, as paths. */
function fieldPaths(fields: readonly FieldDef[], version: number, prefix = ''): string[] {
  return fields.filter((f) => inVersions(f.versions, version))
    .flatMap((f) => [prefix + f.name, ...(f.fields ? fieldPaths(f.fields, version, `${prefix}${f.name}.`) : [])]);
}

function seenPaths(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) seenPaths(v, prefix, out);
  else if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [k, v] of Object.entries(value)) {
      out.add(prefix + k);
      seenPaths(v, `${prefix}${k}.`, out);
    }
  }
  return out;
}

s('the registry holds every API the client needs, keyed by api key and name', () => {
  for (const name of REQUIRED) {
    const api = apis[name] as ApiDef;
    assert.ok(api, name);
    assert.is(api.name, name);
    assert.is(apiByKey(api.apiKey), api);
  }
  assert.is(apisByKey.size, Object.keys(apis).length, 'api keys are unique');
  assert.is(apiByKey(3)?.name, 'Metadata');
  assert.is(apiByKey(18)?.name, 'ApiVersions');
  assert.is(apiByKey(9999), undefined);
});

let cases = 0;
for (const api of Object.values(apis) as ApiDef[]) {
  s(`${api.name}: every version, request and response, rich/sparse/mixed values`, () => {
    for (const version of versionsOf(api)) {
      const flexible = inVersions(api.flexibleVersions, version);
      for (const kind of ['request', 'response'] as const) {
        const message = api[kind];
        const codec = messageCodec(message, version, flexible);
        const covered = new Set<string>();
        for (const [i, mode] of (['rich', 'sparse', 'mixed', 'mixed', 'rich'] as SampleOptions['mode'][]).entries()) {
          const label = `${api.name} v${version} ${kind} ${mode}#${i}`;
          const value = sampleStruct(message.fields, version, prng(api.apiKey * 1000 + version * 10 + i), { mode });
          const w = new Writer(64);
          codec.encode(w, value);
          const bytes = Buffer.from(w.finish());
          const r = new Reader(bytes);
          const decoded = codec.decode(r);
          assert.is(r.remaining(), 0, `${label}: decoder consumed everything`);
          assert.equal(decoded, expectedDecoded(message.fields, version, value), label);
          const again = new Writer(8);
          codec.encode(again, decoded);
          assert.ok(again.finish().equals(bytes), `${label}: re-encoding the decoded value gives the same bytes`);
          for (const p of seenPaths(value)) covered.add(p);
          cases++;
        }
        const missing = fieldPaths(message.fields, version).filter((p) => !covered.has(p));
        assert.equal(missing, [], `${api.name} v${version} ${kind}: every valid field exercised`);
      }
    }
  });
}

s('case count', () => {
  assert.ok(cases > 32 * 2 * 5 * 3, `${cases} round trips`);
});

s.run();
