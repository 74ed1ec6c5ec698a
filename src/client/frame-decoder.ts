/**
 * Splits a socket's byte stream into Kafka frames: an int32 size, then that many bytes (the protocol's only
 * framing). A frame inside one chunk is handed out as a `subarray` view with no copy at all. A frame that spans
 * chunks gets a buffer of exactly its size as soon as its size is known, and each chunk's bytes are copied in as
 * they arrive: one copy, as when chunks were kept and joined at the end, but a chunk can be collected once copied,
 * so a large fetch response never sits in memory twice (its chunks, then the joined frame).
 *
 * Where the socket lets the reader choose the memory (`socket-reader.ts`), {@link FrameDecoder.readTarget} and
 * {@link FrameDecoder.onRead} remove that copy too: the rest of a large frame is read straight into the frame, and
 * everything else into a scratch buffer that is decoded like a chunk. Frames inside the scratch are handed out as
 * views, so the scratch memory up to the last view is never read into again; only the tail after it is.
 */
import { DecodeError } from '../errors.js';

/** Kafka's broker default for `socket.request.max.bytes` is 100 MiB; a response larger than this is hostile. */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;

/**
 * A frame with at least this much left is read straight into its buffer; a shorter rest goes through the scratch
 * (one copy of under 16 KiB, and the same read may carry the next frames, saving a read call).
 */
export const DIRECT_READ_MIN = 16 * 1024;
/** The scratch reads go to when they do not go into a frame (Node's own read size). */
export const SCRATCH_BYTES = 64 * 1024;
/** A scratch whose unused tail is shorter than this is left to the views it holds, for a fresh one. */
const SCRATCH_TAIL_MIN = 8 * 1024;

export class FrameDecoder {
  private readonly maxFrameBytes: number;
  /** The frame being filled (exactly its size), or undefined between frames. */
  private frame: Buffer | undefined = undefined;
  private filled = 0;
  /** The first bytes of a size prefix cut by a chunk's end (at most 3 of them). */
  private readonly sizeBytes = Buffer.alloc(4);
  private sizeHave = 0;
  private failed: DecodeError | undefined;
  /** Set by push(): where in its chunk the last frame handed out as a view ended (0: none was). */
  private viewEnd = 0;
  /** Reads through readTarget(): the scratch, and where its unused part starts (before: views may be held). */
  private scratch: Buffer | undefined;
  private scratchAt = 0;
  /** The last target was the frame being filled (else the scratch from scratchAt). */
  private direct = false;

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
    this.viewEnd = 0;
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
        offset += size;
        this.viewEnd = offset;
        onFrame(chunk.subarray(offset - size, offset));
      } else {
        this.startFrame(size);
        offset = this.fill(chunk, offset);
        return;
      }
    }
    this.scan(chunk, offset, onFrame);
  }

  /**
   * Where the next socket read should write (the {@link SocketReader} protocol; then call {@link onRead}): the
   * unfilled rest of a large frame, else the unused part of the scratch. Never empty, never memory a frame handed
   * out lies in.
   */
  readTarget(): Uint8Array {
    const frame = this.frame;
    if (frame !== undefined && frame.length - this.filled >= DIRECT_READ_MIN) {
      this.direct = true;
      return frame.subarray(this.filled);
    }
    this.direct = false;
    if (this.scratch === undefined || this.scratch.length - this.scratchAt < SCRATCH_TAIL_MIN) {
      // Not zero-filled: only bytes a read wrote are ever decoded.
      this.scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
      this.scratchAt = 0;
    }
    return this.scratch.subarray(this.scratchAt);
  }

  /**
   * The last read wrote `n` bytes at the start of the last {@link readTarget}; calls `onFrame` for each frame
   * completed, as {@link push} does, and throws as it does.
   */
  onRead(n: number, onFrame: (frame: Buffer) => void): void {
    if (this.failed) throw this.failed;
    if (this.direct) {
      const frame = this.frame!;
      this.filled += n;
      if (this.filled < frame.length) return;
      this.frame = undefined;
      onFrame(frame);
      if (this.failed) throw this.failed;
      return;
    }
    const start = this.scratchAt;
    try {
      this.push(this.scratch!.subarray(start, start + n), onFrame);
    } finally {
      // Bytes up to the last view may be held by whoever got it; bytes after it were copied out (a partial
      // frame, a size prefix) and may be read over.
      this.scratchAt = start + this.viewEnd;
    }
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
      this.viewEnd = offset;
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
