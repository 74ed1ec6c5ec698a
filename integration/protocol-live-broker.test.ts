/**
 * Our codecs against a real Kafka 4.x broker over a raw socket (no client layer): ApiVersions at every version
 * (its response header is always v0, KIP-511), then read-only and admin APIs at every version the broker
 * accepts, each response decoded with nothing left over. Also checks that our definitions reach every version
 * the broker advertises, so version choice always lands on the broker's max.
 */
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { suite } from '../test/kit.js';
import { brokers } from './harness/index.js';
import { apis, apiByKey } from '../src/protocol/apis/index.js';
import { requestCodec, responseCodec } from '../src/protocol/schema.js';
import type { ApiDef, RequestOf } from '../src/protocol/schema-types.js';
import { headerVersions, readResponseHeader, writeRequestFrame } from '../src/protocol/headers.js';
import { chooseVersion, supportedVersions } from '../src/protocol/versions.js';
import { Reader } from '../src/protocol/reader.js';
import { Writer } from '../src/protocol/writer.js';

const s = suite('protocol codecs against a live broker', { timeoutMs: 180_000 });

/** One socket, one request at a time: enough to exercise the codecs. */
class RawConnection {
  private chunks = Buffer.alloc(0);
  private waiting?: { resolve: (frame: Buffer) => void; reject: (err: Error) => void };
  private correlationId = 0;
  private constructor(private readonly socket: Socket) {
    socket.on('data', (d) => {
      this.chunks = Buffer.concat([this.chunks, d]);
      if (this.chunks.length >= 4 && this.chunks.length >= 4 + this.chunks.readInt32BE(0)) {
        const size = this.chunks.readInt32BE(0);
        const frame = this.chunks.subarray(4, 4 + size);
        this.chunks = this.chunks.subarray(4 + size);
        this.waiting?.resolve(frame);
      }
    });
    socket.on('close', () => this.waiting?.reject(new Error('connection closed by the broker')));
  }

