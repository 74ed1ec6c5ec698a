/** Shared by the frame decoder's tests: size-prefixed streams, the 'data' path fed in pieces, and comparisons. */
import * as assert from 'uvu/assert';
import { FrameDecoder } from '../../src/client/frame-decoder.js';

/** The frames as a Kafka byte stream: each behind its int32 size. */
export function stream(frames: Buffer[]): Buffer {
  return Buffer.concat(frames.flatMap((f) => {
    const size = Buffer.alloc(4);
    size.writeInt32BE(f.length, 0);
    return [size, f];
  }));
}

/** Pushes `bytes` cut at `cuts` (the 'data' path); the frames copied out as they come. */
export function feed(bytes: Buffer, cuts: number[], decoder = new FrameDecoder()): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    decoder.push(bytes.subarray(at, cut), (f) => out.push(Buffer.from(f)));
    at = cut;
  }
  return out;
}

export function assertSame(got: Buffer[], want: Buffer[], label: string): void {
  assert.is(got.length, want.length, `${label}: frame count`);
  for (let i = 0; i < want.length; i++) assert.ok(got[i]!.equals(want[i]!), `${label}: frame ${i} (${want[i]!.length} B) differs`);
}
