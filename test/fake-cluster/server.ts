/**
 * One fake broker: a loopback TCP server speaking our protocol codecs. Like Kafka, it answers the requests of a
 * connection one at a time and in order (a pipelined request waits for the one before it), which also keeps
 * long-polling Fetch and parked JoinGroup requests honest. Every request is logged and checked against the
 * fault rules before it is handled (see faults.ts).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder } from '../../src/client/frame-decoder.js';
import { apiByKey } from '../../src/protocol/apis/index.js';
import { errorCodes } from '../../src/protocol/error-codes.js';
import { headerVersions, readRequestHeader, writeResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { requestCodec, responseCodec } from '../../src/protocol/schema.js';
import type { ApiDef } from '../../src/protocol/schema-types.js';
import { Writer } from '../../src/protocol/writer.js';
import { targets, type FaultHandle, type Faults, type LoggedRequest, type RequestLog } from './faults.js';
import { advertised, apiVersions, createTopics, fetch, initProducerId, listOffsets, metadata, offsetForLeaderEpoch, produce, type Handler, type HandlerContext } from './handlers-data.js';
import { findCoordinator, heartbeat, joinGroup, leaveGroup, offsetCommit, offsetFetch, syncGroup } from './handlers-group.js';
import { consumerGroupHeartbeat } from './consumer-groups-848.js';
import { saslAuthenticate, saslHandshake } from './handlers-sasl.js';
import { SHARE_HANDLERS } from './share-groups.js';
import { GROUP_ADMIN_HANDLERS } from './group-admin.js';
import { transactionHandlers } from './transactions.js';
import type { ClusterState } from './state.js';

type Body = Record<string, any>;

const HANDLERS: Record<number, Handler> = {
  18: apiVersions, 3: metadata, 19: createTopics, 0: produce, 22: initProducerId, 1: fetch, 2: listOffsets, 23: offsetForLeaderEpoch,
  10: findCoordinator, 11: joinGroup, 14: syncGroup, 12: heartbeat, 13: leaveGroup, 8: offsetCommit, 9: offsetFetch,
  68: consumerGroupHeartbeat,
  17: saslHandshake, 36: saslAuthenticate,
  ...SHARE_HANDLERS,
  ...GROUP_ADMIN_HANDLERS,
};
Object.assign(HANDLERS, transactionHandlers(HANDLERS)); // transactions.ts: KIP-98 / KIP-890

/** A whole response frame (size prefix, header, body) for `api` at `version`: what a `raw` fault may send. */
export function responseFrame(api: ApiDef, version: number, correlationId: number, body: Body): Buffer {
  const w = new Writer();
  const size = w.reserveInt32();
  writeResponseHeader(w, headerVersions(api, version)[1], { correlationId });
  responseCodec(api, version).encode(w, body as never);
  w.patchSizeFrom(size);
  return Buffer.from(w.finish());
}

/** Topic-partitions a request names, for fault matching and the log. */
function partitionsOf(state: ClusterState, broker: number, apiKey: number, version: number, body: Body): { topic: string; partition: number }[] {
  const out: { topic: string; partition: number }[] = [];
  const each = (list: Body[] | null | undefined, name: (t: Body) => string, parts: (t: Body) => number[]): void => {
    for (const t of list ?? []) for (const partition of parts(t)) out.push({ topic: name(t), partition });
  };
  switch (apiKey) {
    case 0: each(body.topicData, (t) => state.topicName(t.name, t.topicId, version >= 13), (t) => t.partitionData.map((p: Body) => p.index)); break;
    case 1:
      // An incremental fetch (KIP-227) fetches every partition of its session, named in the request or not.
      each(body.topics, (t) => state.topicName(t.topic, t.topicId, version >= 13), (t) => t.partitions.map((p: Body) => p.partition));
      if (version >= 7 && body.sessionEpoch > 0) {
        for (const tp of state.sessions.peek(broker, body.sessionId)) if (!out.some((x) => x.topic === tp.topic && x.partition === tp.partition)) out.push(tp);
      }
      break;
    case 2: each(body.topics, (t) => t.name, (t) => t.partitions.map((p: Body) => p.partitionIndex)); break;
    case 23: each(body.topics, (t) => t.topic, (t) => t.partitions.map((p: Body) => p.partition)); break;
    case 3: {
      // Metadata for every topic (a null list) concerns every topic.
      const topics = body.topics === null ? [...state.topics.keys()].map((name) => ({ name })) : body.topics;
      each(topics, (t) => t.name ?? state.topicsById.get(t.topicId)?.name ?? '', (t) => [-1, ...(state.topics.get(t.name)?.partitions.map((p) => p.partition) ?? [])]);
      break;
    }
    case 8: each(body.topics, (t) => state.topicName(t.name, t.topicId, version >= 10), (t) => t.partitions.map((p: Body) => p.partitionIndex)); break;
    case 9:
      if (version >= 8) for (const g of body.groups ?? []) each(g.topics, (t) => state.topicName(t.name, t.topicId, version >= 10), (t) => t.partitionIndexes);
      else each(body.topics, (t) => t.name, (t) => t.partitionIndexes);
      break;
  }
  return out;
}

