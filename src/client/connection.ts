/**
 * One socket to one broker, carrying size-prefixed request frames and matching responses to requests.
 *
 * Kafka answers the requests of a connection in the order it received them, so the in-flight requests form a
 * FIFO and the head must carry the correlation id of every response; anything else means the stream is out of
 * step and the connection is destroyed (never guessed past). A request that times out keeps its slot, marked
 * abandoned, so its late response is read and dropped instead of being mistaken for the next one.
 *
 * This layer knows frames, not APIs: callers pass a whole request frame (size prefix, request header, body) and
 * get the whole response frame back (response header first). Encoding lives in `broker.ts` and src/protocol.
 */
import { ClosedError, ConnectionError, KafkaError, RequestTimeoutError } from '../errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder } from './frame-decoder.js';
import { nodeTransport, type Transport, type TransportSocket } from './transport.js';
import { diagnosticsChannel as channel } from '../runtime/diagnostics.js';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';

/**
 * diagnostics_channel names. Subscribers get plain objects; nothing is built when nobody listens.
 * `request:start` / `request:end` carry {@link RequestEvent}; `connect` and `error` carry the connection.
 */
export const channels = {
  connect: channel('kafka-channels:connection:connect'),
  close: channel('kafka-channels:connection:close'),
  error: channel('kafka-channels:connection:error'),
  requestStart: channel('kafka-channels:request:start'),
  requestEnd: channel('kafka-channels:request:end'),
} as const;

/** What `request:start` and `request:end` publish. `error` and `durationMs` are set on end only. */
export interface RequestEvent {
  connection: Connection;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  bytes: number;
  durationMs?: number;
  error?: Error;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  tls?: TlsConnectionOptions;
  /** Defaults to node:net / node:tls. */
  transport?: Transport;
  connectTimeoutMs?: number;
  /** Default per-request timeout (Kafka's `request.timeout.ms`, 30 s). */
  requestTimeoutMs?: number;
  /** Requests written but not answered, at most (Kafka's `max.in.flight.requests.per.connection`, 5). */
  maxInFlight?: number;
  maxFrameBytes?: number;
  /** A label for errors and diagnostics, e.g. `broker 1 (fetch)`. Defaults to `host:port`. */
  name?: string;
  signal?: AbortSignal;
}

export interface RequestOptions {
  /** False for requests the broker never answers (Produce with acks=0): resolves once written. */
  expectResponse?: boolean;
  timeoutMs?: number;
}

interface Pending {
  /** One buffer, or the buffers of one frame to write back to back (see encodeRequestChunks). */
  frame: Uint8Array | readonly Uint8Array[];
  bytes: number;
  correlationId: number;
  apiKey: number;
  apiVersion: number;
  expectResponse: boolean;
  timeoutMs: number;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
  /** Timed out after being written: its response will still come and must be swallowed. */
  abandoned: boolean;
  settled: boolean;
  resolve: (frame: Buffer | undefined) => void;
  reject: (err: Error) => void;
}

const CORRELATION_OFFSET = 8; // size (4) + api key (2) + api version (2): every request header version.

/** A connected socket with Kafka's request/response discipline. Create with {@link Connection.connect}. */
export class Connection {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  private readonly socket: TransportSocket;
  private readonly decoder: FrameDecoder;
  private readonly requestTimeoutMs: number;
  private readonly maxInFlight: number;
  private nextCorrelationId = 1;
  /** Written, awaiting a response, in the order the broker will answer. */
  private readonly inFlight: Pending[] = [];
  private inFlightHead = 0;
  /** Accepted but not yet written: over the in-flight bound or behind a full socket. */
  private readonly queued: Pending[] = [];
  private abandonedCount = 0;
  /** Written requests without a response whose bytes the OS has not taken yet. */
  private readonly unflushed = new Set<Pending>();
  private socketFull = false;
  private drainWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private closing: Promise<void> | undefined;
  private closeResolve: (() => void) | undefined;
  private failure: Error | undefined;

