/**
 * Transactions in the fake cluster (KIP-98; KIP-890's protocol v2 when `transactionsOf(state).version` is 2):
 * a transaction coordinator per transactional id (FindCoordinator key type 1 uses the same placement as groups),
 * InitProducerId with a transactional id (a new epoch each time; an open transaction of the old epoch is aborted
 * and its producer fenced), AddPartitionsToTxn (v0-3), AddOffsetsToTxn, EndTxn (v5 bumps the epoch and answers it),
 * TxnOffsetCommit (generation checked; offsets reach the group only on commit), and Produce with a transactional id:
 * under v1 (Produce up to v11) a partition must have been added first, else INVALID_TXN_STATE (KIP-890 part 1's
 * verification); Produce v12+ adds it implicitly. Records are not hidden from read_committed readers here: tests
 * look at `ended` (every EndTxn, with its partitions) and `writes` (what each transaction appended).
 *
 * Wired into the server's handler table by `transactionHandlers(existing)`; ApiVersions advertises
 * `transaction.version` when `version` is 2.
 */
import { errorCodes } from '../../src/protocol/error-codes.js';
import type { Handler, HandlerContext } from './handlers-data.js';
import type { ClusterState } from './state.js';

type Body = Record<string, any>;

/** One transactional id's coordinator state. */
export interface FakeTxn {
  producerId: number;
  epoch: number;
  state: 'Empty' | 'Ongoing' | 'CompleteCommit' | 'CompleteAbort';
  partitions: Set<string>;
  groups: Set<string>;
  /** Offsets given by TxnOffsetCommit, applied to the groups on commit. */
  offsets: Map<string, Map<string, { offset: number; leaderEpoch: number; metadata: string | null }>>;
}

/** An ended transaction, in order. */
export interface EndedTxn {
  transactionalId: string;
  producerId: number;
  epoch: number;
  committed: boolean;
  partitions: string[];
  groups: string[];
}

/** The coordinator state of every transactional id of one fake cluster. */
export class FakeTransactions {
  /** 1 or 2 (KIP-890): 2 advertises `transaction.version` 2 in ApiVersions. */
  version = 1;
  readonly byId = new Map<string, FakeTxn>();
  readonly ended: EndedTxn[] = [];
  /** Produce writes of transactional producers: `topic-partition`, producer id, epoch, record count, and how many transactions had ended before. */
  readonly writes: { tp: string; producerId: number; epoch: number; records: number; after: number }[] = [];

  /** The record counts a `committed` transaction of `transactionalId` wrote, summed (the test's read_committed). */
  committedRecords(tp?: string): number {
    let n = 0;
    // A write belongs to the first transaction of its producer id and epoch that ended after it, with its partition.
    for (const w of this.writes) {
      const e = this.ended.find((x, i) => i >= w.after && x.producerId === w.producerId && x.epoch === w.epoch && x.partitions.includes(w.tp));
      if (e?.committed && (tp === undefined || w.tp === tp)) n += w.records;
    }
    return n;
  }
}

const registry = new WeakMap<ClusterState, FakeTransactions>();

/** The transactions of a cluster's state (created on first use). */
export function transactionsOf(state: ClusterState): FakeTransactions {
  let t = registry.get(state);
  if (t === undefined) registry.set(state, (t = new FakeTransactions()));
  return t;
}

const tpKey = (topic: string, partition: number): string => `${topic}-${partition}`;

/** 0 when this broker coordinates `key`, else the error to answer. */
function notCoordinator(ctx: HandlerContext, key: string): number {
  if (ctx.topError) return ctx.topError;
  return ctx.state.coordinatorFor(key) === ctx.broker ? 0 : errorCodes.NOT_COORDINATOR;
}

/** 0 when `producerId`/`epoch` is the id's current one, else the error (fencing for an older epoch). */
function checkProducer(txn: FakeTxn | undefined, producerId: number, epoch: number): number {
  if (txn === undefined || txn.producerId !== producerId) return errorCodes.INVALID_PRODUCER_ID_MAPPING;
  if (epoch < txn.epoch) return errorCodes.PRODUCER_FENCED;
  if (epoch > txn.epoch) return errorCodes.INVALID_PRODUCER_EPOCH;
  return 0;
}

function end(t: FakeTransactions, id: string, txn: FakeTxn, committed: boolean, state: ClusterState): void {
  t.ended.push({ transactionalId: id, producerId: txn.producerId, epoch: txn.epoch, committed, partitions: [...txn.partitions], groups: [...txn.groups] });
  if (committed) {
    for (const [groupId, offsets] of txn.offsets) {
      const g = state.groups.get(groupId);
      for (const [k, o] of offsets) g.offsets.set(k, o);
    }
  }
  txn.partitions.clear();
  txn.groups.clear();
  txn.offsets.clear();
  txn.state = committed ? 'CompleteCommit' : 'CompleteAbort';
}

