// Isolation of the checkers, against a real HTTP server on 127.0.0.0/8.
// - The production checker child (daemon/checker-child.ts → check/service.ts), forked by the daemon's own
//   supervisor (daemon/children.ts, the 'checker' kind) with the daemon's IPC messages: its probes run in that
//   process, on its own event loop, never in the parent (nor in the VRRP child, the supervisor's other kind); a
//   checker that cannot run disables itself there while the others keep probing; omega runs at its stop.
//   On this host's kernel (no IPVS) the child programs nothing; with IPVS it would add its one service and remove it
//   at stop, as the daemon does.
// - The engine in this process, for its own logic: a bad checker disables itself with an error, long timers.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BOOTSTRAP_DELAY_MS } from '../../src/check/verdict.js';
import { CheckEngine } from '../../src/check/engine.js';
import type { CheckInput } from '../../src/check/checker-types.js';
import type { Checker } from '../../src/config/model/index.js';
import { CHILD_KINDS, Supervised } from '../../src/daemon/children.js';
import type { CheckerStatus } from '../../src/daemon/ipc.js';
import { createLogger } from '../../src/daemon/log.js';
import type { DaemonOptions } from '../../src/daemon/options.js';
import { httpCheck, miscCheck, realServer, tcpCheck, url, virtualServer } from '../helpers/check-model.js';
import { memoryLog } from '../helpers/memory-log.js';

const server = http.createServer((_req, res) => res.end('status: OK'));
await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
const port = (server.address() as net.AddressInfo).port;
after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));

const timing = { delayLoopMs: 50, delayBeforeRetryMs: 50, retry: 0, warmupMs: 0, alpha: false, connectTimeoutMs: 500 };
const rs = (n: number, checker: Checker) => realServer(`127.0.0.${n}`, { port, weight: 1, inhibitOnFailure: false, checkers: [checker] });

