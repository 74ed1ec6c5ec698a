/**
 * kafka-channels: the public API. Everything exported here is supported; deeper modules are internal.
 * Mocks for users' own tests live at `kafka-channels/testing`.
 */
export * from './errors.js';
export { Chan, DONE } from './channels/chan.js';
export type { RecvResult } from './channels/chan.js';
export { select, trySelect } from './channels/select.js';
export type { SelectCase, RecvCase, SendCase, DefaultCase, Selected } from './channels/select.js';