  private constructor(socket: TransportSocket, options: ConnectionOptions) {
    this.host = options.host;
    this.port = options.port;
    this.name = options.name ?? `${options.host}:${options.port}`;
    this.socket = socket;
    this.decoder = new FrameDecoder(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 5);
    // Reading into the decoder's memory where the transport can (plain node:net); 'data' chunks otherwise.
    const reader = { target: () => this.decoder.readTarget(), onRead: (n: number) => this.onRead(n) };
    if (socket.setReader?.(reader) !== true) socket.on('data', (chunk) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (err) => this.destroy(new ConnectionError(`${this.name}: ${err.message}`, { broker: this.where, cause: err })));
    socket.on('close', () => this.onSocketClose());
  }

  /** Opens the socket (and the TLS session). No Kafka bytes are exchanged here: see `broker.ts` for the handshake. */
  static async connect(options: ConnectionOptions): Promise<Connection> {
    const transport = options.transport ?? nodeTransport;
    const socket = await transport.connect({
      host: options.host, port: options.port, tls: options.tls,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000, signal: options.signal,
    });
    const conn = new Connection(socket, options);
    if (channels.connect.hasSubscribers) channels.connect.publish({ connection: conn });
    return conn;
  }

  private get where(): string {
    return `${this.host}:${this.port}`;
  }

  /** True once closed or destroyed: every request is refused. */
  get closed(): boolean {
    return this.failure !== undefined || this.closing !== undefined;
  }

  /** Requests written and not yet answered, including abandoned ones whose late response is still due. */
  get inFlightCount(): number {
    return this.inFlight.length - this.inFlightHead;
  }

  /** Requests accepted but waiting for an in-flight slot or for the socket to drain. */
  get queuedCount(): number {
    return this.queued.length;
  }

  /**
   * True while the socket refuses more bytes (its `write` returned false and `'drain'` has not come). Producers
   * check this, or await {@link waitForDrain}, to stop accumulating work in memory behind a slow broker.
   */
  get backpressured(): boolean {
    return this.socketFull || this.queued.length > 0;
  }

  /** Resolves when the socket can take more bytes and nothing is queued (at once if that is already so). */
  waitForDrain(): Promise<void> {
    if (!this.backpressured || this.failure) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Resolves when nothing is queued and every in-flight request is answered or abandoned (its late response
   * will be dropped in order). KIP-368 re-authentication waits for this: SASL frames may not interleave with
   * other requests.
   */
  whenIdle(): Promise<void> {
    if (this.failure || this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.queued.length === 0 && this.unflushed.size === 0 && this.inFlightCount <= this.abandonedCount;
  }

  private wakeIdleWaiters(): void {
    if (this.idleWaiters.length === 0 || !(this.failure || this.isIdle())) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Sends one request frame: `frame` is the whole size-prefixed request, or its pieces in order (the first holds
   * the size prefix and request header; the pieces go out as one vectored write, uncopied); its correlation id
   * (bytes 8..11) is overwritten with this connection's next id, in place. Resolves with the response frame (response header and
   * body, no size prefix), or `undefined` for `expectResponse: false`.
   */
  request(frame: Uint8Array | readonly Uint8Array[], options: RequestOptions = {}): Promise<Buffer | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new ClosedError(`${this.name}: connection is closing`));
    const head = frame instanceof Uint8Array ? frame : frame[0]!;
    if (head.byteLength < CORRELATION_OFFSET + 4) return Promise.reject(new KafkaError(`${this.name}: a request frame of ${head.byteLength} bytes has no header`));
    let bytes = head.byteLength;
    if (!(frame instanceof Uint8Array)) for (let i = 1; i < frame.length; i++) bytes += frame[i]!.byteLength;
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
    view.setInt32(CORRELATION_OFFSET, correlationId);
    return new Promise((resolve, reject) => {
      const p: Pending = {
        frame, bytes, correlationId, apiKey: view.getInt16(4), apiVersion: view.getInt16(6),
        expectResponse: options.expectResponse ?? true, timeoutMs: options.timeoutMs ?? this.requestTimeoutMs,
        startedAt: performance.now(), timer: undefined, abandoned: false, settled: false, resolve, reject,
      };
      p.timer = setTimeout(() => this.onTimeout(p), p.timeoutMs);
      if (channels.requestStart.hasSubscribers) channels.requestStart.publish(this.event(p));
      this.queued.push(p);
      this.flush();
    });
  }

