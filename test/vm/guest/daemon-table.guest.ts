// Guest-only, differential, whole daemons: Debian's keepalived 2.2.7 and keepalived-ts are started in turn on the
// SAME keepalived.conf with keepalived's command line (-n -l -f -p -r -c). Each one's settled IPVS table
// (`ipvsadm -Sn`, sorted) must be identical; each must leave an empty table when stopped, and keepalived-ts -I
// must leave its table in place. The config covers NAT, DR, TUN (ipip, gue, gre), fwmark, a virtual_server_group
// with a range and a fwmark entry, persistence with granularity (v4 mask and v6 prefix), schedulers with flags,
// weights, thresholds, a sorry server brought in by a failing checker, inhibit_on_failure, and quorum.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { daemonTestUnavailable, savedTable, settledTable, shell, startDaemon, type RunningDaemon } from './daemon-lib.js';
import { waitFor } from '../../lab/lan.js';

const unavailable = await daemonTestUnavailable(true);

const CHECK = `TCP_CHECK {
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }`;

// 192.168.30.0/24 sits on a dummy link in the guest: .1 has a TCP listener on 8080, .2/.3 refuse at once.
const CONF = `
global_defs {
  router_id ktdaemontable
}
virtual_server_group G1 {
  10.20.0.1 80
  10.20.1.1-3 80
  fwmark 11
}
virtual_server group G1 {
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  real_server 192.168.20.1 8080 {
    weight 2
  }
  real_server 192.168.20.2 8081 {
    weight 3
  }
}
virtual_server 10.20.2.1 443 {
  lb_algo sh
  sh-port
  sh-fallback
  lb_kind DR
  protocol TCP
  persistence_timeout 300
  persistence_granularity 255.255.255.0
  real_server 192.168.21.1 8443 {
    weight 1
  }
}
virtual_server fwmark 12 {
  lb_algo rr
  lb_kind DR
  real_server 192.168.22.1 80 {
    weight 4
  }
}
virtual_server 10.20.3.1 53 {
  lb_algo lc
  lb_kind NAT
  protocol UDP
  real_server 192.168.23.1 5353 {
    weight 1
  }
  real_server 192.168.23.2 5353 {
    weight 7
  }
}
virtual_server 10.20.6.1 80 {
  lb_algo sed
  lb_kind TUN
  protocol TCP
  real_server 192.168.26.1 80 {
    weight 5
    uthreshold 100
    lthreshold 10
  }
}
virtual_server 10.20.7.1 80 {
  lb_algo nq
  lb_kind TUN type gue port 6080 csum
  protocol TCP
  real_server 192.168.27.1 80 {
    weight 1
  }
  real_server 192.168.27.2 80 {
    weight 2
  }
}
virtual_server 10.20.7.2 80 {
  lb_algo fo
  lb_kind TUN type gre nocsum
  protocol TCP
  real_server 192.168.27.3 80 {
    weight 6
  }
}
virtual_server 2001:db8:20::1 80 {
  lb_algo wlc
  lb_kind TUN
  protocol TCP
  persistence_timeout 60
  persistence_granularity 64
  real_server 2001:db8:21::1 80 {
    weight 1
  }
}
virtual_server 10.20.4.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  alpha
  sorry_server 192.168.24.9 8080
  real_server 192.168.30.2 8080 {
    weight 1
    ${CHECK}
  }
}
virtual_server 10.20.8.1 80 {
  delay_loop 1
  lb_algo wlc
  lb_kind NAT
  protocol TCP
  real_server 192.168.30.1 8080 {
    weight 3
    ${CHECK}
  }
  real_server 192.168.30.3 8080 {
    weight 2
    inhibit_on_failure
    ${CHECK}
  }
}
virtual_server 10.20.9.1 80 {
  delay_loop 1
  lb_algo dh
  lb_kind NAT
  protocol TCP
  quorum 2
  hysteresis 0
  sorry_server 192.168.29.9 8080
  real_server 192.168.30.1 8080 {
    weight 1
    ${CHECK}
  }
  real_server 192.168.30.2 8080 {
    weight 1
    ${CHECK}
  }
}
`;

const dir = mkdtempSync('/tmp/ktdaemontable-');
const conf = join(dir, 'keepalived.conf');
const DUMMY = `ktdt${Math.random().toString(36).slice(2, 6)}`;
let listener: Server | undefined;
const running: RunningDaemon[] = [];

