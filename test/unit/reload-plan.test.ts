// `ctl plan` (issue 12): the pure parts. The VRRP plan comes from the functions the node's reload runs
// (planVrrpReload over matchInstances / masterReloadDiff / staticsDiff), the checkers' from the verdict core's reload
// identities, and the text is one line per change. The daemon-level proof (plan equals what the SIGHUP then does)
// is test/netns/ctl-plan.test.ts and the guest's ctl-plan file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from '../helpers/model.js';
import { vrrpPlan } from '../../src/vrrp/plan.js';
import { planVrrpReload, staticsDiff, type StaticKeys } from '../../src/vrrp/reload.js';
import type { VrrpState } from '../../src/vrrp/spec.js';
import { CheckVerdict, checkerReloadDiff } from '../../src/check/verdict.js';
import { realServer, tcpCheck, httpCheck, url, virtualServer } from '../helpers/check-model.js';
import { formatReloadPlan, vrrpPlanJson, type ReloadPlanDocument } from '../../src/daemon/reload-plan.js';
import { absolutePlanArgs, planFileArg } from '../../src/daemon/control-plan-file.js';
import '../../src/daemon/control-plan.js'; // registers the `plan` command the dispatch tests call
import { ControlCounters, dispatchControl, type ControlEnv } from '../../src/daemon/control.js';
import { pino } from 'pino';

const planOf = (text: string) => {
  const b = build(text);
  const errors = b.diags.filter((d) => d.severity === 'error' || d.severity === 'fatal');
  assert.deepEqual(errors.map((d) => d.message), []);
  return vrrpPlan(b.model, () => ({ uid: 0, gid: 0 }));
};

const instance = (name: string, vrid: number, body: string) => `vrrp_instance ${name} {
  interface eth0
  virtual_router_id ${vrid}
  priority 100
  advert_int 1
${body}
}
`;

const OLD = instance('VI_1', 51, `  virtual_ipaddress {
    10.0.0.100/24
    10.0.0.101/24
  }
  virtual_routes {
    192.0.2.0/24 via 10.0.0.254 dev eth0
  }
  virtual_rules {
    from 10.0.0.100 table 100 priority 100
  }`) + instance('VI_2', 52, '  virtual_ipaddress {\n    10.0.0.200/24\n  }')
  + instance('VI_3', 53, '  virtual_ipaddress {\n    10.0.0.30/24\n  }')
  + instance('VI_4', 54, '  virtual_ipaddress {\n    10.0.0.40/24\n  }')
  + 'static_ipaddress {\n  192.168.50.1/24 dev eth0\n}\n';

const NEW = instance('VI_1', 51, `  virtual_ipaddress {
    10.0.0.100/24
    10.0.0.102/24
  }
  virtual_routes {
    198.51.100.0/24 via 10.0.0.254 dev eth0
  }
  virtual_rules {
    from 10.0.0.100 table 100 priority 100
    from 10.0.0.102 table 102 priority 102
  }`) + instance('VI_2_renamed', 52, '  virtual_ipaddress {\n    10.0.0.200/24\n  }')
  + instance('VI_5', 55, '  virtual_ipaddress {\n    10.0.0.50/24\n  }')
  + 'static_ipaddress {\n  192.168.51.1/24 dev eth0\n}\n';

const STATES: Record<string, VrrpState> = { VI_1: 'MASTER', VI_2: 'BACKUP', VI_3: 'MASTER', VI_4: 'BACKUP' };
const HELD: StaticKeys = { addresses: new Set(['eth0 192.168.50.1/24']), routes: new Set(), rules: new Set() };

