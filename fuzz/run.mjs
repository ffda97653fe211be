// `npm run fuzz`: runs each Jazzer.js target for FUZZ_SECONDS (default 60) one after the other, under nice,
// and prints executions, exec/s, corpus size and crashes per target. Usage: node fuzz/run.mjs [target...]
// Seeds come from fuzz/seeds/<target> (committed); new inputs go to fuzz/corpus/<target> and crash or
// timeout inputs to fuzz/findings/ (both git-ignored). Exit code 1 when any target found something.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLoadable } from './glibc-compat.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
// Jazzer's path-traversal detector reports any file-system call on a path containing its marker
// "../../jaz_zer"; the -t path is meant to stat and realpath the script paths a config names (script security),
// so for the config target that detector only reports the check doing its job. The prototype-pollution and
// command-injection detectors stay on for every target.
const TARGETS = {
  'vrrp-advert': { maxLen: 4096, jazzer: [] },
  netlink: { maxLen: 4096, jazzer: [] },
  config: { maxLen: 16384, jazzer: ['--disableBugDetectors', 'path-traversal'] },
};
const seconds = Number(process.env.FUZZ_SECONDS ?? 60);
if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`FUZZ_SECONDS must be a positive number, got '${process.env.FUZZ_SECONDS}'`);
const wanted = process.argv.slice(2);
for (const t of wanted) if (!(t in TARGETS)) throw new Error(`unknown fuzz target '${t}' (known: ${Object.keys(TARGETS).join(', ')})`);
if (!existsSync(join(root, 'dist/src/vrrp/packet.js'))) throw new Error('dist/ is missing: run `npm run build` first');

const addon = join(root, 'node_modules/@jazzer.js/fuzzer/prebuilds', `fuzzer-${process.platform}-${process.arch}.node`);
if (process.platform === 'linux' && process.arch === 'x64' && ensureLoadable(addon))
  console.log('fuzz: patched the Jazzer.js addon for this glibc (see fuzz/glibc-compat.mjs)');

const count = (dir) => (existsSync(dir) ? readdirSync(dir).length : 0);

function runTarget(name, { maxLen, jazzer }) {
  const seeds = join(here, 'seeds', name), corpus = join(here, 'corpus', name), findings = join(here, 'findings');
  for (const d of [corpus, findings]) mkdirSync(d, { recursive: true });
  if (!count(seeds)) throw new Error(`no seeds in ${seeds}: run node fuzz/make-seeds.mjs`);
  const args = [
    join(root, 'node_modules/@jazzer.js/core/dist/cli.js'), join(here, 'targets', `${name}.mjs`), corpus, seeds,
    '--sync', '-i', join(root, 'dist/src/'), '--timeout', '10000', ...jazzer, '--',
    `-max_total_time=${seconds}`, `-max_len=${maxLen}`, '-print_final_stats=1', '-rss_limit_mb=4096',
    `-artifact_prefix=${findings}/${name}-`,
  ];
  return new Promise((resolve) => {
    const p = spawn('nice', ['-n', '10', process.execPath, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const keep = (b) => { log = (log + b.toString()).slice(-200_000); };
    p.stdout.on('data', keep);
    p.stderr.on('data', keep);
    p.on('close', (code, signal) => {
      const stat = (k) => Number(new RegExp(`stat::${k}:\\s+(\\d+)`).exec(log)?.[1] ?? NaN);
      const cov = /cov: (\d+)/g;
      let last; for (let m; (m = cov.exec(log)); ) last = m[1];
      const artifact = /Test unit written to (\S+)/.exec(log)?.[1];
      const finding = /==\d+== (.*)/.exec(log)?.[1] ?? (code !== 0 ? `exit ${code ?? signal}` : undefined);
      resolve({
        name, code, executions: stat('number_of_executed_units'), execPerSec: stat('average_exec_per_sec'),
        corpus: count(corpus) + count(seeds), cov: Number(last ?? NaN), crashes: code === 0 ? 0 : 1, artifact, finding,
        tail: code === 0 ? '' : log.split('\n').filter((l) => !/^"|# Uses|^#\d+/.test(l)).slice(-40).join('\n'),
      });
    });
  });
}

const results = [];
for (const name of wanted.length ? wanted : Object.keys(TARGETS)) {
  console.log(`fuzz: ${name} for ${seconds} s ...`);
  const r = await runTarget(name, TARGETS[name]);
  if (r.crashes) console.log(r.tail);
  console.log(`fuzz: ${name}: ${r.executions} executions, ${r.execPerSec} exec/s, corpus ${r.corpus}, coverage ${r.cov} edges, crashes ${r.crashes}` +
    (r.finding ? ` — ${r.finding}` : '') +
    (r.artifact ? ` (input: ${r.artifact}; replay: node node_modules/@jazzer.js/core/dist/cli.js fuzz/targets/${name}.mjs --sync ${TARGETS[name].jazzer.join(' ')} -- ${r.artifact})` : ''));
  results.push(r);
}
console.log('\ntarget        seconds  executions   exec/s   corpus  crashes');
for (const r of results)
  console.log(`${r.name.padEnd(13)} ${String(seconds).padStart(7)} ${String(r.executions).padStart(11)} ${String(r.execPerSec).padStart(8)} ${String(r.corpus).padStart(8)} ${String(r.crashes).padStart(8)}`);
process.exitCode = results.some((r) => r.crashes) ? 1 : 0;