  /** Writes queued requests while there is an in-flight slot and the socket takes bytes. */
  private flush(): void {
    let i = 0;
    while (i < this.queued.length && !this.socketFull && !this.failure) {
      const p = this.queued[i]!;
      if (p.expectResponse && this.inFlightCount >= this.maxInFlight) break;
      i++;
      if (p.expectResponse) {
        this.inFlight.push(p);
        this.socketFull = !this.write(p.frame);
      } else {
        // Nothing will answer (acks=0): "sent" means the OS has the bytes, so a close right after loses nothing.
        this.unflushed.add(p);
        this.socketFull = !this.write(p.frame, (err) => this.onFlushed(p, err));
      }
    }
    if (i > 0) this.queued.splice(0, i);
    this.maybeFinishClose();
    this.wakeDrainWaiters();
  }

  /** Writes a frame; its pieces are corked into one vectored write where the socket can (node:net, node:tls). */
  private write(frame: Uint8Array | readonly Uint8Array[], callback?: (err?: Error | null) => void): boolean {
    if (frame instanceof Uint8Array) return this.socket.write(frame, callback);
    const last = frame.length - 1;
    this.socket.cork?.();
    for (let i = 0; i < last; i++) this.socket.write(frame[i]!);
    const room = this.socket.write(frame[last]!, callback);
    this.socket.uncork?.();
    return room;
  }

  private onFlushed(p: Pending, err: Error | null | undefined): void {
    if (!this.unflushed.delete(p)) return; // settled by destroy()
    if (err) this.settle(p, undefined, new ConnectionError(`${this.name}: write failed: ${err.message}`, { broker: this.where, cause: err }));
    else this.settle(p, undefined, undefined);
    this.maybeFinishClose();
  }

  private onDrain(): void {
    this.socketFull = false;
    this.flush();
  }

