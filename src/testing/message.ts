/**
 * A consumed message for users' unit tests (dp-kafka `kafkatest.NewMessage`): a real {@link ConsumerMessage}
 * whose session records what the code under test did to it (`isMarked`, `isCommitted`, `isReleased`).
 * Unlike dp-kafka's mock, a second `release()` is harmless, as it is on the real message.
 */
import { ConsumerMessage, type Message, type MessageHeader, type MessageSession } from '../channels/message.js';

/** Optional record fields of a mock message. */
export interface MockMessageOptions {
  topic?: string;
  partition?: number;
  timestamp?: number;
  key?: Buffer | string | null;
  /** Headers as a list (repeats allowed) or a plain object. */
  headers?: readonly { key: string; value: Buffer | string | null }[] | Readonly<Record<string, string>>;
  /** Make `commit()` fail with this error (reported to `errors`), to test how code copes. */
  commitError?: Error;
}

/** The recording side of a mock message. */
class RecordingSession implements MessageSession {
  marked = false;
  committed = false;
  readonly errors: unknown[] = [];
  constructor(private readonly commitError: Error | undefined) {}
  mark(): void {
    this.marked = true;
  }
  async commit(): Promise<void> {
    this.marked = true;
    if (this.commitError !== undefined) throw this.commitError;
    this.committed = true;
  }
  release(): void {
    // the message keeps its own released flag; nothing to record here
  }
  reportError(err: unknown): void {
    this.errors.push(err);
  }
}

/** Converts user-friendly header input to Kafka headers. */
export function toHeaders(headers: MockMessageOptions['headers']): MessageHeader[] {
  if (headers === undefined) return [];
  const list = Array.isArray(headers)
    ? (headers as readonly { key: string; value: Buffer | string | null }[])
    : Object.entries(headers as Record<string, string>).map(([key, value]) => ({ key, value }));
  return list.map((h) => ({ key: h.key, value: typeof h.value === 'string' ? Buffer.from(h.value) : h.value }));
}

/** A message whose offset handling can be inspected. */
export class MockMessage extends ConsumerMessage {
  private readonly recording: RecordingSession;
  private recordedReleaseCalls = 0;

  constructor(value: Buffer | string | null, offset = 0, options: MockMessageOptions = {}) {
    const recording = new RecordingSession(options.commitError);
    super(recording, options.topic ?? 'test-topic', options.partition ?? 0, {
      offset,
      timestamp: options.timestamp ?? Date.now(),
      key: typeof options.key === 'string' ? Buffer.from(options.key) : options.key ?? null,
      value: typeof value === 'string' ? Buffer.from(value) : value,
      headers: toHeaders(options.headers),
    });
    this.recording = recording;
  }

  /** `mark()` or `commit()` was called. */
  isMarked(): boolean {
    return this.recording.marked;
  }

  /** `commit()` (or `commitAndRelease()`) succeeded. */
  isCommitted(): boolean {
    return this.recording.committed;
  }

  isReleased(): boolean {
    return this.released;
  }

  /** How many times `release()` was called (the real message ignores repeats; a test may want to know). */
  releaseCalls(): number {
    return this.recordedReleaseCalls;
  }

  /** Commit failures the message reported (they would go to the consumer's `errors` channel). */
  commitErrors(): readonly unknown[] {
    return this.recording.errors;
  }

  override release(): void {
    this.recordedReleaseCalls++;
    super.release();
  }
}

/** dp-kafka `kafkatest.NewMessage(data, offset, OptionalHeaders(...))`. */
export function createMessage(value: Buffer | string | null, offset = 0, options: MockMessageOptions = {}): MockMessage {
  return new MockMessage(value, offset, options);
}

/** Type guard for code that receives a `Message` and wants the mock's inspection methods. */
export function isMockMessage(m: Message): m is MockMessage {
  return m instanceof MockMessage;
}
