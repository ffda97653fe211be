// Benchmark (a script, not a test): a generated keepalived.conf of many virtual servers with health-checked real
// servers (default 5,000 × 10 = 50,000; TCP_CHECK on even, HTTP_GET on odd virtual servers) and one VRRP instance,
// given to Debian's keepalived 2.2.7 and to keepalived-ts one after the other in the same qemu guest (the host
// kernel has no IPVS). The real servers are 10 addresses on a dummy interface with one node HTTP listener on
// 0.0.0.0:8080 that answers every check. The table is polled from /proc/net/ip_vs (every 250 ms, or three times the
// last read's time when that is longer, plus the read) and
// compared in `ipvsadm -Sn` notation; the two daemons' final tables are compared with `ipvsadm -Sn`. Per daemon:
//   spawn → the table equals the configured one; SIGHUP with 10 % of the virtual servers removed and 10 % new
//   ones → the table equals the new config (or the daemon's death: acassen/keepalived #2318); SIGTERM → table empty
//   (keepalived's parent SIGKILLs a checker child still removing after child_wait_time: the lines left are counted);
//   the checker child's peak RSS and CPU per phase; checks/s counted by the listener; and the VRRP instance's
//   advert spacing captured with tcpdump on its interface (gaps beyond advert_int + 5 ms are "late").
// Run on the host: `node --import tsx bench/scale-50k.ts [virtualServers] [realServersPerVs] [delayLoopSeconds]
// [keepalived|keepalived-ts|both] [--vrrp-rt-priority=N]` (root, qemu; needs `npm run build`). TCG-emulated: compare
// ratios, not times.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, setPriority } from 'node:os';
import { REPO_ROOT, runSelfInGuest } from '../test/vm/harness.js';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const flag = (name: string): string | undefined => flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3);
const nVs = Number(positional[0] ?? 5000);
const perVs = Number(positional[1] ?? 10);
const delayLoop = Number(positional[2] ?? 300);
const which = positional[3] ?? 'both';
/** --log=DIR: each daemon's whole output (-D) goes to DIR/<daemon>.log (a folder of the checkout, which the guest
 *  writes through); --guest-minutes=N: the guest's time limit (default 60). */
const logDir = flag('log');
const guestMinutes = Number(flag('guest-minutes') ?? 60);
/** --phase-seconds=N: how long a phase may take before it is reported as not finished (default 1500). */
const phaseMs = Number(flag('phase-seconds') ?? 1500) * 1000;
/** --cpu-prof=DIR: every keepalived-ts process writes a V8 CPU profile there when it exits. */
const cpuProfDir = flag('cpu-prof');
/** --trace-gc: every keepalived-ts process prints V8's line per garbage collection into the --log file. */
const traceGc = flags.includes('--trace-gc');
/** --steady-seconds=N: the window with the table in place over which checks/s and the checker's CPU are counted. */
const steadyMs = Number(flag('steady-seconds') ?? 30) * 1000;
/** --vrrp-rt-priority=N: `vrrp_rt_priority N` in global_defs (both daemons): the VRRP process at SCHED_RR. */
const vrrpRtPriority = flag('vrrp-rt-priority');
/** --trace-vrrp: the guest kernel's tracer records keepalived-ts's VRRP child (its syscalls, context switches, wake-ups,
 *  page faults, timer interrupts) and every SIGKILL / SIGXCPU with the kernel stack that sent it; written to the --log
 *  folder as trace-vrrp-N.txt each time the child is replaced, and at the end. */
const traceVrrp = flags.includes('--trace-vrrp');
/** --guest-preempt=none|voluntary|full: the guest kernel's preemption mode, chosen at boot (Debian's kernel is built
 *  PREEMPT_DYNAMIC, voluntary by default). `full` lets a woken real-time thread preempt another process inside the
 *  kernel, where voluntary waits for that process's next preemption point. */
