/**
 * The entry a Worker imports (`kafka-channels/workers`): the Workers sockets transport bound to the runtime's own
 * `connect()`. Pass it as the `transport` option (Cluster, Producer, ConsumerGroup):
 *
 * ```ts
 * import { Producer } from 'kafka-channels';
 * import { cloudflareTransport } from 'kafka-channels/workers';
 * const producer = new Producer({ brokerAddrs: ['broker:9092'], topic: 't', transport: cloudflareTransport });
 * ```
 * Buffer is needed too: enable the `nodejs_compat` compatibility flag. Only this file imports
 * `cloudflare:sockets`; {@link workersTransport} takes any function of that shape.
 */
import { connect } from 'cloudflare:sockets';
import type { Transport } from '../transport.js';
import { workersTransport } from './workers.js';

export { workersTransport } from './workers.js';
export type { WorkersConnect, WorkersSocket, WorkersTransportOptions } from './workers.js';

/** The Workers sockets transport over the runtime's `connect()`, TLS set up with `secureTransport: 'on'`. */
export const cloudflareTransport: Transport = workersTransport(connect);
