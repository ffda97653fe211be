// The namespace LAN laboratory (test/lab/, shared with the demo in examples/ and the benchmarks); tests import it
// from here.
export * from '../lab/index.js';
