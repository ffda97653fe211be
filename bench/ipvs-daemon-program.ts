// Benchmark (a script, not a test): whole daemons programming 10,000 IPVS destinations (1,000 services × 10) from
// an empty table, inside the test guest (the host kernel has no IPVS). The same keepalived.conf (real servers
// without checkers, so both add them at once) is given to Debian's keepalived 2.2.7 and to keepalived-ts, each
// started with keepalived's command line. Measured: spawn → `ipvsadm -Sn` shows every line (and, programming alone,
// the first entry seen → every line), and SIGTERM → the table is empty again (both remove what they added).
// bench/ipvs-program.ts measures the library paths alone.
// Run on the host: `node --import tsx bench/ipvs-daemon-program.ts [services] [destsPerService]` (root, qemu;
// needs `npm run build` for bin/keepalived-ts.js). Figures are TCG-emulated: compare ratios, not absolute times.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runSelfInGuest } from '../test/vm/harness.js';

const nServices = Number(process.argv[2] ?? 1000);
const perService = Number(process.argv[3] ?? 10);
const vip = (i: number): string => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const rip = (i: number, j: number): string => { const n = i * perService + j; return `172.${16 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`; };
const lines = (): number => Number(execFileSync('sh', ['-c', 'ipvsadm -Sn | wc -l'], { encoding: 'utf8' }).trim());
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

async function inGuest(): Promise<void> {
  const expectLines = nServices * (perService + 1);
  const dir = mkdtempSync('/tmp/ktdbench-');
  const conf = ['global_defs {', '  router_id ktbench', '}'];
  for (let i = 0; i < nServices; i++) {
    conf.push(`virtual_server ${vip(i)} 80 {`, '  lb_algo wrr', '  lb_kind NAT', '  protocol TCP');
    for (let j = 0; j < perService; j++) conf.push(`  real_server ${rip(i, j)} 8080 {`, '    weight 1', '  }');
    conf.push('}');
  }
  writeFileSync(join(dir, 'keepalived.conf'), conf.join('\n') + '\n');
  const figures: Array<[string, number, number, number]> = [];
  try {
    for (const which of ['keepalived', 'keepalived-ts'] as const) {
      execFileSync('ipvsadm', ['-C']);
      const args = ['-n', '-l', '-f', join(dir, 'keepalived.conf'), '-p', join(dir, `${which}.pid`), '-r', join(dir, `${which}-vrrp.pid`), '-c', join(dir, `${which}-checkers.pid`)];
      const t0 = process.hrtime.bigint();
      const p = which === 'keepalived'
        ? spawn('keepalived', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } })
        : spawn(process.execPath, [join(REPO_ROOT, 'bin', 'keepalived-ts.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } });
      // Milestones from the daemon's own log, timed on arrival: where the start-up time goes.
      const milestones: Record<string, number> = {};
      let pending = '';
      const onLog = (d: Buffer): void => {
        pending += d.toString();
        const ls = pending.split('\n');
        pending = ls.pop() ?? '';
        for (const l of ls) {
          const key = /Starting .*child|Healthcheck: \d+ virtual|Initializing ipvs|IPVS: add|Activating healthchecker|Gained quorum|Stopping|Remov/.exec(l)?.[0];
          if (key && milestones[key] === undefined) milestones[key] = Math.round(ms(t0));
        }
      };
      p.stdout!.on('data', onLog);
      p.stderr!.on('data', onLog);
      let n = 0;
      const deadline = Date.now() + 900_000;
      let first = NaN;
      while ((n = lines()) < expectLines && Date.now() < deadline && p.exitCode === null) {
        if (n > 0 && Number.isNaN(first)) first = ms(t0);
        await new Promise((r) => setTimeout(r, 100));
      }
      const up = n >= expectLines ? ms(t0) : NaN;
      // Programming alone: from the first entry seen in the table (100 ms polls) to the last.
      milestones['table: first entry'] = Math.round(first);
      const t1 = process.hrtime.bigint();
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
      // keepalived's parent SIGKILLs a checker child still removing after its wait ("checker process failed to
      // die - forcing termination"), which leaves the rest in the table: give it 30 s, then count what is left.
      const settle = Date.now() + 30_000;
      while (lines() > 0 && Date.now() < settle) await new Promise((r) => setTimeout(r, 100));
      const left = lines();
      const down = left === 0 ? ms(t1) : NaN;
      figures.push([which === 'keepalived' ? 'keepalived 2.2.7' : 'keepalived-ts', up, down, up - first]);
      if (left) console.log(`${which}: ${left} of ${expectLines} lines left in the table after stop`);
      console.log(`${which}: log milestones (ms after spawn) ${JSON.stringify(milestones)}`);
    }
  } finally {
    execFileSync('ipvsadm', ['-C']);
    rmSync(dir, { recursive: true, force: true });
  }
  const fmt = (v: number): string => (Number.isNaN(v) ? 'did not finish' : `${v.toFixed(0).padStart(7)} ms`);
  console.log(`\nWhole daemons programming IPVS, ${nServices} services × ${perService} destinations, Linux ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()} under qemu`);
  for (const [k, up, down, prog] of figures) console.log(`  ${k.padEnd(18)} spawn → table complete ${fmt(up)}   first entry → complete ${fmt(prog)}   SIGTERM → table empty ${fmt(down)}`);
}

if (process.env.KT_IN_GUEST) await inGuest();
else await runSelfInGuest(import.meta.url, [String(nServices), String(perService)], { timeoutMs: 40 * 60_000, memoryMb: 2048 });
