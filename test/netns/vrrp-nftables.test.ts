// vrrp_strict's firewall on a real kernel: the same config under Debian's keepalived and under keepalived-ts, and
// `nft list ruleset` in the director's namespace compared after start as MASTER, as BACKUP (a higher-priority
// keepalived peer took one instance over), after a VIP change by reload, and after stop (only the foreign table we
// put there is left). A client's ping to a non-accept VIP is dropped, to an `accept` instance's VIP answered.
// Normalised before comparing: counter values (traffic differs between runs), the order of set elements (hash
// order) and of tables (instances become MASTER in either order); nothing else.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { createLan, vrrpConfig, waitFor, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';
import { checkConfig } from '../../src/config/check-config.js';

const skip = needsRoot() || needsCommand('keepalived') || needsCommand('nft');
const WAIT = { timeoutMs: 15_000, intervalMs: 50 };

/** `nft list ruleset` text made comparable: see the file header. */
function normaliseRuleset(text: string): string {
  const t = text
    .replace(/counter packets \d+ bytes \d+/g, 'counter')
    .replace(/elements = \{([^}]*)\}/g, (_m, body: string) => `elements = { ${body.split(',').map((e) => e.trim()).filter(Boolean).sort().join(', ')} }`);
  const tables: string[] = [];
  let cur: string[] | undefined;
  for (const line of t.split('\n')) {
    if (/^table /.test(line)) cur = [];
    if (cur) cur.push(line);
    if (line === '}' && cur) { tables.push(cur.join('\n')); cur = undefined; }
  }
  return tables.sort().join('\n');
}