after(async () => {
  for (const d of running) await d.stop(10_000).catch(() => undefined);
  listener?.close();
  for (const c of [`ip link del ${DUMMY}`, 'ipvsadm -C']) {
    try { shell(`${c} 2>/dev/null`); } catch { /* gone */ }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** What must be in the settled table of this config whoever programs it (so a half-settled table is not taken). */
function settledShape(t: string[]): boolean {
  const s = t.join('\n');
  return /-a -t 10\.20\.4\.1:80 -r 192\.168\.24\.9:8080 -m -w 1/.test(s) // sorry server in (alpha, check fails)
    && /-a -t 10\.20\.8\.1:80 -r 192\.168\.30\.3:8080 -m -w 0/.test(s) // inhibited
    && /-a -t 10\.20\.9\.1:80 -r 192\.168\.29\.9:8080/.test(s); // quorum lost → sorry server
}

// Thresholds are not part of `ipvsadm -S`: compare them from the listing (sorted, counters are all 0 here).
const thresholds = (): string[] => shell('ipvsadm -Ln --thresholds').split('\n').filter((l) => /->/.test(l)).sort();

async function runAndCapture(which: 'keepalived' | 'keepalived-ts', extra: string[] = []): Promise<{ table: string[]; thresholds: string[]; d: RunningDaemon }> {
  const d = startDaemon(which, conf, extra);
  running.push(d);
  // keepalived is native; keepalived-ts runs node under TCG (~12x slower): generous waits.
  await waitFor(() => settledShape(savedTable()), { what: `${which} to program the table (log:\n${d.log().slice(-3000)})`, timeoutMs: 180_000, intervalMs: 500 })
    .catch((e: Error) => { throw new Error(`${e.message}\ntable:\n${savedTable().join('\n')}\nlog:\n${d.log().slice(-4000)}`); });
  // Checks run every second: a table unchanged for 4 s has settled.
  const table = await settledTable(4_000, 60_000);
  return { table, thresholds: thresholds(), d };
}

test('keepalived 2.2.7 and keepalived-ts (whole daemons, same keepalived.conf) leave the same IPVS table; both remove it on stop; -I keeps it', { skip: unavailable, timeout: 900_000 }, async () => {
  shell(`ip link add ${DUMMY} type dummy; ip link set ${DUMMY} up
      ip addr add 192.168.30.1/24 dev ${DUMMY}; ip addr add 192.168.30.2/24 dev ${DUMMY}; ip addr add 192.168.30.3/24 dev ${DUMMY}
      ipvsadm -C`);
  listener = createServer((s) => s.destroy());
  await new Promise<void>((r) => listener!.listen(8080, '192.168.30.1', r));
  writeFileSync(conf, CONF);

  const ref = await runAndCapture('keepalived');
  assert.equal(await ref.d.stop(), 0, `keepalived exit; log:\n${ref.d.log().slice(-3000)}`);
  running.pop();
  // keepalived removes what it added.
  await waitFor(() => savedTable().length === 0, { what: 'keepalived to empty the table', timeoutMs: 10_000, intervalMs: 250 });

  const ours = await runAndCapture('keepalived-ts');
  assert.deepEqual(ours.table, ref.table, `keepalived-ts log:\n${ours.d.log().slice(-4000)}`);
  assert.deepEqual(ours.thresholds, ref.thresholds);
  assert.ok(ref.thresholds.some((l) => /192\.168\.26\.1:80\s.*\b100\s+10\b/.test(l)), ref.thresholds.join('\n'));
  assert.equal(await ours.d.stop(), 0, `keepalived-ts exit; log:\n${ours.d.log().slice(-3000)}`);
  running.pop();
  assert.deepEqual(savedTable(), [], 'keepalived-ts removed everything it added on stop');

  // -I (--dont-release-ipvs): the table stays after stop, exactly as it was.
  const kept = await runAndCapture('keepalived-ts', ['-I']);
  assert.deepEqual(kept.table, ref.table);
  assert.equal(await kept.d.stop(), 0);
  running.pop();
  assert.deepEqual(savedTable(), ref.table, 'with -I the table is left in place');
  shell('ipvsadm -C');
});
