/**
 * The one seam between the client and the runtime's sockets. Everything above this file speaks to a
 * {@link TransportSocket}; Node gets `node:net` / `node:tls` by default, loaded on the first connection (never
 * imported statically, so the package loads where they do not exist), and Bun, Deno or an edge runtime can pass
 * their own {@link Transport} (the `transport` option of `Producer`, `ConsumerGroup` and `Cluster`) without
 * touching the connection code.
 */
import type * as Net from 'node:net';
import type { ConnectionOptions as TlsConnectionOptions, TLSSocket } from 'node:tls';
import type * as Tls from 'node:tls';
import { AuthenticationError, ConnectionError, UnsupportedRuntimeError } from '../errors.js';
import { loadNodeBuiltin } from '../runtime/builtins.js';
import { NodeReadPort, type SocketReader } from './socket-reader.js';

type Socket = Net.Socket;

export type { SocketReader } from './socket-reader.js';

/**
 * A connected byte stream. The shape is the subset of a Node `Socket` the connection needs, so a Node socket is one
 * as is: `write` returns false when the socket's buffer is full (wait for `'drain'`), like undici's backpressure.
 */
export interface TransportSocket {
  /** `callback` runs once the bytes are handed to the OS (or with the error that prevented it). */
  write(chunk: Uint8Array, callback?: (err?: Error | null) => void): boolean;
  /** Optional: buffer the writes until {@link uncork}, then hand them to the OS as one vectored write. */
  cork?(): void;
  uncork?(): void;
  /** Half-close after flushing what was written (graceful). */
  end(): void;
  /** Close at once, dropping unflushed data. */
  destroy(err?: Error): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'drain', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  /**
   * Optional: deliver received bytes by reading into the memory `reader` chooses instead of emitting `'data'`
   * (see `socket-reader.ts`). Returns true if the socket will (then no `'data'` event comes), false or absent to
   * keep the `'data'` path.
   */
  setReader?(reader: SocketReader): boolean;
}

/** Where to connect and how. `tls` absent means plaintext. */
export interface TransportConnectOptions {
  host: string;
  port: number;
  /** Node's TLS options (see `tls-options.ts` for how the client builds them); absent for PLAINTEXT listeners. */
  tls?: TlsConnectionOptions;
  /** Give up connecting after this long (TCP connect plus the TLS handshake). */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Opens sockets. Resolves once the stream is usable (after the TLS handshake); rejects with a typed error
 * (`ConnectionError` to be retried, `AuthenticationError` for a refused TLS handshake).
 *
 * A transport over any duplex byte stream is a few lines: here, one for a runtime whose `connect(host, port)`
 * gives a Web-streams socket (e.g. `cloudflare:sockets`). `Buffer` is the runtime's global one.
 *
 * ```ts
 * import { ConnectionError, Producer, type Transport, type TransportSocket } from 'kafka-channels';
 * import { connect } from 'cloudflare:sockets';
 *
 * const webSocketTransport: Transport = {
 *   async connect({ host, port, tls }) {
 *     const raw = connect({ hostname: host, port }, { secureTransport: tls ? 'on' : 'off' });
 *     await raw.opened.catch((err) => { throw new ConnectionError(`cannot connect to ${host}:${port}`, { cause: err }); });
 *     const writer = raw.writable.getWriter();
 *     const listeners = { data: [] as ((b: Buffer) => void)[], close: [] as (() => void)[], error: [] as ((e: Error) => void)[], drain: [] as (() => void)[] };
 *     void (async () => {
 *       const reader = raw.readable.getReader();
 *       try {
 *         for (let r = await reader.read(); !r.done; r = await reader.read()) for (const f of listeners.data) f(Buffer.from(r.value));
 *       } catch (err) { for (const f of listeners.error) f(err as Error); }
 *       for (const f of listeners.close) f();
 *     })();
 *     const socket: TransportSocket = {
 *       write(chunk, callback) { writer.write(chunk).then(() => callback?.(), callback); return true; },
 *       end() { void writer.close().catch(() => {}); },
 *       destroy() { void raw.close(); },
 *       on(event: 'data' | 'close' | 'error' | 'drain', listener: never) { listeners[event].push(listener); return socket; },
 *     };
 *     return socket;
 *   },
 * };
 *
 * const producer = new Producer({ brokerAddrs: ['kafka.internal:9092'], topic: 't', minBrokersHealthy: 1, transport: webSocketTransport });
 * ```
 */
export interface Transport {
  connect(options: TransportConnectOptions): Promise<TransportSocket>;
}

/** Checks a user's `transport` setting (`name` says where it was given): undefined, or an object with `connect()`. */
export function checkTransport(add: (problem: string) => void, name: string, value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value === 'object' && value !== null && typeof (value as { connect?: unknown }).connect === 'function') return true;
  add(`${name} must be an object with a connect(options) method returning a promise of a socket (see the Transport type)`);
  return false;
}

