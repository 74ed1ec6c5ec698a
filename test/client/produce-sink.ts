/**
 * Helpers for the input-boundary tests: an in-memory `ProducerCluster` whose one broker decodes every Produce
 * request with our record-batch decoder and keeps the records per partition (checking idempotent sequences as a
 * broker does), and a guard that counts uncaught exceptions and unhandled rejections while a test runs.
 * (A stand-in until the shared fake cluster in test/fake-cluster/ is committed: no sockets, no wire codec.)
 */
import type { ProducerCluster } from '../../src/client/producer-engine.js';
import { InitProducerId } from '../../src/protocol/apis/init-producer-id.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { decodeRecordBatches } from '../../src/protocol/record-batch.js';
import type { ApiDef } from '../../src/protocol/schema-types.js';

export interface SunkRecord {
  partition: number;
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
  timestamp: number;
}

/** The records written per topic, in order; `outOfOrder` counts refused sequences (a gap left by the producer). */
export class ProduceSink implements ProducerCluster {
  readonly records: SunkRecord[] = [];
  outOfOrder = 0;
  private readonly nextSeq = new Map<string, number>();
  private readonly lead = { request: (api: ApiDef, body: any, options?: { expectResponse?: boolean }) => this.request(api, body, options) };

  constructor(private readonly partitions = 2) {}

  async topic(name: string) {
    return { name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: Array.from({ length: this.partitions }, (_, partition) => ({ partition, leaderId: 1 })) };
  }
  broker(): never { return this.lead as never; }
  async anyBroker(): Promise<never> { return this.lead as never; }
  invalidate(): void {}

  values(): Array<string | null> {
    return this.records.map((r) => r.value);
  }

  private async request(api: ApiDef, body: any, options?: { expectResponse?: boolean }): Promise<any> {
    if (api === InitProducerId) return { errorCode: 0, producerId: 4242n, producerEpoch: 0 };
    if (api !== Produce) throw new Error(`unexpected ${api.name}`);
    await new Promise((r) => setImmediate(r));
    const responses = body.topicData.map((t: any) => ({
      name: t.name, topicId: t.topicId,
      partitionResponses: t.partitionData.map((p: any) => {
        const batch = decodeRecordBatches(p.records)[0]!;
        const key = `${t.name}-${p.index}`;
        if (batch.producerId >= 0) {
          const expected = this.nextSeq.get(key) ?? 0;
          if (batch.baseSequence !== expected) {
            this.outOfOrder++;
            return { index: p.index, errorCode: errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER, baseOffset: -1n, recordErrors: [], errorMessage: null };
          }
          this.nextSeq.set(key, expected + batch.recordCount);
        }
        const base = this.records.length;
        for (const r of batch.records()) {
          this.records.push({
            partition: p.index, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null,
            headers: r.headers.map((h) => [h.key, h.value?.toString() ?? null]), timestamp: Number(r.timestamp),
          });
        }
        return { index: p.index, errorCode: 0, baseOffset: BigInt(base), recordErrors: [], errorMessage: null };
      }),
    }));
    return options?.expectResponse === false ? undefined : { throttleTimeMs: 0, responses };
  }
}

/** Counts process-level failures from `install()` to `remove()`; `check()` asserts none happened. */
export class CrashGuard {
  readonly uncaught: unknown[] = [];
  readonly unhandled: unknown[] = [];
  private readonly onUncaught = (err: unknown): void => void this.uncaught.push(err);
  private readonly onUnhandled = (err: unknown): void => void this.unhandled.push(err);

  install(): this {
    process.on('uncaughtException', this.onUncaught);
    process.on('unhandledRejection', this.onUnhandled);
    return this;
  }

  remove(): void {
    process.off('uncaughtException', this.onUncaught);
    process.off('unhandledRejection', this.onUnhandled);
  }

  /** A description of what escaped, or '' when nothing did. */
  escaped(): string {
    const all = [...this.uncaught.map((e) => `uncaught: ${String(e)}`), ...this.unhandled.map((e) => `unhandled rejection: ${String(e)}`)];
    return all.join('; ');
  }
}
