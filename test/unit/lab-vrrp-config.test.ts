// The lab's keepalived.conf generator: the text a director runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { vrrpConfig, parseNotifyLog, parseSubnet, parseAddressMonitor } from '../helpers/lab.js';
import { numberToIpv4 } from '../../src/net/address.js';

describe('lab vrrpConfig', () => {
  it('writes a v3 instance with notify scripts under script security', () => {
    const text = vrrpConfig({ vrid: 51, priority: 150, state: 'MASTER', advertInt: 0.1, version: 3, vip: '10.99.0.50/24', iface: 'eth0', notify: '/run/x/notify.sh' });
    assert.match(text, /global_defs \{\n {4}vrrp_version 3\n {4}enable_script_security\n {4}script_user root\n\}/);
    assert.match(text, /vrrp_instance VI_1 \{/);
    assert.match(text, /\n {4}advert_int 0\.1\n/);
    assert.match(text, /virtual_ipaddress \{\n {8}10\.99\.0\.50\/24 dev eth0\n {4}\}/);
    assert.match(text, /notify_master "\/run\/x\/notify\.sh MASTER"/);
    assert.match(text, /notify "\/run\/x\/notify\.sh NOTIFY"/);
  });

  it('writes unicast peers and nopreempt, and no global_defs when nothing needs it', () => {
    const text = vrrpConfig({ vrid: 7, priority: 100, advertInt: 1, vip: ['10.0.0.9/24', '10.0.0.10/24'], iface: 'eth0', nopreempt: true, unicastPeers: ['10.0.0.2'], unicastSrcIp: '10.0.0.1' });
    assert.doesNotMatch(text, /global_defs/);
    assert.match(text, /\n {4}nopreempt\n/);
    assert.match(text, /unicast_peer \{\n {8}10\.0\.0\.2\n {4}\}/);
    assert.match(text, /10\.0\.0\.10\/24 dev eth0/);
  });

  it('refuses values keepalived would reject', () => {
    assert.throws(() => vrrpConfig({ vrid: 0, priority: 100, advertInt: 1, vip: '10.0.0.9', iface: 'eth0' }), { code: 'KT_LAB_CONFIG_OPTION' });
    assert.throws(() => vrrpConfig({ vrid: 1, priority: 300, advertInt: 1, vip: '10.0.0.9', iface: 'eth0' }), { code: 'KT_LAB_CONFIG_OPTION' });
    assert.throws(() => vrrpConfig({ vrid: 1, priority: 100, advertInt: 1, vip: '10.0.0.9', iface: 'eth0', notify: '/x"y' }), { code: 'KT_LAB_CONFIG_OPTION' });
  });
});

describe('lab helpers', () => {
  it('parses notify log lines', () => {
    const ev = parseNotifyLog('1795292122024.397 d2 NOTIFY INSTANCE VI_1 BACKUP 100\n1795292122024.932 d1 BACKUP\n\ngarbage\n');
    assert.deepEqual(ev, [
      { tMs: 1795292122024.397, node: 'd2', state: 'NOTIFY', args: ['INSTANCE', 'VI_1', 'BACKUP', '100'] },
      { tMs: 1795292122024.932, node: 'd1', state: 'BACKUP', args: [] },
    ]);
  });
  it('computes lab addresses from the subnet', () => {
    const s = parseSubnet('10.99.0.0/24');
    assert.equal(numberToIpv4(s.network + 50), '10.99.0.50');
    assert.throws(() => parseSubnet('10.99.0.0/30'));
  });
  it('parses ip monitor address lines (UTC time stamps, IPv4 and IPv6, add and delete)', () => {
    const text = [
      '[2026-11-21T20:17:15.538048] 2: eth0    inet 10.99.0.50/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever',
      '[2026-11-21T20:17:15.540700] Deleted 2: eth0    inet 10.99.0.50/24 scope global secondary eth0\\       valid_lft forever',
      '[2026-11-21T20:17:16.000001] 2: eth0    inet6 fd00:99::50/64 scope global nodad',
      'garbage',
    ].join('\n');
    const ev = parseAddressMonitor(text);
    assert.equal(ev.length, 3);
    assert.deepEqual({ ...ev[0], tMs: undefined }, { tMs: undefined, added: true, iface: 'eth0', address: '10.99.0.50', prefixLen: 24 });
    assert.equal(ev[0].tMs, Date.UTC(2026, 10, 21, 20, 17, 15) + 538.048);
    assert.equal(ev[1].added, false);
    assert.equal(ev[2].address, 'fd00:99::50');
  });
});
