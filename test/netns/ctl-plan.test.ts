// `keepalived-ts ctl plan -f NEW.conf` on a real kernel (issue 12): what the plan says a SIGHUP would change is what
// the SIGHUP then changes. A director runs three masters with addresses, routes, rules and a static address; the
// new file drops an address, a route, an instance (a MASTER: its address goes), renames one, adds one, adds an
// address, a route, a rule, and swaps the static address. The kernel's addresses, routes and rules are read before
// and after the SIGHUP, and their difference must equal the plan's lines exactly. The new instance's address is left
// out of the comparison: the plan says it starts in INIT and adds nothing until the protocol makes it MASTER.
// A file the SIGHUP would refuse is refused by the plan with the config test's lines, and changes nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from '../helpers/root.js';
import { oneDirectorLan, repoRoot, waitFor, type Lan, type Director } from '../helpers/lab.js';
import type { ReloadPlanDocument } from '../../src/daemon/reload-plan.js';

const skip = needsRoot();
const WAIT = { timeoutMs: 15_000, intervalMs: 20 };
const OUR_ADDRS = /^10\.99\.(8|9|10)\./;
const OUR_ROUTES = ['198.51.100.0/24', '203.0.113.0/24', '192.0.2.0/24'];
const OUR_RULES = [1201, 1202];

function ctl(socket: string, words: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot(), 'bin', 'keepalived-ts.js'), 'ctl', '--socket', socket, ...words], (e, out, err) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }));
  });
}

