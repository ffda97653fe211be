// `keepalived-ts ctl plan -f NEW.conf` (issue 12): what a SIGHUP with NEW.conf would change on this director, as
// data and as text. Pure: the parent validates the file as its reload does; each child computes its part with the
// functions its reload runs (VRRP: vrrp/reload.ts planVrrpReload; checkers: a CheckEngine built as the reload builds
// it, its desired state diffed against the kernel's table by the IPVS reconcile), and this module only shapes and
// prints what they found.
import type { VirtualIp } from '../config/model/index.js';
import type { VrrpReloadPlan } from '../vrrp/reload.js';
import type { Op } from '../ipvs/reconcile.js';
import { describeDest, describeOp, describeService } from '../ipvs/describe.js';

/** The VRRP child's part, JSON-ready (addresses as `ADDR/LEN dev IF`). */
export interface VrrpPlanJson {
  kept: Array<{ instance: string; was?: string; state: string }>;
  removed: Array<{ instance: string; state: string; releases?: { vips: string[]; routes: string[]; rules: string[] } }>;
  added: string[];
  skipped: Array<{ name: string; reason: string }>;
  masters: Array<{
    instance: string;
    removeRules: string[]; removeRoutes: string[]; removeVips: string[]; addVips: string[]; addRoutes: string[]; addRules: string[];
  }>;
  statics: Record<'addresses' | 'routes' | 'rules', { add: string[]; remove: string[] }>;
}

/** The checker child's part. `ipvs` is absent when this host's IPVS cannot be used (nothing would be programmed). */
export interface CheckerPlanJson {
  checkers: { kept: number; added: string[]; removed: string[] };
  ipvs?: IpvsPlanOp[];
  ipvsUnavailable?: string;
}

export interface ReloadPlanDocument {
  file: string;
  /** False: the SIGHUP would be refused (the diagnostics say why) and nothing would change. */
  valid: boolean;
  /** The config test's lines (warnings, and the errors that refuse it). */
  diagnostics: string[];
  /** Child processes the reload would start or stop (a config that gains or loses all its instances / servers). */
  processes: { start: string[]; stop: string[] };
  vrrp?: VrrpPlanJson;
  checker?: CheckerPlanJson;
  /** A running child that could not answer (its part is unknown). */
  errors: string[];
}

export const vipText = (v: Pick<VirtualIp, 'address' | 'prefix' | 'dev'>): string => `${v.address}/${v.prefix} dev ${v.dev}`;

export function vrrpPlanJson(p: VrrpReloadPlan): VrrpPlanJson {
  return {
    kept: p.kept, added: p.added, skipped: p.skipped, statics: p.statics,
    removed: p.removed.map((r) => ({
      instance: r.instance, state: r.state,
      ...(r.releases ? { releases: { vips: r.releases.vips.map(vipText), routes: r.releases.routes, rules: r.releases.rules } } : {}),
    })),
    masters: p.masters.map((m) => ({
      instance: m.instance, removeRules: m.removeRules, removeRoutes: m.removeRoutes,
      removeVips: m.removeVips.map(vipText), addVips: m.addVips.map(vipText),
      addRoutes: m.addRoutes.map((r) => r.words.join(' ')), addRules: m.addRules.map((r) => r.words.join(' ')),
    })),
  };
}

/** One IPVS operation of the plan: what it does to which service (and destination), in ipvsadm's notation. */
export interface IpvsPlanOp {
  op: Op['op'];
  /** "TCP 10.0.0.1:80", "FWM 7". */
  service: string;
  /** "192.168.1.1:8080" for a destination operation. */
  dest?: string;
  /** describeOp plus the settings it sets. */
  text: string;
}

export function ipvsOpJson(o: Op): IpvsPlanOp {
  let text = describeOp(o);
  if (o.op === 'add-service' || o.op === 'edit-service') text += ` (${o.service.scheduler})`;
  if (o.op === 'add-dest' || o.op === 'edit-dest') text += ` (weight ${o.dest.weight})`;
  const dest = o.op === 'add-dest' || o.op === 'edit-dest' || o.op === 'del-dest' ? describeDest(o.dest) : undefined;
  return { op: o.op, service: describeService(o.service), ...(dest ? { dest } : {}), text };
}

