// The checker service's reconciles after start (issue 11, 50,000 real servers): a real server that changes state
// costs the services of its own virtual server (read from the kernel and diffed), a reload the services it adds,
// not a dump of the whole table (one request per service). A fake kernel counts the requests; FILE_CHECK flips the
// real server without any timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CheckerService } from '../../src/check/service.js';
import type { IpvsClient } from '../../src/ipvs/client.js';
import { serviceId } from '../../src/ipvs/describe.js';
import { applyOps, type Op } from '../../src/ipvs/reconcile.js';
import type { IpvsState } from '../../src/ipvs/desired.js';
import type { ServiceKey } from '../../src/ipvs/kernel-table.js';
import { build } from '../helpers/model.js';
import { waitForCondition } from '../helpers/process.js';
import { memoryLog } from '../helpers/memory-log.js';

/** The IPVS table as a map, answering the client calls the service makes; counts dumps and per-service reads. */
function fakeKernel(refuseOnce?: (o: Op) => boolean) {
  let table: IpvsState = new Map();
  let refused = false;
  const calls = { dumps: 0, serviceReads: [] as string[] };
  const entry = (k: ServiceKey) => table.get(serviceId(k));
  const client = {
    async dump() {
      calls.dumps++;
      return [...table.values()].map((s) => ({ service: { ...s.service, kernelFlags: 2 }, dests: [...s.dests.values()].map((d) => ({ ...d, activeConns: 0, inactConns: 0, persistConns: 0 })) }));
    },
    async getService(k: ServiceKey) {
      calls.serviceReads.push(serviceId(k));
      const s = entry(k);
      return s && { ...s.service, kernelFlags: 2 };
    },
    async getServices(ks: ServiceKey[]) {
      return Promise.all(ks.map((k) => client.getService(k)));
    },
    async listDests(k: ServiceKey) {
      return [...(entry(k)?.dests.values() ?? [])].map((d) => ({ ...d, activeConns: 0, inactConns: 0, persistConns: 0 }));
    },
    commands(ops: Op[]) {
      const refuse = ops.findIndex((o) => !refused && refuseOnce?.(o));
      if (refuse >= 0) refused = true;
      table = applyOps(table, ops.filter((_, i) => i !== refuse));
      return ops.map((_, i) => (i === refuse ? Promise.reject(new Error('refused (test)')) : Promise.resolve('done' as const)));
    },
    close() {},
  };
  const lines = (): string[] => [...table.values()].flatMap((s) => [`${s.service.addr}:${s.service.port}`, ...[...s.dests.values()].map((d) => `${s.service.addr}:${s.service.port} ${d.addr}:${d.port} w${d.weight}`)]).sort();
  return { client: client as unknown as IpvsClient, calls, lines };
}

test('start reads the whole table; one real server going down reads and changes only its virtual server\'s service; a reload reads only the services it adds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-scoped-'));
  const file = join(dir, 'v');
  writeFileSync(file, '0\n');
  const vs = (port: number, check: boolean) => `virtual_server 10.0.0.1 ${port} {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 192.168.1.1 80 {
  }
  real_server 192.168.1.2 80 {
${check ? '    FILE_CHECK {\n      track_file tf\n    }\n' : ''}  }
}
`;
  const text = `track_file tf {\n  file ${file}\n  weight 0\n}\n${vs(80, false)}${vs(81, true)}${vs(82, false)}`;
  const { model, golden } = build(text);
  assert.deepEqual(golden, []);
  const k = fakeKernel();
  const service = new CheckerService(model, { log: pino({ level: 'silent' }), openIpvs: async () => k.client });
  try {
    await service.start();
    const all = ['10.0.0.1:80', '10.0.0.1:81', '10.0.0.1:82'].flatMap((s) => [s, `${s} 192.168.1.1:80 w1`, `${s} 192.168.1.2:80 w1`]).sort();
    await waitForCondition('the table after start', () => k.lines().length === all.length, 10_000, () => k.lines().join('\n'));
    assert.deepEqual(k.lines(), all);
    assert.equal(k.calls.dumps, 1, 'start reads the whole table once');
    writeFileSync(file, '1\n');
    await waitForCondition('the real server out of 10.0.0.1:81', () => !k.lines().includes('10.0.0.1:81 192.168.1.2:80 w1'), 10_000, () => k.lines().join('\n'));
    assert.deepEqual(k.lines(), all.filter((l) => l !== '10.0.0.1:81 192.168.1.2:80 w1'));
    assert.equal(k.calls.dumps, 1, 'no dump of the whole table for one real server');
    assert.deepEqual([...new Set(k.calls.serviceReads)], ['6/2/10.0.0.1/81']);
    // A reload (82 removed, 83 added) diffs against what the last reconciles programmed and reads from the kernel
    // only the service it does not know, as keepalived's reload compares configurations.
    k.calls.serviceReads.length = 0;
    service.reload(build(text.replace(vs(82, false), vs(83, false))).model);
    await waitForCondition('the reloaded table', () => !k.lines().includes('10.0.0.1:82') && k.lines().includes('10.0.0.1:83 192.168.1.2:80 w1'), 10_000, () => k.lines().join('\n'));
    // (192.168.1.2 in 81 keeps its checker's state: still down.)
    assert.deepEqual(k.lines(), ['10.0.0.1:80', '10.0.0.1:81', '10.0.0.1:83'].flatMap((s) => [s, `${s} 192.168.1.1:80 w1`, `${s} 192.168.1.2:80 w1`])
      .filter((l) => l !== '10.0.0.1:81 192.168.1.2:80 w1').sort());
    assert.equal(k.calls.dumps, 1);
    assert.deepEqual(k.calls.serviceReads, ['6/2/10.0.0.1/83']);
  } finally {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(k.lines(), [], 'stop removes what we own');
});