describe('vrrp_strict: the nftables rules keepalived-ts installs are keepalived\'s', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  let d2: Director;

  before(async () => {
    lan = await createLan({ prefix: 'ktnft', directors: 2, clients: 1, ipv6: true });
    [d1, d2] = lan.directors as [Director, Director];
  });
  after(async () => {
    await lan?.teardown();
  });

  const ll = 'fe80::99:1';
  const config = (v6vip: string) => [
    vrrpConfig({
      vrid: 81, priority: 150, advertInt: 0.1, version: 3, vip: [lan.vipCidr(0), lan.vipCidr(1)], iface: 'eth0', instanceName: 'A',
      extraGlobal: ['vrrp_strict', 'nftables ktfw', 'nftables_priority -5', 'nftables_counters'],
    }),
    vrrpConfig({ vrid: 82, priority: 150, advertInt: 0.1, version: 3, vip: [`${ll}/64`, `${v6vip}/64`], iface: 'eth0', instanceName: 'B' }).replace(/^global_defs[^]*?\n}\n/, ''),
    vrrpConfig({ vrid: 83, priority: 150, advertInt: 0.1, version: 3, vip: lan.vipCidr(2), iface: 'eth0', instanceName: 'C', extraInstance: ['accept'] })
      .replace(/^global_defs[^]*?\n}\n/, ''),
  ].join('\n');
  const peerConfig = () =>
    vrrpConfig({ vrid: 81, priority: 200, advertInt: 0.1, version: 3, vip: [lan.vipCidr(0), lan.vipCidr(1)], iface: 'eth0', instanceName: 'A', extraGlobal: ['vrrp_strict'] });

  const ruleset = async (d: Director) => (await lan.exec(d, 'nft', ['list', 'ruleset'])).stdout;
  const FOREIGN = 'table inet foreign {\n\tchain c {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tip saddr 192.0.2.1 drop\n\t}\n}';

  async function runWith(kind: DaemonKind): Promise<{ master: string; backup: string; reloaded: string }> {
    // Someone else's table, there before we start and after we stop.
    writeFileSync(`${d1.dir}/foreign.nft`, `${FOREIGN}\n`);
    await lan.exec(d1, 'nft', ['-f', `${d1.dir}/foreign.nft`]);
    await lan.startDaemon(d1, { kind, configText: config(lan.vip6(0)) });
    await waitFor(async () => JSON.stringify(await lan.vipHolders(lan.vip(0))) === '["d1"]', { ...WAIT, what: `${kind} master` });
    const master = await waitFor(async () => {
      const r = await ruleset(d1);
      return r.includes(lan.vip(1)) && r.includes(lan.vip6(0)) && r.includes(ll) ? r : undefined;
    }, { ...WAIT, what: `${kind} rules as MASTER` });
    // The client: a non-accept VIP does not answer, the accept instance's VIP does, the director's own address too.
    const client = lan.clients[0]!;
    assert.equal(await lan.ping(client, lan.vip(0), { count: 1, timeoutS: 1 }), false, `${kind}: ping to a no_accept VIP is dropped`);
    assert.equal(await lan.ping(client, lan.vip(2), { count: 1, timeoutS: 2 }), true, `${kind}: ping to the accept instance's VIP is answered`);
    assert.equal(await lan.ping(client, d1.ip, { count: 1, timeoutS: 2 }), true, `${kind}: the director's own address answers`);

    // A higher-priority keepalived takes instance A over: A's VIPs leave our set, the table stays.
    await lan.startDaemon(d2, { kind: 'keepalived', configText: peerConfig() });
    await waitFor(async () => JSON.stringify(await lan.vipHolders(lan.vip(0))) === '["d2"]', { ...WAIT, what: `${kind} A backup` });
    const backup = await waitFor(async () => {
      const r = await ruleset(d1);
      return !r.includes(lan.vip(0)) ? r : undefined;
    }, { ...WAIT, what: `${kind} rules as BACKUP` });
    await d2.stop('SIGTERM');
    await waitFor(async () => JSON.stringify(await lan.vipHolders(lan.vip(0))) === '["d1"]', { ...WAIT, what: `${kind} master again` });

    // Reload with B's global VIP changed: the old one leaves the set, the new one joins it.
    writeFileSync(d1.daemon!.configFile, config(lan.vip6(1)));
    d1.daemon!.signal('SIGHUP');
    const reloaded = await waitFor(async () => {
      const r = await ruleset(d1);
      return r.includes(lan.vip6(1)) && !r.includes(lan.vip6(0)) && r.includes(lan.vip(0)) ? r : undefined;
    }, { ...WAIT, what: `${kind} rules after reload` });

    const { code } = await d1.daemon!.stop('SIGTERM');
    assert.equal(code, 0);
    assert.equal(normaliseRuleset(await ruleset(d1)), normaliseRuleset(FOREIGN), `${kind} removed its tables on stop and left the foreign one`);
    await lan.exec(d1, 'nft', ['delete', 'table', 'inet', 'foreign']);
    return { master: normaliseRuleset(master), backup: normaliseRuleset(backup), reloaded: normaliseRuleset(reloaded) };
  }

  it('MASTER, BACKUP, reload and stop: the same ruleset as keepalived, and client traffic to VIPs as its rules decide', async () => {
    const ts = await runWith('keepalived-ts');
    assert.match(ts.master, /table ip ktfw/);
    assert.match(ts.master, /priority filter - 5/);
    assert.match(ts.master, /ip daddr @vips counter drop/);
    const ka = await runWith('keepalived');
    assert.equal(ts.master, ka.master, 'as MASTER');
    assert.equal(ts.backup, ka.backup, 'after A went BACKUP');
    assert.equal(ts.reloaded, ka.reloaded, 'after the reload');
  });

  it('-t verdicts of the firewall keywords are keepalived\'s (Debian 2.2.7: nftables built in, iptables and ipset not)', async () => {
    // Not `nftables_priority` without a value: a missing argument is one of the README's documented `-t` differences.
    const lines = ['nftables', 'nftables my_table', 'nftables a b', `nftables ${'x'.repeat(300)}`, 'nftables\n nftables',
      'nftables_priority 5', 'nftables_priority -300', 'nftables_priority x', 'nftables_priority 99999999999',
      'nftables_counters', 'nftables_ifindex', 'vrrp_iptables', 'vrrp_iptables IN OUT', 'vrrp_ipsets', 'vrrp_ipsets a b'];
    const differ: string[] = [];
    for (const l of lines) {
      const file = `${d1.dir}/t.conf`;
      writeFileSync(file, `global_defs {\n ${l}\n vrrp_strict\n}\n${vrrpConfig({ vrid: 9, priority: 100, advertInt: 1, vip: lan.vip(5), iface: 'eth0' })}`);
      const k = await lan.exec(d1, 'keepalived', ['-t', '-f', file], { allowFail: true });
      const ours = checkConfig(file, { interfaces: new Set(['lo', 'eth0']) });
      if (k.code !== ours.exitCode) differ.push(`${JSON.stringify(l)}: keepalived ${k.code}, ours ${ours.exitCode} ${ours.diags.map((d) => d.message).join('; ')}`);
    }
    assert.deepEqual(differ, []);
  });

  it('after a SIGKILL the leftover table is replaced when the next run becomes MASTER, as keepalived does', async () => {
    await lan.startDaemon(d1, { kind: 'keepalived-ts', configText: config(lan.vip6(0)) });
    const first = await waitFor(async () => {
      const r = await ruleset(d1);
      return r.includes(lan.vip(1)) && r.includes(lan.vip6(0)) ? r : undefined;
    }, { ...WAIT, what: 'first run rules' });
    await d1.daemon!.stop('SIGKILL');
    // A stale entry the killed run could have left.
    await lan.exec(d1, 'nft', ['add', 'element', 'ip', 'ktfw', 'vips', '{ 10.99.0.99 }']);
    await lan.startDaemon(d1, { kind: 'keepalived-ts', configText: config(lan.vip6(0)) });
    const second = await waitFor(async () => {
      const r = await ruleset(d1);
      return !r.includes('10.99.0.99') && r.includes(lan.vip(1)) && r.includes(lan.vip6(0)) ? r : undefined;
    }, { ...WAIT, what: 'second run rules without the stale entry' });
    assert.equal(normaliseRuleset(second), normaliseRuleset(first));
    await d1.daemon!.stop('SIGTERM');
    assert.equal((await ruleset(d1)).trim(), '');
  });
});

