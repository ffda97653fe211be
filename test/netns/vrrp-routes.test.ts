// virtual_routes on a real kernel: the master adds them after its VIPs and removes them when it stops, and the
// routes it leaves in the table while MASTER are the ones Debian's keepalived leaves for the same config, also when
// another route to one of the prefixes is already there (added beside it, as `ip route prepend`; left alone on stop).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { oneDirectorLan, vrrpConfig, waitFor, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';

const skip = needsRoot() || needsCommand('keepalived');
const WAIT = { timeoutMs: 15_000, intervalMs: 20 };

describe('virtual_routes and virtual_rules follow the MASTER state', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  oneDirectorLan((l, d) => { lan = l; d1 = d; });

  const config = () =>
    vrrpConfig({
      vrid: 71, priority: 150, state: 'MASTER', advertInt: 0.1, version: 3, vip: lan.vipCidr(), iface: 'eth0',
      extraInstance: [
        'virtual_routes {',
        `    192.0.2.0/24 via ${lan.host(100)} dev eth0`,
        '    198.51.100.0/24 dev eth0 table 100',
        '    blackhole 203.0.113.0/24',
        '}',
        'virtual_rules {',
        '    from 10.99.0.50/32 table 100 priority 1000',
        '}',
      ],
    });

  /** Routes installed by the VRRP daemon (protocol keepalived, 18), in every table, as `ip -j` shows them. */
  const ours = async () => {
    const r = await lan.exec(d1, 'ip', ['-j', 'route', 'show', 'table', 'all', 'proto', '18']);
    const list = JSON.parse(r.stdout || '[]') as Array<Record<string, unknown>>;
    return list.map((x) => [x.type ?? 'unicast', x.dst, x.gateway ?? '-', x.dev ?? '-', x.table ?? 'main', x.scope ?? '-'].join(' ')).sort();
  };

  /** Rules installed by the VRRP daemon, as `ip -j rule` shows them. */
  const ourRules = async () => {
    const r = await lan.exec(d1, 'ip', ['-j', 'rule', 'show']);
    const list = JSON.parse(r.stdout || '[]') as Array<Record<string, unknown>>;
    return list.filter((x) => x.table === '100').map((x) => `rule ${x.priority} from ${x.src}/${x.srclen ?? 32} table ${x.table}`);
  };

  /** Someone else's route to the prefix of a virtual_route: keepalived adds its own beside it (ip route prepend). */
  const foreign = async () => JSON.parse((await lan.exec(d1, 'ip', ['-j', 'route', 'show', '192.0.2.0/24', 'proto', 'static'])).stdout || '[]') as unknown[];

  async function runWith(kind: DaemonKind): Promise<string[]> {
    await lan.exec(d1, 'ip', ['route', 'add', '192.0.2.0/24', 'dev', 'eth0', 'proto', 'static']);
    await lan.startDaemon(d1, { kind, configText: config() });
    await waitFor(async () => JSON.stringify(await lan.vipHolders(lan.vip())) === '["d1"]', { ...WAIT, what: `${kind} master` });
    const routes = await waitFor(async () => ((await ours()).length === 3 ? ours() : undefined), { ...WAIT, what: `${kind} routes` });
    const rules = await waitFor(async () => ((await ourRules()).length === 1 ? ourRules() : undefined), { ...WAIT, what: `${kind} rules` });
    const { code } = await d1.daemon!.stop('SIGTERM');
    assert.equal(code, 0);
    assert.deepEqual(await ours(), [], `${kind} removed its routes on stop`);
    assert.deepEqual(await ourRules(), [], `${kind} removed its rules on stop`);
    assert.equal((await foreign()).length, 1, `${kind} left the other route to 192.0.2.0/24 alone`);
    await lan.exec(d1, 'ip', ['route', 'del', '192.0.2.0/24', 'dev', 'eth0', 'proto', 'static']);
    return [...routes, ...rules];
  }

  it('keepalived-ts adds the routes as MASTER, removes them on stop, and matches keepalived', async () => {
    const ts = await runWith('keepalived-ts');
    assert.ok(ts.some((r) => r.startsWith('unicast 192.0.2.0/24') && r.includes(lan.host(100))), ts.join('\n'));
    assert.ok(ts.some((r) => r.startsWith('blackhole 203.0.113.0/24')), ts.join('\n'));
    assert.ok(ts.some((r) => r.startsWith('unicast 198.51.100.0/24') && r.includes(' 100 ')), ts.join('\n'));
    assert.ok(ts.includes('rule 1000 from 10.99.0.50/32 table 100'), ts.join('\n'));
    const ka = await runWith('keepalived');
    assert.deepEqual(ts, ka);
  });
});