interface NodeSockets {
  net: typeof Net;
  tls: typeof Tls | undefined;
}

/** node:net (and node:tls when asked for), loaded once; a runtime without node:net gets a typed error naming the fix. */
async function nodeSockets(secure: boolean): Promise<NodeSockets> {
  const net = await loadNodeBuiltin<typeof Net>('node:net');
  if (net === undefined || typeof net.connect !== 'function') {
    throw new UnsupportedRuntimeError('no transport was given and this runtime has no node:net: pass a Transport as the `transport` option (see the Transport type for an example)');
  }
  if (!secure) return { net, tls: undefined };
  // node:tls is loaded on first use: plaintext clients never pay its ~3 MiB of resident memory.
  const tls = await loadNodeBuiltin<typeof Tls>('node:tls');
  if (tls === undefined || typeof tls.connect !== 'function') {
    throw new UnsupportedRuntimeError('TLS was asked for and this runtime has no node:tls: pass a Transport that speaks TLS as the `transport` option');
  }
  return { net, tls };
}

/**
 * TLS failures that retrying cannot cure: the certificate chain or host name was refused (either side). They
 * surface as {@link AuthenticationError}, as Kafka's Java client raises SslAuthenticationException.
 */
function isTlsAuthFailure(err: NodeJS.ErrnoException): boolean {
  const code = err.code ?? '';
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_CERT')) return true;
  // OpenSSL verification codes (X509_V_ERR_* names as Node reports them).
  return /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ISSUER|CHAIN|SIGNATURE/.test(code)
    || /alert (bad certificate|unknown ca|certificate required|handshake failure)/i.test(err.message);
}

/** The default: `node:net`, or `node:tls` when `tls` is set. */
export const nodeTransport: Transport = {
  async connect(options: TransportConnectOptions): Promise<TransportSocket> {
    const { net, tls } = await nodeSockets(options.tls !== undefined);
    return new Promise((resolve, reject) => {
      const { host, port } = options;
      const where = `${host}:${port}`;
      const secure = tls !== undefined;
      // Plain TCP reads into the reader's memory (Node's onread); TLS decrypts into its own buffers, so it keeps 'data'.
      const readPort = secure ? undefined : new NodeReadPort();
      const socket: Socket | TLSSocket = secure
        ? tls!.connect({ ...options.tls, host, port, servername: options.tls!.servername ?? (isIp(host) ? undefined : host) })
        : net.connect({ host, port, onread: readPort!.onread });
      if (readPort !== undefined) {
        readPort.bind(socket);
        (socket as Socket & TransportSocket).setReader = (reader) => readPort.setReader(reader);
      }
      socket.setNoDelay(true);
      let timer: NodeJS.Timeout | undefined;
      const fail = (err: Error): void => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const onError = (err: NodeJS.ErrnoException): void => {
        if (secure && isTlsAuthFailure(err)) fail(new AuthenticationError(`TLS handshake with ${where} failed: ${err.message}`, { cause: err }));
        else fail(new ConnectionError(`cannot connect to ${where}: ${err.message}`, { broker: where, cause: err }));
      };
      const onClose = (): void => fail(new ConnectionError(`${where} closed the connection while connecting`, { broker: where }));
      const onAbort = (): void => fail(new ConnectionError(`connecting to ${where} aborted`, { broker: where, cause: options.signal!.reason }));
      const onReady = (): void => {
        cleanup();
        resolve(socket);
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('close', onClose);
        socket.off(secure ? 'secureConnect' : 'connect', onReady);
        options.signal?.removeEventListener('abort', onAbort);
      };
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.once(secure ? 'secureConnect' : 'connect', onReady);
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.connectTimeoutMs !== undefined) {
        timer = setTimeout(() => fail(new ConnectionError(`connecting to ${where} timed out after ${options.connectTimeoutMs} ms`, { broker: where })), options.connectTimeoutMs);
      }
    });
  },
};

/** SNI must be a host name, never an IP literal (RFC 6066 §3); Node warns otherwise. */
function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
