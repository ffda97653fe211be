// Public surface of the pure VRRP core (no I/O, no clock): codec, validation, timers, trackers, state machine,
// sync groups and the deterministic simulator.
export * from './addr.js';
export * from './packet.js';
export * from './validate.js';
export * from './timers.js';
export * from './types.js';
export * from './track.js';
export * from './machine.js';
export * from './sync.js';
export { Simulator } from './sim.js';
export type { SimOptions, SimRouterConfig, SimLinkModel, SimTransition, SimAdvert, SimNotify, SimDrop } from './sim.js';
export { Prng } from './prng.js';
