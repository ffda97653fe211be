// Fuzz target: the whole `keepalived-ts -t` path on one input (src/config/check-config.ts: preprocessor,
// grammar, model build, script security, verdict). It has no error type: every problem must come back as a
// diagnostic with a position or a file-level message, so any exception is a finding.
// The input is written as keepalived.conf in a private temp dir that also holds two small include files, so
// relative includes and globs resolve there; inputs that name an absolute path or '..' in an include line are
// skipped (reading the host's file system is not what is being fuzzed, and a glob over / would only be slow).
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig } from '../../dist/src/config/check-config.js';
import { formatDiagnostic } from '../../dist/src/config/diagnostics.js';
import { check } from './common.mjs';

const dir = mkdtempSync(join(tmpdir(), 'kts-fuzz-config-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'a.conf'), 'vrrp_instance VA {\n  interface eth0\n  virtual_router_id 7\n  virtual_ipaddress {\n    10.0.0.7\n  }\n}\n');
writeFileSync(join(dir, 'b.conf'), '$B=1\n@h1 global_defs {\n  router_id ${B}\n}\n');
const file = join(dir, 'keepalived.conf');
const INTERFACES = new Set(['lo', 'eth0', 'eth1']);
const EXIT_CODES = new Set([0, 4, 5, 6]);

export function fuzz(data) {
  const text = Buffer.from(data.buffer, data.byteOffset, data.length).toString('latin1');
  if (/include[a-z]*[ \t][^\n]*(\/|\.\.|\$|~)/.test(text) || (text.includes('include') && /[$@~]/.test(text))) return;
  writeFileSync(file, data);
  const r = checkConfig(file, { configId: 'h1', hostname: 'h1', interfaces: INTERFACES });
  check(EXIT_CODES.has(r.exitCode), `exit code ${r.exitCode}`);
  for (const d of r.diags) {
    check(typeof d.message === 'string' && d.message.length > 0, 'a diagnostic has a message');
    check(typeof formatDiagnostic(d) === 'string', 'a diagnostic formats');
  }
  check(r.files[0] === file, 'the main file is read first');
}
