// vrrp_sync_group semantics (keepalived vrrp_sync.c): members move together. A member becomes MASTER only when
// every other member wants MASTER too (else it waits in BACKUP, "to avoid thrashing"); once one member is MASTER
// all go MASTER; one member leaving MASTER for BACKUP takes the others along; one member in FAULT puts all in FAULT
// (fault reason "sync-group") until no member has a fault of its own. Group notifies: type GROUP, priority 0.
import { nextDeadline, step, type Effect, type Input, type InstanceState } from './machine.js';
import type { VrrpState } from './spec.js';
import { KtError } from '../util/errors.js';

export const SYNC_FAULT = 'sync-group';

export interface SyncGroupSpec {
  name: string;
  /** Instance names, in config order. */
  members: string[];
}

export interface SyncGroupState {
  readonly spec: SyncGroupSpec;
  readonly state: VrrpState;
  readonly members: Readonly<Record<string, InstanceState>>;
}

/** An effect and the instance it belongs to (undefined for group-level notifies). */
export interface TaggedEffect {
  instance?: string;
  effect: Effect;
}

export interface GroupStepResult {
  state: SyncGroupState;
  effects: TaggedEffect[];
}

export function initialSyncGroup(spec: SyncGroupSpec, members: InstanceState[]): SyncGroupState {
  const byName: Record<string, InstanceState> = {};
  for (const m of members) byName[m.spec.name] = m;
  for (const n of spec.members) if (!byName[n]) throw new KtError('KT_VRRP_SYNC_GROUP_UNKNOWN_MEMBER', `sync group ${spec.name}: no instance ${n}`);
  return { spec, state: 'INIT', members: byName };
}

/** Earliest deadline over all members. */
export function nextGroupDeadline(g: SyncGroupState): number | undefined {
  let t: number | undefined;
  for (const n of g.spec.members) {
    const d = nextDeadline(g.members[n]!);
    if (d !== undefined && (t === undefined || d < t)) t = d;
  }
  return t;
}

const ownFaults = (m: InstanceState) => m.faults.filter((f) => f !== SYNC_FAULT);

/**
 * Feed one input to one member (or, for `timer` with member undefined, to every member whose deadline is due)
 * and apply the group rules. Effects come out in execution order, tagged with their instance.
 */
export function stepGroup(g: SyncGroupState, member: string | undefined, input: Input, now: number, gate = true): GroupStepResult {
  if (member !== undefined) return stepGroupInputs(g, [[member, input]], now, false, gate);
  if (input.type !== 'timer') throw new KtError('KT_VRRP_SYNC_GROUP_BAD_INPUT', 'only timer inputs may target the whole group');
  const due = g.spec.members.filter((n) => { const d = nextDeadline(g.members[n]!); return d !== undefined && d <= now; });
  return stepGroupInputs(g, due.map((n) => [n, input]), now, false, gate);
}

/**
 * Several members' inputs that are one event (a group-level tracker reported for every member): all of them are
 * applied before the group rules look at the members, so a fault that clears on every member does not bounce a
 * member back into FAULT because another has not heard the news yet.
 */
export function stepGroupMany(g: SyncGroupState, inputs: Array<[string, Input]>, now: number, gate = true): GroupStepResult {
  return stepGroupInputs(g, inputs, now, true, gate);
}

/** `gate` false: the group's guard lock is not ours (guard.ts), so no member may become MASTER on its own. */
function stepGroupInputs(g: SyncGroupState, initial: Array<[string, Input]>, now: number, simultaneous = false, gate = true): GroupStepResult {
  const members: Record<string, InstanceState> = { ...g.members };
  const effects: TaggedEffect[] = [];
  const names = g.spec.members;
  let groupState = g.state;

  const mayBecomeMaster = (name: string) =>
    gate && (groupState === 'MASTER' || names.every((n) => n === name || members[n]!.wantState === 'MASTER'));

  const run = (name: string, inp: Input) => {
    const before = members[name]!;
    // At start a member sees its group as BACKUP (keepalived vrrp_init_state uses the group's state).
    const r = step(before, inp, now, { mayBecomeMaster: inp.type === 'start' ? false : mayBecomeMaster(name) });
    members[name] = r.state;
    for (const e of r.effects) effects.push({ instance: name, effect: e });
    return { before: before.state, after: r.state.state, effects: r.effects };
  };

  for (const [m] of initial) if (!members[m]) throw new KtError('KT_VRRP_SYNC_GROUP_UNKNOWN_MEMBER', `sync group ${g.spec.name}: no instance ${m}`);
  const queue: [string, Input][] = [...initial];
  // With `simultaneous`, the first inputs all land before the group's rules run (see stepGroupMany).
  let held = simultaneous ? initial.length : 0;

  for (let guard = 0; queue.length && guard < 64 * names.length; guard++) {
    const [name, inp] = queue.shift()!;
    const r = run(name, inp);
    const others = names.filter((n) => n !== name);
    if (held > 1) {
      held--;
      continue;
    }
    held = 0;
    // Fault propagation: any member with a fault of its own faults the others.
    const anyOwnFault = names.some((n) => ownFaults(members[n]!).length > 0);
    for (const n of names) {
      const has = members[n]!.faults.includes(SYNC_FAULT);
      const want = anyOwnFault && ownFaults(members[n]!).length === 0;
      if (has !== want) queue.push([n, { type: 'fault', reason: SYNC_FAULT, active: want }]);
    }
    if (r.after === 'MASTER' && r.before !== 'MASTER') {
      groupState = 'MASTER';
      for (const n of others) if (members[n]!.state === 'BACKUP') queue.push([n, { type: 'force-state', to: 'MASTER' }]);
    } else if (r.before === 'MASTER' && r.after === 'BACKUP') {
      groupState = 'BACKUP';
      const quick = inp.type === 'vip-removed-externally'; // set_vrrp_backup: everyone retakes after the skew time
      for (const n of others) if (members[n]!.state === 'MASTER') queue.push([n, { type: 'force-state', to: 'BACKUP', quick }]);
    }
    if (r.effects.some((e) => e.type === 'notify' && e.state === 'MASTER_RX_LOWER_PRI'))
      for (const n of others) if (members[n]!.state === 'MASTER') run(n, { type: 'lower-prio-garp' });
  }

  const states = names.map((n) => members[n]!.state);
  let next: VrrpState;
  if (states.every((s) => s === 'STOP' || s === 'DELETED')) next = states.includes('STOP') ? 'STOP' : 'DELETED';
  else if (states.includes('FAULT')) next = 'FAULT';
  else if (states.every((s) => s === 'MASTER')) next = 'MASTER';
  else if (states.includes('INIT')) next = g.state; // wait until every member has started
  else next = 'BACKUP';
  if (next !== g.state && next !== 'INIT') {
    effects.push({ effect: { type: 'log', level: 'info', msg: `VRRP_Group(${g.spec.name}) Syncing instances to ${next} state`, fields: { group: g.spec.name, state: next } } });
    if (next !== 'DELETED')
      effects.push({ effect: { type: 'notify', scope: 'GROUP', name: g.spec.name, state: next as 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP', priority: 0 } });
  }
  return { state: { spec: g.spec, state: next, members }, effects };
}