/** Partition-level APIs: an `error` fault applies per partition; for the others, at the top level. */
const PER_PARTITION = new Set([0, 1, 2, 3, 8, 9, 23]);

/** Requests of a connection received and not answered yet: those queued and the one being handled. */
const unanswered = (c: { queue: Buffer[]; busy: boolean; wedged: boolean }): number => (c.wedged ? 0 : c.queue.length + (c.busy ? 1 : 0));

interface Conn { id: number; socket: Socket; queue: Buffer[]; busy: boolean; wedged: boolean; abort: AbortController; current: number | undefined }

/** One broker of the fake cluster. */
export class BrokerServer {
  readonly nodeId: number;
  port = 0;
  private server: Server | undefined;
  private readonly conns = new Set<Conn>();
  private readonly state: ClusterState;
  private readonly faults: Faults;
  private readonly log: RequestLog;
  private readonly nextConn: () => number;
  private readonly observe: (req: LoggedRequest, response: Body | undefined) => void;

  constructor(nodeId: number, state: ClusterState, faults: Faults, log: RequestLog, nextConn: () => number, observe: (req: LoggedRequest, response: Body | undefined) => void) {
    this.observe = observe;
    this.nodeId = nodeId;
    this.state = state;
    this.faults = faults;
    this.log = log;
    this.nextConn = nextConn;
  }

  get connections(): number {
    return this.conns.size;
  }

