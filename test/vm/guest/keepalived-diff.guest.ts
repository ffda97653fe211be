// Guest-only, differential: Debian's keepalived 2.2.7 programs IPVS from a keepalived.conf; our desired-state
// builder and reconciler program the equivalent specs; `ipvsadm -Sn` must be identical. This pins keepalived's
// rules (group expansion, DR/fwmark ports, zero-port persistence, scheduler flags, sorry server) to the kernel.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IpvsClient } from '../../../src/ipvs/client.js';
import { buildDesired } from '../../../src/ipvs/desired.js';
import { IpvsApplier } from '../../../src/ipvs/apply.js';
import type { VirtualServerSpec } from '../../../src/ipvs/virtual-server-spec.js';
import { ipvsUnavailable } from '../../helpers/ipvs.js';

let unavailable: string | false = await ipvsUnavailable();
if (!unavailable && spawnSync('sh', ['-c', 'command -v keepalived']).status !== 0) unavailable = 'needs keepalived (the reference)';

const CONF = `
global_defs {
  router_id ktdiff
}
virtual_server_group G1 {
  10.20.0.1 80
  10.20.1.1-3 80
  10.20.6.4/30 80
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
virtual_server 10.20.3.1 0 {
  lb_algo lc
  lb_kind NAT
  protocol UDP
  real_server 192.168.23.1 0 {
    weight 1
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
    uthreshold 100
    lthreshold 10
  }
}
virtual_server 10.20.4.1 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  alpha
  sorry_server 192.168.24.9 8080
  real_server 192.168.24.1 8080 {
    weight 1
    TCP_CHECK {
      connect_timeout 1
      connect_port 9
    }
  }
}
virtual_server 10.20.5.1 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  sorry_server 192.168.25.9 8080
  sorry_server_inhibit
  real_server 192.168.25.1 8080 {
    weight 1
  }
}
`;

// The same, as the lead's mapping of config + checker output would give it.
const SPECS: VirtualServerSpec[] = [
  {
    targets: [{ addr: '10.20.0.1', port: 80 }, { range: '10.20.1.1-3', port: 80 }, { range: '10.20.6.4/30', port: 80 }, { fwmark: 11 }],
    protocol: 'TCP', scheduler: 'wrr', lbKind: 'NAT',
    realServers: [{ addr: '192.168.20.1', port: 8080, weight: 2 }, { addr: '192.168.20.2', port: 8081, weight: 3 }],
  },
  {
    targets: [{ addr: '10.20.2.1', port: 443 }], protocol: 'TCP', scheduler: 'sh', schedulerFlags: ['sh-port', 'sh-fallback'], lbKind: 'DR',
    persistenceTimeout: 300, persistenceGranularity: '255.255.255.0',
    realServers: [{ addr: '192.168.21.1', port: 8443, weight: 1 }],
  },
  { targets: [{ fwmark: 12 }], protocol: 'TCP', scheduler: 'rr', lbKind: 'DR', realServers: [{ addr: '192.168.22.1', port: 80, weight: 4 }] },
  { targets: [{ addr: '10.20.3.1', port: 0 }], protocol: 'UDP', scheduler: 'lc', lbKind: 'NAT', realServers: [{ addr: '192.168.23.1', port: 0, weight: 1 }] },
  {
    targets: [{ addr: '2001:db8:20::1', port: 80 }], protocol: 'TCP', scheduler: 'wlc', lbKind: 'TUN', persistenceTimeout: 60, persistenceGranularity: 64,
    realServers: [{ addr: '2001:db8:21::1', port: 80, weight: 1, uThreshold: 100, lThreshold: 10 }],
  },
  {
    targets: [{ addr: '10.20.4.1', port: 80 }], protocol: 'TCP', scheduler: 'rr', lbKind: 'NAT',
    realServers: [], sorryServer: { addr: '192.168.24.9', port: 8080, weight: 1 }, quorumUp: false,
  },
  {
    targets: [{ addr: '10.20.5.1', port: 80 }], protocol: 'TCP', scheduler: 'rr', lbKind: 'NAT',
    realServers: [{ addr: '192.168.25.1', port: 8080, weight: 1 }], sorryServer: { addr: '192.168.25.9', port: 8080, weight: 1, inhibit: true },
  },
];

const saved = (): string[] => execFileSync('ipvsadm', ['-Sn'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
const thresholds = (): string => execFileSync('ipvsadm', ['-Ln', '--thresholds'], { encoding: 'utf8' });
let ka: ChildProcess | undefined;
const dir = mkdtempSync('/tmp/ktdiff-');
after(() => {
  ka?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  try { execFileSync('ipvsadm', ['-C']); } catch { /* no ipvs */ }
});

test('keepalived 2.2.7 and keepalived-ts leave the same IPVS table for the same virtual servers', { skip: unavailable, timeout: 300_000 }, async () => {
  execFileSync('ipvsadm', ['-C']);
  const client = await IpvsClient.open();
  let ours: string[];
  let ourThresholds: string;
  try {
    const sync = new IpvsApplier(client);
    const report = await sync.reconcile(buildDesired(SPECS));
    assert.deepEqual(report.failed.map((f) => f.error?.message), []);
    ours = saved();
    ourThresholds = thresholds();
    await sync.stop('owned');
    assert.deepEqual(saved(), []);
  } finally {
    client.close();
  }

  writeFileSync(join(dir, 'keepalived.conf'), CONF);
  ka = spawn('keepalived', ['-n', '-l', '-C', '-f', join(dir, 'keepalived.conf'), '-p', join(dir, 'k.pid'), '-c', join(dir, 'c.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  ka.stdout!.on('data', (d) => { log += d; });
  ka.stderr!.on('data', (d) => { log += d; });
  let theirs: string[] = [];
  for (let i = 0; i < 120; i++) {
    await new Promise((r) => setTimeout(r, 500));
    theirs = saved();
    if (theirs.length >= ours.length && JSON.stringify(theirs) === JSON.stringify(ours)) break;
  }
  assert.deepEqual(theirs, ours, `keepalived log:\n${log.slice(-3000)}`);
  assert.equal(thresholds(), ourThresholds);
  ka.kill('SIGTERM');
  await new Promise((r) => ka!.once('exit', r));
  ka = undefined;
  // keepalived removes what it added on stop, as our stop('owned') does.
  assert.deepEqual(saved(), []);
});