test('a checker whose regex or TLS files cannot be used is disabled with an error; the rest keeps running', async () => {
  const config: CheckInput = {
    virtualServers: [virtualServer({
      key: 'web', protocol: 'TCP', address: '10.1.1.1', port: 80, quorum: 1, hysteresis: 0,
      realServers: [
        rs(1, httpCheck({ urls: [url({ path: '/', regex: '(?i)status: ok' })], ...timing })),
        rs(2, httpCheck({ urls: [url({ path: '/', regex: '(?>status): ok' })], ...timing })),
        rs(3, httpCheck({ type: 'SSL_GET', urls: [url({ path: '/' })], ...timing })),
        rs(4, tcpCheck(timing)),
      ],
    })],
    ssl: { certificate: '/nonexistent/cert.pem' },
  };
  const { log, lines: errors } = memoryLog();
  const failures: string[] = [];
  const engine = new CheckEngine(config, {
    desired: () => undefined,
    events: (ev) => { for (const e of ev) if (e.kind === 'checker-failure' || e.kind === 'checker-down') failures.push(e.message); },
  }, { log });
  assert.equal(errors.length, 2, errors.join('\n'));
  assert.match(errors[0]!, /HTTP_GET on 127\.0\.0\.2:\d+ of web: url \/: regex "\(\?>status\): ok": atomic group .* - checker disabled/);
  assert.match(errors[1]!, /SSL_GET on 127\.0\.0\.3:\d+ of web: .*nonexistent.* - checker disabled/);
  assert.deepEqual(engine.disabled, [1, 2]);
  engine.start();
  // Two working checkers at a 50 ms delay_loop keep probing (at least 6 checks, however slow the machine), and the
  // (?i) regex matched every time.
  const deadline = Date.now() + 30_000;
  while (engine.stats().checksDone < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const done = engine.stats().checksDone;
  engine.stop();
  assert.ok(done >= 6, `only ${done} checks done in 30 s`);
  assert.deepEqual(failures, []);
});

test('delay_loop 3000000 (above 2^31-1 ms): one probe, then silence; Node alone would re-probe every 1 ms', async () => {
  const config: CheckInput = {
    virtualServers: [virtualServer({
      key: 'slow', protocol: 'TCP', address: '10.1.1.2', port: 80, quorum: 1, hysteresis: 0,
      realServers: [rs(1, tcpCheck({ ...timing, delayLoopMs: 3_000_000_000, delayBeforeRetryMs: 3_000_000_000 }))],
    })],
  };
  const engine = new CheckEngine(config, { desired: () => undefined, events: () => undefined });
  engine.start();
  await new Promise((r) => setTimeout(r, BOOTSTRAP_DELAY_MS + 1000));
  const done = engine.stats().checksDone;
  engine.stop();
  assert.equal(done, 1);
});

test('MISC_CHECK with misc_timeout defaulting to delay_loop 3000000: the script runs to its end, not killed after 1 ms', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const dir = mkdtempSync('/tmp/kt-misc-long-');
  try {
    const script = `${dir}/slow-ok.sh`;
    writeFileSync(script, '#!/bin/sh\nsleep 0.3\nexit 0\n', { mode: 0o755 });
    const config: CheckInput = {
      virtualServers: [virtualServer({
        key: 'misc', protocol: 'TCP', address: '10.1.1.3', port: 80, quorum: 1, hysteresis: 0,
        realServers: [rs(5, miscCheck(script, { timeoutMs: 3_000_000_000, ...timing, delayLoopMs: 3_000_000_000 }))],
      })],
    };
    const failures: string[] = [];
    const engine = new CheckEngine(config, {
      desired: () => undefined,
      events: (ev) => { for (const e of ev) if (e.kind === 'checker-failure' || e.kind === 'checker-down') failures.push(e.message); },
    });
    engine.start();
    await new Promise((r) => setTimeout(r, BOOTSTRAP_DELAY_MS + 800));
    const done = engine.stats().checksDone;
    engine.stop();
    assert.equal(done, 1);
    assert.deepEqual(failures, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the production checker child: probes run in its own process and loop; a bad checker disables itself there; omega at stop', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync('/tmp/kt-checker-child-');
  const child = new Supervised(
    CHILD_KINDS.find((k) => k.kind === 'checker')!,
    options(dir),
    createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) }),
    true,
    (why) => stopAll.push(why),
  );
  const stopAll: string[] = [];
  const backend = http.createServer((_req, res) => res.end('status: OK'));
  try {
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const bport = (backend.address() as net.AddressInfo).port;
    const who = join(dir, 'who.sh');
    const notify = join(dir, 'notify.sh');
    // The MISC_CHECK records the pid of the process that ran it ($PPID of the script's shell) and when.
    writeFileSync(who, `#!/bin/sh\necho "$PPID $(date +%s%N)" >> ${join(dir, 'misc.log')}\nexit 0\n`);
    writeFileSync(notify, `#!/bin/sh\necho "$*" >> ${join(dir, 'notify.log')}\n`);
    chmodSync(who, 0o755);
    chmodSync(notify, 0o755);
    writeFileSync(join(dir, 'keepalived.conf'), `global_defs {
  router_id ktchecker
}
SSL {
  certificate /nonexistent/cert.pem
}
virtual_server 10.1.1.1 80 {
  delay_loop 0.2
  lb_algo rr
  lb_kind NAT
  protocol TCP
  omega
  quorum_down "${notify} quorum-down"
  real_server 127.0.0.1 ${bport} {
    notify_down "${notify} rs-down http"
    HTTP_GET {
      url {
        path /
      }
      connect_timeout 3
      retry 0
      delay_before_retry 0.1
    }
  }
  real_server 127.0.0.2 ${bport} {
    notify_down "${notify} rs-down misc"
    MISC_CHECK {
      misc_path ${who}
    }
  }
  real_server 127.0.0.3 ${bport} {
    SSL_GET {
      url {
        path /
      }
    }
  }
}
`);
    child.start();
    const status = async (): Promise<CheckerStatus[]> => (await child.status(2000))?.checkers ?? [];
    const until = async (what: string, pred: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> => {
      const t0 = Date.now();
      while (!(await pred())) {
        if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; status ${JSON.stringify(await status())}; stop-all ${stopAll.join()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const miscRuns = (): Array<{ pid: number; ns: bigint }> => existsSync(join(dir, 'misc.log'))
      ? readFileSync(join(dir, 'misc.log'), 'utf8').trim().split('\n').map((l) => { const [p, t] = l.split(' '); return { pid: Number(p), ns: BigInt(t!) }; })
      : [];
    const log = (): string => (existsSync(join(dir, 'kt_checkers.log')) ? readFileSync(join(dir, 'kt_checkers.log'), 'utf8') : '');

    await until('three real servers in the status', async () => (await status()).length === 3);
    await until('MISC_CHECK runs', () => miscRuns().length >= 2);
    const pid = child.pid!;
    assert.equal(Number(readFileSync(join(dir, 'checkers.pid'), 'utf8').trim()), pid, 'the child that runs is the one the daemon records');
    assert.notEqual(pid, process.pid);
    assert.ok(miscRuns().every((r) => r.pid === pid), `every probe ran in the checker child ${pid}: ${JSON.stringify(miscRuns().map((r) => r.pid))}`);

    // The parent's event loop stays blocked until the child has run three more MISC_CHECKs (delay_loop 0.2 s): they
    // can only have run in the child. Blocked until it happens, not for a fixed window, so a loaded machine that
    // spawns slowly proves the same thing. The HTTP backend lives in this process too: on a loaded machine its
    // connect_timeout (3 s) may lapse meanwhile; the checks below wait for it to be up again.
    const ns = (): bigint => BigInt(Date.now()) * 1_000_000n;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    const before = ns();
    let during = 0;
    while (during < 3 && ns() - before < 60_000_000_000n) {
      Atomics.wait(nap, 0, 0, 50); // sleeps without running this process's event loop
      during = miscRuns().filter((r) => r.ns > before).length;
    }
    assert.ok(during >= 3, `only ${during} probes in 60 s while the parent's loop was blocked`);

    // The SSL_GET cannot load its certificate: disabled with an error in the child; the others keep probing.
    assert.match(log(), /SSL_GET on 127\.0\.0\.3:\d+ of .*nonexistent.* - checker disabled/);
    await until('HTTP and MISC real servers up', async () => (await status()).filter((c) => c.up).length === 3);
    // A long stall can have timed the HTTP check out once: only the notify after the backend closes counts.
    const notified = (): string => (existsSync(join(dir, 'notify.log')) ? readFileSync(join(dir, 'notify.log'), 'utf8') : '');
    const notifiedBefore = notified().length;
    await new Promise<void>((r) => { backend.closeAllConnections(); backend.close(() => r()); });
    await until('HTTP real server down', async () => (await status()).find((c) => c.realServer.startsWith('127.0.0.1:'))?.up === false);
    await until('notify_down of the HTTP real server', () => notified().slice(notifiedBefore).includes('rs-down http'));
    assert.equal((await status()).find((c) => c.realServer.startsWith('127.0.0.2:'))?.up, true, 'the MISC real server stays up');

    // omega: SIGTERM (as the daemon stops its children) takes the alive real servers down and loses the quorum.
    await child.stop(5000);
    const stopped = log().slice(log().indexOf('Received SIGTERM, stopping'));
    assert.match(stopped, /RS \[127\.0\.0\.2\]:tcp:\d+ of VS \[10\.1\.1\.1\]:tcp:80 is DOWN/);
    assert.match(stopped, /Lost quorum 1-0=1 > 0 for VS \[10\.1\.1\.1\]:tcp:80/);
    assert.deepEqual(stopAll, []);
  } finally {
    await child.stop(2000);
    if (backend.listening) await new Promise<void>((r) => { backend.closeAllConnections(); backend.close(() => r()); });
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The daemon's options for a checker-only run (-C) with everything under `dir`. */
function options(dir: string): DaemonOptions {
  return {
    configFile: join(dir, 'keepalived.conf'), foreground: true, logConsole: false, noSyslog: true, logDetail: false, logJson: false,
    logFile: join(dir, 'kt.log'), pidFile: join(dir, 'kt.pid'), vrrpPidFile: join(dir, 'vrrp.pid'), checkersPidFile: join(dir, 'checkers.pid'),
    dontReleaseVrrp: false, dontReleaseIpvs: false, releaseVips: false, noRespawn: true, vrrpOnly: false, checkOnly: true, argv: [],
  };
}

test('the VRRP child is handed the configuration without the virtual servers (it never reads them); the checker child all of it', () => {
  const cfg = { virtualServers: [virtualServer()], virtualServerGroups: [{ name: 'g' }], vrrpInstances: [{ name: 'VI_1' }] } as unknown as Parameters<(typeof CHILD_KINDS)[number]['part']>[0];
  const vrrp = CHILD_KINDS.find((k) => k.kind === 'vrrp')!.part(cfg);
  assert.deepEqual([vrrp.virtualServers, vrrp.virtualServerGroups, vrrp.vrrpInstances.length], [[], [], 1]);
  assert.equal(CHILD_KINDS.find((k) => k.kind === 'checker')!.part(cfg), cfg);
});
