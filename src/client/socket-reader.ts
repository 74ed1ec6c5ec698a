/**
 * Reads that land where the consumer of the bytes says, instead of in a fresh chunk per read. Node's `net` sockets
 * can do this (`onread`, Node >= 12): the frame decoder then lets the kernel write a large fetch response straight
 * into the frame's own buffer, with no JS copy and no 64 KiB allocation per read (the copy alone was ~12% of a
 * consumer's CPU). Transports that cannot (TLS, other runtimes) keep emitting `'data'`.
 */
import type { Socket } from 'node:net';

/** Chooses where each read lands. A transport calls `target()`, reads into it, then `onRead(n)`, and repeats. */
export interface SocketReader {
  /** Memory the next read may fill from its start; never empty. The transport writes nothing else into it. */
  target(): Uint8Array;
  /** The last read wrote `n` (> 0) bytes at the start of the last `target()`. Does not throw. */
  onRead(n: number): void;
}

/** Hands `chunk` (bytes read elsewhere) to `reader` by copying it into the reader's targets. */
export function copyToReader(reader: SocketReader, chunk: Uint8Array): void {
  for (let at = 0; at < chunk.length;) {
    const target = reader.target();
    const n = Math.min(target.length, chunk.length - at);
    target.set(chunk.subarray(at, at + n));
    at += n;
    reader.onRead(n);
  }
}

/** Reads made before a reader is set (only a first read can be: the connection sets its reader at once). */
const FALLBACK_BYTES = 64 * 1024;

/**
 * Node's `onread` for one `net` socket. Pass {@link onread} to `net.connect`, then {@link bind} the socket. Until
 * {@link setReader} is called, bytes go through the stream as usual (`'data'` events), so a socket nobody gives a
 * reader behaves like any other.
 */
export class NodeReadPort {
  private socket: Socket | undefined;
  private reader: SocketReader | undefined;
  /** Whether Node's current read buffer came from `reader.target()` (else it is `fallback`). */
  private readingIntoReader = false;
  private fallback: Buffer | undefined;

  /** The `onread` option: Node calls `buffer()` once at connect and after each read, `callback` after each read. */
  readonly onread = {
    buffer: (): Uint8Array => this.nextTarget(),
    callback: (n: number, buf: Uint8Array): boolean => this.onRead(n, buf),
  };

  bind(socket: Socket): void {
    this.socket = socket;
  }

  /** From now on every read goes to `reader`; bytes already buffered in the stream are handed over first. */
  setReader(reader: SocketReader): boolean {
    if (this.reader !== undefined || this.socket === undefined) return false;
    this.reader = reader;
    this.fallback = undefined; // Node holds it for the read already started; no later read uses it
    for (let chunk: Buffer | null; (chunk = this.socket.read() as Buffer | null) !== null;) copyToReader(reader, chunk);
    return true;
  }

  private nextTarget(): Uint8Array {
    this.readingIntoReader = this.reader !== undefined;
    if (this.reader !== undefined) return this.reader.target();
    return this.fallback ??= Buffer.allocUnsafe(FALLBACK_BYTES);
  }

  private onRead(n: number, buf: Uint8Array): boolean {
    if (this.readingIntoReader) {
      this.reader!.onRead(n);
      return true;
    }
    // Read into the fallback buffer, which the next read reuses: whoever gets the bytes gets a copy.
    const bytes = buf.subarray(0, n);
    if (this.reader !== undefined) {
      copyToReader(this.reader, bytes);
      return true;
    }
    return this.socket!.push(Buffer.from(bytes)); // false: the stream is full, Node stops reading until it drains
  }
}
