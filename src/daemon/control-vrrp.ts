// The control commands of the VRRP side (issue 12): `status` (answered by the parent from the status document);
// switchover, resume and maintenance are checked here (usage) and forwarded to the VRRP child, which owns the
// instances and answers with the node's verdict (vrrp/node.ts onSwitchover / onResume / onMaintenance).
import { badRequest, positionalArgs, registerControlCommand, type ControlArgs, type ControlReply } from './control.js';
import type { InstanceStatusJson } from './ipc.js';

/** One line per instance: `VI_1 BACKUP prio 140/150 eth0 vrid 51 master 10.0.0.2 hold until resume`. */
export function instanceLine(i: InstanceStatusJson): string {
  const prio = i.effectivePriority === i.priority ? `${i.priority}` : `${i.effectivePriority}/${i.priority}`;
  const extra: string[] = [];
  if (i.master) extra.push(`master ${i.master}`);
  if (i.faults.length) extra.push(`faults ${i.faults.join(',')}`);
  if (i.maintenance) extra.push('maintenance');
  if (i.hold) extra.push(`hold ${i.hold}`);
  return `${i.name} ${i.state} prio ${prio} ${i.interface} vrid ${i.vrid}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

registerControlCommand({
  name: 'status',
  usage: 'status',
  handler: async (_args, _caller, env): Promise<ControlReply> => {
    const doc = await env.status();
    const lines = doc.vrrp.map(instanceLine);
    if (doc.maintenance) lines.unshift('maintenance on: every instance stays BACKUP (ctl maintenance off ends it)');
    return { ok: true, message: lines.length ? lines.join('\n') : 'no VRRP instance', maintenance: doc.maintenance === true, instances: doc.vrrp.map((i) => ({ name: i.name, state: i.state })) };
  },
});

/** The instance or sync group a command names: the first word, or `target`. */
function targetOf(args: ControlArgs): string | undefined {
  const t = positionalArgs(args)[0] ?? args['target'];
  return typeof t === 'string' && t !== '' ? t : undefined;
}

/** Enough for a switchover at the longest advert interval the wait covers (the VRRP child answers within 25 s). */
const SWITCHOVER_FORWARD_MS = 30_000;

registerControlCommand({
  name: 'switchover',
  usage: 'switchover INSTANCE|GROUP [--hold SECONDS] [--force]',
  handler: async (args, _caller, env) => {
    const target = targetOf(args);
    if (!target) return badRequest('usage: switchover INSTANCE|GROUP [--hold SECONDS] [--force]');
    let holdMs: number | undefined;
    if (args['hold'] !== undefined) {
      const h = Number(args['hold']);
      if (!Number.isFinite(h) || h <= 0) return badRequest(`--hold ${String(args['hold'])}: expected a positive number of seconds`);
      holdMs = h * 1000;
    }
    const force = args['force'] === true || args['force'] === 'true';
    return env.forward('vrrp', 'switchover', { target, ...(holdMs === undefined ? {} : { holdMs }), ...(force ? { force } : {}) }, SWITCHOVER_FORWARD_MS);
  },
});

registerControlCommand({
  name: 'resume',
  usage: 'resume INSTANCE|GROUP',
  handler: async (args, _caller, env) => {
    const target = targetOf(args);
    if (!target) return badRequest('usage: resume INSTANCE|GROUP');
    return env.forward('vrrp', 'resume', { target });
  },
});

registerControlCommand({
  name: 'maintenance',
  usage: 'maintenance on|off',
  handler: async (args, _caller, env) => {
    const w = positionalArgs(args)[0] ?? args['state'];
    if (w !== 'on' && w !== 'off') return badRequest('usage: maintenance on|off');
    return env.forward('vrrp', 'maintenance', { on: w === 'on' });
  },
});