const guestPreempt = flag('guest-preempt');
/** --guest-cpus=N: the guest's virtual CPUs (default 1). A director has more than one core: with one, a kernel
 *  section of the checker (a softirq, a lock held) keeps the VRRP child's threads off the only CPU. */
const guestCpus = Number(flag('guest-cpus') ?? 1);
const TRACEFS = '/sys/kernel/tracing';
const IFACE = 'ktscale0';
const ADVERT_MS = 1000;

const vip = (i: number): string => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const rip = (j: number): string => `10.200.0.${j + 1}`;
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

/** keepalived.conf for virtual servers [from, to), and the `ipvsadm -Sn` lines it should leave. */
function config(from: number, to: number): { text: string; lines: Set<string> } {
  const c = ['global_defs {', '  router_id ktscale', ...(vrrpRtPriority ? [`  vrrp_rt_priority ${vrrpRtPriority}`] : []), '}',
    'vrrp_instance VI_SCALE {', '  state MASTER', `  interface ${IFACE}`, '  virtual_router_id 77', '  priority 150',
    `  advert_int ${ADVERT_MS / 1000}`, '  virtual_ipaddress {', '    192.168.77.100/24', '  }', '}'];
  const lines = new Set<string>();
  for (let i = from; i < to; i++) {
    c.push(`virtual_server ${vip(i)} 80 {`, `  delay_loop ${delayLoop}`, '  lb_algo wrr', '  lb_kind NAT', '  protocol TCP');
    lines.add(`-A -t ${vip(i)}:80 -s wrr`);
    for (let j = 0; j < perVs; j++) {
      c.push(`  real_server ${rip(j)} 8080 {`, '    weight 1');
      if (i % 2 === 0) c.push('    TCP_CHECK {', '      connect_timeout 30', '    }');
      else c.push('    HTTP_GET {', '      url {', '        path /', '        status_code 200', '      }', '      connect_timeout 30', '    }');
      c.push('  }');
      lines.add(`-a -t ${vip(i)}:80 -r ${rip(j)}:8080 -m -w 1`);
    }
    c.push('}');
  }
  return { text: c.join('\n') + '\n', lines };
}

