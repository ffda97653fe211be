// Property test of the config reader (fast-check, fixed seed, bounded runs): token soups built from keepalived's
// own vocabulary (blocks, keywords, braces, addresses, numbers, preprocessor syntax) go through the whole `-t`
// pipeline (preprocess, grammar, model build) without an exception; every problem is a diagnostic with a message,
// and the verdict is one of keepalived's exit codes. No file is read: includes name a directory that does not exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseConfigText } from '../../src/config/parse.js';
import { buildModel } from '../../src/config/model/build.js';
import { exitCodeFor, formatDiagnostic } from '../../src/config/diagnostics.js';

const WORDS = [
  'global_defs', 'vrrp_instance', 'VI_1', 'vrrp_script', 'chk', 'vrrp_sync_group', 'group', 'virtual_server', 'real_server',
  'virtual_server_group', 'TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK', 'url', 'path', 'digest', 'status_code', 'regex',
  'state', 'MASTER', 'BACKUP', 'interface', 'eth0', 'virtual_router_id', 'priority', 'advert_int', 'authentication', 'auth_type',
  'PASS', 'AH', 'auth_pass', 'virtual_ipaddress', 'virtual_routes', 'virtual_rules', 'track_script', 'track_interface',
  'notify_master', 'script', 'interval', 'weight', 'rise', 'fall', 'user', 'nobody', 'lb_algo', 'rr', 'lb_kind', 'NAT', 'DR',
  'TUN', 'protocol', 'TCP', 'delay_loop', 'connect_timeout', 'persistence_timeout', 'unicast_peer', 'nopreempt', 'dev', 'label',
  'scope', 'link', 'via', 'table', 'from', 'to', 'script_user', 'enable_script_security', 'vrrp_version', 'router_id',
  '10.0.0.1', '10.0.0.0/24', 'fe80::1', '2001:db8::1/64', '0', '1', '255', '256', '-20', '0.1', '3000000', '99999999999999999999',
  '"/bin/true"', '"a b"', "'", '"', '{', '}', '{', '}', '\n', '\n', '\n', '#', '!', '@h1', '@^h1', '$X=1', '$X', '${X}', '${_RANDOM}',
  '~SEQ(i,1,3)', '~LST(a,b)', '$i', 'include', 'include /nonexistent-kts-dir/*.conf', '\\', '\t',
];

test('token soups of keepalived vocabulary: the -t pipeline never throws, every problem is a diagnostic', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...WORDS), { maxLength: 80 }), (words) => {
    const text = words.join(' ');
    const parsed = parseConfigText(text, '/nonexistent-kts-dir/keepalived.conf', { configId: 'h1', env: {}, random: () => 0.5 });
    buildModel(parsed.nodes, parsed.diags, { interfaces: new Set(['lo', 'eth0']), hostname: 'h1' });
    for (const d of parsed.diags.list) assert.equal(typeof formatDiagnostic(d), 'string');
    assert.ok([0, 4, 5, 6].includes(exitCodeFor(parsed.diags.list)));
  }), { seed: 0x636f, numRuns: 1500 });
});

// Found by fuzz/targets/config.mjs: a definition whose value re-creates its own braces made the preprocessor
// re-read brace residues recursively until the stack overflowed (RangeError out of `-t`).
test('a definition that expands to its own braces stops reading with one fatal diagnostic, no exception', () => {
  const parsed = parseConfigText('$X=${X    b ${X}\nx $X\n', '/nonexistent-kts-dir/keepalived.conf', { configId: 'h1' });
  const fatal = parsed.diags.list.filter((d) => d.severity === 'fatal');
  assert.deepEqual(fatal.map((d) => [d.code, d.loc?.line]), [['expansion-limit', 2]]);
  assert.match(fatal[0]!.message, /splits at braces into more than 1100 parts/);
  assert.equal(exitCodeFor(parsed.diags.list), 4);
  assert.deepEqual(parsed.nodes, []);
});
