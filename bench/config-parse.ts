// Benchmark: preprocess+parse of a generated config with 1,000 virtual_server × 10 real_server (TCP_CHECK each),
// median of several runs, against `keepalived -t -f` on the same file in a fresh network namespace.
// Run: node --import tsx bench/config-parse.ts [runs]
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseConfigFile } from '../src/config/parse.js';

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

// `--cold FILE`: one parse in this fresh process (what `keepalived-ts -t` pays: no JIT warm-up yet).
if (process.argv[2] === '--cold') {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  parseConfigFile(process.argv[3]!, { configId: 'bench' });
  const c = process.cpuUsage(c0);
  console.log(JSON.stringify({ wall: Number(process.hrtime.bigint() - t0) / 1e6, cpu: (c.user + c.system) / 1000 }));
  process.exit(0);
}

const runs = Number(process.argv[2] ?? 9);
const dir = mkdtempSync(join(tmpdir(), 'kt-bench-'));
const file = join(dir, 'keepalived.conf');
const text = generate();
writeFileSync(file, text);
try {
  const times: number[] = [];
  const cpus: number[] = [];
  let nodes = 0;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const r = parseConfigFile(file, { configId: 'bench' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
    nodes = r.nodes.length;
    if (r.diags.list.length) throw new Error(`unexpected diagnostics: ${r.diags.list.length}`);
  }
  const ours = median(times);
  console.log(`config: ${text.split('\n').length} lines, ${nodes} top-level nodes`);
  console.log(`keepalived-ts parseConfigFile: median ${ours.toFixed(1)} ms wall, ${median(cpus).toFixed(1)} ms CPU over ${runs} runs (first run ${times[0]!.toFixed(1)} ms wall, ${cpus[0]!.toFixed(1)} ms CPU)`);
  const cold: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--cold', file], { encoding: 'utf8' });
    cold.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
  }
  console.log(`keepalived-ts cold (one parse in a fresh process, median of 3): ${median(cold.map((c) => c.wall)).toFixed(1)} ms wall, ${median(cold.map((c) => c.cpu)).toFixed(1)} ms CPU`);
  console.log(`load average ${(await import('node:os')).loadavg()[0]!.toFixed(2)} on ${(await import('node:os')).cpus().length} CPUs`);

  const ns = `ktcfb${process.pid.toString(36)}`;
  const have = spawnSync('sh', ['-c', 'command -v keepalived'], { encoding: 'utf8' }).status === 0;
  if (!have || process.getuid?.() !== 0) {
    console.log('keepalived -t: skipped (needs root and /usr/sbin/keepalived)');
  } else {
    spawnSync('ip', ['netns', 'add', ns]);
    try {
      const kt: number[] = [];
      const ktCpu: number[] = [];
      for (let i = 0; i < Math.min(runs, 5); i++) {
        const t0 = process.hrtime.bigint();
        // /usr/bin/time reports the CPU keepalived used (user+system), independent of other load.
        const r = spawnSync('/usr/bin/time', ['-f', 'KTCPU %U %S', 'ip', 'netns', 'exec', ns, 'keepalived', '-t', '-f', file, '-n', '-l'], { encoding: 'utf8' });
        kt.push(Number(process.hrtime.bigint() - t0) / 1e6);
        const m = /KTCPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
        if (m) ktCpu.push((Number(m[1]) + Number(m[2])) * 1000);
      }
      const theirs = median(kt);
      const theirsCpu = ktCpu.length ? median(ktCpu) : NaN;
      console.log(`keepalived -t -f (fresh netns, whole process): median ${theirs.toFixed(1)} ms wall, ${theirsCpu.toFixed(0)} ms CPU over ${kt.length} runs`);
      console.log(`ratio keepalived-ts / keepalived: wall ${(ours / theirs).toFixed(2)}, CPU ${(median(cpus) / theirsCpu).toFixed(2)}`);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  }
} finally {
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
}
