// Benchmark: `keepalived-ts -t` on a generated config with 1,000 virtual_server × 10 real_server (TCP_CHECK each),
// beside `keepalived -t -f` on the same file in a fresh network namespace. The headline is the real command run
// cold (a fresh process each time, as an operator runs it), the two alternating run by run: min / median / max wall
// and CPU of several runs, and the ratio of the medians.
// Warm in-process figures (parse only, and the whole checkConfig) follow, to tell start-up from steady state.
// Goal (issue 11): keepalived-ts -t within 2x of keepalived -t. Wall time on a loaded machine moves with the load;
// CPU time (user+system of the process, from /usr/bin/time) is the steadier figure, so both are printed, and the
// ratio of each.
// The command is bin/keepalived-ts, the launcher an operator runs (package.json's bin): with NODE_EXTRA_CA_CERTS
// set, as on this machine, it keeps Node from loading that file at start (src/util/extra-ca-certs.ts); the same
// -t started as `node dist/src/cli.js` is then printed too, and node's own start with and without the variable.
// Run: node --import tsx bench/config-parse.ts [runs]   (needs `npm run build`: -t loads the checker from the
// bundle npm run build makes; it says which it used)
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { parseConfigFile } from '../src/config/parse.js';
import { checkConfig } from '../src/config/check-config.js';
import { checkerBundleFresh } from '../src/config/check-bundle.js';

function generate(): string {
  const out: string[] = ['global_defs {', '    router_id bench', '}', ''];
  for (let v = 0; v < 1000; v++) {
    const vip = `10.${100 + (v >> 8)}.${v & 255}.1`;
    out.push(`virtual_server ${vip} 80 {`, '    delay_loop 6', '    lb_algo rr', '    lb_kind NAT', '    protocol TCP', '');
    for (let r = 0; r < 10; r++) {
      out.push(
        `    real_server 192.168.${v & 255}.${r + 10} 8080 {`,
        '        weight 1',
        '        TCP_CHECK {',
        '            connect_timeout 3',
        '            connect_port 8080',
        '        }',
        '    }',
      );
    }
    out.push('}', '');
  }
  return out.join('\n');
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const ms = (x: number): string => x.toFixed(0).padStart(5);

interface Run { wall: number; cpu: number; status: number | null }

/** Runs a command `runs` times under /usr/bin/time: wall from here, CPU (user+sys) of the command itself. */
function timeCommand(argv: string[], runs: number, env: NodeJS.ProcessEnv = process.env): Run[] {
  const out: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', 'BENCHCPU %U %S', ...argv], { encoding: 'utf8', env });
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    const m = /BENCHCPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
    out.push({ wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN, status: r.status });
  }
  return out;
}