  /** Listens on 127.0.0.1 (`port` 0: any free port; a restart asks for its previous one). */
  async start(port = this.port): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }

  /** Closes the listener and every connection. */
  async stop(): Promise<void> {
    for (const c of this.conns) this.closeConn(c);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise((r) => server.close(r));
  }

  /**
   * Requests received and not yet answered (being handled, held by a `delay`, or queued behind one on their
   * connection), of one API key or all: what the client has in flight here.
   */
  pending(apiKey?: number): number {
    let n = 0;
    for (const c of this.conns) {
      if (c.wedged) continue;
      if (c.current !== undefined && (apiKey === undefined || c.current === apiKey)) n++;
      for (const f of c.queue) if (f.length >= 2 && (apiKey === undefined || f.readInt16BE(0) === apiKey)) n++;
    }
    return n;
  }

  /** Stops (true) or resumes (false) reading every client connection: a peer whose receive buffers fill. */
  pauseReading(paused: boolean): void {
    for (const c of this.conns) {
      if (paused) c.socket.pause();
      else c.socket.resume();
    }
  }

  /** Closes every client connection (the listener stays up). */
  dropConnections(): number {
    const n = this.conns.size;
    for (const c of this.conns) this.closeConn(c);
    return n;
  }

  private closeConn(c: Conn): void {
    c.abort.abort();
    c.socket.destroy();
    this.conns.delete(c);
  }

  private accept(socket: Socket): void {
    const conn: Conn = { id: this.nextConn(), socket, queue: [], busy: false, wedged: false, abort: new AbortController(), current: undefined };
    this.conns.add(conn);
    const decoder = new FrameDecoder();
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => { conn.abort.abort(); this.conns.delete(conn); });
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (frame) => {
          if (frame.length >= 4) this.log.arrive({ at: Date.now(), broker: this.nodeId, connection: conn.id, apiKey: frame.readInt16BE(0), version: frame.readInt16BE(2), unanswered: unanswered(conn) });
          conn.queue.push(Buffer.from(frame));
        });
      } catch {
        this.closeConn(conn);
        return;
      }
      void this.pump(conn);
    });
  }

  private async pump(conn: Conn): Promise<void> {
    if (conn.busy) return;
    conn.busy = true;
    try {
      while (conn.queue.length > 0 && !conn.socket.destroyed) {
        const frame = conn.queue.shift()!;
        if (conn.wedged) continue;
        conn.current = frame.length >= 2 ? frame.readInt16BE(0) : undefined;
        try {
          await this.handle(conn, frame);
        } finally {
          conn.current = undefined;
        }
      }
    } finally {
      conn.busy = false;
    }
  }

  private write(conn: Conn, bytes: Buffer): void {
    if (!conn.socket.destroyed) conn.socket.write(bytes);
  }

  private async handle(conn: Conn, frame: Buffer): Promise<void> {
    if (frame.length < 8) return this.closeConn(conn);
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    const api = apiByKey(apiKey);
    const handler = HANDLERS[apiKey] as Handler | undefined;
    const [lo, hi] = api && handler ? advertised(this.state, api) : [1, 0];
    if (!api || !handler || version < lo || version > hi) {
      // ApiVersions of an unknown version is answered in the v0 layout (KIP-511); anything else is not spoken.
      if (apiKey === 18 && api) {
        const body = { ...apiVersions(this.context(conn, 0, {}, '', () => 0, 0)), errorCode: errorCodes.UNSUPPORTED_VERSION };
        return this.write(conn, responseFrame(api, 0, frame.readInt32BE(4), body));
      }
      return this.closeConn(conn);
    }
    let req: LoggedRequest;
    try {
      const r = new Reader(frame);
      const header = readRequestHeader(r, headerVersions(api, version)[0]);
      const body = requestCodec(api, version).decode(r) as Body;
      req = { at: Date.now(), broker: this.nodeId, connection: conn.id, apiKey, api: api.name, version, header, body, partitions: partitionsOf(this.state, this.nodeId, apiKey, version, body) };
    } catch {
      return this.closeConn(conn); // Kafka closes the connection on a request it cannot parse
    }
    const fault = this.faults.take(req);
    if (fault) req.fault = fault.rule.action;
    this.log.push(req);
    const action = fault?.rule.action;
    if (action === 'drop') { conn.wedged = true; return; }
    if (action === 'reset') return this.closeConn(conn);
    if (action === 'raw') {
      const bytes = fault!.rule.bytes;
      return this.write(conn, typeof bytes === 'function' ? bytes(req) : (bytes ?? Buffer.alloc(0)));
    }
    if (action === 'delay') {
      const until = fault!.rule.until;
      await new Promise<void>((resolve) => {
        // The abort listener goes with the wait: a connection answering many delayed requests keeps none behind.
        const done = (): void => { clearTimeout(t); conn.abort.signal.removeEventListener('abort', done); resolve(); };
        const t = until ? undefined : setTimeout(done, fault!.rule.ms ?? 0);
        until?.then(done, done);
        conn.abort.signal.addEventListener('abort', done, { once: true });
      });
      if (conn.socket.destroyed) return;
    }
    const { errorFor, topError } = this.injected(fault, apiKey);
    let body: Body | undefined;
    try {
      body = await handler(this.context(conn, version, req.body, req.header.clientId ?? '', errorFor, topError));
    } catch (err) {
      console.error(`fake cluster: broker ${this.nodeId} failed on ${api.name} v${version}:`, err);
      return this.closeConn(conn);
    }
    if (body !== undefined && action === 'mutate') body = fault!.rule.mutate!(body, req) ?? body;
    this.observe(req, body);
    if (action === 'reset-after') return this.closeConn(conn);
    if (body === undefined) return;
    this.write(conn, responseFrame(api, version, req.header.correlationId, body));
  }

  private injected(fault: FaultHandle | undefined, apiKey: number): { errorFor: (t: string, p: number) => number; topError: number } {
    if (fault?.rule.action !== 'error') return { errorFor: () => 0, topError: 0 };
    const code = fault.rule.code ?? errorCodes.UNKNOWN_SERVER_ERROR;
    if (!PER_PARTITION.has(apiKey)) return { errorFor: () => 0, topError: code };
    const rule = fault.rule;
    const named = rule.topic !== undefined || rule.partition !== undefined;
    return { errorFor: (t, p) => (targets(rule, t, p) ? code : 0), topError: named ? 0 : code };
  }

  private context(conn: Conn, version: number, body: Body, clientId: string, errorFor: (t: string, p: number) => number, topError: number): HandlerContext {
    return { state: this.state, broker: this.nodeId, version, clientId, body, errorFor, topError, signal: conn.abort.signal };
  }
}
