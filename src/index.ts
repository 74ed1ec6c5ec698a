/**
 * kafka-channels: the public API. Everything exported here is supported; deeper modules are internal.
 * Mocks for users' own tests live at `kafka-channels/testing`.
 */
export * from './errors.js';
export { Chan } from './channels/chan.js';
export type { RecvResult } from './channels/chan.js';
export { select } from './channels/select.js';
export type { SelectCase, RecvCase, SendCase, DefaultCase } from './channels/select.js';
