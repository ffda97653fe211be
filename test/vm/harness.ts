// A throw-away Linux guest with IPVS for tests that need a real kernel (this host's kernel has no IPVS).
//
// The guest is Debian's own kernel (the package linux-image-amd64 depends on), booted with qemu under software
// emulation (TCG) or KVM when a usable /dev/kvm exists. Nothing is installed on the host: the .deb is fetched
// with `apt-get download`, unpacked with `dpkg-deb -x`, its modules indexed with `busybox depmod`, and a tiny
// initramfs (static busybox + the module closure of ip_vs/schedulers/veth/bridge/dummy/9p + /init) is written
// under <repo>/.work/vm/ (gitignored). The guest mounts the host root read-only over virtio-9p, the project
// checkout read-write at its own path, tmpfs on /tmp /run /var/tmp, runs ONE shell command with the host's own
// node/ipvsadm/ip/keepalived, writes its exit status into the checkout and powers off.
// The command's output comes back on the second serial port (streamed); kernel messages go to a log file.
// Pitfalls found on this machine kind: /work/shared/reference/real-kernel-ipvs.md.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, accessSync, constants as fsc } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { KtError } from '../../src/util/errors.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE_ROOT = join(REPO_ROOT, '.work', 'vm');
const BUSYBOX = '/bin/busybox';

/** Modules the guest loads (with their dependency closure, in order). Missing optional ones are skipped. */
// crc32c_generic is libcrc32c's soft dependency (softdep=pre: crc32c), which modules.dep does not record.
export const GUEST_MODULES = [
  'crc32c_generic', 'virtio_pci', '9pnet_virtio', '9p',
  'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_lc', 'ip_vs_wlc', 'ip_vs_lblc', 'ip_vs_lblcr', 'ip_vs_dh', 'ip_vs_sh',
  'ip_vs_sed', 'ip_vs_nq', 'ip_vs_fo', 'ip_vs_ovf', 'ip_vs_mh', 'ip_vs_twos', 'ip_vs_pe_sip',
  'veth', 'bridge', 'dummy', 'ipip', 'ipvlan',
];
const REQUIRED_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'ip_vs', 'veth'];

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Why a guest cannot run here, or false. Used as a test skip reason. */
export function vmUnavailable(): string | false {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the IPVS guest needs an x86-64 Linux host';
  if (process.getuid?.() !== 0) return 'needs root (the IPVS guest shares the host root over 9p and runs ipvsadm)';
  for (const c of ['qemu-system-x86_64', 'apt-get', 'apt-cache', 'dpkg-deb', 'xz']) {
    if (!has(c)) return `needs '${c}' (scripts/setup-system.sh installs qemu-system-x86 and busybox-static)`;
  }
  if (!existsSync(BUSYBOX) || !/statically linked/.test(spawnSync('file', [BUSYBOX]).stdout?.toString() ?? 'statically linked')) {
    return `needs a static ${BUSYBOX} (package busybox-static)`;
  }
  return false;
}

