// Real-server overrides (issue 12): drain / disable / weight / enable over the checkers' verdict, as the IPVS
// desired state then holds them. Every verdict state × every override, then sequences through the verdict core
// (a drained server that fails and comes back stays drained), the reload rule and the command syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyRsCommand, overrideDests, rsRequestFromWords, overridesAfterReload, parseRsTarget, resolveRsTarget, type RsOverride, type RsOverrideKind,
} from '../../src/ipvs/overrides.js';
import { ipvsSpecFor } from '../../src/ipvs/virtual-server-spec.js';
import { buildDesired } from '../../src/ipvs/desired.js';
import { diff, applyOps, emptyOwnership, ownershipAfter } from '../../src/ipvs/reconcile.js';
import { CheckVerdict, type CheckEvent } from '../../src/check/verdict.js';
import type { DesiredDest } from '../../src/check/checker-types.js';
import type { KeepalivedConfig } from '../../src/config/model/index.js';
import { realServer, tcpCheck, virtualServer } from '../helpers/check-model.js';
import { build } from '../helpers/model.js';

const NOW = '2026-12-06T10:00:00.000Z';
const ov = (kind: RsOverrideKind, weight?: number, addr = '192.168.1.1'): RsOverride =>
  ({ vsKey: 'vs1', addr, port: 80, kind, ...(weight !== undefined ? { weight } : {}), since: NOW, by: 'uid 0' });
const vsCfg = { key: 'vs1', realServers: [{ address: '192.168.1.1', port: 80 }, { address: '192.168.1.2', port: 80 }] } as Parameters<typeof overrideDests>[0];

test('every verdict state x every override: drain → 0, disable → out, weight → N while alive; a failed server is never put back', () => {
  const alive: DesiredDest = { addr: '192.168.1.1', port: 80, weight: 3, inhibited: false };
  const inhibited: DesiredDest = { addr: '192.168.1.1', port: 80, weight: 0, inhibited: true };
  const other: DesiredDest = { addr: '192.168.1.2', port: 80, weight: 1, inhibited: false };
  const states: Record<string, DesiredDest[]> = { alive: [alive, other], inhibited: [inhibited, other], removed: [other] };
  const overrides: Record<string, RsOverride[]> = { none: [], drain: [ov('drain')], disable: [ov('disable')], weight: [ov('weight', 7)] };
  const want: Record<string, Record<string, string | undefined>> = {
    alive: { none: '3', drain: '0', disable: undefined, weight: '7' },
    inhibited: { none: '0i', drain: '0i', disable: undefined, weight: '0i' },
    removed: { none: undefined, drain: undefined, disable: undefined, weight: undefined },
  };
  for (const [sname, dests] of Object.entries(states)) {
    for (const [oname, os] of Object.entries(overrides)) {
      const out = overrideDests(vsCfg, dests, os);
      const d = out.find((x) => x.addr === '192.168.1.1');
      assert.equal(d ? `${d.weight}${d.inhibited ? 'i' : ''}` : undefined, want[sname]![oname], `${sname} + ${oname}`);
      assert.deepEqual(out.find((x) => x.addr === '192.168.1.2'), other, `${sname} + ${oname}: the other server untouched`);
    }
  }
});

test('an override of another virtual server or of a sorry server at another address changes nothing', () => {
  const dests: DesiredDest[] = [{ addr: '192.168.1.9', port: 80, weight: 1, inhibited: false }];
  assert.deepEqual(overrideDests(vsCfg, dests, [{ ...ov('disable'), addr: '192.168.1.9' }]), dests, 'sorry server is not a real server');
  const d2: DesiredDest[] = [{ addr: '192.168.1.1', port: 80, weight: 1, inhibited: false }];
  assert.deepEqual(overrideDests(vsCfg, d2, [{ ...ov('disable'), vsKey: 'vs2' }]), d2);
});

// ---- through the verdict core: transitions of a real checker ----

const ok = { ok: true, reason: 'ok' };
const fail = { ok: false, reason: 'connection refused' };
function verdictVs(inhibitOnFailure: boolean, sorry = false) {
  const tcp = tcpCheck({ delayLoopMs: 6000, delayBeforeRetryMs: 1000, retry: 1, warmupMs: 0, alpha: false, connectTimeoutMs: 5000 });
  return virtualServer({
    key: 'vs1', protocol: 'TCP', address: '10.0.0.1', port: 80, quorum: 1, hysteresis: 0,
    realServers: ['192.168.1.1', '192.168.1.2'].map((a) => realServer(a, { port: 80, weight: 2, checkers: [tcp], inhibitOnFailure })),
    ...(sorry ? { sorryServer: { address: '192.168.1.99', family: 4 as const, port: 80, inhibit: false } } : {}),
  });
}

/** The table (as "addr:weight") the IPVS desired state holds for the verdict plus overrides. */
function table(core: CheckVerdict, overrides: RsOverride[], vs = verdictVs(false)): string[] {
  const spec = ipvsSpecFor(vs, core.desiredOf('vs1')!.dests, { virtualServerGroups: [] } as unknown as KeepalivedConfig, overrides);
  return [...buildDesired([spec]).values()].flatMap((s) => [...s.dests.values()].map((d) => `${d.addr}:${d.weight}`));
}

