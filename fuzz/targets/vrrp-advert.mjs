// Fuzz target: the VRRP receive path, decodeAdvert (src/vrrp/packet.ts) and validateAdvert
// (src/vrrp/validate.ts). Neither has an error type: both return a result object for any input, so any
// exception is a finding. Byte 0 picks the receive policy, byte 1 the VRID, byte 2 the IPv6 hop limit; the rest
// is what the socket read (IPv4: the whole IP packet; IPv6: the VRRP message).
import { decodeAdvert, passAuthData } from '../../dist/src/vrrp/packet.js';
import { validateAdvert } from '../../dist/src/vrrp/validate.js';
import { check } from './common.mjs';

const V4 = { src: '10.99.0.11', dst: '224.0.0.18' };
const V6 = { src: 'fe80::11', dst: 'ff02::12' };

export function fuzz(data) {
  if (data.length < 3) return;
  const f = data[0];
  const family = f & 1 ? 6 : 4;
  const version = f & 2 ? 3 : 2;
  const bytes = data.subarray(3);
  const addrs = family === 4 ? V4 : V6;

  for (const ctx of [{ family, ...addrs, v3ChecksumAsV2: (f & 32) !== 0 }, { family }]) {
    const d = decodeAdvert(bytes, ctx);
    check(typeof d === 'object' && typeof d.ok === 'boolean', 'decodeAdvert returns a result');
    if (d.ok) {
      check(d.length <= bytes.length, 'decoded length within the buffer');
      check(d.advert.addresses.length === bytes[3], 'one address per naddr');
      check(Number.isInteger(d.advert.advertIntMs) && d.advert.advertIntMs >= 0, 'interval is a whole number of ms');
    } else check(typeof d.reason === 'string' && typeof d.detail === 'string', 'decode error has reason and detail');
  }

  const unicast = (f & 8) !== 0;
  const r = validateAdvert(
    { bytes, family, src: f & 128 ? undefined : addrs.src, dst: unicast ? (family === 4 ? '10.99.0.12' : 'fe80::12') : addrs.dst, ttl: data[2] === 0 ? undefined : data[2] },
    {
      vrid: data[1], version, family, advertIntMs: version === 2 ? 1000 : 100,
      authType: f & 4 ? 1 : 0, authData: f & 4 ? passAuthData('secret') : undefined,
      unicast, unicastPeers: unicast ? [{ address: addrs.src, minTtl: 2, maxTtl: 254 }, { address: family === 4 ? '10.99.0.13' : 'fe80::13' }] : [],
      checkUnicastSrc: (f & 16) !== 0, v3ChecksumAsV2: (f & 32) !== 0, ownerIgnoreAdverts: (f & 64) !== 0,
      effectivePriority: f & 64 ? 255 : 100,
      vips: family === 4 ? ['10.99.0.50', '10.99.0.51'] : ['fe80::50', '2001:db8::50'],
      skipCheckAdvAddr: (f & 64) !== 0, lastMaster: f & 16 ? addrs.src : undefined,
    },
  );
  check(typeof r === 'object' && typeof r.ok === 'boolean', 'validateAdvert returns a result');
  if (!r.ok) check(typeof r.reason === 'string' && typeof r.detail === 'string', 'a drop has a reason and detail');
}
