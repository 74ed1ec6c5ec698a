/**
 * What the channel Producer accepts as a message, at `send()` and from `channels.output` alike (users write to
 * the channel directly, as dp-kafka's users do). One rule for both, on top of the record check every record
 * passes (src/client/record-check.ts):
 *
 * - bytes (`Buffer`, `Uint8Array`) or a string is the record's **value**, as dp-kafka's
 *   `pChannels.Output <- []byte(msg)`;
 * - `headers` may be an array of `{ key, value }` or a plain object `{ [key]: value }` (KafkaJS's shape), which is
 *   turned into the array in the object's key order;
 * - anything else (a number, a boolean, a bigint, null, undefined, a malformed field) is refused with an
 *   {@link InvalidArgumentError} naming the field and the fix.
 */
import { InvalidArgumentError } from '../errors.js';
import { describeValue, recordProblem } from '../client/record-check.js';
import type { ProducerMessage } from './message.js';

/**
 * Anything a caller may put on `output`: a message (headers may be an object, as at `send`), or bytes / a string
 * as the value (dp-kafka's `pChannels.Output <- []byte(msg)`).
 */
export type OutputItem = SendableMessage | Uint8Array | string;

/** Headers as a plain object, accepted by `send` and on `output` beside the array form. */
export type HeadersObject = Record<string, Uint8Array | string | null>;

/** What `send` takes: a {@link ProducerMessage} whose headers may also be a {@link HeadersObject}. */
export type SendableMessage = Omit<ProducerMessage, 'headers'> & { readonly headers?: ProducerMessage['headers'] | HeadersObject };

const CHECK = { valueRequired: true };

/**
 * The message to queue for `item`, or the error saying why it cannot be. Returns `item` itself when it needs no
 * change (the common case: no allocation). Never throws, whatever `item` is.
 */
export function admitMessage(item: unknown): ProducerMessage | InvalidArgumentError {
  let m = item;
  if (typeof m === 'string' || m instanceof Uint8Array) {
    m = { value: m };
  } else if (typeof m === 'object' && m !== null) {
    try {
      const headers = (m as { headers?: unknown }).headers;
      if (isPlainObject(headers)) m = { ...(m as object), headers: headersFromObject(headers) };
    } catch (err) {
      return new InvalidArgumentError(`the message could not be read: ${err instanceof Error ? err.message : 'a field threw'}`);
    }
  } else {
    return new InvalidArgumentError(`a message must be an object such as { value: 'text' }, or a string or bytes as the value; got ${describeValue(m)}`);
  }
  const problem = recordProblem(m, CHECK);
  return problem === undefined ? (m as ProducerMessage) : new InvalidArgumentError(problem);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function headersFromObject(h: Record<string, unknown>): { key: string; value: unknown }[] {
  return Object.keys(h).map((key) => ({ key, value: h[key] }));
}

/** `signal` must be an AbortSignal or absent; the problem otherwise. */
export function signalProblem(signal: unknown): InvalidArgumentError | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return undefined;
  return new InvalidArgumentError(`signal must be an AbortSignal (e.g. AbortSignal.timeout(ms)), got ${describeValue(signal)}`);
}