/** The epoch a partition's producer state moves to after markers of `epoch` (a zombie's older batches are refused). */
function fencePartitions(state: ClusterState, txn: FakeTxn, partitions: Iterable<string>): void {
  for (const tp of partitions) {
    const i = tp.lastIndexOf('-');
    const log = state.partition(tp.slice(0, i), Number(tp.slice(i + 1)));
    log?.producers.set(txn.producerId, { epoch: txn.epoch, lastSeq: -1, recent: [] });
  }
}

function initProducerId(base: Handler): Handler {
  return (ctx) => {
    const { body, state } = ctx;
    if (body.transactionalId === null || body.transactionalId === undefined) return base(ctx);
    const fail = (errorCode: number): Body => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 });
    const refused = notCoordinator(ctx, body.transactionalId);
    if (refused) return fail(refused);
    const t = transactionsOf(state);
    let txn = t.byId.get(body.transactionalId);
    if (txn === undefined) {
      const producerId = state.newProducerId();
      txn = { producerId, epoch: 0, state: 'Empty', partitions: new Set(), groups: new Set(), offsets: new Map() };
      t.byId.set(body.transactionalId, txn);
    } else {
      const asked = Number(body.producerId ?? -1n);
      if (asked >= 0 && (asked !== txn.producerId || body.producerEpoch !== txn.epoch)) return fail(errorCodes.PRODUCER_FENCED);
      const open = txn.state === 'Ongoing' ? [...txn.partitions] : [];
      txn.epoch++;
      // An open transaction of the older epoch is aborted, its markers written with the new epoch (fencing the old producer).
      if (txn.state === 'Ongoing') {
        end(t, body.transactionalId, { ...txn, epoch: txn.epoch - 1 }, false, state);
        txn.partitions.clear();
        txn.groups.clear();
        txn.offsets.clear();
        txn.state = 'CompleteAbort';
      }
      fencePartitions(state, txn, open);
    }
    state.producerEpochs.set(txn.producerId, txn.epoch);
    return { throttleTimeMs: 0, errorCode: 0, producerId: BigInt(txn.producerId), producerEpoch: txn.epoch };
  };
}

function addPartitionsToTxn(ctx: HandlerContext): Body {
  const { body } = ctx;
  const id: string = body.v3AndBelowTransactionalId;
  const txn = transactionsOf(ctx.state).byId.get(id);
  const code = notCoordinator(ctx, id) || checkProducer(txn, Number(body.v3AndBelowProducerId), body.v3AndBelowProducerEpoch);
  if (!code) {
    for (const t of body.v3AndBelowTopics as Body[]) for (const p of t.partitions as number[]) txn!.partitions.add(tpKey(t.name, p));
    txn!.state = 'Ongoing';
  }
  return {
    throttleTimeMs: 0,
    resultsByTopicV3AndBelow: (body.v3AndBelowTopics as Body[]).map((t) => ({
      name: t.name, resultsByPartition: (t.partitions as number[]).map((p) => ({ partitionIndex: p, partitionErrorCode: code })),
    })),
  };
}

function addOffsetsToTxn(ctx: HandlerContext): Body {
  const { body } = ctx;
  const txn = transactionsOf(ctx.state).byId.get(body.transactionalId);
  const code = notCoordinator(ctx, body.transactionalId) || checkProducer(txn, Number(body.producerId), body.producerEpoch);
  if (!code) {
    txn!.groups.add(body.groupId);
    txn!.state = 'Ongoing';
  }
  return { throttleTimeMs: 0, errorCode: code };
}

function endTxn(ctx: HandlerContext): Body {
  const { body, state, version } = ctx;
  const t = transactionsOf(state);
  const txn = t.byId.get(body.transactionalId);
  const answer = (errorCode: number): Body => ({ throttleTimeMs: 0, errorCode, producerId: txn && !errorCode ? BigInt(txn.producerId) : -1n, producerEpoch: txn && !errorCode ? txn.epoch : -1 });
  const code = notCoordinator(ctx, body.transactionalId) || checkProducer(txn, Number(body.producerId), body.producerEpoch);
  if (code) return answer(code);
  if (txn!.state !== 'Ongoing') {
    // A retried end of the transaction that just ended the same way succeeds; anything else is out of place.
    const same = (txn!.state === 'CompleteCommit' && body.committed) || (txn!.state === 'CompleteAbort' && !body.committed);
    return answer(same ? 0 : errorCodes.INVALID_TXN_STATE);
  }
  const partitions = [...txn!.partitions];
  end(t, body.transactionalId, txn!, body.committed, state);
  if (version >= 5) {
    txn!.epoch++; // protocol v2: every end bumps the epoch (KIP-890)
    state.producerEpochs.set(txn!.producerId, txn!.epoch);
    fencePartitions(state, txn!, partitions);
  }
  return answer(0);
}

