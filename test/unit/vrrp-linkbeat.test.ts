// linkbeat's pure core (src/vrrp/linkbeat.ts): the method keepalived 2.2.7 settles on (init_linkbeat_status), what a
// poll reads from the ioctls' answers (if_linkbeat_refresh_thread), the "Linkbeat reports" transitions over a run of
// polls, and which interfaces are polled (init_interface_linkbeat); plus the config model of linkbeat_interfaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build, VI } from '../helpers/model.js';
import { vrrpPlan } from '../../src/vrrp/plan.js';
import { exitCodeFor, refusesToRun } from '../../src/config/diagnostics.js';
import {
  linkbeatInit, linkbeatPoll, linkbeatStep, miiStatus, readingsFor,
  type LinkbeatIfState, type LinkbeatReadings, type MiiReading,
} from '../../src/vrrp/linkbeat.js';

const EOPNOTSUPP = 95;
const ENODEV = 19;
const UP_RUNNING = 0x1 | 0x40;
const noMii: MiiReading = { phyErrno: EOPNOTSUPP, probeErrno: 0, bmcr: 0xffff, bmcrErrno: 0, bmsr: 0xffff, bmsrErrno: 0, bmsr2: 0xffff, bmsr2Errno: 0 };
const mii = (link: boolean, sticky = false): MiiReading => ({
  phyErrno: 0, probeErrno: 0, bmcr: 0x1140, bmcrErrno: 0, bmsr: sticky || link ? 0x786d : 0x7869, bmsrErrno: 0, bmsr2: link ? 0x786d : 0x7869, bmsr2Errno: 0,
});
/** What a veth answers: no MII, ETHTOOL_GLINK = carrier, flags UP|RUNNING while it has carrier. */
const veth = (carrier: boolean): LinkbeatReadings => ({
  mii: noMii, ethtool: { errno: 0, link: carrier ? 1 : 0 }, flags: { errno: 0, flags: carrier ? UP_RUNNING | 0x1000 : 0x1 | 0x1000 },
});

test('linkbeat init: a veth has no MII, so the method is ETHTOOL; a configured MII says so as keepalived logs it', () => {
  assert.deepEqual(linkbeatInit('eth0', undefined, veth(true)), { type: 'ETHTOOL', up: true, logs: [] });
  assert.deepEqual(linkbeatInit('eth0', 'MII', veth(false)), {
    type: 'ETHTOOL', up: false, logs: ['(eth0): Configured linkbeat type MII not supported, using ETHTOOL'],
  });
  assert.deepEqual(linkbeatInit('eth0', 'ETHTOOL', veth(true)), { type: 'ETHTOOL', up: true, logs: [] });
});

test('linkbeat init: IOCTL configured skips the probes; nothing else working falls back to IOCTL (SIOCGIFFLAGS)', () => {
  assert.deepEqual(linkbeatInit('eth0', 'IOCTL', veth(false)), { type: 'IOCTL', up: false, logs: [] });
  const none: LinkbeatReadings = { mii: noMii, ethtool: { errno: EOPNOTSUPP, link: 0 }, flags: { errno: 0, flags: UP_RUNNING } };
  assert.deepEqual(linkbeatInit('dummy0', undefined, none), { type: 'IOCTL', up: true, logs: [] });
  assert.deepEqual(linkbeatInit('dummy0', 'ETHTOOL', none), {
    type: 'IOCTL', up: true, logs: ['(dummy0): Configured linkbeat type ETHTOOL not supported, using IOCTL'],
  });
});

test('linkbeat init: ETHTOOL configured but missing tries MII before IOCTL; MII is first when nothing is configured', () => {
  const r: LinkbeatReadings = { mii: mii(true), ethtool: { errno: EOPNOTSUPP, link: 0 }, flags: { errno: 0, flags: UP_RUNNING } };
  assert.deepEqual(linkbeatInit('eth1', 'ETHTOOL', r), { type: 'MII', up: true, logs: ['(eth1): Configured linkbeat type ETHTOOL not supported, using MII'] });
  assert.deepEqual(linkbeatInit('eth1', undefined, { ...r, ethtool: { errno: 0, link: 1 } }), { type: 'MII', up: true, logs: [] });
});

test('MII: the link bit of either BMSR read (it is sticky) says up; BMCR 0xffff or BMSR 0 is no transceiver', () => {
  assert.equal(miiStatus('eth1', mii(true)).status, 1);
  assert.equal(miiStatus('eth1', mii(false)).status, 0);
  assert.equal(miiStatus('eth1', mii(false, true)).status, 1);
  assert.deepEqual(miiStatus('eth1', { ...mii(true), bmsr: 0 }), { status: -1, logs: ['No MII transceiver present for eth1 !!!'] });
  assert.deepEqual(miiStatus('eth1', { ...mii(true), bmcrErrno: 5 }), {
    status: -1, logs: ['SIOCGMIIREG on eth1 failed: errno 5', 'No MII transceiver present for eth1 !!!'],
  });
  assert.equal(miiStatus('eth1', noMii).status, -1);
});

