/**
 * `node:diagnostics_channel` without a static import. {@link diagnosticsChannel} gives an object with the two
 * members the client publishes through (`hasSubscribers`, `publish`) that forwards to Node's named channel: found
 * at once through `process.getBuiltinModule`, or once a dynamic import lands where that call is missing (older
 * Node 20), so subscribers made with Node's own `diagnostics_channel.subscribe(name, …)` see every event. Where the
 * runtime has no such module it is a no-op channel: `hasSubscribers` is false and nothing is built or published.
 */
import { loadNodeBuiltin, nodeBuiltin } from './builtins.js';

/** The part of a Node `Channel` the client uses. */
export interface PublishChannel {
  readonly name: string;
  /** True when someone listens; publishers check it first so that nothing is built for nobody. */
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

interface NodeDiagnostics {
  channel(name: string): PublishChannel;
}

const SPECIFIER = 'node:diagnostics_channel';

/** Stands in until (or unless) Node's module has loaded, then forwards to Node's channel of the same name. */
class ShimChannel implements PublishChannel {
  private real: PublishChannel | undefined;

  constructor(readonly name: string) {
    void loadNodeBuiltin<NodeDiagnostics>(SPECIFIER).then((m) => { if (m !== undefined) this.real = m.channel(name); });
  }

  get hasSubscribers(): boolean {
    return this.real !== undefined && this.real.hasSubscribers;
  }

  publish(message: unknown): void {
    this.real?.publish(message);
  }
}

/** The diagnostics channel called `name` (Node's when the runtime has one, else a no-op). */
export function diagnosticsChannel(name: string): PublishChannel {
  const dc = nodeBuiltin<NodeDiagnostics>(SPECIFIER);
  return dc !== undefined ? dc.channel(name) : new ShimChannel(name); // Node's own channel: no indirection on Node
}
