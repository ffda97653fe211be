// keepalived-ts command line (placeholder until the config CLI lands).
import { VERSION } from './version.js';
console.log(`keepalived-ts ${VERSION}`);