test('linkbeat poll: the method answers, then IFF_UP|IFF_RUNNING; a failing probe counts as up, ENODEV as down', () => {
  assert.equal(linkbeatPoll('eth0', 'ETHTOOL', veth(false)).up, false);
  assert.equal(linkbeatPoll('eth0', 'ETHTOOL', { ethtool: { errno: 0, link: 1 }, flags: { errno: 0, flags: 0x1 } }).up, false);
  assert.equal(linkbeatPoll('eth0', 'ETHTOOL', { ethtool: { errno: EOPNOTSUPP, link: 0 }, flags: { errno: 0, flags: UP_RUNNING } }).up, true);
  assert.equal(linkbeatPoll('eth0', 'IOCTL', { flags: { errno: ENODEV, flags: 0 } }).up, false);
  assert.equal(linkbeatPoll('eth0', 'IOCTL', { flags: { errno: 1, flags: 0 } }).up, true);
  assert.equal(linkbeatPoll('eth1', 'MII', { mii: mii(false), flags: { errno: 0, flags: UP_RUNNING } }).up, false);
  assert.deepEqual(readingsFor(undefined), ['mii', 'ethtool', 'flags']);
  assert.deepEqual(readingsFor('ETHTOOL'), ['ethtool', 'flags']);
  assert.deepEqual(readingsFor('IOCTL'), ['flags']);
});

test('linkbeat polls over time: carrier loss and return are one change each, logged as keepalived logs them; a vanished interface is down and re-probed', () => {
  // One reading per 1 s poll (the fake clock is the poll count): carrier up, up, down, down, up; gone; back.
  const seq: Array<{ exists: boolean; r: LinkbeatReadings }> = [
    { exists: true, r: veth(true) }, { exists: true, r: veth(true) }, { exists: true, r: veth(false) },
    { exists: true, r: veth(false) }, { exists: true, r: veth(true) }, { exists: false, r: {} }, { exists: true, r: veth(true) },
  ];
  let st: LinkbeatIfState | undefined;
  const out: string[] = [];
  for (const [t, s] of seq.entries()) {
    const step = linkbeatStep('eth0', undefined, st, s.exists, s.r);
    st = step.state;
    out.push(`${t}:${step.state.type ?? '-'}:${step.state.up ? 'up' : 'down'}:${step.changed ? step.logs.join('|') : ''}`);
  }
  assert.deepEqual(out, [
    '0:ETHTOOL:up:',
    '1:ETHTOOL:up:',
    '2:ETHTOOL:down:Linkbeat reports eth0 down',
    '3:ETHTOOL:down:',
    '4:ETHTOOL:up:Linkbeat reports eth0 up',
    '5:-:down:Linkbeat reports eth0 down',
    '6:ETHTOOL:up:Linkbeat reports eth0 up',
  ]);
});

const planOf = (text: string) => vrrpPlan(build(text).model, () => ({ uid: 0, gid: 0 }));

test('linkbeat targets: the listed interfaces an instance uses, with their method; unused ones and VMACs are turned off', () => {
  const p = planOf(`linkbeat_interfaces {
  eth0 ETHTOOL
  eth1
  lo IOCTL
}
${VI('  track_interface {\n    eth1\n  }')}
${VI('  use_vmac\n', 'VI_2', 52)}`);
  assert.deepEqual(p.linkbeat, {
    poll: [{ interface: 'eth0', configured: 'ETHTOOL' }, { interface: 'eth1' }],
    off: ['Turning off linkbeat for lo since not used for tracking'],
  });
  const g = planOf(`linkbeat_use_polling\n${VI()}${VI('  use_vmac\n', 'VI_2', 52)}`);
  assert.deepEqual(g.linkbeat, { poll: [{ interface: 'eth0' }], off: ['Turning off linkbeat for vrrp.52 since netlink works for vmacs/ipvlans'] });
  assert.deepEqual(planOf(VI()).linkbeat, { poll: [], off: [] });
});

test('linkbeat config: keepalived 2.2.7 verdicts (upper-case method only, unknown interface fatal unless dynamic_interfaces, a later line wins); instance linkbeat_use_polling still polls', () => {
  const b = build(`linkbeat_interfaces {
  eth0 mii
  eth1 MII extra
  eth9
  eth0 IOCTL
}
${VI()}`);
  assert.deepEqual(b.golden, ['error bad-value @2', 'error bad-value @3', 'fatal bad-linkbeat-interface @4']);
  // -t exits 4 as keepalived's; the daemon logs it and runs, as keepalived's does.
  assert.equal(exitCodeFor(b.diags), 4);
  assert.equal(refusesToRun(b.diags), false);
  assert.equal(refusesToRun(build(VI().replace('interface eth0', 'interface eth9')).diags), true, 'only the linkbeat line is let through');
  assert.deepEqual(b.diags.map((d) => d.message), [
    'extra characters mii in linkbeat interface', 'extra characters MII in linkbeat interface', 'unknown interface eth9 specified for linkbeat interface',
  ]);
  assert.deepEqual(b.model.linkbeatInterfaces.map((l) => [l.interface, l.type]), [['eth0', 'IOCTL'], ['eth1', 'MII']]);
  assert.deepEqual(build(`global_defs {\n  dynamic_interfaces\n}\nlinkbeat_interfaces {\n  eth9\n}\n${VI()}`).golden, []);
  const inst = build(VI('  linkbeat_use_polling'));
  assert.deepEqual(inst.golden, ['error deprecated @7']);
  assert.deepEqual(vrrpPlan(inst.model, () => ({ uid: 0, gid: 0 })).linkbeat?.poll, [{ interface: 'eth0' }]);
  assert.deepEqual(build(`linkbeat_interfaces eth0\n${VI()}`).golden, ['error missing-block @1']);
});