for (const inhibit of [false, true]) {
  test(`drained, disabled, weighted servers through down → up (inhibit_on_failure ${inhibit}): the override holds when healthy, the checker still takes a failed one out`, () => {
    for (const [kind, upWant] of [['drain', '192.168.1.1:0'], ['disable', undefined], ['weight', '192.168.1.1:9']] as const) {
      const vs = verdictVs(inhibit);
      const core = new CheckVerdict([vs]);
      const events: CheckEvent[] = [...core.takeInitialEvents()];
      const os = [ov(kind, kind === 'weight' ? 9 : undefined)];
      const rs1 = (t: string[]) => t.find((x) => x.startsWith('192.168.1.1:'));
      assert.equal(rs1(table(core, os, vs)), upWant, `${kind}: applied while up`);
      events.push(...core.onResult(0, fail, 0, 1).events);
      assert.equal(rs1(table(core, os, vs)), inhibit && kind !== 'disable' ? '192.168.1.1:0' : undefined, `${kind}: down is out (or inhibited at 0)`);
      events.push(...core.onResult(0, ok, 10, 11).events);
      assert.equal(rs1(table(core, os, vs)), upWant, `${kind}: back up, the override still holds`);
      assert.equal(rs1(table(core, [], vs)), '192.168.1.1:2', `${kind}: enable gives the config weight back`);
      assert.deepEqual(events.filter((e) => e.kind === 'rs-down' || e.kind === 'rs-up').map((e) => e.kind), ['rs-down', 'rs-up'], 'notify_down/up follow health, not the override');
    }
  });
}

test('overrides do not count in quorum: draining every server keeps quorum up (no sorry server, no quorum_down)', () => {
  const vs = verdictVs(false, true);
  const core = new CheckVerdict([vs]);
  const events = [...core.takeInitialEvents()];
  const os = [ov('drain'), ov('drain', undefined, '192.168.1.2')];
  assert.deepEqual(table(core, os, vs), ['192.168.1.1:0', '192.168.1.2:0']);
  assert.equal(events.some((e) => e.kind === 'quorum-down'), false);
  // Health still decides quorum: both down brings the sorry server in, drained or not.
  core.onResult(0, fail, 0, 1);
  events.push(...core.onResult(1, fail, 0, 1).events);
  assert.deepEqual(table(core, os, vs), ['192.168.1.99:1']);
  assert.ok(events.some((e) => e.kind === 'quorum-down'));
});

test('drain then enable is one edit-dest each way in the reconcile diff (the destination is never removed)', () => {
  const vs = verdictVs(false);
  const core = new CheckVerdict([vs]);
  const cfg = { virtualServerGroups: [] } as unknown as KeepalivedConfig;
  const want = (os: RsOverride[]) => buildDesired([ipvsSpecFor(vs, core.desiredOf('vs1')!.dests, cfg, os)]);
  const plain = want([]);
  const start = diff(plain, new Map(), emptyOwnership());
  const kernel = applyOps(new Map(), start);
  const owned = ownershipAfter(plain, emptyOwnership(), start);
  const drainOps = diff(want([ov('drain')]), kernel, owned);
  assert.deepEqual(drainOps.map((o) => `${o.op} ${'dest' in o ? `${o.dest.addr}:${(o.dest as { weight: number }).weight}` : ''}`), ['edit-dest 192.168.1.1:0']);
  const drained = applyOps(kernel, drainOps);
  assert.deepEqual(diff(want([]), drained, owned).map((o) => o.op), ['edit-dest']);
  assert.deepEqual(diff(want([ov('disable')]), drained, owned).map((o) => o.op), ['del-dest']);
});

// ---- commands, syntax, reload ----

const CONF = `virtual_server_group G1 {
  10.0.0.5 80
}
virtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 192.168.1.1 80 {
    weight 1
  }
  real_server 192.168.1.2 8080 {
    weight 1
  }
}
virtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind NAT
  protocol UDP
  real_server 192.168.1.1 80 {
    weight 1
  }
}
virtual_server 2001:db8::1 443 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 2001:db8::10 443 {
    weight 1
  }
}
virtual_server fwmark 7 {
  lb_algo rr
  lb_kind DR
  real_server 192.168.1.3 {
    weight 1
  }
}
virtual_server group G1 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 192.168.1.4 80 {
    weight 1
  }
}
`;

