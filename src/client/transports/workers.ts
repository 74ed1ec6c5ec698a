/**
 * A {@link Transport} over the Workers TCP sockets API (`connect()` from `cloudflare:sockets`: Cloudflare Workers,
 * workerd, and runtimes that copy it). The `connect` function is a parameter, so this module imports nothing from
 * the runtime and runs anywhere a test can hand it a double; `cloudflare.ts` beside it binds the real one.
 *
 * The socket is Web streams (`readable`, `writable`, `opened`, `closed`); the client speaks to a Node-shaped
 * {@link TransportSocket}. The adapter keeps the contract the connection relies on: `write` returns false while the
 * stream's writer is not `ready` (its queue is at the high-water mark) and `'drain'` comes when it is again; the
 * callback of a write runs when the stream took the bytes; `'close'` comes exactly once, after `'error'` if any;
 * `end()` flushes, `destroy()` does not; both may be called any number of times.
 */
import { ConnectionError, InvalidArgumentError } from '../../errors.js';
import { copyToReader, type SocketReader } from '../socket-reader.js';
import type { Transport, TransportConnectOptions, TransportSocket } from '../transport.js';

/** The address argument of `connect()`. */
export interface WorkersSocketAddress {
  hostname: string;
  port: number;
}

/** The options argument of `connect()` this transport uses. */
export interface WorkersSocketOptions {
  /** 'off': plain TCP; 'on': TLS from the first byte; 'starttls': plain until `startTls()` is called. */
  secureTransport?: 'off' | 'on' | 'starttls';
  /** False (what we pass): the runtime closes the socket when either side ends its writes. */
  allowHalfOpen?: boolean;
}

/** What `read()` of a stream reader resolves to. */
export interface WorkersReadResult {
  done: boolean;
  value?: Uint8Array;
}

/** The subset of a `ReadableStream` this transport uses (structural, so no DOM or Workers types are needed). */
export interface WorkersReadable {
  getReader(): { read(): Promise<WorkersReadResult>; cancel(reason?: unknown): Promise<void> };
}

/** The subset of a `WritableStream` this transport uses. */
export interface WorkersWritable {
  getWriter(): {
    write(chunk: Uint8Array): Promise<void>;
    close(): Promise<void>;
    abort(reason?: unknown): Promise<void>;
    /** Resolves when the queue is below the high-water mark (the stream's back-pressure signal). */
    readonly ready: Promise<void>;
    /** Room left before the high-water mark; zero or less means full (null once errored). */
    readonly desiredSize: number | null;
  };
}

/** A socket as `connect()` returns it. */
export interface WorkersSocket {
  readonly readable: WorkersReadable;
  readonly writable: WorkersWritable;
  /** Resolves once connected; rejects if the connection could not be made. */
  readonly opened: Promise<unknown>;
  /** Resolves when the socket is closed (rejects on error). */
  readonly closed: Promise<unknown>;
  close(): Promise<unknown>;
  /** Upgrades a socket opened with `secureTransport: 'starttls'`; the old socket must not be used after. */
  startTls?(options?: { expectedServerHostname?: string }): WorkersSocket;
}

/** `connect` from `cloudflare:sockets`. */
export type WorkersConnect = (address: WorkersSocketAddress, options?: WorkersSocketOptions) => WorkersSocket;

/** How the transport sets up TLS when the client's `tls` option asks for it. */
export interface WorkersTransportOptions {
  /**
   * 'on' (default): TLS from the first byte, the runtime checking the certificate against the host connected to.
   * 'starttls': a plain connection upgraded with `startTls()` before any Kafka byte (the same bytes on the wire);
   * used as well, whatever this says, when `tls.servername` names another host than the one connected to, since
   * only `startTls` takes the name to check (`expectedServerHostname`).
   */
  secureTransport?: 'on' | 'starttls';
  /**
   * Bytes written and not yet taken by the stream above which `write` returns false (default 64 KiB, like a Node
   * socket's buffer). The stream's own signal (`desiredSize`, `ready`) counts too; this bound holds even where a
   * runtime's sink takes every chunk at once (workerd's says `desiredSize` 1 with 100 KB pending).
   */
  highWaterMark?: number;
}

const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

/**
 * TLS options the Workers API cannot honour. The runtime verifies the broker against its own trust store (in
 * workerd: the network service's `tlsOptions.trustedCertificates`) and has no client certificates on `connect()`,
 * so asking for them is refused up front rather than silently ignored.
 */