  static open(address: string): Promise<RawConnection> {
    const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends `body` as `api` v`version`, returns the decoded response after checking header and leftovers. */
  async call<D extends ApiDef>(api: D, version: number, body: RequestOf<D>): Promise<ReturnType<ReturnType<typeof responseCodec<D>>['decode']>> {
    const id = ++this.correlationId;
    const frame = writeRequestFrame(new Writer(), api, requestCodec(api, version), { correlationId: id, clientId: 'protocol-live' }, body);
    const answer = new Promise<Buffer>((resolve, reject) => {
      this.waiting = { resolve, reject: (err) => reject(new Error(`${api.name} v${version}: ${err.message}`)) };
    });
    this.socket.write(frame);
    const response = await answer;
    const r = new Reader(response);
    const header = readResponseHeader(r, headerVersions(api, version)[1]);
    assert.is(header.correlationId, id, `${api.name} v${version} correlation id`);
    const decoded = responseCodec(api, version).decode(r);
    assert.is(r.remaining(), 0, `${api.name} v${version}: every response byte decoded`);
    return decoded;
  }

  close(): void {
    this.socket.destroy();
  }
}

let conn: RawConnection;
let ranges: Map<number, [number, number]>;

s.before(async () => {
  conn = await RawConnection.open((await brokers())[0]!);
});
s.after(() => conn?.close());

s('ApiVersions at every version: header v0 responses, error 0, our definitions reach every broker max', async () => {
  for (let v = 0; v <= supportedVersions(apis.ApiVersions)[1]; v++) {
    const res = await conn.call(apis.ApiVersions, v, { clientSoftwareName: 'kafka-channels', clientSoftwareVersion: '0.1.0' });
    assert.is(res.errorCode, 0, `ApiVersions v${v}`);
    ranges = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
  }
  for (const api of Object.values(apis) as ApiDef[]) {
    const range = ranges.get(api.apiKey);
    assert.ok(range, `broker speaks ${api.name}`);
    const [, ourMax] = supportedVersions(api);
    assert.ok(ourMax >= range[1], `${api.name}: we define up to v${ourMax}, broker offers v${range[1]}`);
    assert.is(chooseVersion(api, range[0], range[1]), Math.min(ourMax, range[1]), api.name);
  }
});

/** Every version both sides accept, lowest first. */
function versions(api: ApiDef): number[] {
  const [lo, hi] = ranges.get(api.apiKey)!;
  const accepted = (v: number): boolean => {
    try { return chooseVersion(api, lo, hi, v) === v; } catch { return false; }
  };
  return Array.from({ length: hi + 1 }, (_, v) => v).filter(accepted);
}

const topic = `protocol-live-${process.pid}`;

s('CreateTopics, Metadata, DescribeConfigs, ListOffsets and DeleteTopics at every accepted version', async () => {
  assert.ok(versions(apis.Metadata).length >= 13 && versions(apis.ListOffsets).length >= 10, 'many versions exercised');
  const create = await conn.call(apis.CreateTopics, versions(apis.CreateTopics).at(-1)!, {
    topics: [{ name: topic, numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '3600000' }] }],
    timeoutMs: 30_000,
  });
  assert.is(create.topics[0]!.errorCode, 0, `CreateTopics: ${create.topics[0]!.errorMessage}`);
  // Just after CreateTopics the broker may still answer LEADER_NOT_AVAILABLE (5) for a while; any other error
  // fails, and most versions must describe the topic's 3 partitions.
  let described = 0;
  for (const v of versions(apis.Metadata)) {
    const res = await conn.call(apis.Metadata, v, { topics: [{ name: topic }], allowAutoTopicCreation: false });
    assert.ok(res.brokers.length >= 1, `Metadata v${v} brokers`);
    assert.is(res.topics[0]!.name, topic);
    const code = res.topics[0]!.errorCode;
    assert.ok(code === 0 || code === 5, `Metadata v${v}: error code ${code}`);
    if (code === 0) {
      assert.is(res.topics[0]!.partitions.length, 3, `Metadata v${v} partitions`);
      described++;
    }
    if (v >= 10) assert.is.not(res.topics[0]!.topicId, 'AAAAAAAAAAAAAAAAAAAAAA', 'topic id from v10 (KIP-516)');
  }
  assert.ok(described >= versions(apis.Metadata).length / 2, `${described} Metadata versions described the topic`);
  for (const v of versions(apis.DescribeConfigs)) {
    const res = await conn.call(apis.DescribeConfigs, v, { resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['retention.ms'] }] });
    assert.is(res.results[0]!.errorCode, 0);
    assert.is(res.results[0]!.configs.find((c) => c.name === 'retention.ms')?.value, '3600000', `DescribeConfigs v${v}`);
  }
  for (const v of versions(apis.ListOffsets)) {
    const res = await conn.call(apis.ListOffsets, v, { replicaId: -1, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });
    assert.is(res.topics[0]!.partitions[0]!.errorCode, 0, `ListOffsets v${v}`);
  }
  const del = await conn.call(apis.DeleteTopics, versions(apis.DeleteTopics).at(-1)!, { topicNames: [topic], topics: [{ name: topic }], timeoutMs: 30_000 });
  assert.is(del.responses[0]!.errorCode, 0);
});

s('DescribeCluster, FindCoordinator, ListGroups and DescribeGroups at every accepted version', async () => {
  for (const v of versions(apis.DescribeCluster)) {
    const res = await conn.call(apis.DescribeCluster, v, { includeClusterAuthorizedOperations: false });
    assert.is(res.errorCode, 0);
    assert.ok(res.clusterId.length > 0 && res.brokers.length >= 1, `DescribeCluster v${v}`);
  }
  for (const v of versions(apis.FindCoordinator)) {
    const res = await conn.call(apis.FindCoordinator, v, { key: 'protocol-live-group', keyType: 0, coordinatorKeys: ['protocol-live-group'] });
    const code = v >= 4 ? res.coordinators[0]!.errorCode : res.errorCode;
    assert.ok(code === 0 || code === 15, `FindCoordinator v${v}: error ${code}`); // 15: coordinator not available yet
  }
  for (const v of versions(apis.ListGroups)) {
    const res = await conn.call(apis.ListGroups, v, {});
    assert.is(res.errorCode, 0, `ListGroups v${v}`);
  }
  for (const v of versions(apis.DescribeGroups)) {
    const res = await conn.call(apis.DescribeGroups, v, { groups: ['protocol-live-none'] });
    assert.is(res.groups.length, 1, `DescribeGroups v${v}`);
  }
  assert.is(apiByKey(60), apis.DescribeCluster);
});

s.run();