/** KVM only when it is a real hardware hypervisor (kvm_intel/kvm_amd); PVM's /dev/kvm cannot boot a stock kernel. */
function kvmUsable(): boolean {
  if (process.env.KT_VM_ACCEL) return process.env.KT_VM_ACCEL === 'kvm';
  try {
    accessSync('/dev/kvm', fsc.R_OK | fsc.W_OK);
    const mods = readFileSync('/proc/modules', 'utf8');
    const cpu = readFileSync('/proc/cpuinfo', 'utf8');
    return /^kvm_(intel|amd) /m.test(mods) && /\b(vmx|svm)\b/.test(cpu);
  } catch {
    return false;
  }
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer } = {}): Buffer {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, maxBuffer: 1 << 30 });
  if (r.error) throw new KtError('KT_VM_BUILD', `${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new KtError('KT_VM_BUILD', `${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().trim().slice(-2000)}`);
  return r.stdout;
}

/** The linux-image package linux-image-amd64 depends on (the version moves with Debian point releases). */
export function resolveKernelPackage(): string {
  if (process.env.KT_VM_KERNEL_PKG) return process.env.KT_VM_KERNEL_PKG;
  const out = run('apt-cache', ['depends', 'linux-image-amd64']).toString();
  const m = /Depends:\s*(linux-image-[0-9][^\s]*-amd64)\b/.exec(out);
  if (!m) throw new KtError('KT_VM_BUILD', `cannot resolve the kernel package from 'apt-cache depends linux-image-amd64':\n${out}`);
  return m[1];
}

// ---- initramfs ------------------------------------------------------------------------------------------------

interface CpioEntry {
  name: string;
  mode: number;
  data?: Buffer;
  rdev?: [number, number];
}

/** newc cpio archive (what the kernel unpacks as initramfs). */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
  let ino = 1;
  const put = (e: CpioEntry): void => {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(e.name + '\0');
    const f = [ino++, e.mode, 0, 0, 1, 0, data.length, 0, 0, e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0, name.length, 0];
    const hdr = Buffer.from('070701' + f.map((x) => x.toString(16).padStart(8, '0')).join(''), 'ascii');
    parts.push(hdr, name, pad4(hdr.length + name.length), data, pad4(data.length));
  };
  for (const e of entries) put(e);
  put({ name: 'TRAILER!!!', mode: 0 });
  return Buffer.concat(parts);
}

/** Load order: every module after its dependencies, from modules.dep. */
export function moduleLoadOrder(modulesDep: string, wanted: string[]): { order: string[]; missing: string[] } {
  const deps = new Map<string, string[]>();
  const byName = new Map<string, string>();
  for (const line of modulesDep.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const path = line.slice(0, i).trim();
    deps.set(path, line.slice(i + 1).trim().split(/\s+/).filter(Boolean));
    byName.set(path.replace(/^.*\//, '').replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_'), path);
  }
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (p: string): void => {
    if (seen.has(p)) return;
    seen.add(p);
    for (const d of deps.get(p) ?? []) visit(d);
    order.push(p);
  };
  const missing: string[] = [];
  for (const w of wanted) {
    const p = byName.get(w.replace(/-/g, '_'));
    if (p) visit(p);
    else missing.push(w);
  }
  return { order, missing };
}

const INIT_SCRIPT = `#!/bin/busybox sh
# keepalived-ts test guest: load modules, mount the host, run one command, record its status, power off.
/bin/busybox mkdir -p /proc /sys /dev /newroot /bin /sbin
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "/lib/modules/$m" 2>/dev/null || echo "kt-init: insmod $m failed" >/dev/ttyS0; done < /modules.order
RUN=; SHARE=
for a in $(cat /proc/cmdline); do
  case "$a" in kt.run=*) RUN="\${a#kt.run=}";; kt.share=*) SHARE="\${a#kt.share=}";; esac