const summary = (rs: Run[]): { wall: number; cpu: number } => ({ wall: median(rs.map((r) => r.wall)), cpu: median(rs.map((r) => r.cpu)) });
const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(0)} / ${median(xs).toFixed(0)} / ${Math.max(...xs).toFixed(0)}`;

const runs = Number(process.argv[2] ?? 9);
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/src/cli.js');
const launcher = join(root, 'bin/keepalived-ts');
const extraCa = process.env.NODE_EXTRA_CA_CERTS;
const withoutExtraCa = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
};
const dir = mkdtempSync(join(tmpdir(), 'kt-bench-'));
const file = join(dir, 'keepalived.conf');
const text = generate();
writeFileSync(file, text);
try {
  console.log(`config: ${text.split('\n').length} lines, 1000 virtual_server x 10 real_server (TCP_CHECK); ${runs} cold runs each, alternating`);
  console.log(`load average ${loadavg()[0]!.toFixed(2)} on ${cpus().length} CPUs (wall times move with it; CPU times less)`);

  // The real commands, cold and alternating run by run (keepalived-ts, then keepalived in a fresh netns), so a change
  // of load on the shared machine falls on both. -i bench: the config id is fixed so the host name plays no part.
  if (!existsSync(cli)) throw new Error(`${cli} missing: run npm run build`);
  // Which checker -t loads (src/config/check-bundle.ts): the bundle with its code cache, or the modules.
  console.log(checkerBundleFresh(join(root, 'dist')) ? 'checker: dist/config-check.cjs with its code cache' : 'checker: the ES modules (bundle missing or older than dist: npm run build makes it)');
  const ns = `ktcfb${process.pid.toString(36)}`;
  const have = spawnSync('sh', ['-c', 'command -v keepalived'], { encoding: 'utf8' }).status === 0 && process.getuid?.() === 0;
  if (!have) console.log('keepalived -t: skipped (needs root and /usr/sbin/keepalived)');
  else spawnSync('ip', ['netns', 'add', ns]);
  const oursRuns: Run[] = [];
  const theirRuns: Run[] = [];
  const directRuns: Run[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      oursRuns.push(...timeCommand([launcher, '-t', '-i', 'bench', '-f', file], 1));
      if (extraCa !== undefined) directRuns.push(...timeCommand([process.execPath, cli, '-t', '-i', 'bench', '-f', file], 1));
      if (have) theirRuns.push(...timeCommand(['ip', 'netns', 'exec', ns, 'keepalived', '-t', '-f', file, '-n', '-l'], 1));
    }
  } finally {
    if (have) spawnSync('ip', ['netns', 'del', ns]);
  }
  if (oursRuns.some((r) => r.status !== 0)) throw new Error(`keepalived-ts -t exited ${oursRuns.map((r) => r.status).join(',')} on the bench config`);
  const ours = summary(oursRuns);
  const base = summary(timeCommand([process.execPath, '-e', '0'], Math.min(runs, 5), withoutExtraCa()));
  console.log(`keepalived-ts -t (bin/keepalived-ts, cold, whole process): wall ${spread(oursRuns.map((r) => r.wall))} ms, CPU ${spread(oursRuns.map((r) => r.cpu))} ms (min / median / max)`);
  console.log(`  of which node itself starting (node -e 0): median ${ms(base.wall)} ms wall, ${ms(base.cpu)} ms CPU`);
  if (extraCa !== undefined) {
    const loaded = summary(timeCommand([process.execPath, '-e', '0'], Math.min(runs, 5)));
    console.log(`NODE_EXTRA_CA_CERTS=${extraCa} is set: node -e 0 with it loaded: median ${ms(loaded.wall)} ms wall, ${ms(loaded.cpu)} ms CPU`);
    console.log(`  node dist/src/cli.js -t (Node loads it): wall ${spread(directRuns.map((r) => r.wall))} ms, CPU ${spread(directRuns.map((r) => r.cpu))} ms`);
  }
  if (have) {
    const theirs = summary(theirRuns);
    console.log(`keepalived    -t (fresh netns, whole process): wall ${spread(theirRuns.map((r) => r.wall))} ms, CPU ${spread(theirRuns.map((r) => r.cpu))} ms`);
    console.log(`ratio keepalived-ts / keepalived (medians): wall ${(ours.wall / theirs.wall).toFixed(2)}, CPU ${(ours.cpu / theirs.cpu).toFixed(2)}   [goal: <= 2]`);
  }
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end`);

  // Warm, in this process: the steady-state cost once the JIT has seen the code (first run = cold-ish).
  const warm = (f: () => void): { first: number; med: number; cpu: number } => {
    const walls: number[] = [];
    const cpusUsed: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      f();
      walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const c = process.cpuUsage(c0);
      cpusUsed.push((c.user + c.system) / 1000);
    }
    return { first: walls[0]!, med: median(walls), cpu: median(cpusUsed) };
  };
  const p = warm(() => {
    const r = parseConfigFile(file, { configId: 'bench' });
    if (r.diags.list.length) throw new Error(`unexpected diagnostics: ${r.diags.list.length}`);
  });
  console.log(`warm parseConfigFile (in process): median ${ms(p.med)} ms wall, ${ms(p.cpu)} ms CPU (first run ${p.first.toFixed(0)} ms wall)`);
  const c = warm(() => {
    const r = checkConfig(file, { configId: 'bench', hostname: 'bench', interfaces: null });
    if (r.exitCode !== 0) throw new Error(`unexpected exit code ${r.exitCode}`);
  });
  console.log(`warm checkConfig     (in process): median ${ms(c.med)} ms wall, ${ms(c.cpu)} ms CPU (first run ${c.first.toFixed(0)} ms wall)`);
} finally {
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
}