function txnOffsetCommit(ctx: HandlerContext): Body {
  const { body, state, version } = ctx;
  const txn = transactionsOf(state).byId.get(body.transactionalId);
  const group = state.groups.get(body.groupId);
  let code = ctx.topError || (state.coordinatorFor(body.groupId) === ctx.broker ? 0 : errorCodes.NOT_COORDINATOR);
  code ||= checkProducer(txn, Number(body.producerId), body.producerEpoch);
  if (!code && version < 5 && !txn!.groups.has(body.groupId)) code = errorCodes.INVALID_TXN_STATE; // v1: AddOffsetsToTxn first
  if (!code && version >= 3 && body.generationId >= 0) code = group.checkCommit(body.memberId, body.generationId);
  if (!code) {
    txn!.groups.add(body.groupId);
    txn!.state = 'Ongoing';
    let offsets = txn!.offsets.get(body.groupId);
    if (offsets === undefined) txn!.offsets.set(body.groupId, (offsets = new Map()));
    for (const t of body.topics as Body[]) {
      for (const p of t.partitions as Body[]) offsets.set(`${t.name}:${p.partitionIndex}`, { offset: Number(p.committedOffset), leaderEpoch: p.committedLeaderEpoch ?? -1, metadata: p.committedMetadata });
    }
  }
  return { throttleTimeMs: 0, topics: (body.topics as Body[]).map((t) => ({ name: t.name, partitions: (t.partitions as Body[]).map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) })) };
}

/** Produce with a transactional id: v1 needs the partition added (INVALID_TXN_STATE otherwise), v12+ adds it. */
function produce(base: Handler): Handler {
  return async (ctx) => {
    const { body, state, version } = ctx;
    if (body.transactionalId === null || body.transactionalId === undefined) return base(ctx);
    const t = transactionsOf(state);
    const txn = t.byId.get(body.transactionalId);
    const refused = new Map<string, number>();
    const counted: { tp: string; producerId: number; epoch: number; records: number; after: number }[] = [];
    for (const td of body.topicData as Body[]) {
      const name = state.topicName(td.name, td.topicId, version >= 13);
      for (const pd of td.partitionData as Body[]) {
        const tp = tpKey(name, pd.index);
        const records = pd.records as Buffer | null;
        const producerId = records && records.length >= 61 ? Number(records.readBigInt64BE(43)) : -1;
        const epoch = records && records.length >= 61 ? records.readInt16BE(51) : -1;
        const count = records && records.length >= 61 ? records.readInt32BE(57) : 0;
        let code = txn === undefined ? errorCodes.INVALID_PRODUCER_ID_MAPPING : epoch < txn.epoch ? errorCodes.INVALID_PRODUCER_EPOCH : 0;
        if (!code && !txn!.partitions.has(tp)) {
          if (version >= 12) { txn!.partitions.add(tp); txn!.state = 'Ongoing'; } else code = errorCodes.INVALID_TXN_STATE;
        }
        if (code) refused.set(tp, code);
        else counted.push({ tp, producerId, epoch, records: count, after: t.ended.length });
      }
    }
    if (refused.size === 0) {
      const res = await base(ctx);
      for (const c of counted) {
        const ok = (res?.responses as Body[] | undefined)?.some((r) => r.partitionResponses.some((p: Body) => tpKey(r.name, p.index) === c.tp && p.errorCode === 0));
        if (ok) t.writes.push(c);
      }
      return res;
    }
    // Refused partitions answer their error; the request's others are not written either (simple and enough for tests).
    return {
      throttleTimeMs: 0,
      responses: (body.topicData as Body[]).map((td) => {
        const name = state.topicName(td.name, td.topicId, version >= 13);
        return { name, topicId: td.topicId, partitionResponses: (td.partitionData as Body[]).map((pd) => ({
          index: pd.index, errorCode: refused.get(tpKey(name, pd.index)) ?? errorCodes.OPERATION_NOT_ATTEMPTED, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null,
        })) };
      }),
    };
  };
}

/** ApiVersions advertising `transaction.version` 2 when the cluster's transactions use v2. */
function apiVersions(base: Handler): Handler {
  return async (ctx) => {
    const res = await base(ctx);
    if (res === undefined || transactionsOf(ctx.state).version < 2) return res;
    return { ...res, finalizedFeaturesEpoch: 1n, finalizedFeatures: [{ name: 'transaction.version', maxVersionLevel: 2, minVersionLevel: 2 }],
      supportedFeatures: [{ name: 'transaction.version', minVersion: 0, maxVersion: 2 }] };
  };
}

/** The transaction APIs' handlers by API key, and the wrapped ones they extend (Produce, InitProducerId, ApiVersions). */
export function transactionHandlers(existing: Readonly<Record<number, Handler>>): Record<number, Handler> {
  return {
    0: produce(existing[0]!), 22: initProducerId(existing[22]!), 18: apiVersions(existing[18]!),
    24: addPartitionsToTxn, 25: addOffsetsToTxn, 26: endTxn, 28: txnOffsetCommit,
  };
}