test('command syntax: VIP:PORT RIP[:PORT], [v6]:port, fwmark N, group NAME; errors say what was expected', () => {
  const cfg = build(CONF).model;
  const keys = (w: string[]) => resolveRsTarget(cfg, parseRsTarget(w).target).map((r) => `${r.vsKey} ${r.addr}:${r.port}`);
  assert.deepEqual(keys(['10.0.0.1:80', '192.168.1.1:80']), ['[10.0.0.1]:tcp:80 192.168.1.1:80', '[10.0.0.1]:udp:80 192.168.1.1:80'], 'every protocol at that address and port');
  assert.deepEqual(keys(['10.0.0.1:80', '192.168.1.2']), ['[10.0.0.1]:tcp:80 192.168.1.2:8080'], 'the port may be left out');
  assert.deepEqual(keys(['[2001:db8::1]:443', '[2001:db8:0::10]:443']), ['[2001:db8::1]:tcp:443 2001:db8::10:443']);
  assert.deepEqual(keys(['fwmark', '7', '192.168.1.3']), ['FWM 7 192.168.1.3:0']);
  assert.equal(keys(['group', 'G1', '192.168.1.4:80']).length, 1);
  assert.deepEqual(parseRsTarget(['10.0.0.1:80', '192.168.1.1:80', '5']).rest, ['5']);
  const code = (w: string[]) => { try { keys(w); return 'ok'; } catch (e) { return (e as { code: string }).code; } };
  assert.equal(code(['10.0.0.1', '192.168.1.1:80']), 'KT_CTL_BAD_ARGS', 'the VIP needs its port');
  assert.equal(code(['10.0.0.1:80']), 'KT_CTL_BAD_ARGS');
  assert.equal(code(['nonsense:80', '1.2.3.4']), 'KT_CTL_BAD_ARGS');
  assert.equal(code(['10.0.0.2:80', '192.168.1.1:80']), 'KT_CTL_NO_SUCH_SERVER');
  assert.equal(code(['10.0.0.1:80', '192.168.1.9:80']), 'KT_CTL_NO_SUCH_SERVER');
});

test('commands: a new override replaces the old one, enable clears, weight is checked', () => {
  const cfg = build(CONF).model;
  const t = parseRsTarget(['10.0.0.1:80', '192.168.1.2:8080']).target;
  let r = applyRsCommand([], { command: 'drain', target: t }, cfg, NOW, 'pid 1 uid 0');
  assert.deepEqual(r.overrides.map((o) => [o.kind, o.by, o.since]), [['drain', 'pid 1 uid 0', NOW]]);
  r = applyRsCommand(r.overrides, { command: 'weight', target: t, weight: 5 }, cfg, NOW, 'x');
  assert.deepEqual(r.overrides.map((o) => [o.kind, o.weight]), [['weight', 5]]);
  assert.match(r.message, /weight set to 5/);
  r = applyRsCommand(r.overrides, { command: 'enable', target: t }, cfg, NOW, 'x');
  assert.deepEqual(r.overrides, []);
  assert.match(applyRsCommand([], { command: 'enable', target: t }, cfg, NOW, 'x').message, /there was no override/);
  for (const w of [-1, 1.5, undefined, 2 ** 31]) assert.throws(() => applyRsCommand([], { command: 'weight', target: t, weight: w }, cfg, NOW, 'x'), /weight needs an integer/);
});

test('reload: overrides of real servers still configured are kept, the others dropped; reset drops all', () => {
  const cfg = build(CONF).model;
  const t1 = parseRsTarget(['10.0.0.1:80', '192.168.1.1:80']).target;
  const t2 = parseRsTarget(['10.0.0.1:80', '192.168.1.2:8080']).target;
  let os = applyRsCommand([], { command: 'drain', target: t1 }, cfg, NOW, 'x').overrides;
  os = applyRsCommand(os, { command: 'disable', target: t2 }, cfg, NOW, 'x').overrides;
  const next = build(CONF.replace('real_server 192.168.1.2 8080', 'real_server 192.168.1.6 8080')).model;
  const r = overridesAfterReload(os, next, false);
  assert.deepEqual(r.kept.map((o) => `${o.vsKey} ${o.addr}`), ['[10.0.0.1]:tcp:80 192.168.1.1', '[10.0.0.1]:udp:80 192.168.1.1']);
  assert.deepEqual(r.dropped.map((o) => o.addr), ['192.168.1.2']);
  assert.deepEqual(overridesAfterReload(os, next, true).kept, []);
});

test('a command from its words: weight as the last word or a named argument; extra words refused', () => {
  assert.deepEqual(rsRequestFromWords('drain', ['10.0.0.1:80', '192.168.1.1:80']), { command: 'drain', target: { vs: { addr: '10.0.0.1', port: 80 }, addr: '192.168.1.1', port: 80 } });
  assert.equal(rsRequestFromWords('weight', ['10.0.0.1:80', '192.168.1.1', '5']).weight, 5);
  assert.equal(rsRequestFromWords('weight', ['fwmark', '7', '192.168.1.1'], 9).weight, 9);
  assert.throws(() => rsRequestFromWords('weight', ['10.0.0.1:80', '192.168.1.1']), { code: 'KT_CTL_BAD_ARGS' });
  assert.throws(() => rsRequestFromWords('weight', ['10.0.0.1:80', '192.168.1.1', '5', '6']), { code: 'KT_CTL_BAD_ARGS' });
  assert.throws(() => rsRequestFromWords('drain', ['10.0.0.1:80', '192.168.1.1', '5']), { code: 'KT_CTL_BAD_ARGS' });
});