const table = (): string[] => execFileSync('ipvsadm', ['-Sn'], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n').filter(Boolean);
const hexAddr = (h: string): string => { const [a, p] = h.split(':'); return `${[0, 2, 4, 6].map((k) => parseInt(a.slice(k, k + 2), 16)).join('.')}:${parseInt(p, 16)}`; };
const FWD: Record<string, string> = { Masq: '-m', Route: '-g', Tunnel: '-i' };
/** The table from /proc/net/ip_vs in `ipvsadm -Sn`'s notation (IPv4 TCP services here): one read of a kernel
 *  text, much cheaper in the emulated guest than ipvsadm's dump per service (5 s for 11,000 lines, competing with
 *  the daemon). */
function procTable(): string[] {
  const out: string[] = [];
  let svc = '';
  for (const l of readFileSync('/proc/net/ip_vs', 'utf8').split('\n')) {
    const t = l.trim().split(/\s+/);
    if (t[0] === 'TCP') { svc = `-t ${hexAddr(t[1])}`; out.push(`-A ${svc} -s ${t[2]}`); }
    else if (t[0] === '->' && /^[0-9A-F]{8}:/.test(t[1])) out.push(`-a ${svc} -r ${hexAddr(t[1])} ${FWD[t[2]] ?? t[2]} -w ${t[3]}`);
  }
  return out;
}

/** The checker child's CPU (ms, user + system) and RSS (kB), or undefined when it is gone. */
function procStats(pid: number | undefined): { cpuMs: number; rssKb: number } | undefined {
  if (!pid || !existsSync(`/proc/${pid}/stat`)) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuMs: (Number(f[11]) + Number(f[12])) * 10, rssKb: Number(rss?.[1] ?? 0) };
  } catch {
    return undefined;
  }
}
/** The running kernel's preemption mode: debugfs marks the chosen one in parentheses, e.g. `none (voluntary) full`. */
function preemptMode(): string {
  try {
    execFileSync('sh', ['-c', 'mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug']);
    return /\((\w+)\)/.exec(readFileSync('/sys/kernel/debug/sched/preempt', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
const readPid = (f: string): number | undefined => { try { return Number(readFileSync(f, 'utf8').trim()) || undefined; } catch { return undefined; } };

interface Phase { name: string; ms: number; note: string; cpuMs?: number; peakRssKb?: number; startSec: number; endSec: number }

async function inGuest(): Promise<void> {
  const sh = (c: string): string => execFileSync('sh', ['-c', c], { encoding: 'utf8' });
  sh(`ip link set lo up; ip link add ${IFACE} type dummy; ip link set ${IFACE} multicast on up; ip addr add 192.168.77.1/24 dev ${IFACE}`);
  for (let j = 0; j < perVs; j++) sh(`ip addr add ${rip(j)}/24 dev ${IFACE}`);
  // One listener for every real server: counts connections (a TCP_CHECK) and answers HTTP GETs with 200.
  const listener = spawn(process.execPath, ['-e', `
    const http = require('node:http'); let conns = 0;
    const s = http.createServer((q, r) => { r.writeHead(200, { 'content-type': 'text/plain' }); r.end('ok\\n'); });
    s.on('connection', () => { conns++; }); s.keepAliveTimeout = 1000;
    s.listen(8080, '0.0.0.0', () => process.send('up'));
    process.on('message', () => process.send(conns));`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((r) => listener.once('message', r));
  // Real servers are other machines: sharing the guest's one vCPU with the daemon at the same priority, the listener
  // fell more than connect_timeout (30 s) behind while a daemon started up and HTTP_GETs failed (TCP_CHECKs, answered
  // by the kernel, did not): 35 and 57 of 50,000 real servers down in two runs. Ahead of the daemons, it answers as
  // a real server would.
  setPriority(listener.pid!, -10);
  const conns = (): Promise<number> => new Promise((r) => { listener.once('message', (m) => r(Number(m))); listener.send('count'); });
  if (traceVrrp) {
    sh(`mountpoint -q ${TRACEFS} || mount -t tracefs tracefs ${TRACEFS}; echo 65536 > ${TRACEFS}/buffer_size_kb; echo 1 > ${TRACEFS}/options/record-tgid`);
    sh(`echo 'sig == 9 || sig == 24' > ${TRACEFS}/events/signal/signal_generate/filter; echo 'stacktrace' > ${TRACEFS}/events/signal/signal_generate/trigger; echo 1 > ${TRACEFS}/events/signal/signal_generate/enable`);
  }
  /** Traces the VRRP child `pid` and its advert sender thread (kt-advert) from now on: syscalls, switches, wake-ups
   *  (the signal events stay on). */
  const traceProcess = (pid: number): void => {
    const ev = (e: string, filter: string): void => { sh(`if [ -d ${TRACEFS}/events/${e} ]; then echo '${filter}' > ${TRACEFS}/events/${e}/filter; echo 1 > ${TRACEFS}/events/${e}/enable; fi`); };
    let tids = [pid];
    try {
      tids = [pid, ...readdirSync(`/proc/${pid}/task`).map(Number).filter((t) => t !== pid && readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim() === 'kt-advert')];
    } catch { /* gone: its successor is traced */ }
    const any = (field: string): string => tids.map((t) => `${field} == ${t}`).join(' || ');
    ev('raw_syscalls/sys_enter', any('common_pid'));
    ev('raw_syscalls/sys_exit', any('common_pid'));
    ev('sched/sched_switch', `${any('prev_pid')} || ${any('next_pid')}`);
    ev('sched/sched_wakeup', any('pid'));
    ev('exceptions/page_fault_user', any('common_pid'));
    ev('irq_vectors/local_timer_entry', 'vector != 0'); // every timer interrupt (the scheduler tick among them)
    console.log(`tracing the VRRP child ${pid} (threads ${tids.join(', ')})`);
  };
  const a = config(0, nVs);
  const tenth = Math.max(1, Math.round(nVs / 10));
  const b = config(tenth, nVs + tenth);
  const results: Array<{ daemon: string; phases: Phase[]; tableA?: string[]; tableB?: string[]; adverts: number[] }> = [];
  const dir = mkdtempSync('/tmp/ktscale-');
  console.log(`config: ${nVs} virtual servers × ${perVs} real servers (${a.lines.size} ipvsadm lines; ${(a.text.length / 1e6).toFixed(1)} MB, ${a.text.split('\n').length} lines), delay_loop ${delayLoop} s; reload: -${tenth} / +${tenth} virtual servers`);
  try {
    for (const d of which === 'both' ? ['keepalived', 'keepalived-ts'] : [which]) {
      execFileSync('ipvsadm', ['-C']);
      const conf = join(dir, `${d}.conf`);
      writeFileSync(conf, a.text);
      const pidf = join(dir, `${d}-checkers.pid`);
      const args = ['-n', '-l', ...(logDir ? ['-D'] : []), '-f', conf, '-p', join(dir, `${d}.pid`), '-r', join(dir, `${d}-vrrp.pid`), '-c', pidf];
      const cap = spawn('tcpdump', ['-i', IFACE, '-n', '-l', '-tt', '--immediate-mode', 'ip proto 112'], { stdio: ['ignore', 'pipe', 'ignore'] });
      const adverts: number[] = [];
      let capBuf = '';
      cap.stdout!.on('data', (c: Buffer) => {
        capBuf += c.toString();
        const ls = capBuf.split('\n');
        capBuf = ls.pop() ?? '';
        for (const l of ls) { const m = /^(\d+\.\d+) IP 192\.168\.77\.1 > 224\.0\.0\.18: VRRPv2, Advertisement/.exec(l); if (m) adverts.push(Number(m[1])); }
      });
      await sleep(1000);
      const t0 = process.hrtime.bigint();
      const p: ChildProcess = d === 'keepalived'
        ? spawn('keepalived', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } })
        // Node 20 refuses --cpu-prof in NODE_OPTIONS; given to the parent's node, the children inherit it (execArgv).
        : spawn(process.execPath, [...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []), ...(traceGc ? ['--trace-gc'] : []), join(REPO_ROOT, 'bin', 'keepalived-ts.js'), ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, TMPDIR: dir },
        });
      let logTail = '';
      const logFile = logDir ? join(logDir, `${d}.log`) : undefined;
      if (logFile) writeFileSync(logFile, '');
      const keep = (c: Buffer): void => { logTail = (logTail + c.toString()).slice(-4000); if (logFile) appendFileSync(logFile, c); };
      p.stdout!.on('data', keep);
      p.stderr!.on('data', keep);
      const phases: Phase[] = [];
      // The VRRP child traced from its start; when it is replaced (a respawn after its death), the trace so far is
      // written out (trace-vrrp-N.txt) and the new child traced.
      let traced: number | undefined;
      let dumps = 0;
      const dumpTrace = (): void => {
        if (!logDir) return;
        const f = join(logDir, `trace-vrrp-${++dumps}.txt`);
        sh(`echo 0 > ${TRACEFS}/tracing_on; cat ${TRACEFS}/trace > ${f}; echo > ${TRACEFS}/trace; echo 1 > ${TRACEFS}/tracing_on; dmesg > ${join(logDir, 'dmesg.txt')}`);
        console.log(`${new Date().toISOString()} trace written to ${f}`);
      };
      const tracer = traceVrrp && d === 'keepalived-ts' ? setInterval(() => {
        const now = readPid(join(dir, `${d}-vrrp.pid`));
        if (!now || now === traced) return;
        if (traced) dumpTrace();
        traced = now;
        traceProcess(now);
      }, 500) : undefined;
      let peak = 0;
      let pollMs = 0;
      const nowSec = (): number => Date.now() / 1000;
      // Polls the table until `done` says so (or the daemon dies / the deadline passes); samples the checker child.
      const until = async (name: string, done: (t: string[]) => boolean, deadlineMs: number, tStart: bigint, afterExit = false): Promise<Phase> => {
        const startSec = nowSec();
        const before = procStats(readPid(pidf));
        peak = 0;
        let t: string[] = [];
        let ok = false;
        for (;;) {
          const tp = process.hrtime.bigint();
          t = procTable();
          pollMs = Math.max(pollMs, ms(tp));
          const s = procStats(readPid(pidf));
          if (s) peak = Math.max(peak, s.rssKb);
          if (done(t)) { ok = true; break; }
          if (ms(tStart) > deadlineMs || (!afterExit && (p.exitCode !== null || p.signalCode !== null))) break;
          // At most a quarter of the guest's one vCPU: reading 55,000 lines of /proc/net/ip_vs takes seconds in
          // TCG, and polling every 250 ms starved both daemons (probes timed out, real servers went down).
          await sleep(Math.max(250, 3 * ms(tp)));
        }
        const after = procStats(readPid(pidf));
        const took = ms(tStart);
        console.log(`${new Date().toISOString()} ${d}: ${name}: ${ok ? `${(took / 1000).toFixed(1)} s` : `not done after ${(took / 1000).toFixed(1)} s`} (${t.length} lines)`);
        const note = ok ? '' : p.exitCode !== null || p.signalCode !== null ? `daemon exited (${p.exitCode ?? p.signalCode}) with ${t.length} lines` : `not reached in ${deadlineMs} ms (${t.length} lines)`;
        return { name, ms: ok ? took : NaN, note, cpuMs: before && after ? after.cpuMs - before.cpuMs : undefined, peakRssKb: peak || undefined, startSec, endSec: nowSec() };
      };
      const equals = (want: Set<string>) => (t: string[]): boolean => t.length === want.size && t.every((l) => want.has(l));
      const up = await until('start: spawn → table complete', equals(a.lines), phaseMs, t0);
      phases.push(up);
      const tableA = table();
      // Checks running with the table in place: CPU and checks/s over a quiet window.
      const c0 = await conns();
      const s0 = procStats(readPid(pidf));
      const q0 = process.hrtime.bigint();
      const qStart = nowSec();
      await sleep(steadyMs);
      const s1 = procStats(readPid(pidf));
      const qMs = ms(q0);
      const checksPerS = ((await conns()) - c0) / (qMs / 1000);
      phases.push({ name: `steady: ${checksPerS.toFixed(0)} checks/s over ${(qMs / 1000).toFixed(0)} s`, ms: qMs, note: '', cpuMs: s0 && s1 ? s1.cpuMs - s0.cpuMs : undefined, peakRssKb: s1?.rssKb, startSec: qStart, endSec: nowSec() });
      const checkerBefore = readPid(pidf);
      writeFileSync(conf, b.text);
      const t1 = process.hrtime.bigint();
      p.kill('SIGHUP');
      const rl = await until(`reload: SIGHUP → table equals the new config`, equals(b.lines), phaseMs, t1);
      const checkerAfter = readPid(pidf);
      if (checkerAfter !== checkerBefore) rl.note += ` checker child pid ${checkerBefore} → ${checkerAfter}`;
      phases.push(rl);
      const tableB = table();
      const t2 = process.hrtime.bigint();
      const exited = new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(undefined) : p.once('exit', r)));
      const stopStart = nowSec();
      p.kill('SIGTERM');
      await exited;
      const exitMs = ms(t2);
      const down = await until('stop: SIGTERM → table empty', (t) => t.length === 0, exitMs + 30_000, t2, true);
      if (Number.isNaN(down.ms)) down.note = `${procTable().length} lines left 30 s after the daemon exited`;
      down.note = `daemon exit ${p.exitCode ?? p.signalCode} after ${exitMs.toFixed(0)} ms${down.note ? `; ${down.note}` : ''}`;
      down.startSec = stopStart;
      phases.push(down);
      await sleep(500);
      cap.kill('SIGTERM');
      results.push({ daemon: d === 'keepalived' ? 'keepalived 2.2.7' : 'keepalived-ts', phases, tableA, tableB, adverts });
      // Runs of one daemon each (a lock hold may not fit both): the tables kept to compare across runs.
      if (logDir) for (const [n, t] of [['start', tableA], ['reload', tableB]] as const) writeFileSync(join(logDir, `${d}-table-${n}.txt`), [...t].sort().join('\n') + '\n');
      if (tracer) {
        clearInterval(tracer);
        dumpTrace();
      }
      console.log(`${d}: done (slowest /proc/net/ip_vs poll ${pollMs.toFixed(0)} ms); log tail:\n${logTail.split('\n').slice(-6).join('\n')}`);
    }
  } finally {
    listener.kill();
    execFileSync('ipvsadm', ['-C']);
    rmSync(dir, { recursive: true, force: true });
  }
  const fmt = (v: number): string => (Number.isNaN(v) ? 'did not finish' : `${(v / 1000).toFixed(1)} s`);
  console.log(`\n${nVs} virtual servers × ${perVs} real servers (TCP_CHECK / HTTP_GET), delay_loop ${delayLoop}, Linux ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()} under qemu, ${cpus().length} CPU(s), preemption ${preemptMode()}`);
  for (const r of results) {
    console.log(`  ${r.daemon}`);
    for (const ph of r.phases) {
      const gaps: number[] = [];
      const lateAt: string[] = []; // when each late advert came, from the phase's start, to match against the daemon's log
      for (let k = 1; k < r.adverts.length; k++) {
        if (r.adverts[k] < ph.startSec || r.adverts[k] > ph.endSec) continue;
        const gap = (r.adverts[k] - r.adverts[k - 1]) * 1000;
        gaps.push(gap);
        if (gap > ADVERT_MS + 5) lateAt.push(`+${(r.adverts[k] - ph.startSec).toFixed(1)} s ${gap.toFixed(0)} ms (${new Date(r.adverts[k] * 1000).toISOString().slice(11, 23)})`);
      }
      const late = lateAt.length;
      const vrrp = gaps.length ? `adverts ${gaps.length}, longest gap ${Math.max(...gaps).toFixed(1)} ms, ${late} late > ${ADVERT_MS + 5} ms` +
        (late ? ` [${lateAt.slice(0, 20).join(', ')}${late > 20 ? ', …' : ''}]` : '') : 'no adverts';
      console.log(`    ${ph.name.padEnd(48)} ${fmt(ph.ms).padStart(14)}  checker CPU ${ph.cpuMs ?? '?'} ms, RSS ${ph.peakRssKb ? (ph.peakRssKb / 1024).toFixed(0) : '?'} MB; VRRP ${vrrp}${ph.note ? `; ${ph.note}` : ''}`);
    }
  }
  if (results.length === 2) {
    const [k, t] = results;
    const same = (x?: string[], y?: string[]): string => (x && y && JSON.stringify([...x].sort()) === JSON.stringify([...y].sort()) ? 'equal' : `differ (${x?.length} / ${y?.length} lines)`);
    console.log(`  tables after start: ${same(k.tableA, t.tableA)}; after reload: ${same(k.tableB, t.tableB)}`);
    for (let i = 0; i < k.phases.length; i++) console.log(`  ratio ${k.phases[i].name.split(':')[0]}: ${(t.phases[i].ms / k.phases[i].ms).toFixed(2)} ×`);
  }
}

if (process.env.KT_IN_GUEST) await inGuest();
else await runSelfInGuest(import.meta.url, [String(nVs), String(perVs), String(delayLoop), which, ...flags], { timeoutMs: guestMinutes * 60_000, memoryMb: 4096, kernelArgs: guestPreempt ? [`preempt=${guestPreempt}`] : [], cpus: guestCpus });