test('plan: kept, renamed, removed and added instances; a kept master\'s diff; a removed master\'s release', () => {
  const p = planVrrpReload(planOf(OLD), (n) => STATES[n]!, planOf(NEW), HELD);
  assert.deepEqual(p.kept, [{ instance: 'VI_1', state: 'MASTER' }, { instance: 'VI_2_renamed', was: 'VI_2', state: 'BACKUP' }]);
  assert.deepEqual(p.added, ['VI_5']);
  assert.deepEqual(p.removed.map((r) => [r.instance, r.state, r.releases?.vips.map((v) => v.address)]), [['VI_3', 'MASTER', ['10.0.0.30']], ['VI_4', 'BACKUP', undefined]]);
  assert.equal(p.masters.length, 1);
  const m = p.masters[0]!;
  assert.equal(m.instance, 'VI_1');
  assert.deepEqual(m.removeVips.map((v) => v.address), ['10.0.0.101']);
  assert.deepEqual(m.addVips.map((v) => v.address), ['10.0.0.102']);
  assert.deepEqual(m.removeRoutes, ['192.0.2.0/24 via 10.0.0.254 dev eth0']);
  assert.deepEqual(m.addRoutes.map((r) => r.words.join(' ')), ['198.51.100.0/24 via 10.0.0.254 dev eth0']);
  assert.deepEqual(m.removeRules, []);
  assert.deepEqual(m.addRules.map((r) => r.words.join(' ')), ['from 10.0.0.102 table 102 priority 102']);
  assert.deepEqual(p.statics.addresses, { add: ['eth0 192.168.51.1/24'], remove: ['eth0 192.168.50.1/24'] });
});

test('plan: a BACKUP kept with new addresses changes nothing in the kernel now', () => {
  const p = planVrrpReload(planOf(OLD), (n) => (n === 'VI_1' ? 'BACKUP' : STATES[n]!), planOf(NEW), HELD);
  assert.deepEqual(p.masters, []);
});

test('plan: the same file plans nothing', () => {
  const held: StaticKeys = { addresses: new Set(['eth0 192.168.50.1/24']), routes: new Set(), rules: new Set() };
  const p = planVrrpReload(planOf(OLD), (n) => STATES[n]!, planOf(OLD), held);
  const doc: ReloadPlanDocument = { file: '/x.conf', valid: true, diagnostics: [], processes: { start: [], stop: [] }, vrrp: vrrpPlanJson(p), errors: [] };
  assert.match(formatReloadPlan(doc), /nothing: the running state already matches/);
});

test('statics: held entries the new config dropped go, configured ones not held are added', () => {
  const d = staticsDiff({ addresses: new Set(['eth0 10.1.0.1/24', 'eth0 10.1.0.2/24']), routes: new Set(['10.9.0.0/16 dev eth0']), rules: new Set() },
    planOf('static_ipaddress {\n  10.1.0.2/24 dev eth0\n  10.1.0.3/24 dev eth0\n}\n').statics);
  assert.deepEqual(d.addresses, { add: ['eth0 10.1.0.3/24'], remove: ['eth0 10.1.0.1/24'] });
  assert.deepEqual(d.routes, { add: [], remove: ['10.9.0.0/16 dev eth0'] });
});

test('checkers: an unchanged checker keeps its state; a changed one is removed and added', () => {
  const vs = (port: number, path: string) => virtualServer({
    realServers: [realServer('10.0.1.1', { port, checkers: [tcpCheck()] }), realServer('10.0.1.2', { port, checkers: [httpCheck({ urls: [url({ path })] })] })],
  });
  const old = new CheckVerdict([vs(80, '/a')]);
  const d = checkerReloadDiff(old, new CheckVerdict([vs(80, '/b')]));
  assert.equal(d.kept, 1);
  assert.deepEqual(d.added, [`HTTP_GET on 10.0.1.2:80 of ${old.vss[0]!.cfg.key}`]);
  assert.equal(d.removed.length, 1);
  assert.deepEqual(checkerReloadDiff(undefined, old), { kept: 0, added: old.checkers.map((c) => `${c.cfg.type} on ${c.rs.cfg.address}:${c.rs.cfg.port} of ${c.vs.cfg.key}`), removed: [] });
});