const UNSUPPORTED_TLS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'checkServerIdentity', 'secureContext'] as const;

function tlsProblems(tls: Record<string, unknown>): string[] {
  const problems: string[] = UNSUPPORTED_TLS.filter((k) => tls[k] !== undefined).map((k) =>
    `tls.${k} is not supported by the Workers sockets transport: the runtime checks brokers against its own trust store ` +
    '(workerd: the network service\'s tlsOptions.trustedCertificates) and connect() takes no client certificate');
  if (tls.rejectUnauthorized === false) {
    problems.push('tls.insecureSkipVerify is not supported by the Workers sockets transport: the runtime always verifies the broker\'s certificate');
  }
  return problems;
}

/** Builds a {@link Transport} over `connect` (pass `connect` from `cloudflare:sockets`, or a test double). */
export function workersTransport(connect: WorkersConnect, options: WorkersTransportOptions = {}): Transport {
  if (typeof connect !== 'function') throw new InvalidArgumentError('workersTransport: connect must be the connect function of cloudflare:sockets');
  const mode = options.secureTransport ?? 'on';
  if (mode !== 'on' && mode !== 'starttls') throw new InvalidArgumentError(`workersTransport: secureTransport must be 'on' or 'starttls', not ${JSON.stringify(mode)}`);
  const hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  if (!Number.isSafeInteger(hwm) || hwm < 1) throw new InvalidArgumentError(`workersTransport: highWaterMark must be a positive integer of bytes, not ${String(hwm)}`);
  return { connect: (o) => open(connect, mode, hwm, o) };
}

async function open(connect: WorkersConnect, mode: 'on' | 'starttls', highWaterMark: number, o: TransportConnectOptions): Promise<TransportSocket> {
  const where = `${o.host}:${o.port}`;
  const tls = o.tls as Record<string, unknown> | undefined;
  if (tls !== undefined) {
    const problems = tlsProblems(tls);
    if (problems.length > 0) throw new InvalidArgumentError(problems);
  }
  const servername = typeof tls?.servername === 'string' && tls.servername !== '' ? tls.servername : o.host;
  const upgrade = tls !== undefined && (mode === 'starttls' || servername !== o.host);
  const secureTransport = tls === undefined ? 'off' : upgrade ? 'starttls' : 'on';
  if (o.signal?.aborted) throw new ConnectionError(`connecting to ${where} aborted`, { broker: where, cause: o.signal.reason });
  let socket: WorkersSocket;
  try {
    socket = connect({ hostname: o.host, port: o.port }, { secureTransport, allowHalfOpen: false });
  } catch (err) {
    // workerd throws at once for an address its network service refuses (e.g. a private one not allowed).
    throw new ConnectionError(`cannot connect to ${where}: ${(err as Error)?.message ?? String(err)}`, { broker: where, cause: err });
  }
  silence(socket);
  try {
    await bounded(socket.opened, where, o);
    if (upgrade) {
      if (typeof socket.startTls !== 'function') throw new ConnectionError(`cannot start TLS with ${where}: this runtime's socket has no startTls()`, { broker: where, retriable: false });
      socket = socket.startTls({ expectedServerHostname: servername });
      silence(socket);
      await bounded(socket.opened, where, o);
    }
  } catch (err) {
    socket.close().catch(() => undefined);
    throw err;
  }
  return new WorkersStreamSocket(socket, highWaterMark);
}

/** A socket whose promises nobody awaits must not report unhandled rejections. */
function silence(socket: WorkersSocket): void {
  Promise.resolve(socket.opened).catch(() => undefined);
  Promise.resolve(socket.closed).catch(() => undefined);
}

/** `opened`, bounded by the connect timeout and the signal; failures become {@link ConnectionError}s. */
function bounded(opened: Promise<unknown>, where: string, o: TransportConnectOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (err?: Error): void => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onAbort = (): void => done(new ConnectionError(`connecting to ${where} aborted`, { broker: where, cause: o.signal!.reason }));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.connectTimeoutMs !== undefined) {
      timer = setTimeout(() => done(new ConnectionError(`connecting to ${where} timed out after ${o.connectTimeoutMs} ms`, { broker: where })), o.connectTimeoutMs);
    }
    Promise.resolve(opened).then(() => done(), (err: unknown) =>
      done(new ConnectionError(`cannot connect to ${where}: ${(err as Error)?.message ?? String(err)}`, { broker: where, cause: err })));
  });
}

