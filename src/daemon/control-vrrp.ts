// The control commands of the VRRP side (issue 12): `status` (answered by the parent from the status document);
// switchover, resume and maintenance are forwarded to the VRRP child, which owns the instances.
import { registerControlCommand, type ControlReply } from './control.js';
import type { InstanceStatusJson } from './ipc.js';

/** One line per instance: `VI_1 MASTER prio 150/150 eth0 vrid 51 master 10.0.0.1 vips 10.0.0.100/24`. */
export function instanceLine(i: InstanceStatusJson): string {
  const prio = i.effectivePriority === i.priority ? `${i.priority}` : `${i.effectivePriority}/${i.priority}`;
  const extra = [
    i.master ? `master ${i.master}` : undefined,
    i.faults.length ? `faults ${i.faults.join(',')}` : undefined,
  ].filter(Boolean);
  return `${i.name} ${i.state} prio ${prio} ${i.interface} vrid ${i.vrid}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

registerControlCommand({
  name: 'status',
  usage: 'status',
  handler: async (_args, _caller, env): Promise<ControlReply> => {
    const doc = await env.status();
    const lines = doc.vrrp.map(instanceLine);
    return { ok: true, message: lines.length ? lines.join('\n') : 'no VRRP instance', instances: doc.vrrp.map((i) => ({ name: i.name, state: i.state })) };
  },
});
