// Public surface of the pure VRRP core (no I/O, no clock): codec, validation, timers, trackers, state machine,
// sync groups, and the node that owns them all (node.ts). The simulator lives with the tests (test/sim/).
export * from './packet.js';
export * from './validate.js';
export * from './timers.js';
export * from './spec.js';
export * from './track.js';
export * from './machine.js';
export * from './sync-group.js';
export * from './node.js';