describe('ctl plan: the plan equals what the following SIGHUP does', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  oneDirectorLan((l, d) => { lan = l; d1 = d; });

  const inst = (name: string, vrid: number, body: string[]) => [
    `vrrp_instance ${name} {`, '  state MASTER', '  interface eth0', `  virtual_router_id ${vrid}`, '  priority 150', '  advert_int 0.1',
    ...body.map((l) => `  ${l}`), '}',
  ].join('\n');

  const first = () => [
    'global_defs {', '  vrrp_version 3', '}',
    inst('VI_1', 81, [
      'virtual_ipaddress {', '    10.99.8.1/24 dev eth0', '    10.99.8.2/24 dev eth0', '  }',
      '  virtual_routes {', `    198.51.100.0/24 via ${lan.host(100)} dev eth0`, '    203.0.113.0/24 dev eth0', '  }',
      '  virtual_rules {', '    from 10.99.8.1 table 101 priority 1201', '  }',
    ]),
    inst('VI_2', 82, ['virtual_ipaddress {', '    10.99.9.1/24 dev eth0', '  }']),
    inst('VI_3', 83, ['virtual_ipaddress {', '    10.99.9.3/24 dev eth0', '  }']),
    'static_ipaddress {', '    10.99.10.1/24 dev eth0', '}', '',
  ].join('\n');

  const second = () => [
    'global_defs {', '  vrrp_version 3', '}',
    inst('VI_1', 81, [
      'virtual_ipaddress {', '    10.99.8.1/24 dev eth0', '    10.99.8.3/24 dev eth0', '  }',
      '  virtual_routes {', `    198.51.100.0/24 via ${lan.host(100)} dev eth0`, '    192.0.2.0/24 dev eth0', '  }',
      '  virtual_rules {', '    from 10.99.8.1 table 101 priority 1201', '    from 10.99.8.3 table 102 priority 1202', '  }',
    ]),
    inst('VI_2_renamed', 82, ['virtual_ipaddress {', '    10.99.9.1/24 dev eth0', '  }']),
    inst('VI_4', 84, ['virtual_ipaddress {', '    10.99.11.1/24 dev eth0', '  }']),
    'static_ipaddress {', '    10.99.10.2/24 dev eth0', '}', '',
  ].join('\n');

  const json = async (args: string[]) => JSON.parse((await lan.exec(d1, 'ip', ['-j', ...args])).stdout || '[]') as Array<Record<string, unknown>>;

  /** Our addresses, routes and rules as the kernel shows them, in the plan's vocabulary. */
  const snapshot = async (): Promise<Set<string>> => {
    const addrs = (await json(['addr', 'show'])).flatMap((l) => ((l.addr_info ?? []) as Array<Record<string, unknown>>)
      .filter((a) => OUR_ADDRS.test(a.local as string)).map((a) => `address ${a.local}/${a.prefixlen} dev ${l.ifname}`));
    const routes = (await json(['route', 'show', 'table', 'all'])).filter((r) => OUR_ROUTES.includes(r.dst as string)).map((r) => `route ${r.dst}`);
    const rules = (await json(['rule', 'show'])).filter((r) => OUR_RULES.includes(r.priority as number)).map((r) => `rule ${r.priority}`);
    return new Set([...addrs, ...routes, ...rules]);
  };

  /** The plan's kernel changes in the snapshot's vocabulary: `+ x` / `- x`. */
  function predicted(p: ReloadPlanDocument): string[] {
    const v = p.vrrp!;
    const route = (line: string) => `route ${line.split(' ')[0]}`;
    const rule = (line: string) => `rule ${/priority (\d+)/.exec(line)![1]}`;
    const out: string[] = [];
    for (const m of v.masters) {
      out.push(...m.removeVips.map((x) => `- address ${x}`), ...m.addVips.map((x) => `+ address ${x}`));
      out.push(...m.removeRoutes.map((x) => `- ${route(x)}`), ...m.addRoutes.map((x) => `+ ${route(x)}`));
      out.push(...m.removeRules.map((x) => `- ${rule(x)}`), ...m.addRules.map((x) => `+ ${rule(x)}`));
    }
    for (const r of v.removed) {
      out.push(...(r.releases?.vips ?? []).map((x) => `- address ${x}`), ...(r.releases?.routes ?? []).map((x) => `- ${route(x)}`));
      out.push(...(r.releases?.rules ?? []).map((x) => `- ${rule(x)}`));
    }
    const staticAddr = (k: string) => { const [dev, cidr] = k.split(' '); return `address ${cidr} dev ${dev}`; };
    out.push(...v.statics.addresses.remove.map((k) => `- ${staticAddr(k)}`), ...v.statics.addresses.add.map((k) => `+ ${staticAddr(k)}`));
    return out.sort();
  }

  it('predicts the SIGHUP\'s kernel changes exactly, and refuses a file the SIGHUP would refuse', async () => {
    const socket = join(d1.dir, 'ctl.sock');
    const d = await lan.startDaemon(d1, { kind: 'keepalived-ts', configText: first(), extraArgs: ['--status-listen', socket] });
    const before = await waitFor(async () => {
      const s = await snapshot();
      return ['address 10.99.8.2/24 dev eth0', 'address 10.99.9.3/24 dev eth0', 'route 203.0.113.0/24', 'rule 1201', 'address 10.99.10.1/24 dev eth0'].every((x) => s.has(x)) ? s : undefined;
    }, { ...WAIT, what: 'three masters with their addresses, routes, rules and the static address' });

    const next = join(d1.dir, 'next.conf');
    writeFileSync(next, second());
    const r = await ctl(socket, ['--json', 'plan', '-f', next]);
    assert.equal(r.code, 0, r.err + r.out);
    const reply = JSON.parse(r.out) as { ok: boolean; message: string; plan: ReloadPlanDocument };
    const plan = reply.plan;
    assert.equal(plan.valid, true);
    assert.deepEqual(plan.errors, []);
    assert.deepEqual(plan.vrrp!.kept.map((k) => [k.instance, k.was, k.state]), [['VI_1', undefined, 'MASTER'], ['VI_2_renamed', 'VI_2', 'MASTER']]);
    assert.deepEqual(plan.vrrp!.added, ['VI_4']);
    assert.deepEqual(plan.vrrp!.removed.map((x) => x.instance), ['VI_3']);
    // The text form says the same, one line per change.
    const text = await ctl(socket, ['plan', '-f', next]);
    assert.equal(text.code, 0);
    assert.match(text.out, /^- address 10\.99\.8\.2\/24 dev eth0 \(VI_1, MASTER\)$/m);
    assert.match(text.out, /^\+ rule from 10\.99\.8\.3 table 102 priority 1202 \(VI_1, MASTER\)$/m);
    assert.match(text.out, /^~ vrrp_instance VI_2 renamed VI_2_renamed \(MASTER, state kept\)$/m);

    // Nothing changed yet.
    assert.deepEqual([...await snapshot()].sort(), [...before].sort());

    // A file the SIGHUP would refuse: refused (exit 1) with the config test's line, nothing changes.
    const broken = join(d1.dir, 'broken.conf');
    writeFileSync(broken, 'vrrp_instance VI_9 {\n  interface eth0\n  virtual_router_id 300\n}\n');
    const bad = await ctl(socket, ['plan', '-f', broken]);
    assert.equal(bad.code, 1, bad.out + bad.err);
    assert.match(bad.err, /would be refused/);
    assert.match(bad.err, /broken\.conf:3/);

    writeFileSync(d.configFile, second());
    d.signal('SIGHUP');
    await waitFor(async () => {
      const s = await snapshot();
      return s.has('rule 1202') && !s.has('address 10.99.9.3/24 dev eth0') && s.has('address 10.99.10.2/24 dev eth0') ? s : undefined;
    }, { ...WAIT, what: 'the reload applied' });
    await new Promise((res) => setTimeout(res, 500));
    const after = await snapshot();
    const observed = [
      ...[...before].filter((x) => !after.has(x)).map((x) => `- ${x}`),
      ...[...after].filter((x) => !before.has(x) && x !== 'address 10.99.11.1/24 dev eth0').map((x) => `+ ${x}`),
    ].sort();
    assert.deepEqual(observed, predicted(plan), `plan:\n${reply.message}\nobserved:\n${observed.join('\n')}`);
    assert.equal(observed.length, 8, observed.join('\n'));

    // The same file again: nothing left to do.
    const again = await ctl(socket, ['plan', '-f', d.configFile]);
    assert.equal(again.code, 0);
    assert.match(again.out, /nothing: the running state already matches/);
    const { code } = await d.stop('SIGTERM');
    assert.equal(code, 0);
  });
});
