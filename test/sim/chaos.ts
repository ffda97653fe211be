// Chaos simulation over the production VrrpNode: a seeded schedule of 2–5 directors with loss, delay, partitions
// and heals, interface flaps, tracker flaps, reloads (adding, removing, renaming instances, changing intervals and
// priorities), crashes, SIGTERMs and restarts, operator switchovers (held or timed), resumes and maintenance on/off
// (issue 12; the calm phase ends them), GARP pacing, unicast or multicast, VRRPv2 or v3. Invariants are
// checked after every event:
//   1. one master: in a calm window (healed, no loss, links up, everyone running) that has lasted the settle time,
//      exactly one MASTER per VRID;
//   2. no silent holder: a director holds a VIP only while its instance is MASTER and has advertised within one
//      interval;
//   3. reloads keep what stays: an instance kept by a reload never loses (nor re-adds) a VIP it keeps;
//   4. notifies: every state change is notified once, in order, and nothing else is;
//   5. the advert sender's adverts: a timer input that follows another input sends exactly the adverts
//      upcomingAdverts() named after that input (what the shell arms the native sender with).
// Same seed, same run: a failure prints the seed and the schedule that reproduces it.
import type { NodeEffect, NodeInput } from '../../src/vrrp/node.js';
import { masterDownMs } from '../../src/vrrp/timers.js';
import type { VrrpInstanceSpec } from '../../src/vrrp/spec.js';
import { Prng } from './prng.js';
import { Simulator, type SimRouterConfig } from './simulator.js';

export interface Violation { at: number; invariant: 1 | 2 | 3 | 4 | 5; detail: string }

export interface ChaosResult {
  seed: number;
  simulatedMs: number;
  routers: number;
  events: number;
  transitions: number;
  violations: Violation[];
  /** The schedule so far, one line per operator action (the reproduction). */
  schedule: string[];
  /** The last state changes before the end (for a failure's story). */
  lastTransitions: string[];
}

const VIPS: Record<number, string> = { 51: '10.0.0.100', 52: '10.0.0.200' };
const NOTIFIED = new Set(['MASTER', 'BACKUP', 'FAULT', 'STOP', 'DELETED']);

interface Shape {
  version: 2 | 3;
  unicast: boolean;
  garpIntervalMs: number;
}

function routerConfig(rng: Prng, id: string, index: number, count: number, shape: Shape, opts: { second: boolean; rename: boolean; priority?: number; advertIntMs?: number }): SimRouterConfig {
  const ip = `10.0.0.${index + 1}`;
  const peers = shape.unicast ? Array.from({ length: count }, (_, i) => ({ address: `10.0.0.${i + 1}` })).filter((p) => p.address !== ip) : [];
  const base: Partial<VrrpInstanceSpec> = {
    version: shape.version, advertIntMs: opts.advertIntMs ?? (shape.version === 2 ? 1000 : 100 * (1 + rng.int(0, 5 - 1))),
    unicastPeers: peers,
  };
  const instances: SimRouterConfig['instances'] = [
    { name: opts.rename ? 'VI_1_renamed' : 'VI_1', vrid: 51, primaryAddress: ip, priority: opts.priority ?? 50 + rng.int(0, 200 - 1), vips: [VIPS[51]!], ...base },
  ];
  if (opts.second) instances.push({ name: 'VI_2', vrid: 52, primaryAddress: ip, priority: 50 + rng.int(0, 200 - 1), vips: [VIPS[52]!], ...base });
  return { id, instances, garpIntervalMs: shape.garpIntervalMs, driftPpm: rng.int(0, 201 - 1) - 100 };
}