test('text: one line per change, refused files with their diagnostics', () => {
  const p = planVrrpReload(planOf(OLD), (n) => STATES[n]!, planOf(NEW), HELD);
  const doc: ReloadPlanDocument = {
    file: '/etc/keepalived/new.conf', valid: true, diagnostics: [], processes: { start: [], stop: [] }, vrrp: vrrpPlanJson(p),
    checker: { checkers: { kept: 3, added: ['TCP_CHECK on 10.0.1.3:80 of 10.0.0.1:80'], removed: [] }, ipvs: [{ op: 'add-dest', service: 'TCP 10.0.0.1:80', dest: '10.0.1.3:80', text: 'add 10.0.1.3:80 to TCP 10.0.0.1:80 (weight 1)' }] },
    errors: [],
  };
  const text = formatReloadPlan(doc);
  for (const line of [
    '~ vrrp_instance VI_2 renamed VI_2_renamed (BACKUP, state kept)',
    '- vrrp_instance VI_3 (MASTER): removed',
    '-   address 10.0.0.30/24 dev eth0 (VI_3)',
    '- vrrp_instance VI_4 (BACKUP): removed',
    '+ vrrp_instance VI_5: added (starts in INIT; addresses only once MASTER)',
    '- route 192.0.2.0/24 via 10.0.0.254 dev eth0 (VI_1, MASTER)',
    '- address 10.0.0.101/24 dev eth0 (VI_1, MASTER)',
    '+ address 10.0.0.102/24 dev eth0 (VI_1, MASTER)',
    '+ route 198.51.100.0/24 via 10.0.0.254 dev eth0 (VI_1, MASTER)',
    '+ rule from 10.0.0.102 table 102 priority 102 (VI_1, MASTER)',
    '- static address eth0 192.168.50.1/24',
    '+ static address eth0 192.168.51.1/24',
    '+ checker TCP_CHECK on 10.0.1.3:80 of 10.0.0.1:80',
    '+ ipvs: add 10.0.1.3:80 to TCP 10.0.0.1:80 (weight 1)',
  ]) assert.ok(text.split('\n').includes(line), `missing: ${line}\n${text}`);
  const refusedText = formatReloadPlan({ ...doc, valid: false, diagnostics: ['new.conf:3:5: error: ...'] });
  assert.match(refusedText, /would be refused/);
  assert.match(refusedText, /new\.conf:3:5/);
});

test('ctl plan arguments: -f FILE, --file FILE or one word; relative paths are the caller\'s', () => {
  assert.equal(planFileArg({ _: ['-f', 'a.conf'] }), 'a.conf');
  assert.equal(planFileArg({ _: [], file: '/b.conf' }), '/b.conf');
  assert.equal(planFileArg({ _: ['c.conf'] }), 'c.conf');
  assert.equal(planFileArg({ _: [] }), undefined);
  assert.deepEqual(absolutePlanArgs({ _: ['-f', 'a.conf'] }, '/etc/keepalived'), { file: '/etc/keepalived/a.conf' });
  assert.deepEqual(absolutePlanArgs({ _: ['-f', '/x/a.conf'] }, '/etc'), { _: ['-f', '/x/a.conf'] });
});

test('ctl plan: only root over the unix socket may ask (the daemon reads the file as root); root gets the plan', async () => {
  const asked: string[] = [];
  const doc: ReloadPlanDocument = { file: '/etc/keepalived/next.conf', valid: true, diagnostics: [], processes: { start: [], stop: [] }, errors: [] };
  const env: ControlEnv = {
    forward: async () => ({ ok: true, message: 'x' }),
    status: async () => { throw new Error('not used'); },
    planReload: async (file) => { asked.push(file); return doc; },
  };
  const o = { policy: { allowUids: [1000], allowGids: [], allowTcp: true }, env, log: pino({ level: 'silent' }), counters: new ControlCounters() };
  const body = JSON.stringify({ command: 'plan', args: { _: ['-f', '/etc/shadow'] } });
  const allowedUser = await dispatchControl(body, { kind: 'unix', pid: 1, uid: 1000, gid: 1000 }, o);
  assert.equal(allowedUser.refusal, 'forbidden');
  const overTcp = await dispatchControl(body, { kind: 'tcp', address: '127.0.0.1', port: 5555 }, o);
  assert.equal(overTcp.refusal, 'forbidden');
  assert.deepEqual(asked, []);
  const root = await dispatchControl(JSON.stringify({ command: 'plan', args: { file: '/etc/keepalived/next.conf' } }), { kind: 'unix', pid: 1, uid: 0, gid: 0 }, o);
  assert.equal(root.ok, true);
  assert.deepEqual(asked, ['/etc/keepalived/next.conf']);
});
