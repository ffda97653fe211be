// The namespace LAN laboratory lives in src/lab/ (the demo ships it); tests and benchmarks import it from here.
export * from '../../src/lab/index.js';