export function runChaos(seed: number, durationMs: number): ChaosResult {
  const rng = new Prng(seed);
  const count = 2 + rng.int(0, 4 - 1);
  const shape: Shape = { version: rng.next() < 0.5 ? 2 : 3, unicast: rng.next() < 0.3, garpIntervalMs: [0, 0, 100, 500][rng.int(0, 4 - 1)]! };
  const ids = Array.from({ length: count }, (_, i) => `r${i + 1}`);
  const configs = new Map(ids.map((id, i) => [id, routerConfig(rng, id, i, count, shape, { second: rng.next() < 0.5, rename: false })]));
  const sim = new Simulator({ seed: seed ^ 0x5eed, link: { delayMs: 0.2, jitterMs: 0.5 }, routers: [...configs.values()] });
  sim.recordEffects = false;
  const violations: Violation[] = [];
  const schedule: string[] = [`seed ${seed}: ${count} routers, VRRPv${shape.version}, ${shape.unicast ? 'unicast' : 'multicast'}, garp_interval ${shape.garpIntervalMs} ms`];
  const lastAdvert = new Map<string, number>();
  const violate = (invariant: Violation['invariant'], detail: string) => {
    if (violations.length < 20) violations.push({ at: sim.now, invariant, detail });
  };
  const act = (line: string, fn: () => void) => { schedule.push(`t=${sim.now.toFixed(1)} ${line}`); fn(); };

  // Invariants 3 and 4 look at each node call.
  let reloadCheck: { id: string; keep: Set<string> } | undefined;
  sim.observer = (router: string, input: NodeInput, effects: NodeEffect[]) => {
    const pending = new Map<string, string[]>();
    for (const e of effects) {
      if (e.type === 'send-advert') lastAdvert.set(`${router}/${e.instance}`, sim.now);
      if (e.type === 'state-changed') {
        if (!NOTIFIED.has(e.to)) continue;
        // An owner's INIT→BACKUP on its way to MASTER is silent (vrrp_init_state); mark it optional.
        const maybeSilent = e.from === 'INIT' && e.to === 'BACKUP' && e.reason === 'init';
        const list = pending.get(e.instance) ?? [];
        list.push(maybeSilent ? 'BACKUP?' : e.to);
        pending.set(e.instance, list);
      }
      if (e.type === 'notify' && e.scope === 'INSTANCE' && NOTIFIED.has(e.state)) {
        const list = pending.get(e.name) ?? [];
        if (list[0] === 'BACKUP?' && e.state !== 'BACKUP') list.shift();
        if (list[0] !== e.state && list[0] !== `${e.state}?`) violate(4, `${router}/${e.name}: notify ${e.state} without a matching state change (pending: ${list.join(',') || 'none'})`);
        else list.shift();
      }
      if (input.type === 'reload' && reloadCheck?.id === router && e.type === 'remove-vips') {
        for (const v of e.vips) if (reloadCheck.keep.has(v.address)) violate(3, `${router}: reload removed ${v.address}, which a kept MASTER keeps`);
      }
    }
    for (const [name, list] of pending) {
      // An owner's silent INIT→BACKUP aside, every change is notified in the same call.
      if (list.some((x) => !x.endsWith('?'))) violate(4, `${router}/${name}: state change(s) ${list.join(',')} not notified`);
    }
  };

  // The settle time covers the longest master-down any instance may still be timing: a v3 backup keeps the
  // interval it adopted from a master even after that master was reloaded with a shorter one (keepalived too).
  let longest = 0;
  const noteIntervals = () => {
    for (const c of configs.values()) for (const i of c.instances) longest = Math.max(longest, masterDownMs(i.version ?? 2, 1, i.advertIntMs ?? 1000) + (i.advertIntMs ?? 1000));
  };
  noteIntervals();
  const maxDown = () => longest;

  const checkHolders = () => {
    for (const id of ids) {
      if (!sim.alive(id)) continue;
      for (const inst of configs.get(id)!.instances) {
        const held = inst.vips!.some((v) => sim.holders(v).includes(id));
        if (!held) continue;
        const state = sim.state(id, inst.name);
        if (state !== 'MASTER') { violate(2, `${id}/${inst.name} holds ${inst.vips!.join(',')} in ${state}`); continue; }
        const last = lastAdvert.get(`${id}/${inst.name}`) ?? -Infinity;
        const limit = (inst.advertIntMs ?? 1000) * 1.0002 + 1;
        if (sim.ifUp(id) && sim.now - last > limit) violate(2, `${id}/${inst.name} holds its VIP but last advertised ${(sim.now - last).toFixed(1)} ms ago`);
      }
    }
  };

  let calmSince: number | undefined;
  const checkOneMaster = () => {
    if (calmSince === undefined || sim.now < calmSince + 2 * maxDown()) return;
    for (const vrid of [51, 52]) {
      const eligible = ids.filter((id) => sim.alive(id) && configs.get(id)!.instances.some((i) => i.vrid === vrid));
      if (!eligible.length) continue;
      const m = sim.masters(vrid);
      if (m.length !== 1) violate(1, `VRID ${vrid}: ${m.length} masters (${m.join(',') || 'none'}) after ${(sim.now - calmSince).toFixed(0)} ms of calm`);
    }
  };
  const checkPromises = () => {
    for (const b of sim.brokenPromises.splice(0)) violate(5, b);
  };
  const each = () => { checkHolders(); checkOneMaster(); checkPromises(); };

  for (const id of ids) sim.start(id);
  let events = 0;
  while (sim.now < durationMs && violations.length === 0) {
    // Chaos phase: 1–6 disruptions.
    calmSince = undefined;
    const n = 1 + rng.int(0, 6 - 1);
    for (let k = 0; k < n && violations.length === 0; k++) {
      sim.runUntil(sim.now + 200 + rng.int(0, 5000 - 1), each);
      const id = ids[rng.int(0, count - 1)]!;
      const roll = rng.next();
      events++;
      if (roll < 0.12) act(`partition`, () => { const cut = 1 + rng.int(0, count - 1 - 1); sim.partition([ids.slice(0, cut), ids.slice(cut)]); });
      else if (roll < 0.2) act('heal', () => sim.heal());
      else if (roll < 0.28) { const loss = rng.next() * 0.4; act(`loss ${loss.toFixed(2)}`, () => sim.setLoss(loss)); }
      else if (roll < 0.38) act(`${id} link down`, () => sim.interfaceDown(id));
      else if (roll < 0.46) act(`${id} link up`, () => sim.interfaceUp(id));
      else if (roll < 0.54) act(`${id} crash`, () => sim.crash(id));
      else if (roll < 0.6) act(`${id} SIGTERM`, () => sim.sigterm(id));
      else if (roll < 0.7) act(`${id} start`, () => sim.start(id));
      else if (roll < 0.78) {
        const inst = configs.get(id)!.instances[rng.int(0, configs.get(id)!.instances.length - 1)]!;
        const prio = 50 + rng.int(0, 200 - 1);
        act(`${id} ${inst.name} tracker → ${prio}`, () => sim.input(id, inst.name, { type: 'tracker-changed', effectivePriority: prio, faults: rng.next() < 0.2 ? ['chk'] : [] }));
      } else if (roll >= 0.92) {
        const insts = configs.get(id)!.instances;
        const inst = insts[rng.int(0, insts.length - 1)]!;
        const r2 = rng.next();
        if (r2 < 0.45) {
          const holdMs = rng.next() < 0.5 ? undefined : 1000 + rng.int(0, 20_000 - 1);
          act(`${id} ${inst.name} switchover${holdMs === undefined ? '' : ` hold ${holdMs} ms`}`, () =>
            sim.input(id, inst.name, { type: 'switchover', holdUntil: holdMs === undefined ? undefined : sim.localNow(id) + holdMs }));
        } else if (r2 < 0.65) act(`${id} ${inst.name} resume`, () => sim.input(id, inst.name, { type: 'resume' }));
        else {
          const on = rng.next() < 0.6;
          act(`${id} maintenance ${on ? 'on' : 'off'}`, () => { for (const i of insts) sim.input(id, i.name, { type: 'maintenance', on }); });
        }
      } else {
        const old = configs.get(id)!;
        const next = routerConfig(rng, id, ids.indexOf(id), count, shape, {
          second: rng.next() < 0.5, rename: rng.next() < 0.3,
          priority: rng.next() < 0.5 ? old.instances[0]!.priority : undefined,
          advertIntMs: rng.next() < 0.5 ? old.instances[0]!.advertIntMs : undefined,
        });
        next.driftPpm = old.driftPpm;
        // VIPs a kept MASTER keeps (same VRID before and after) must stay put through the reload.
        const keep = new Set<string>();
        if (sim.alive(id))
          for (const i of old.instances)
            if (sim.state(id, i.name) === 'MASTER' && next.instances.some((j) => j.vrid === i.vrid)) for (const v of i.vips!) keep.add(v);
        act(`${id} reload (${next.instances.map((i) => `${i.name} prio ${i.priority} int ${i.advertIntMs}`).join(', ')})`, () => {
          configs.set(id, next);
          noteIntervals();
          reloadCheck = { id, keep };
          sim.reload(id, next);
          reloadCheck = undefined;
          for (const v of keep) if (!sim.holders(v).includes(id)) violate(3, `${id}: reload dropped ${v}`);
        });
      }
    }
    // Calm phase: heal everything and let the protocol settle, then exactly one master per VRID.
    act('calm: heal, no loss, links up, everyone running', () => {
      sim.heal(); sim.setLoss(0); sim.clearLinkLoss();
      for (const id of ids) { sim.interfaceUp(id); sim.start(id); }
      // Operator holds end with the chaos: everyone in maintenance would rightly leave a VRID without a master, and a
      // hold that ends inside the calm window makes its router preempt there (one master after a brief overlap, as
      // any preemption does, which the one-master check would take for two).
      for (const id of ids)
        for (const i of configs.get(id)!.instances) {
          sim.input(id, i.name, { type: 'maintenance', on: false });
          sim.input(id, i.name, { type: 'resume' });
        }
      for (const id of ids)
        for (const i of configs.get(id)!.instances) if (sim.alive(id)) sim.input(id, i.name, { type: 'tracker-changed', effectivePriority: i.priority!, faults: [] });
    });
    calmSince = sim.now;
    sim.runUntil(sim.now + 3 * maxDown() + rng.int(0, 3000 - 1), each);
  }
  return {
    seed, simulatedMs: sim.now, routers: count, events, transitions: sim.transitions.length, violations, schedule,
    lastTransitions: sim.transitions.slice(-12).map((t) => `t=${t.at.toFixed(1)} ${t.router}/${t.instance} ${t.from}->${t.to} (${t.reason})`),
  };
}
