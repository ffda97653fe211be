// The CLI as an operator sees it: exit codes, diagnostics on stderr, -d JSON on stdout.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kt-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function conf(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  // -t and -d answer once the parser is loaded (on demand: a daemon's start does not load it).
  const code = await main(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

const LVS = `virtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.0.0.2 80 {
    TCP_CHECK {
      connect_timeout 3
    }
  }
}
`;

test('-v and -h print and exit 0; an unknown option exits 1 with the usage', async () => {
  assert.match((await run('-v')).out, /^keepalived-ts \d+\.\d+\.\d+/);
  assert.match((await run('--help')).out, /--config-test/);
  const r = await run('--frobnicate');
  assert.equal(r.code, 1);
  assert.match(r.err, /Usage: keepalived-ts/);
});

test('clean config: exit 0 and nothing on stderr', async () => {
  const r = await run('-t', '-f', conf('clean.conf', LVS));
  assert.deepEqual([r.code, r.err], [0, '']);
});

test('missing main config file: fatal, exit 4 (keepalived exits 0 without -e)', async () => {
  const r = await run('--config-test', '--use-file', join(dir, 'nope.conf'));
  assert.equal(r.code, 4);
  assert.match(r.err, /error: Unable to find configuration file .*nope\.conf.*\[file-not-found\]/);
});

test('warnings and errors: exit 5, one line each as FILE:LINE:COL: severity: message [code]', async () => {
  const f = conf('warn.conf', LVS.replace('  protocol TCP\n', '').replace('lb_algo rr', 'lb_algo rr\n  frobnicate 1'));
  const r = await run('-t', '-f', f);
  assert.equal(r.code, 5);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.equal(lines[0], `${f}:3:3: error: unknown keyword 'frobnicate' in virtual_server [unknown-keyword]`);
  assert.match(lines[1]!, new RegExp(`^${f}:1:1: warning: virtual server \\[10\\.0\\.0\\.1\\]:80: no protocol set - defaulting to UDP \\(add 'protocol TCP'.*\\) \\[default-protocol\\]$`));
});

test('an interface that does not exist here: exit 4', async () => {
  const f = conf('badif.conf', 'vrrp_instance V {\n  interface ktnosuch0\n  virtual_router_id 5\n  virtual_ipaddress {\n    10.1.1.1\n  }\n}\n');
  const r = await run('-t', '-f', f);
  assert.equal(r.code, 4);
  assert.match(r.err, /badif\.conf:2:13: error: interface 'ktnosuch0' does not exist/);
});

test('scripts without enable_script_security: exit 6', async () => {
  const f = conf('sec.conf', LVS.replace('real_server 10.0.0.2 80 {', 'real_server 10.0.0.2 80 {\n    notify_up /bin/true'));
  const r = await run('-t', '-f', f);
  assert.equal(r.code, 6);
  assert.match(r.err, /SECURITY VIOLATION - check scripts are being executed but script_security not enabled/);
});

test('-d prints the resolved model as JSON (timers in ms, defaults filled)', async () => {
  const r = await run('-d', '-f', conf('dump.conf', LVS));
  assert.equal(r.code, 0);
  const m = JSON.parse(r.out);
  const vs = m.virtualServers[0];
  assert.deepEqual([vs.key, vs.delayLoopMs, vs.realServers[0].checkers[0].connectTimeoutMs, vs.realServers[0].checkers[0].retry], ['[10.0.0.1]:tcp:80', 60000, 3000, 1]);
  assert.equal(m.globalDefs.vrrpMcastGroup4, '224.0.0.18');
});

test('-i selects @ID lines (config id)', async () => {
  const f = conf('cid.conf', LVS.replace('lb_algo rr', '@nodeA lb_algo rr\n@^nodeA lb_algo wrr'));
  assert.equal(JSON.parse((await run('-d', '-i', 'nodeA', '-f', f)).out).virtualServers[0].lbAlgo, 'rr');
  assert.equal(JSON.parse((await run('-d', '--config-id', 'nodeB', '-f', f)).out).virtualServers[0].lbAlgo, 'wrr');
});

test('the installed entry point runs the same CLI (tsx)', async () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', '-t', '-f', join(dir, 'nope.conf')], { encoding: 'utf8' });
  assert.equal(r.status, 4);
  assert.match(r.stderr, /file-not-found/);
});