/** Whether the plan changes anything at all. */
export function planChangesSomething(d: ReloadPlanDocument): boolean {
  if (!d.valid) return false;
  const v = d.vrrp;
  const vrrp = !!v && (v.removed.length > 0 || v.added.length > 0 || v.masters.length > 0 || v.kept.some((k) => k.was)
    || Object.values(v.statics).some((s) => s.add.length + s.remove.length > 0));
  const c = d.checker;
  const checker = !!c && (c.checkers.added.length > 0 || c.checkers.removed.length > 0 || (c.ipvs?.length ?? 0) > 0);
  return vrrp || checker || d.processes.start.length > 0 || d.processes.stop.length > 0;
}

const SIGN: Record<Op['op'], string> = { 'add-service': '+', 'add-dest': '+', 'edit-service': '~', 'edit-dest': '~', 'del-service': '-', 'del-dest': '-' };

/** The plan as an operator reads it: one line per change, `+` added, `-` removed, `~` changed in place. */
export function formatReloadPlan(d: ReloadPlanDocument): string {
  const out: string[] = [];
  if (!d.valid) {
    out.push(`A SIGHUP with ${d.file} would be refused; the running configuration would stay:`);
    for (const l of d.diagnostics) out.push(`  ${l}`);
    return out.join('\n') + '\n';
  }
  out.push(`A SIGHUP with ${d.file} would:`);
  for (const l of d.diagnostics) out.push(`  note: ${l}`);
  for (const p of d.processes.start) out.push(`+ start the ${p} process`);
  for (const p of d.processes.stop) out.push(`- stop the ${p} process`);
  const v = d.vrrp;
  if (v) {
    for (const k of v.kept) if (k.was) out.push(`~ vrrp_instance ${k.was} renamed ${k.instance} (${k.state}, state kept)`);
    for (const r of v.removed) {
      out.push(`- vrrp_instance ${r.instance} (${r.state}): removed`);
      for (const x of r.releases?.vips ?? []) out.push(`-   address ${x} (${r.instance})`);
      for (const x of r.releases?.routes ?? []) out.push(`-   route ${x} (${r.instance})`);
      for (const x of r.releases?.rules ?? []) out.push(`-   rule ${x} (${r.instance})`);
    }
    for (const a of v.added) out.push(`+ vrrp_instance ${a}: added (starts in INIT; addresses only once MASTER)`);
    for (const s of v.skipped) out.push(`! vrrp_instance ${s.name} would not run: ${s.reason}`);
    for (const m of v.masters) {
      for (const x of m.removeRules) out.push(`- rule ${x} (${m.instance}, MASTER)`);
      for (const x of m.removeRoutes) out.push(`- route ${x} (${m.instance}, MASTER)`);
      for (const x of m.removeVips) out.push(`- address ${x} (${m.instance}, MASTER)`);
      for (const x of m.addVips) out.push(`+ address ${x} (${m.instance}, MASTER)`);
      for (const x of m.addRoutes) out.push(`+ route ${x} (${m.instance}, MASTER)`);
      for (const x of m.addRules) out.push(`+ rule ${x} (${m.instance}, MASTER)`);
    }
    const kinds = { rules: 'static rule', routes: 'static route', addresses: 'static address' } as const;
    for (const kind of ['rules', 'routes', 'addresses'] as const) for (const x of v.statics[kind].remove) out.push(`- ${kinds[kind]} ${x}`);
    for (const kind of ['addresses', 'routes', 'rules'] as const) for (const x of v.statics[kind].add) out.push(`+ ${kinds[kind]} ${x}`);
  }
  const c = d.checker;
  if (c) {
    for (const x of c.checkers.removed) out.push(`- checker ${x}`);
    for (const x of c.checkers.added) out.push(`+ checker ${x}`);
    if (c.ipvsUnavailable) out.push(`  IPVS: ${c.ipvsUnavailable}; no table would be programmed`);
    for (const o of c.ipvs ?? []) out.push(`${SIGN[o.op]} ipvs: ${o.text}`);
  }
  for (const e of d.errors) out.push(`? ${e}`);
  if (!planChangesSomething(d) && !d.errors.length) out.push('  nothing: the running state already matches');
  const keptCheckers = c ? `; ${c.checkers.kept} checker(s) keep their state` : '';
  if (v) out.push(`  (${v.kept.length} instance(s) kept with their state${keptCheckers})`);
  else if (c) out.push(`  (${c.checkers.kept} checker(s) keep their state)`);
  return out.join('\n') + '\n';
}
