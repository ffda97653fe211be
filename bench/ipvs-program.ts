// Benchmark (a script, not a test): time to program 10,000 IPVS destinations (1,000 services × 10) from an empty
// table, inside the test guest (the host kernel has no IPVS):
//   - keepalived-ts's reconciler (dump + diff + generic-netlink requests in batches, several per datagram, with
//     the socket's default window: as many in flight as its receive buffer holds ACKs for),
//   - the same with a window of 64, and one request at a time (window 1),
//   - `ipvsadm -R` of the same table (libnl, one request at a time, native code),
//   - Debian's keepalived 2.2.7 started on an equivalent keepalived.conf (real servers without checkers are
//     added at once), measured from spawn until `ipvsadm -Sn` shows all 11,000 lines.
// Run on the host: `node --import tsx bench/ipvs-program.ts [services] [destsPerService]` (root, qemu).
// Figures are TCG-emulated (qemu without KVM): compare the ratios, not the absolute times.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runSelfInGuest } from '../test/vm/harness.js';
import { IpvsClient } from '../src/ipvs/client.js';
import { buildDesired } from '../src/ipvs/desired.js';
import { IpvsApplier } from '../src/ipvs/apply.js';
import type { VirtualServerSpec } from '../src/ipvs/virtual-server-spec.js';

const nServices = Number(process.argv[2] ?? 1000);
const perService = Number(process.argv[3] ?? 10);

const vip = (i: number): string => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const rip = (i: number, j: number): string => { const n = i * perService + j; return `172.${16 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`; };
const rport = (_i: number, _j: number): number => 8080;

function specs(): VirtualServerSpec[] {
  return Array.from({ length: nServices }, (_, i) => ({
    targets: [{ addr: vip(i), port: 80 }],
    protocol: 'TCP' as const,
    scheduler: 'wrr',
    lbKind: 'NAT' as const,
    realServers: Array.from({ length: perService }, (_, j) => ({ addr: rip(i, j), port: rport(i, j), weight: 1 })),
  }));
}

const lines = (): number => Number(execFileSync('sh', ['-c', 'ipvsadm -Sn | wc -l'], { encoding: 'utf8' }).trim());
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const flush = (): void => { execFileSync('ipvsadm', ['-C']); };

async function inGuest(): Promise<void> {
  const expectLines = nServices * (perService + 1);
  const dir = mkdtempSync('/tmp/ktbench-');
  const figures: Record<string, number> = {};
  const client = await IpvsClient.open();
  try {
    // A first reconcile warms up the JIT (and the kernel's caches); unreported, so the windows compare fairly.
    flush();
    await new IpvsApplier(client).reconcile(buildDesired(specs()));
    for (const window of [undefined, 64, 1]) {
      flush();
      const t0 = process.hrtime.bigint();
      const desired = buildDesired(specs());
      const sync = new IpvsApplier(client, { window });
      const report = await sync.reconcile(desired);
      const t = ms(t0);
      if (report.failed.length) throw new Error(`${report.failed.length} operations failed: ${report.failed[0].error?.message}`);
      if (lines() !== expectLines) throw new Error(`expected ${expectLines} lines, got ${lines()}`);
      figures[`keepalived-ts reconcile (window ${window ?? 'default'})`] = t;
      const t1 = process.hrtime.bigint();
      const again = await sync.reconcile(desired);
      figures[`keepalived-ts idempotent re-run (${again.results.length} ops)`] = ms(t1);
    }

    // ipvsadm -R of the same table.
    flush();
    const rules: string[] = [];
    for (let i = 0; i < nServices; i++) {
      rules.push(`-A -t ${vip(i)}:80 -s wrr`);
      for (let j = 0; j < perService; j++) rules.push(`-a -t ${vip(i)}:80 -r ${rip(i, j)}:${rport(i, j)} -m -w 1`);
    }
    writeFileSync(join(dir, 'rules'), rules.join('\n') + '\n');
    let t0 = process.hrtime.bigint();
    const r = spawnSync('sh', ['-c', `ipvsadm -R < ${join(dir, 'rules')}`], { encoding: 'utf8' });
    figures['ipvsadm -R'] = ms(t0);
    if (r.status !== 0 || lines() !== expectLines) throw new Error(`ipvsadm -R failed: ${r.stderr}`);

    // keepalived 2.2.7 on an equivalent configuration.
    flush();
    const conf = ['global_defs {', '  router_id ktbench', '}'];
    for (let i = 0; i < nServices; i++) {
      conf.push(`virtual_server ${vip(i)} 80 {`, '  lvs_sched wrr', '  lvs_method NAT', '  protocol TCP');
      for (let j = 0; j < perService; j++) conf.push(`  real_server ${rip(i, j)} ${rport(i, j)} {`, '    weight 1', '  }');
      conf.push('}');
    }
    writeFileSync(join(dir, 'keepalived.conf'), conf.join('\n') + '\n');
    t0 = process.hrtime.bigint();
    const ka = spawn('keepalived', ['-n', '-l', '-C', '-f', join(dir, 'keepalived.conf'), '-p', join(dir, 'k.pid'), '-c', join(dir, 'c.pid')], { stdio: 'ignore' });
    let n = 0;
    const deadline = Date.now() + 600_000;
    while ((n = lines()) < expectLines && Date.now() < deadline && ka.exitCode === null) await new Promise((res) => setTimeout(res, 100));
    figures['keepalived 2.2.7 (spawn → table complete)'] = ms(t0);
    if (n < expectLines) figures['keepalived 2.2.7 (spawn → table complete)'] = NaN;
    ka.kill('SIGTERM');
    await new Promise((res) => ka.once('exit', res));
  } finally {
    client.close();
    flush();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = figures['ipvsadm -R'];
  console.log(`\nIPVS programming, ${nServices} services × ${perService} destinations, Linux ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()} under qemu`);
  for (const [k, v] of Object.entries(figures)) console.log(`  ${k.padEnd(50)} ${Number.isNaN(v) ? 'did not finish' : `${v.toFixed(0).padStart(7)} ms`}${k.startsWith('keepalived-ts reconcile') || k.startsWith('keepalived 2') ? `  (${(v / base).toFixed(2)}× ipvsadm -R)` : ''}`);
}

if (process.env.KT_IN_GUEST) await inGuest();
else await runSelfInGuest(import.meta.url, [String(nServices), String(perService)], { timeoutMs: 40 * 60_000, memoryMb: 2048 });
