// Public surface of the configuration model: the types, buildModel and the host environment it needs.
export * from './types.js';
export { buildModel } from './build.js';
export type { ModelEnv } from './values.js';
export { defaultGlobalDefs } from './global.js';
export { fmtVs } from './check.js';