  private wakeDrainWaiters(): void {
    if (this.backpressured || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private readonly frameListener = (frame: Buffer): void => this.onFrame(frame);

  private onData(chunk: Buffer): void {
    try {
      this.decoder.push(chunk, this.frameListener);
    } catch (err) {
      this.onDecodeError(err);
    }
  }

  private onRead(n: number): void {
    try {
      this.decoder.onRead(n, this.frameListener);
    } catch (err) {
      this.onDecodeError(err);
    }
  }

  private onDecodeError(err: unknown): void {
    this.destroy(err instanceof KafkaError ? err : new ConnectionError(`${this.name}: ${String(err)}`, { cause: err }));
  }

  private onFrame(frame: Buffer): void {
    if (this.failure) return;
    const head = this.inFlight[this.inFlightHead];
    const correlationId = frame.length >= 4 ? frame.readInt32BE(0) : -1;
    if (!head || head.correlationId !== correlationId) {
      this.destroy(new ConnectionError(
        `${this.name}: response correlation id ${correlationId} does not match ${head ? `the oldest request's ${head.correlationId}` : 'any request'}; the stream is out of step`,
        { broker: this.where }));
      return;
    }
    this.inFlight[this.inFlightHead++] = undefined as unknown as Pending;
    if (this.inFlightHead > 64 && this.inFlightHead * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.inFlightHead);
      this.inFlightHead = 0;
    }
    if (head.abandoned) this.abandonedCount--;
    else this.settle(head, frame, undefined);
    this.flush();
  }

  private onTimeout(p: Pending): void {
    p.timer = undefined;
    const queuedAt = this.queued.indexOf(p);
    if (queuedAt >= 0) this.queued.splice(queuedAt, 1);
    else if (p.expectResponse) {
      p.abandoned = true;
      this.abandonedCount++;
    }
    this.settle(p, undefined, new RequestTimeoutError(
      `${this.name}: no response to api ${p.apiKey} v${p.apiVersion} (correlation id ${p.correlationId}) within ${p.timeoutMs} ms`, p.timeoutMs));
    // Every slot held by a response that may never come: the connection can do no more useful work.
    if (this.abandonedCount >= this.maxInFlight) {
      this.destroy(new ConnectionError(`${this.name}: ${this.abandonedCount} requests timed out in flight`, { broker: this.where }));
    }
    this.maybeFinishClose();
  }

  private settle(p: Pending, frame: Buffer | undefined, err: Error | undefined): void {
    if (p.settled) return;
    p.settled = true;
    if (p.timer) clearTimeout(p.timer);
    p.timer = undefined;
    if (channels.requestEnd.hasSubscribers) {
      channels.requestEnd.publish({ ...this.event(p), durationMs: performance.now() - p.startedAt, error: err });
    }
    if (err) p.reject(err);
    else p.resolve(frame);
  }

  private event(p: Pending): RequestEvent {
    return { connection: this, apiKey: p.apiKey, apiVersion: p.apiVersion, correlationId: p.correlationId, bytes: p.bytes };
  }

  /**
   * Stops taking requests, waits for those accepted to be answered (or to time out), then ends the socket.
   * With `timeoutMs`, requests still pending at the deadline fail with {@link ClosedError}.
   * Idempotent: every call returns the same promise (the first call's deadline applies).
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closing) return this.closing;
    if (this.failure) return Promise.resolve();
    this.closing = new Promise((resolve) => { this.closeResolve = resolve; });
    if (options.timeoutMs !== undefined) {
      // A deadline for the graceful part: what is still pending then fails, as destroy() does.
      const timer = setTimeout(() => this.destroy(new ClosedError(`${this.name}: closed before a response came (close deadline ${options.timeoutMs} ms)`)), options.timeoutMs);
      timer.unref?.();
      void this.closing.then(() => clearTimeout(timer));
    }
    this.maybeFinishClose();
    return this.closing;
  }

  private maybeFinishClose(): void {
    this.wakeIdleWaiters();
    if (!this.closeResolve || this.failure) return;
    if (!this.isIdle()) return;
    const resolve = this.closeResolve;
    this.closeResolve = undefined;
    this.failure = new ClosedError(`${this.name}: connection closed`);
    this.socket.end();
    if (channels.close.hasSubscribers) channels.close.publish({ connection: this });
    resolve();
  }

  /** Closes the socket now and fails every accepted request with `err` (a {@link ClosedError} by default). */
  destroy(err?: Error): void {
    if (this.failure) return;
    const error = err ?? new ClosedError(`${this.name}: connection destroyed`);
    this.failure = error;
    if (err && channels.error.hasSubscribers) channels.error.publish({ connection: this, error: err });
    this.socket.destroy();
    const pending = [...this.queued, ...this.inFlight.slice(this.inFlightHead), ...this.unflushed];
    this.unflushed.clear();
    this.queued.length = 0;
    this.inFlight.length = 0;
    this.inFlightHead = 0;
    for (const p of pending) if (!p.abandoned) this.settle(p, undefined, error);
    const waiters = [...this.drainWaiters, ...this.idleWaiters];
    this.drainWaiters = [];
    this.idleWaiters = [];
    for (const w of waiters) w();
    if (this.closeResolve) {
      this.closeResolve();
      this.closeResolve = undefined;
    }
    if (channels.close.hasSubscribers) channels.close.publish({ connection: this, error: err });
  }

  private onSocketClose(): void {
    if (this.failure) return;
    this.destroy(new ConnectionError(`${this.name}: the broker closed the connection`, { broker: this.where }));
  }
}
