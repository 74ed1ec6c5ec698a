/**
 * Splits a socket's byte stream into Kafka frames: an int32 size, then that many bytes (the protocol's only
 * framing). Socket chunks are kept as they arrive and copied once, when a frame that spans chunks is complete;
 * a frame inside one chunk is handed out as a `subarray` view with no copy at all.
 */
import { DecodeError } from '../errors.js';

/** Kafka's broker default for `socket.request.max.bytes` is 100 MiB; a response larger than this is hostile. */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;

export class FrameDecoder {
  private readonly maxFrameBytes: number;
  /** Chunks of an incomplete frame, in order. Only the bytes from the first frame start onwards are kept. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Size of the frame being collected, or -1 while its 4-byte size prefix is not all here. */
  private need = -1;
  private failed: DecodeError | undefined;

  constructor(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet part of an emitted frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds one chunk; calls `onFrame` for each complete frame (without its size prefix), in order.
   * Throws {@link DecodeError} on a negative or oversized length; the stream cannot be resynchronised after
   * that, so every later call throws the same error.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    if (this.failed) throw this.failed;
    if (this.buffered === 0) return this.scan(chunk, onFrame);
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.need < 0) {
      if (this.buffered < 4) return;
      this.need = this.checkSize(this.peekSize());
    }
    const total = 4 + this.need;
    if (this.buffered < total) return;
    // The one copy: exactly this frame's bytes. The tail of the last chunk (the next frames) stays a view.
    const whole = Buffer.concat(this.chunks, total);
    const rest = chunk.subarray(chunk.length - (this.buffered - total));
    this.chunks = [];
    this.buffered = 0;
    this.need = -1;
    onFrame(whole.subarray(4));
    if (rest.length > 0) this.scan(rest, onFrame);
  }

  /** Emits every whole frame of `chunk` as a view, and keeps the remainder. Nothing is buffered on entry. */
  private scan(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let offset = 0;
    const length = chunk.length;
    while (length - offset >= 4) {
      const size = this.checkSize(chunk.readInt32BE(offset));
      if (length - offset - 4 < size) {
        this.need = size;
        break;
      }
      const start = offset + 4;
      offset = start + size;
      onFrame(chunk.subarray(start, offset));
      if (this.failed) throw this.failed;
    }
    if (offset < length) {
      this.chunks.push(offset === 0 ? chunk : chunk.subarray(offset));
      this.buffered = length - offset;
    }
  }

  /** Reads the int32 size prefix that may straddle the first few chunks. */
  private peekSize(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const four = Buffer.allocUnsafe(4);
    let n = 0;
    for (const c of this.chunks) {
      for (let i = 0; i < c.length && n < 4; i++) four[n++] = c[i]!;
      if (n === 4) break;
    }
    return four.readInt32BE(0);
  }

  private checkSize(size: number): number {
    if (size < 0 || size > this.maxFrameBytes) {
      this.failed = new DecodeError(size < 0
        ? `negative frame size ${size}`
        : `frame of ${size} bytes exceeds the ${this.maxFrameBytes}-byte limit`);
      this.chunks = [];
      this.buffered = 0;
      throw this.failed;
    }
    return size;
  }
}
