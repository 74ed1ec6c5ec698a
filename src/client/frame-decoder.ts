/**
 * Splits a socket's byte stream into Kafka frames: an int32 size, then that many bytes (the protocol's only
 * framing). A frame inside one chunk is handed out as a `subarray` view with no copy at all. A frame that spans
 * chunks gets a buffer of exactly its size as soon as its size is known, and each chunk's bytes are copied in as
 * they arrive: one copy, as when chunks were kept and joined at the end, but a chunk can be collected once copied,
 * so a large fetch response never sits in memory twice (its chunks, then the joined frame).
 */
import { DecodeError } from '../errors.js';

/** Kafka's broker default for `socket.request.max.bytes` is 100 MiB; a response larger than this is hostile. */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;

export class FrameDecoder {
  private readonly maxFrameBytes: number;
  /** The frame being filled (exactly its size), or undefined between frames. */
  private frame: Buffer | undefined = undefined;
  private filled = 0;
  /** The first bytes of a size prefix cut by a chunk's end (at most 3 of them). */
  private readonly sizeBytes = Buffer.alloc(4);
  private sizeHave = 0;
  private failed: DecodeError | undefined;

  constructor(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet part of an emitted frame. */
  get pendingBytes(): number {
    return this.frame !== undefined ? 4 + this.filled : this.sizeHave;
  }

  /**
   * Feeds one chunk; calls `onFrame` for each complete frame (without its size prefix), in order.
   * Throws {@link DecodeError} on a negative or oversized length; the stream cannot be resynchronised after
   * that, so every later call throws the same error.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    if (this.failed) throw this.failed;
    let offset = 0;
    if (this.frame !== undefined) {
      offset = this.fill(chunk, 0);
      const frame = this.frame;
      if (this.filled < frame.length) return; // still short
      this.frame = undefined;
      onFrame(frame);
      if (this.failed) throw this.failed;
    } else if (this.sizeHave > 0) {
      while (this.sizeHave < 4 && offset < chunk.length) this.sizeBytes[this.sizeHave++] = chunk[offset++]!;
      if (this.sizeHave < 4) return;
      this.sizeHave = 0;
      const size = this.checkSize(this.sizeBytes.readInt32BE(0));
      if (chunk.length - offset >= size) {
        onFrame(chunk.subarray(offset, offset + size));
        offset += size;
      } else {
        this.startFrame(size);
        offset = this.fill(chunk, offset);
        return;
      }
    }
    this.scan(chunk, offset, onFrame);
  }

  /** Emits every whole frame of `chunk` from `offset` as a view, and starts the frame cut by the chunk's end. */
  private scan(chunk: Buffer, offset: number, onFrame: (frame: Buffer) => void): void {
    const length = chunk.length;
    while (length - offset >= 4) {
      const size = this.checkSize(chunk.readInt32BE(offset));
      const start = offset + 4;
      if (length - start < size) {
        this.startFrame(size);
        this.fill(chunk, start);
        return;
      }
      offset = start + size;
      onFrame(chunk.subarray(start, offset));
      if (this.failed) throw this.failed;
    }
    while (offset < length) this.sizeBytes[this.sizeHave++] = chunk[offset++]!;
  }

  private startFrame(size: number): void {
    // Not zero-filled: every byte is written before the frame is emitted. Pages are touched only as bytes
    // arrive, so a size prefix alone (even a hostile one under the limit) costs no resident memory.
    this.frame = Buffer.allocUnsafe(size);
    this.filled = 0;
  }

  /** Copies what `chunk` holds of the current frame from `offset`; returns the offset after it. */
  private fill(chunk: Buffer, offset: number): number {
    const frame = this.frame!;
    const n = Math.min(frame.length - this.filled, chunk.length - offset);
    chunk.copy(frame, this.filled, offset, offset + n);
    this.filled += n;
    return offset + n;
  }

  private checkSize(size: number): number {
    if (size < 0 || size > this.maxFrameBytes) {
      this.failed = new DecodeError(size < 0
        ? `negative frame size ${size}`
        : `frame of ${size} bytes exceeds the ${this.maxFrameBytes}-byte limit`);
      this.frame = undefined;
      this.sizeHave = 0;
      throw this.failed;
    }
    return size;
  }
}
