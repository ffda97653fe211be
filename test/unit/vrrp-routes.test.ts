import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRtTables, routeSpec } from '../../src/vrrp/routes.js';
import type { VirtualRoute } from '../../src/config/model/index.js';

const loc = { file: 'k.conf', line: 1, col: 1 };
const route = (r: Partial<VirtualRoute>): VirtualRoute => ({ to: 'default', family: 4, noTrack: false, words: [], loc, ...r });
const ifs = (dev: string) => ({ eth0: 2, eth1: 3 })[dev];

test('virtual_routes: prefix, gateway, device, metric, named and numeric tables', () => {
  assert.deepEqual(routeSpec(route({ to: '192.0.2.0/24', via: '10.0.0.1', dev: 'eth0', metric: 5 }), ifs), {
    family: 4, dst: '192.0.2.0', dstLen: 24, gateway: '10.0.0.1', oif: 2, metric: 5,
  });
  assert.deepEqual(routeSpec(route({ to: '10.1.1.1', table: 'vips' }), ifs, parseRtTables('# comment\n100 vips\n')), {
    family: 4, dst: '10.1.1.1', dstLen: 32, table: 100,
  });
  assert.equal(routeSpec(route({ to: '2001:db8::/32', family: 6, table: 'main' }), ifs).table, 254);
  assert.equal(routeSpec(route({ type: 'blackhole', to: '203.0.113.0/24' }), ifs).type, 'blackhole');
  assert.equal(routeSpec(route({ to: '10.0.0.0/8', dev: 'eth1', scope: 'link' }), ifs).scope, 253);
  assert.equal(routeSpec(route({ to: 'default', via: '10.0.0.1' }), ifs).dst, undefined);
});

test('virtual_routes: unknown device, table, scope or type is a clear error', () => {
  assert.throws(() => routeSpec(route({ to: '10.0.0.0/8', dev: 'nope' }), ifs), /no interface nope/);
  assert.throws(() => routeSpec(route({ to: '10.0.0.0/8', table: 'nosuch' }), ifs), /unknown routing table 'nosuch'/);
  assert.throws(() => routeSpec(route({ to: '10.0.0.0/8', scope: 'galaxy' }), ifs), /unknown scope 'galaxy'/);
  assert.throws(() => routeSpec(route({ to: '10.0.0.0/8', type: 'nat' }), ifs), /unsupported route type 'nat'/);
});
