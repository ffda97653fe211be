// /metrics of a running daemon (VRRP child with a vrrp_script + checker child with a MISC_CHECK) in its own network
// namespace, scraped over the status unix socket and handed to Prometheus's own linter (`promtool check metrics`,
// Debian package prometheus); the exporter-compatible series say what keepalived-exporter would say of keepalived
// in the same state (MASTER = 2, script GOOD = 1), and the counters move.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { netnsDaemonFixture, waitForCondition } from '../helpers/process.js';
import { parsePrometheusText } from '../helpers/prom-parse.js';

const skip = needsRoot() || needsCommand('promtool');
const fx = netnsDaemonFixture('ktmet');
const { ns, dir } = fx;
after(() => fx.tearDown());

function scrape(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/metrics', method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a real scrape passes promtool check metrics and carries the exporter-compatible series', { skip }, async () => {
  fx.setUp();
  // A veth pair inside the namespace: the instance's interface (this kernel has no dummy links).
  execFileSync('ip', ['-n', ns, 'link', 'add', 'vm0', 'type', 'veth', 'peer', 'name', 'vm1']);
  execFileSync('ip', ['-n', ns, 'addr', 'add', '10.77.0.1/24', 'dev', 'vm0']);
  for (const l of ['vm0', 'vm1']) execFileSync('ip', ['-n', ns, 'link', 'set', l, 'up']);
  writeFileSync(join(dir, 'ok.sh'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(dir, 'ok.sh'), 0o755);
  writeFileSync(join(dir, 'keepalived.conf'), `
global_defs {
  router_id ktmetrics
  script_user root
  enable_script_security
}
vrrp_script chk_ok {
  script "${dir}/ok.sh"
  interval 1
}
vrrp_instance VI_M {
  interface vm0
  state MASTER
  virtual_router_id 77
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.77.0.100/24
    10.77.0.101
  }
  track_script {
    chk_ok
  }
}
virtual_server 10.77.0.200 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.77.0.2 80 {
    weight 1
    MISC_CHECK {
      misc_path "${dir}/ok.sh"
    }
  }
}
`);
  const sock = join(dir, 'status.sock');
  const startedS = Date.now() / 1000;
  const { log } = fx.start(['--status-listen', sock]);
  await waitForCondition('VI_M to become MASTER', () => /\(VI_M\) Entering MASTER STATE/.test(log()), 60_000, log);
  await waitForCondition('the checker to report', () => /Healthcheck: 1 virtual server/.test(log()), 60_000, log);

  let body = '';
  for (let i = 0; i < 100; i++) {
    body = await scrape(sock);
    const f = parsePrometheusText(body);
    const sent = f.get('keepalived_advertisements_sent_total')?.samples[0]?.value ?? 0;
    const good = f.get('keepalived_script_status')?.samples.find((s) => s.labels['name'] === 'chk_ok')?.value;
    const up = f.get('keepalived_ts_checker_up')?.samples[0]?.value;
    if (sent >= 2 && good === 1 && up === 1) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  writeFileSync(join(dir, 'metrics.txt'), body);
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}\n--- scrape ---\n${body}`);
  assert.equal(`${lint.stdout}${lint.stderr}`.trim(), '', 'promtool has no lint remarks');

  const fams = parsePrometheusText(body);
  assert.equal(fams.get('keepalived_up')!.samples[0]!.value, 1);
  const state = fams.get('keepalived_vrrp_state')!.samples;
  assert.deepEqual(state.map((s) => [s.labels, s.value]), [
    [{ iname: 'VI_M', intf: 'vm0', vrid: '77', ip_address: '10.77.0.100/24' }, 2],
    [{ iname: 'VI_M', intf: 'vm0', vrid: '77', ip_address: '10.77.0.101' }, 2],
  ]);
  assert.ok(fams.get('keepalived_advertisements_sent_total')!.samples[0]!.value >= 2);
  assert.equal(fams.get('keepalived_become_master_total')!.samples[0]!.value, 1);
  assert.equal(fams.get('keepalived_script_status')!.samples.find((s) => s.labels['name'] === 'chk_ok')!.value, 1);
  assert.equal(fams.get('keepalived_ts_checker_up')!.samples[0]!.value, 1);
  assert.equal(fams.get('keepalived_ts_build_info')!.samples[0]!.labels['node'], process.version);
  const t = fams.get('keepalived_ts_vrrp_last_transition_timestamp_seconds')!.samples[0]!.value;
  assert.ok(t >= startedS && t <= Date.now() / 1000, `last transition ${t}: during this run (Unix seconds)`);
});