// use_vmac (keepalived 2.2.7 nft_add_vmac): a VMAC needs our table strict or not; its IGMP (IPv6: MLD) reports are
// sent out of the parent instead, and IPv6 router solicitations from it are dropped. Same config under both
// daemons, `nft list ruleset` as MASTER compared, and nothing left after stop.
describe('use_vmac: the nftables rules keepalived-ts installs for VMACs are keepalived\'s', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  before(async () => {
    lan = await createLan({ prefix: 'ktnfv', directors: 1, clients: 0, ipv6: true });
    d1 = lan.directors[0]!;
  });
  after(async () => {
    await lan?.teardown();
  });
  const ruleset = async () => (await lan.exec(d1, 'nft', ['list', 'ruleset'])).stdout;
  const CONFIGS: Record<string, () => { text: string; held: string[] }> = {
    'plain use_vmac (accept mode: only the VMAC rules)': () => ({
      text: vrrpConfig({ vrid: 61, priority: 150, advertInt: 0.1, version: 3, vip: lan.vipCidr(0), iface: 'eth0', extraInstance: ['use_vmac'] }),
      held: ['"vrrp.61"'],
    }),
    'vrrp_strict with an IPv4 and an IPv6 VMAC': () => ({
      text: [
        vrrpConfig({ vrid: 61, priority: 150, advertInt: 0.1, version: 3, vip: lan.vipCidr(0), iface: 'eth0', instanceName: 'A', extraInstance: ['use_vmac'], extraGlobal: ['vrrp_strict'] }),
        vrrpConfig({ vrid: 62, priority: 150, advertInt: 0.1, version: 3, vip: ['fe80::62:1/64', `${lan.vip6(0)}/64`], iface: 'eth0', instanceName: 'B', extraInstance: ['use_vmac'] })
          .replace(/^global_defs[^]*?\n}\n/, ''),
      ].join('\n'),
      held: [lan.vip(0), lan.vip6(0), 'fe80::62:1', '"vrrp.61"', '"vrrp.62"'],
    }),
  };
  for (const [name, make] of Object.entries(CONFIGS)) {
    it(name, async () => {
      const { text, held } = make();
      const seen: Record<string, string> = {};
      for (const kind of ['keepalived-ts', 'keepalived'] as DaemonKind[]) {
        await lan.startDaemon(d1, { kind, configText: text });
        seen[kind] = normaliseRuleset(await waitFor(async () => {
          const r = await ruleset();
          return held.every((h) => r.includes(h)) ? r : undefined;
        }, { ...WAIT, what: `${kind}: the ruleset with ${held.join(', ')}` }));
        const { code } = await d1.daemon!.stop('SIGTERM');
        assert.equal(code, 0);
        assert.equal((await ruleset()).trim(), '', `${kind} removed its tables on stop`);
      }
      assert.match(seen['keepalived-ts']!, /ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop/);
      assert.equal(seen['keepalived-ts'], seen['keepalived']);
    });
  }
});
