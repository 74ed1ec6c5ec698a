/**
 * A test double of `connect()` from `cloudflare:sockets`, over node:net: a socket of Web streams (`readable` a
 * ReadableStream of plain Uint8Arrays, never Buffers; `writable` a WritableStream whose sink resolves a write only
 * once Node's socket flushed it, with a byte high-water mark, so back-pressure is real), `opened`, `closed`,
 * `close()` and `startTls()`. It follows the API as the Workers documentation states it; it is not the runtime
 * (integration/workerd.test.ts runs the real one).
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { WorkersConnect, WorkersSocket, WorkersSocketOptions } from '../../../src/client/transports/workers.js';

export interface SocketsDoubleOptions {
  /** The writable's high-water mark in bytes (default 16 KiB). */
  highWaterMark?: number;
  /** Connect somewhere else than asked (e.g. the fake cluster's port for a TLS request). */
  redirect?: (hostname: string, port: number) => { host: string; port: number };
  /** Never settle `opened` (a connect that hangs). */
  hang?: boolean;
}

/** What the double saw: each connect's arguments and each startTls's options. */
export interface SocketsLog {
  connects: Array<{ hostname: string; port: number; options: WorkersSocketOptions | undefined }>;
  startTls: Array<{ expectedServerHostname?: string } | undefined>;
  sockets: Socket[];
}

export function socketsDouble(options: SocketsDoubleOptions = {}): { connect: WorkersConnect; log: SocketsLog } {
  const log: SocketsLog = { connects: [], startTls: [], sockets: [] };
  const connect: WorkersConnect = (address, opts) => {
    log.connects.push({ hostname: address.hostname, port: address.port, options: opts });
    const to = options.redirect?.(address.hostname, address.port) ?? { host: address.hostname, port: address.port };
    const tcp = netConnect({ host: to.host, port: to.port });
    log.sockets.push(tcp);
    return wrap(tcp, options, log);
  };
  return { connect, log };
}

function wrap(tcp: Socket, options: SocketsDoubleOptions, log: SocketsLog): WorkersSocket {
  const opened = options.hang ? new Promise<never>(() => undefined)
    : new Promise<{ remoteAddress?: string }>((resolve, reject) => {
      tcp.once('connect', () => resolve({ remoteAddress: tcp.remoteAddress }));
      tcp.once('error', reject);
    });
  const closed = new Promise<void>((resolve, reject) => {
    let error: Error | undefined;
    tcp.on('error', (e) => { error = e; });
    tcp.once('close', () => (error ? reject(error) : resolve()));
  });
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      tcp.on('data', (d: Buffer) => {
        c.enqueue(new Uint8Array(d)); // a plain Uint8Array copy: the runtime hands out no Buffers
        if ((c.desiredSize ?? 0) <= 0) tcp.pause();
      });
      tcp.once('end', () => { try { c.close(); } catch { /* already cancelled */ } });
      tcp.once('error', (e) => { try { c.error(e); } catch { /* already closed */ } });
    },
    pull() { tcp.resume(); },
    cancel() { tcp.destroy(); },
  }, { highWaterMark: 4 });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => new Promise<void>((resolve, reject) => tcp.write(chunk, (err) => (err ? reject(err) : resolve()))),
    close: () => new Promise<void>((resolve) => tcp.end(resolve)),
    abort: () => { tcp.destroy(); },
  }, new ByteLengthQueuingStrategy({ highWaterMark: options.highWaterMark ?? 16 * 1024 }));
  return {
    readable, writable, opened, closed,
    close: () => { tcp.destroy(); return closed.catch(() => undefined); },
    // The double has no TLS: it records the upgrade and goes on with the same bytes (the fake cluster is plaintext).
    startTls: (o) => {
      log.startTls.push(o);
      return { readable, writable, opened, closed, close: () => { tcp.destroy(); return closed.catch(() => undefined); } };
    },
  };
}
