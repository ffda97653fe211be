// `-t` verdicts of configs with PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK: keepalived 2.2.7's exit code and
// ours (checkConfig) must be the same, for good blocks and for each error keepalived reports in them (its quirks
// included), and of IPv6 checkers whose link-local destination lacks bind_if. keepalived runs in a fresh namespace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkConfig } from '../../src/config/check-config.js';
import { needsRoot, needsCommand } from '../helpers/root.js';

const skip = needsRoot() || needsCommand('keepalived');
const ns = `ktcv${Math.random().toString(36).slice(2, 8)}`;
let dir = '';
before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'kt-ckv-'));
  spawnSync('ip', ['netns', 'add', ns]);
});
after(() => {
  if (skip) return;
  spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
});

const CASES: Record<string, string> = {
  all_good: 'PING_CHECK {\nretry 2\n}\nUDP_CHECK {\npayload 01 02 0a\nrequire_reply 01 xX\nmin_reply_length 1\nmax_reply_length 10\n}\nDNS_CHECK {\ntype A\nname example.com\n}\nSMTP_CHECK {\nhelo_name foo.example\n}',
  ping_unknown_keyword: 'PING_CHECK {\npayload 01\n}',
  udp_nibbles: 'UDP_CHECK {\npayload 1 2 3\n}',
  udp_bad_hex: 'UDP_CHECK {\npayload zz\n}',
  udp_last_byte_ff: 'UDP_CHECK {\npayload 01ff\n}',
  udp_wildcard_in_payload: 'UDP_CHECK {\npayload 0x\n}',
  udp_payload_missing: 'UDP_CHECK {\npayload\n}',
  udp_reply_bad_hex: 'UDP_CHECK {\nrequire_reply 0g\n}',
  udp_reply_ff: 'UDP_CHECK {\nrequire_reply ff\n}',
  udp_min_over_max: 'UDP_CHECK {\nrequire_reply\nmin_reply_length 10\nmax_reply_length 5\n}',
  udp_min_out_of_range: 'UDP_CHECK {\nmin_reply_length 70000\n}',
  dns_root: 'DNS_CHECK {\nname .\n}',
  dns_rrsig: 'DNS_CHECK {\ntype RRSIG\n}',
  dns_type_unknown: 'DNS_CHECK {\ntype BOGUS\n}',
  dns_empty_label: 'DNS_CHECK {\nname a..b\n}',
  dns_leading_dot: 'DNS_CHECK {\nname .a\n}',
  dns_second_char_dot: 'DNS_CHECK {\nname a.example.com\n}',
  dns_trailing_dot: 'DNS_CHECK {\nname ab.\ntype aaaa\n}',
  dns_name_twice: 'DNS_CHECK {\nname a\nname b\n}',
  smtp_helo_missing: 'SMTP_CHECK {\nhelo_name\n}',
  smtp_hosts: 'SMTP_CHECK {\nhost {\nconnect_ip 10.0.1.2\nconnect_port 25\n}\nhost {\nconnect_ip 10.0.1.3\nconnect_timeout 2\n}\n}',
  smtp_host_unknown: 'SMTP_CHECK {\nhost {\nhelo_name x\n}\n}',
};

for (const [name, checkers] of Object.entries(CASES)) {
  test(`same -t exit code as keepalived: ${name}`, { skip }, () => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, `global_defs {\n  router_id abc\n}\nvirtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_algo rr\n  lb_kind NAT\n  real_server 10.0.1.1 80 {\n${checkers}\n  }\n}\n`);
    const r = spawnSync('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-f', file, '-n', '-l'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    const ours = checkConfig(file, { configId: 'nodeA' });
    assert.equal(ours.exitCode, r.status, `keepalived said:\n${r.stderr}${r.stdout}\nwe said:\n${ours.diags.map((d) => `${d.severity} ${d.message}`).join('\n')}`);
  });
}

// keepalived's check_conn_opts: an IPv6 link-local destination (the real server, or connect_ip) needs bind_if, else
// "Checker link local address X requires a bind_if" and the checker is dropped (exit 5). MISC_CHECK has no
// connection; a global destination needs nothing.
const LINK_LOCAL: Record<string, { rs: string; checkers: string }> = {
  ll_tcp_rs: { rs: 'fe80::2', checkers: 'TCP_CHECK {\nconnect_timeout 3\n}' },
  ll_tcp_bind_if: { rs: 'fe80::2', checkers: 'TCP_CHECK {\nbind_if lo\n}' },
  ll_http_connect_ip: { rs: '2001:db8::2', checkers: 'HTTP_GET {\nurl {\npath /\n}\nconnect_ip fe80::3\n}' },
  ll_ping_udp_dns: { rs: 'fe80::2', checkers: 'PING_CHECK {\n}\nUDP_CHECK {\n}\nDNS_CHECK {\nname example.com\n}' },
  ll_smtp_host: { rs: '2001:db8::2', checkers: 'SMTP_CHECK {\nhost {\nconnect_ip fe80::4\n}\nhost {\nconnect_ip 2001:db8::4\n}\n}' },
  ll_misc: { rs: 'fe80::2', checkers: 'MISC_CHECK {\nmisc_path /bin/true\n}' },
  ll_global: { rs: '2001:db8::2', checkers: 'TCP_CHECK {\nconnect_ip 2001:db8::5\n}' },
};

for (const [name, c] of Object.entries(LINK_LOCAL)) {
  test(`same -t verdict and message as keepalived: ${name}`, { skip }, () => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, `virtual_server 2001:db8::1 80 {\n  protocol TCP\n  lb_algo rr\n  lb_kind NAT\n  real_server ${c.rs} 80 {\n${c.checkers}\n  }\n}\n`);
    const r = spawnSync('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-f', file, '-n', '-l'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    const ours = checkConfig(file, { configId: 'nodeA' });
    const theirs = `${r.stderr}${r.stdout}`;
    assert.equal(ours.exitCode, r.status, `keepalived said:\n${theirs}\nwe said:\n${ours.diags.map((d) => `${d.severity} ${d.message}`).join('\n')}`);
    const pick = (lines: string[]): string[] => lines.flatMap((l) => /Checker link local address \S+ requires a bind_if/.exec(l)?.[0] ?? []);
    assert.deepEqual(pick(ours.diags.map((d) => d.message)), pick(theirs.split('\n')));
  });
}
