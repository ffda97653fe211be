// Config model → IPVS spec: the tunnel options keep their meaning across the two vocabularies (the config says
// `checksum`, the IPVS spec `csum`); a dropped checksum made keepalived-ts program --tun-nocsum for `csum`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from '../helpers/model.js';
import { ipvsSpecFor } from '../../src/ipvs/virtual-server-spec.js';
import { buildDesired } from '../../src/ipvs/desired.js';
import { TUN_FLAG_CSUM } from '../../src/ipvs/kernel-table.js';

test('lb_kind TUN type gue port N csum / type gre csum: checksum flags reach the destination', () => {
  const b = build(`virtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind TUN type gue port 6080 csum
  protocol TCP
  real_server 192.168.1.1 80 {
    weight 1
  }
}
virtual_server 10.0.0.2 80 {
  lb_algo rr
  lb_kind TUN type gre csum
  protocol TCP
  real_server 192.168.1.2 80 {
    weight 1
  }
}
`);
  const specs = b.model.virtualServers.map((vs) => ipvsSpecFor(vs, vs.realServers.map((r) => ({ addr: r.address, port: r.port, weight: r.weight, inhibited: false })), b.model));
  assert.deepEqual(specs.map((s) => s.tunnel), [{ type: 'gue', port: 6080, checksum: 'csum' }, { type: 'gre', checksum: 'csum' }]);
  assert.deepEqual(specs.map((s) => s.realServers[0]!.tunnel), [{ type: 'gue', port: 6080, checksum: 'csum' }, { type: 'gre', checksum: 'csum' }]);
  const dests = [...buildDesired(specs).values()].flatMap((s) => [...s.dests.values()]);
  assert.deepEqual(dests.map((d) => d.tunFlags), [TUN_FLAG_CSUM, TUN_FLAG_CSUM]);
});
