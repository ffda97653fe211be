// Running keepalived-ts like keepalived, proven on a two-director namespace LAN where the peer is Debian's
// keepalived 2.2.7: processes and pid files, SIGHUP reload without a flap (adding and removing a VIP on a master,
// polled every 10 ms and followed by `ip monitor`), a broken config refused, the signal dumps, the status endpoint
// scraped through a strict Prometheus parser, SIGKILL of the VRRP child (respawned; the peer takes over and is
// preempted back), and SIGTERM leaving nothing behind.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import {
  createLan, vrrpConfig, waitFor, nowMs, run, repoRoot, sleep, type Lan, type Director, type Daemon, type AddressMonitor,
} from '../helpers/lab.js';
import { parsePrometheusText } from '../helpers/prom-parse.js';

const skip = needsRoot() || needsCommand('keepalived');
const WAIT = { timeoutMs: 30_000, intervalMs: 20 };
// advert_int 1: both directors are reloaded one after the other, as operators do; keepalived drops adverts whose
// address count differs from its own (vrrp.c vrrp_check_packet), so the peers must not disagree for long.

function httpGet(socketPath: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const readPid = (f: string): number | undefined => {
  try {
    return Number.parseInt(readFileSync(f, 'utf8').trim(), 10) || undefined;
  } catch {
    return undefined;
  }
};

describe('keepalived-ts operations (parent + VRRP child) against a keepalived peer', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  let d2: Director;
  let ts: Daemon;
  let vip: string;
  let vip2: string;
  let mon: AddressMonitor;
  let namespaces: readonly string[] = [];
  const sock = () => join(d1.dir, 'status.sock');
  const vrrpPidFile = () => join(d1.dir, 'vrrp.pid');

  const config = (d: Director, priority: number, state: 'MASTER' | 'BACKUP', vips: string[], iface = 'eth0') =>
    vrrpConfig({ vrid: 61, priority, state, advertInt: 1, version: 3, vip: vips, iface, notify: d.notifyScript });
  const holders = (v: string) => lan.vipHolders(v);
  const holdersAre = async (v: string, want: string[]) => JSON.stringify(await holders(v)) === JSON.stringify(want);
  const d1Events = () => d1.notifyEvents();

  /**
   * Polls every 10 ms, inside d1's namespace, whether `mustStay` is a local address (binding a UDP socket to it
   * fails with EADDRNOTAVAIL once it is gone) while `during` runs; returns the polls and how many missed it.
   */
  async function pollWhile(mustStay: string, during: () => Promise<void>): Promise<{ polls: number; missing: number }> {
    const script = `
      const dgram = require('node:dgram');
      let polls = 0, missing = 0, stop = false;
      process.on('SIGTERM', () => { stop = true; });
      const once = () => new Promise((r) => {
        const s = dgram.createSocket('udp4');
        s.once('error', () => { missing++; s.close(); r(); });
        s.bind({ address: ${JSON.stringify(mustStay)}, port: 0 }, () => { s.close(); r(); });
      });
      (async () => {
        process.stdout.write('ready\\n');
        while (!stop) { polls++; await once(); await new Promise((r) => setTimeout(r, 10)); }
        process.stdout.write(JSON.stringify({ polls, missing }) + '\\n');
      })();`;
    const child = spawn('ip', ['netns', 'exec', d1.ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      await waitFor(() => out.startsWith('ready'), { ...WAIT, what: 'the poller' });
      await during();
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    return JSON.parse(out.split('\n')[1]!) as { polls: number; missing: number };
  }

  before(async () => {
    lan = await createLan({ directors: 2, clients: 0 });
    namespaces = lan.namespaceNames.slice();
    [d1, d2] = lan.directors as [Director, Director];
    vip = lan.vip(0);
    vip2 = lan.vip(1);
    mon = await lan.watchAddresses(d1);
  });

  after(async () => {
    await lan?.teardown();
    const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => namespaces.includes(n)) : [];
    assert.deepEqual(left, [], 'no namespace of this test is left');
  });

  it('starts a parent and a VRRP child with their pid files; the higher priority wins against keepalived', async () => {
    await lan.startDaemon(d2, { kind: 'keepalived', configText: config(d2, 100, 'BACKUP', [lan.vipCidr(0)]) });
    ts = await lan.startDaemon(d1, {
      kind: 'keepalived-ts',
      configText: config(d1, 150, 'MASTER', [lan.vipCidr(0)]),
      command: [process.execPath, '--import', 'tsx', join(repoRoot(), 'src', 'cli.ts')],
      extraArgs: ['--status-listen', sock()],
    });
    await waitFor(() => holdersAre(vip, ['d1']), { ...WAIT, what: 'd1 (keepalived-ts) to hold the VIP' });
    await waitFor(() => d2.notifyEvents().some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'keepalived on d2 BACKUP' });
    // The MASTER notifies (state script and generic) have run before the reload tests count notifies.
    await waitFor(() => d1Events().filter((e) => e.args.includes('MASTER') || e.state === 'MASTER').length >= 2, { ...WAIT, what: 'd1 MASTER notifies' });
    await sleep(300);
    assert.equal(readPid(join(d1.dir, 'keepalived.pid')), ts.pid, '-p names the parent');
    const child = readPid(vrrpPidFile());
    assert.ok(child && child !== ts.pid, '-r names a separate VRRP child');
    assert.equal(Number(readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]), ts.pid, 'the child is the parent\'s');
    // keepalived's parent line, logged by the parent under its own pid, the child's in the text.
    assert.match(ts.log(), new RegExp(`Keepalived\\[${ts.pid}\\] INFO: Starting VRRP child process, pid=${child}\n`));
    assert.match(d2.daemon!.log(), /: Starting VRRP child process, pid=\d+\n/, 'keepalived says the same');
  });

  it('reload adding a VIP on the master: no flap, no BACKUP, no notify, the new VIP appears', async () => {
    const eventsBefore = d1Events().length;
    const logBefore = ts.log().length;
    const t0 = nowMs();
    const r = await pollWhile(vip, async () => {
      writeFileSync(ts.configFile, config(d1, 150, 'MASTER', [lan.vipCidr(0), lan.vipCidr(1)]));
      writeFileSync(d2.daemon!.configFile, config(d2, 100, 'BACKUP', [lan.vipCidr(0), lan.vipCidr(1)]));
      ts.signal('SIGHUP');
      d2.daemon!.signal('SIGHUP');
      await waitFor(async () => (await lan.addresses(d1)).includes(vip2), { ...WAIT, what: 'the added VIP on d1' });
      await sleep(3500); // several advert intervals: the peer stays BACKUP
    });
    assert.ok(r.polls >= 20, `polled ${r.polls} times`);
    assert.equal(r.missing, 0, 'the existing VIP never disappeared');
    assert.equal(mon.first(vip, false, t0), undefined, 'ip monitor saw no deletion of the existing VIP');
    assert.equal(d1Events().length, eventsBefore, 'no notify ran');
    const log = ts.log().slice(logBefore);
    assert.doesNotMatch(log, /Entering (BACKUP|FAULT|INIT)/);
    assert.match(log, /Reload: kept 1, removed 0, added 0/);
    assert.deepEqual(await holders(vip), ['d1']);
    assert.deepEqual(await holders(vip2), ['d1']);
    assert.ok(!d2.notifyEvents().some((e) => e.state === 'MASTER' && e.tMs > t0), 'the keepalived peer stayed BACKUP');
  });

  it('reload removing it again: only that VIP goes, no notify', async () => {
    const eventsBefore = d1Events().length;
    const logBefore = ts.log().length;
    const t0 = nowMs();
    const r = await pollWhile(vip, async () => {
      writeFileSync(ts.configFile, config(d1, 150, 'MASTER', [lan.vipCidr(0)]));
      writeFileSync(d2.daemon!.configFile, config(d2, 100, 'BACKUP', [lan.vipCidr(0)]));
      ts.signal('SIGHUP');
      d2.daemon!.signal('SIGHUP');
      await waitFor(async () => !(await lan.addresses(d1)).includes(vip2), { ...WAIT, what: 'the removed VIP to go' });
      await sleep(3500);
    });
    assert.equal(r.missing, 0);
    assert.equal(mon.first(vip, false, t0), undefined);
    assert.equal(d1Events().length, eventsBefore);
    assert.doesNotMatch(ts.log().slice(logBefore), /Entering (BACKUP|FAULT|INIT)/);
    assert.deepEqual(await holders(vip), ['d1']);
    assert.ok(!d2.notifyEvents().some((e) => e.state === 'MASTER' && e.tMs > t0), 'the keepalived peer stayed BACKUP');
  });

  it('reload with a broken config is refused and the master keeps running', async () => {
    const good = readFileSync(ts.configFile, 'utf8');
    const child = readPid(vrrpPidFile());
    const t0 = nowMs();
    writeFileSync(ts.configFile, config(d1, 150, 'MASTER', [lan.vipCidr(0)], 'nosuchif0'));
    ts.signal('SIGHUP');
    await waitFor(() => /reload refused/.test(ts.log()), { ...WAIT, what: 'the refusal in the log' });
    await sleep(2500);
    assert.deepEqual(await holders(vip), ['d1']);
    assert.equal(readPid(vrrpPidFile()), child, 'the VRRP child kept running');
    assert.equal(mon.first(vip, false, t0), undefined);
    writeFileSync(ts.configFile, good);
  });

  it('writes keepalived\'s dump files into $TMPDIR on USR1, USR2 and the JSON signal', async () => {
    const tmp = join(d1.dir, 'tmp');
    const sig = (await run(process.execPath, ['--import', 'tsx', join(repoRoot(), 'src', 'cli.ts'), '--signum=JSON'])).stdout.trim();
    ts.signal('SIGUSR1');
    ts.signal('SIGUSR2');
    process.kill(ts.pid, Number(sig));
    for (const f of ['keepalived.data', 'keepalived.stats', 'keepalived.json'])
      await waitFor(() => existsSync(join(tmp, f)), { ...WAIT, what: f });
    await waitFor(() => { try { JSON.parse(readFileSync(join(tmp, 'keepalived.json'), 'utf8')); return true; } catch { return false; } }, WAIT);
    const json = JSON.parse(readFileSync(join(tmp, 'keepalived.json'), 'utf8'));
    assert.equal(json.length, 1);
    assert.equal(json[0].data.iname, 'VI_1');
    assert.equal(json[0].data.state, 2);
    assert.equal(json[0].data.vrid, 61);
    assert.ok(json[0].stats.advert_sent > 0);
    assert.match(readFileSync(join(tmp, 'keepalived.stats'), 'utf8'), /^VRRP Instance: VI_1\n {2}Advertisements:\n {4}Received: \d+\n {4}Sent: \d+/);
    assert.match(readFileSync(join(tmp, 'keepalived.data'), 'utf8'), /VRRP Instance = VI_1\n[^]*State = MASTER/);
    assert.ok(ts.running, 'the daemon survived the signals');
  });

  it('serves /status, /keepalived.json and /metrics (a strict Prometheus parse)', async () => {
    const status = await httpGet(sock(), '/status');
    assert.equal(status.status, 200);
    const doc = JSON.parse(status.body);
    assert.equal(doc.vrrp[0].name, 'VI_1');
    assert.equal(doc.vrrp[0].state, 'MASTER');
    assert.equal(doc.reloads.ok, 2);
    assert.equal(doc.reloads.refused, 1);
    const kj = JSON.parse((await httpGet(sock(), '/keepalived.json')).body);
    assert.equal(kj[0].data.iname, 'VI_1');
    const m = await httpGet(sock(), '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.type, /^text\/plain; version=0\.0\.4/);
    const fams = parsePrometheusText(m.body);
    const master = fams.get('keepalived_ts_vrrp_state')!.samples.find((s) => s.labels['state'] === 'MASTER')!;
    assert.equal(master.value, 1);
    assert.equal(master.labels['instance'], 'VI_1');
    assert.ok(fams.get('keepalived_ts_vrrp_adverts_sent_total')!.samples[0]!.value > 0);
    assert.ok(fams.get('keepalived_ts_vrrp_adverts_received_total')!.samples[0]!.value >= 0);
    assert.ok(fams.get('keepalived_ts_script_runs_total')!.samples.some((s) => s.labels['kind'] === 'notify' && s.value > 0));
    assert.equal((await httpGet(sock(), '/nope')).status, 404);
  });

  it('SIGKILL of the VRRP child: keepalived takes over, the child is respawned and preempts back', async () => {
    const child = readPid(vrrpPidFile())!;
    const t0 = nowMs();
    process.kill(child, 'SIGKILL');
    await waitFor(() => d2.notifyEvents().some((e) => e.state === 'MASTER' && e.tMs > t0), { ...WAIT, what: 'keepalived on d2 to become MASTER' });
    await waitFor(() => { const p = readPid(vrrpPidFile()); return p !== undefined && p !== child; }, { ...WAIT, what: 'a new VRRP child' });
    // The first death of a child is respawned at once (keepalived's 1 s back-off applies from the second).
    assert.match(ts.log(), /died with signal SIGKILL: respawning now/);
    await waitFor(() => d2.notifyEvents().some((e) => e.state === 'BACKUP' && e.tMs > t0), { ...WAIT, what: 'keepalived on d2 back to BACKUP' });
    await waitFor(() => holdersAre(vip, ['d1']), { ...WAIT, what: 'd1 to hold the VIP alone again' });
    assert.ok(ts.running, 'the parent kept running');
    const doc = JSON.parse((await httpGet(sock(), '/status')).body);
    assert.equal(doc.children[0].restarts, 1);
  });

  it('SIGTERM: children stopped, pid files and socket removed, the VIP handed to keepalived', async () => {
    const child = readPid(vrrpPidFile())!;
    const res = await ts.stop('SIGTERM', 15_000);
    assert.equal(res.code, 0);
    assert.ok(!existsSync(join(d1.dir, 'keepalived.pid')));
    assert.ok(!existsSync(vrrpPidFile()));
    assert.ok(!existsSync(sock()));
    assert.ok(!existsSync(`/proc/${child}`) || /^\S+ \S+ Z/.test(readFileSync(`/proc/${child}/stat`, 'utf8').replace(/\(.*\)/, 'x')), 'the child is gone');
    await waitFor(() => holdersAre(vip, ['d2']), { ...WAIT, what: 'keepalived on d2 to hold the VIP' });
  });
});