type Listener = (...args: never[]) => void;
type EventName = 'data' | 'drain' | 'close' | 'error';

/** The Node-shaped face of one Workers socket (see the file comment for the contract). */
class WorkersStreamSocket implements TransportSocket {
  private readonly writer: ReturnType<WorkersWritable['getWriter']>;
  private readonly listeners: Record<EventName, Listener[]> = { data: [], drain: [], close: [], error: [] };
  private reader: SocketReader | undefined;
  private reading = false;
  /** write() returned false: 'drain' is owed once there is room again. */
  private needDrain = false;
  private watchingReady = false;
  /** Bytes handed to the writer whose write has not settled. */
  private unflushed = 0;
  /** 'ending': end() was called, writes refused, the queue still flushing. */
  private state: 'open' | 'ending' | 'closed' = 'open';

  constructor(private readonly socket: WorkersSocket, private readonly highWaterMark: number) {
    this.writer = socket.writable.getWriter();
  }

  write(chunk: Uint8Array, callback?: (err?: Error | null) => void): boolean {
    if (this.state !== 'open') {
      const err = new ConnectionError(`write after the socket was ${this.state === 'ending' ? 'ended' : 'closed'}`);
      queueMicrotask(() => callback?.(err));
      return false;
    }
    const size = chunk.byteLength;
    this.unflushed += size;
    this.writer.write(chunk).then(() => {
      this.unflushed -= size;
      callback?.(null);
      this.maybeDrain();
    }, (err: unknown) => {
      this.unflushed -= size;
      const error = asError(err);
      callback?.(error);
      this.fail(error);
    });
    if (this.hasRoom()) return true;
    this.needDrain = true;
    if (!this.watchingReady) {
      this.watchingReady = true;
      this.writer.ready.then(() => {
        this.watchingReady = false;
        this.maybeDrain();
      }, () => { this.watchingReady = false; }); // an errored stream: the write's rejection reports it
    }
    return false;
  }

  /**
   * Room for more: under our byte bound and the stream not asking to wait. With nothing of ours pending there is
   * always room, so a stream whose high-water mark is 0 (`ready` pending while empty) cannot wedge the writer.
   */
  private hasRoom(): boolean {
    return this.unflushed === 0 || (this.unflushed < this.highWaterMark && (this.writer.desiredSize ?? 0) > 0);
  }

  private maybeDrain(): void {
    if (!this.needDrain || this.state !== 'open' || !this.hasRoom()) return;
    this.needDrain = false;
    this.emit('drain');
  }

  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ending';
    // close() resolves once every queued write reached the socket; then both directions are closed.
    this.writer.close().then(() => this.shutdown(), (err: unknown) => this.fail(asError(err)));
  }

  destroy(err?: Error): void {
    if (this.state === 'closed') return;
    this.writer.abort(err).catch(() => undefined);
    if (err) this.fail(err);
    else this.shutdown();
  }

  /** `'data'` chunks are `Uint8Array`s (no Buffer here); the connection uses {@link setReader} instead. */
  on(event: EventName, listener: Listener): this {
    this.listeners[event].push(listener);
    if (event === 'data') this.startReading();
    return this;
  }

  setReader(reader: SocketReader): boolean {
    if (this.reader !== undefined || this.reading) return false;
    this.reader = reader;
    this.startReading();
    return true;
  }

  /** Reads until the stream ends, handing each chunk to the reader (copied into its memory) or to `'data'`. */
  private startReading(): void {
    if (this.reading) return;
    this.reading = true;
    const reader = this.socket.readable.getReader();
    const loop = async (): Promise<void> => {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.state === 'closed') return;
        if (done) break;
        if (value === undefined || value.length === 0) continue;
        if (this.reader !== undefined) copyToReader(this.reader, value);
        else this.emit('data', value);
      }
      this.shutdown();
    };
    loop().catch((err: unknown) => {
      reader.cancel().catch(() => undefined);
      this.fail(asError(err));
    });
  }

  /** Closes without an error: `'close'` once. */
  private shutdown(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.socket.close().catch(() => undefined);
    queueMicrotask(() => this.emit('close'));
  }

  /** Closes with `err`: `'error'`, then `'close'`, once. */
  private fail(err: Error): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.socket.close().catch(() => undefined);
    queueMicrotask(() => {
      this.emit('error', err);
      this.emit('close');
    });
  }

  private emit(event: EventName, arg?: unknown): void {
    for (const l of this.listeners[event]) (l as (a?: unknown) => void)(arg);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
