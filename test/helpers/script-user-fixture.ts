// The script-user tests' fixture (namespace and guest alike): a root-owned 0755 directory of root-owned scripts and,
// beside it, a sticky 1777 output directory any user can append to. id.sh logs one line per run (who ran it and
// whether any of keepalived-ts's internals reached its environment); misc.sh runs id.sh and exits with out/code;
// gw.sh is group-writable by a non-root group (adm), so insecure for a script run as root.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function scriptUserFixture(prefix: string): { dir: string; out: string } {
  const dir = mkdtempSync(prefix);
  chmodSync(dir, 0o755);
  const out = join(dir, 'out');
  mkdirSync(out);
  chmodSync(out, 0o1777);
  writeFileSync(join(out, 'log'), '');
  chmodSync(join(out, 'log'), 0o666);
  writeFileSync(join(out, 'code'), '1\n');
  chmodSync(join(out, 'code'), 0o644);
  writeFileSync(join(dir, 'id.sh'), `#!/bin/sh
echo "$1 uid=$(id -u) gid=$(id -g) groups=$(id -G | tr ' ' ,) internal=$(env | grep -c -e '^KEEPALIVED_TS_' -e '^NODE_CHANNEL')" >> ${out}/log
`);
  writeFileSync(join(dir, 'misc.sh'), `#!/bin/sh\n${dir}/id.sh misc\nexit $(cat ${out}/code)\n`);
  writeFileSync(join(dir, 'gw.sh'), `#!/bin/sh\necho "gw $1 uid=$(id -u)" >> ${out}/log\n`);
  chmodSync(join(dir, 'id.sh'), 0o755);
  chmodSync(join(dir, 'misc.sh'), 0o755);
  chmodSync(join(dir, 'gw.sh'), 0o775);
  chownSync(join(dir, 'gw.sh'), 0, 4); // group adm
  return { dir, out };
}