test('a destination the kernel refused is not taken as programmed: the next reload reads the kernel again and adds it', async () => {
  const text = 'virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server 192.168.1.1 80 {\n  }\n  real_server 192.168.1.2 80 {\n  }\n}\n';
  const k = fakeKernel((o) => o.op === 'add-dest' && o.dest.addr === '192.168.1.2');
  const service = new CheckerService(build(text).model, { log: pino({ level: 'silent' }), openIpvs: async () => k.client });
  try {
    await service.start();
    await waitForCondition('the table after start', () => k.lines().length === 2, 10_000, () => k.lines().join('\n'));
    assert.deepEqual(k.lines(), ['10.0.0.1:80', '10.0.0.1:80 192.168.1.1:80 w1']);
    service.reload(build(text).model);
    await waitForCondition('the refused destination added by the reload', () => k.lines().length === 3, 10_000, () => k.lines().join('\n'));
    // (Read through a dump: what we own of that service is no longer covered by the state last programmed.)
    assert.equal(k.calls.dumps, 2);
  } finally {
    await service.stop();
  }
  assert.deepEqual(k.lines(), []);
});

test('a reconcile of more than 100 operations logs one summary line at info and its first 1,000 operations at debug; a small one each at info', async () => {
  const rs = (n: number) => Array.from({ length: n }, (_, j) => `  real_server 192.168.1.${j + 1} 80 {\n  }\n`).join('');
  const conf = (n: number) => Array.from({ length: n }, (_, i) => `virtual_server 10.0.0.1 ${80 + i} {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n${rs(10)}}\n`).join('');
  const text = conf(11);
  const k = fakeKernel();
  const { log, lines } = memoryLog((l) => `${l.level} ${l.msg}`);
  const service = new CheckerService(build(text).model, { log, openIpvs: async () => k.client });
  try {
    await service.start();
    await waitForCondition('121 debug lines', () => lines.filter((l) => l.startsWith('debug IPVS: add')).length === 121, 10_000, () => lines.join('\n'));
    assert.deepEqual(lines.filter((l) => l.startsWith('info IPVS:')), ['info IPVS: 11 service(s) added, 110 destination(s) added']);
    // One virtual server less: one operation (its service; the kernel drops its destinations), a line at info.
    service.reload(build(conf(10)).model);
    await waitForCondition('the reload', () => lines.includes('info IPVS: delete service TCP 10.0.0.1:90'), 10_000, () => lines.join('\n'));
  } finally {
    await service.stop();
  }
  // 100 virtual servers of 10 (1,100 operations): 1,000 listed at debug, then how many were not.
  const big = memoryLog((l) => `${l.level} ${l.msg}`);
  const k2 = fakeKernel();
  const service2 = new CheckerService(build(Array.from({ length: 100 }, (_, i) => `virtual_server 10.0.1.1 ${1000 + i} {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n${rs(10)}}\n`).join('')).model, { log: big.log, openIpvs: async () => k2.client });
  try {
    await service2.start();
    await waitForCondition('the line after the listed ones', () => big.lines.includes('debug IPVS: 100 more operation(s) not listed'), 10_000, () => big.lines.slice(-5).join('\n'));
    assert.equal(big.lines.filter((l) => l.startsWith('debug IPVS: add')).length, 1000);
    assert.equal(k2.lines().length, 1100);
  } finally {
    await service2.stop();
  }
});
