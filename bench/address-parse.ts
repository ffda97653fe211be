// Benchmark: the one address module (src/net/address.ts) against the ip-address package it replaced, on what the
// config model does with addresses: canonicalise 200,000 IPv6 and 200,000 IPv4 addresses, and reject 20,000 bad
// ones (ip-address throws per bad input). Figures are ms for one warm pass; the ratio is ip-address / ours.
// Run: npm run bench -- address-parse
import { Address4, Address6 } from 'ip-address';
import { canonicalAddr, parseAddress } from '../src/net/address.js';

const N = 200_000;
const v6 = Array.from({ length: N }, (_, i) => `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::${(i % 97).toString(16)}`);
const v4 = Array.from({ length: N }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
const bad = Array.from({ length: N / 10 }, (_, i) => `10.${i}.x.1`);

function time(f: () => void): number {
  f(); // warm
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

const rows: [string, number, number][] = [
  ['IPv6 canonical form, 200,000', time(() => { for (const s of v6) new Address6(s).correctForm(); }), time(() => { for (const s of v6) canonicalAddr(s); })],
  ['IPv4 canonical form, 200,000', time(() => { for (const s of v4) new Address4(s).correctForm(); }), time(() => { for (const s of v4) canonicalAddr(s); })],
  ['invalid IPv4 rejected, 20,000', time(() => { for (const s of bad) { try { new Address4(s); } catch { /* rejected */ } } }), time(() => { for (const s of bad) parseAddress(s); })],
];
console.log('| work | ip-address ms | address.ts ms | ratio |');
console.log('|---|---|---|---|');
for (const [what, theirs, ours] of rows) console.log(`| ${what} | ${theirs.toFixed(1)} | ${ours.toFixed(1)} | ${(theirs / ours).toFixed(1)}x |`);