done
fail() { echo "kt-init: $*" >/dev/ttyS1; echo "kt-init: $*" >/dev/ttyS0; poweroff -f; }
stty -F /dev/ttyS1 raw -echo 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,msize=262144,ro hostroot /newroot || fail "cannot mount the host root"
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm 2>/dev/null
mount -t devpts devpts /newroot/dev/pts 2>/dev/null
mount -t tmpfs tmpfs /newroot/dev/shm
for d in /tmp /run /var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "/newroot$d"; done
# A checkout under /tmp (or /run, /var/tmp) sits below one of the tmpfs just mounted: make its mount point there.
mkdir -p "/newroot$SHARE" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,cache=mmap,msize=262144 share "/newroot$SHARE" || fail "cannot mount the project at $SHARE"
[ -d /sys/fs/bpf ] && mount -t bpf bpf /newroot/sys/fs/bpf 2>/dev/null
hostname kt-guest
ip link set lo up
chroot /newroot /bin/sh "$RUN/cmd.sh" </dev/null >/dev/ttyS1 2>&1
echo $? > "/newroot$RUN/status"
sync
poweroff -f
`;

export interface GuestAssets {
  kernelRelease: string;
  /** Uncompressed vmlinux (PVH entry) when extracted, else the bzImage. */
  kernel: string;
  bzImage: string;
  initrd: string;
  dir: string;
}

/** Builds (once, cached by kernel package and harness version) the guest kernel and initramfs. */
export function ensureGuest(log: (s: string) => void = () => {}): GuestAssets {
  const pkg = resolveKernelPackage();
  const key = createHash('sha256').update(INIT_SCRIPT).update(GUEST_MODULES.join(',')).digest('hex').slice(0, 10);
  const dir = join(CACHE_ROOT, `${pkg}-${key}`);
  const assets = (release: string): GuestAssets => ({
    kernelRelease: release,
    // KT_VM_BZIMAGE=1 boots through the BIOS instead of PVH (for qemu builds without PVH support).
    kernel: existsSync(join(dir, 'vmlinux')) && !process.env.KT_VM_BZIMAGE ? join(dir, 'vmlinux') : join(dir, 'vmlinuz'),
    bzImage: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.gz'),
    dir,
  });
  if (existsSync(join(dir, 'release'))) return assets(readFileSync(join(dir, 'release'), 'utf8').trim());

  log(`vm: building the guest from ${pkg} into ${dir}`);
  mkdirSync(CACHE_ROOT, { recursive: true });
  const tmp = join(CACHE_ROOT, `.build-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(tmp, { recursive: true });
  try {
    run('apt-get', ['download', '-q', pkg], { cwd: tmp });
    const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (!deb) throw new KtError('KT_VM_BUILD', `apt-get download ${pkg} produced no .deb`);
    const root = join(tmp, 'root');
    run('dpkg-deb', ['-x', join(tmp, deb), root]);
    const release = readdirSync(join(root, 'lib', 'modules'))[0];
    if (!release) throw new KtError('KT_VM_BUILD', `${deb} has no /lib/modules/<release>`);
    const boot = join(root, 'boot', `vmlinuz-${release}`);
    run(BUSYBOX, ['depmod', '-b', root, release]);
    const modDir = join(root, 'lib', 'modules', release);
    const { order, missing } = moduleLoadOrder(readFileSync(join(modDir, 'modules.dep'), 'utf8'), GUEST_MODULES);
    const lost = missing.filter((m) => REQUIRED_MODULES.includes(m));
    if (lost.length) throw new KtError('KT_VM_BUILD', `${pkg} lacks required modules: ${lost.join(', ')}`);
    if (missing.length) log(`vm: modules not in ${release} (skipped): ${missing.join(', ')}`);

    const entries: CpioEntry[] = [
      { name: 'bin', mode: 0o40755 }, { name: 'dev', mode: 0o40755 }, { name: 'proc', mode: 0o40755 },
      { name: 'sys', mode: 0o40755 }, { name: 'newroot', mode: 0o40755 }, { name: 'lib', mode: 0o40755 },
      { name: 'lib/modules', mode: 0o40755 },
      { name: 'dev/console', mode: 0o20600, rdev: [5, 1] },
      { name: 'bin/busybox', mode: 0o100755, data: readFileSync(BUSYBOX) },
      { name: 'bin/sh', mode: 0o120777, data: Buffer.from('busybox') },
      { name: 'init', mode: 0o100755, data: Buffer.from(INIT_SCRIPT) },
      { name: 'modules.order', mode: 0o100644, data: Buffer.from(order.map((p) => p.replace(/^.*\//, '')).join('\n') + '\n') },
    ];
    for (const p of order) entries.push({ name: `lib/modules/${p.replace(/^.*\//, '')}`, mode: 0o100644, data: readFileSync(join(modDir, p)) });
    writeFileSync(join(tmp, 'initrd.gz'), gzipSync(cpioNewc(entries), { level: 6 }));

    // The bzImage wraps an xz-compressed vmlinux; the ELF has a PVH entry note, which lets qemu skip the BIOS.
    const bz = readFileSync(boot);
    writeFileSync(join(tmp, 'vmlinuz'), bz);
    const xzAt = bz.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
    if (xzAt > 0) {
      const r = spawnSync('xz', ['-dc', '--single-stream'], { input: bz.subarray(xzAt), maxBuffer: 1 << 30 });
      if (r.status === 0 && r.stdout.subarray(0, 4).toString('latin1') === '\x7fELF') writeFileSync(join(tmp, 'vmlinux'), r.stdout);
    }
    writeFileSync(join(tmp, 'release'), release + '\n');
    rmSync(root, { recursive: true, force: true });
    rmSync(join(tmp, deb), { force: true });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(join(dir, 'release'))) throw e; // another build won the race
    }
    return assets(release);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---- running ------------------------------------------------------------------------------------------------

export interface GuestRunOptions {
  /** Shell command line run in the guest (sh -c semantics) after `cd cwd`. */
  command: string;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  memoryMb?: number;
  /** Extra kernel command-line words (e.g. `preempt=full`, which Debian's PREEMPT_DYNAMIC kernel takes at boot). */
  kernelArgs?: string[];
  /** Virtual CPUs (default 1; under TCG each is a host thread). */
  cpus?: number;
  /** Called with each chunk of the command's output (CR stripped) as it arrives. */
  onOutput?: (chunk: string) => void;
  log?: (s: string) => void;
}

export interface GuestRunResult {
  exitCode: number | null;
  output: string;
  kernelLog: string;
  timedOut: boolean;
  durationMs: number;
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Boots one guest, runs the command, returns its status and output. Kills the VM at the timeout. */
export async function runInGuest(opts: GuestRunOptions): Promise<GuestRunResult> {
  const why = vmUnavailable();
  if (why) throw new KtError('KT_VM_UNAVAILABLE', why);
  const assets = ensureGuest(opts.log);
  const runsDir = join(CACHE_ROOT, 'runs');
  // Runs killed with their host process leave their folder behind: sweep those older than a day.
  if (existsSync(runsDir)) {
    for (const d of readdirSync(runsDir)) {
      const born = Number(d.split('-')[0]);
      if (born && Date.now() - born > 86_400_000) rmSync(join(runsDir, d), { recursive: true, force: true });
    }
  }
  // Builds interrupted by a kill leave .build-* folders.
  for (const d of existsSync(CACHE_ROOT) ? readdirSync(CACHE_ROOT) : []) {
    if (d.startsWith('.build-') && !existsSync(`/proc/${d.split('-')[1]}`)) rmSync(join(CACHE_ROOT, d), { recursive: true, force: true });
  }
  const runDir = join(runsDir, `${Date.now()}-${randomBytes(4).toString('hex')}`);
  mkdirSync(runDir, { recursive: true });
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    KT_IN_GUEST: '1',
    NO_COLOR: '1',
    ...opts.env,
  };
  const script = [
    '# generated by test/vm/harness.ts',
    'unset $(env | sed -n "s/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p") 2>/dev/null',
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shq(v)}`),
    `cd ${shq(opts.cwd ?? REPO_ROOT)} || exit 125`,
    opts.command,
  ].join('\n');
  writeFileSync(join(runDir, 'cmd.sh'), script + '\n');
  const consoleLog = join(runDir, 'console.log');
  const kvm = kvmUsable();
  const boot = async (kernel: string): Promise<{ code: number | null; output: string; qemuErr: string; kernelLog: string; timedOut: boolean }> => {
    const args = [
      '-machine', kvm ? 'q35,accel=kvm' : 'pc,accel=tcg',
      '-cpu', kvm ? 'host' : 'max',
      '-m', String(opts.memoryMb ?? 1536),
      '-smp', String(opts.cpus ?? 1),
      '-display', 'none', '-monitor', 'none', '-nodefaults', '-no-user-config', '-no-reboot',
      '-nic', 'none',
      '-serial', `file:${consoleLog}`,
      '-serial', 'stdio',
      '-kernel', kernel,
      '-initrd', assets.initrd,
      '-append', `console=ttyS0 loglevel=4 panic=-1 8250.nr_uarts=2 kt.run=${runDir} kt.share=${REPO_ROOT}${(opts.kernelArgs ?? []).map((a) => ` ${a}`).join('')}`,
      '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
      '-virtfs', `local,path=${REPO_ROOT},mount_tag=share,security_model=none,multidevs=remap`,
    ];
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Never leave a VM behind: kill it if this process exits first.
    const killVm = (): void => { if (child.pid && child.exitCode === null) try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } };
    process.once('exit', killVm);
    let output = '';
    let qemuErr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      const s = c.replace(/\r/g, '');
      output += s;
      opts.onOutput?.(s);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => { qemuErr += c; });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killVm();
    }, opts.timeoutMs ?? 30 * 60_000);
    const code: number | null = await new Promise((res) => child.on('close', (c) => res(c)));
    clearTimeout(timer);
    process.removeListener('exit', killVm);
    const kernelLog = existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '';
    return { code, output, qemuErr, kernelLog, timedOut };
  };
  const started = Date.now();
  const statusFile = join(runDir, 'status');
  let run1 = await boot(assets.kernel);
  if (!run1.timedOut && !existsSync(statusFile) && !run1.kernelLog.trim() && !run1.output && assets.kernel !== assets.bzImage) {
    // This qemu could not boot the vmlinux through PVH: fall back to the bzImage (a few seconds slower).
    opts.log?.(`vm: PVH boot of ${assets.kernel} printed nothing (${run1.qemuErr.trim()}); retrying with the bzImage`);
    run1 = await boot(assets.bzImage);
  }
  const { code, output, qemuErr, kernelLog, timedOut } = run1;
  const exitCode = existsSync(statusFile) ? Number(readFileSync(statusFile, 'utf8').trim()) : null;
  rmSync(runDir, { recursive: true, force: true });
  const result = { exitCode, output, kernelLog, timedOut, durationMs: Date.now() - started };
  if (!timedOut && exitCode === null) {
    throw Object.assign(new KtError('KT_VM_BOOT', `the guest ended (qemu exit ${code}) without running the command.\nqemu: ${qemuErr.trim()}\n` +
      `kernel log (tail):\n${kernelLog.split('\n').slice(-40).join('\n')}\noutput:\n${output.slice(-4000)}`), { result });
  }
  return result;
}

// ---- reading the guest's TAP ------------------------------------------------------------------------------

export interface TapResult {
  ok: boolean;
  name: string;
  skip?: string;
  todo?: boolean;
  detail: string;
}

/** Top-level results of a TAP stream: each with the lines before it (its subtests, diagnostics) and, for a
 *  failure, its YAML block. Nested results (indented) stay in the detail text. */
export function parseTap(tap: string): { results: TapResult[]; plan?: number } {
  const results: TapResult[] = [];
  let block: string[] = [];
  let plan: number | undefined;
  let last: TapResult | undefined;
  for (const line of tap.split('\n')) {
    const m = /^(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b ?(.*))?$/.exec(line);
    if (m) {
      last = { ok: m[1] === 'ok', name: m[2], skip: m[3] === 'SKIP' ? m[4] || 'skipped in the guest' : undefined, todo: m[3] === 'TODO', detail: [...block, line].join('\n') };
      results.push(last);
      block = [];
      continue;
    }
    const p = /^1\.\.(\d+)$/.exec(line);
    if (p) plan = Number(p[1]);
    // The YAML block (indented) right after a top-level result belongs to it.
    if (last && block.length === 0 && /^\s{2}\S/.test(line) && !/^\s+# Subtest/.test(line)) {
      last.detail += `\n${line}`;
      continue;
    }
    if (last && /^\s/.test(line) && block.length === 0 && !/^\s+# Subtest/.test(line)) continue;
    block.push(line);
  }
  return { results, plan };
}

/** CLI: `node --import tsx test/vm/harness.ts [--build | --timeout=SECONDS] [command...]` runs a command in the guest. */
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const why = vmUnavailable();
  if (why) {
    console.error(`vm: ${why}`);
    process.exit(2);
  }
  if (argv[0] === '--build') {
    const a = ensureGuest((s) => console.error(s));
    console.log(JSON.stringify(a, null, 2));
    process.exit(0);
  }
  const t = argv[0]?.startsWith('--timeout=') ? Number(argv.shift()!.slice(10)) : undefined;
  const command = argv.length ? argv.join(' ') : 'uname -a; ipvsadm -Ln';
  runInGuest({ command, timeoutMs: t ? t * 1000 : undefined, onOutput: (s) => process.stdout.write(s), log: (s) => console.error(s), cwd: process.cwd() })
    .then((r) => {
      console.error(`vm: exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''} in ${r.durationMs} ms`);
      process.exit(r.exitCode ?? 1);
    })
    .catch((e) => {
      console.error(String(e.message ?? e));
      process.exit(1);
    });
}

/**
 * For scripts (benchmarks) that run themselves inside the guest: on the host, boots one guest that runs this same
 * file with KT_IN_GUEST set and the given arguments, streams its output, and exits with its status.
 */
export async function runSelfInGuest(selfUrl: string, args: string[], opts: { timeoutMs: number; memoryMb?: number; kernelArgs?: string[]; cpus?: number }): Promise<never> {
  const why = vmUnavailable();
  if (why) {
    console.error(`bench: ${why}`);
    process.exit(2);
  }
  const r = await runInGuest({
    command: `exec node --import tsx ${fileURLToPath(selfUrl)} ${args.join(' ')}`,
    cwd: REPO_ROOT,
    timeoutMs: opts.timeoutMs,
    memoryMb: opts.memoryMb,
    kernelArgs: opts.kernelArgs,
    cpus: opts.cpus,
    onOutput: (s) => process.stdout.write(s),
  });
  process.exit(r.exitCode ?? 1);
}
