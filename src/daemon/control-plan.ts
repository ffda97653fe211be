// `keepalived-ts ctl plan -f NEW.conf [--json]` (issue 12): what a SIGHUP with NEW.conf would change on this director,
// computed by the parent (validation, processes) and each child (its own reload code) without applying anything.
// `-t` stays the syntax check; this is the change check. A file that a SIGHUP would refuse is refused here too,
// with the config test's lines. Only root may ask: the daemon reads the file as root.
import { isAbsolute } from 'node:path';
import { badRequest, refused, registerControlCommand, type ControlReply } from './control.js';
import { formatReloadPlan } from './reload-plan.js';
import { planFileArg } from './control-plan-file.js';

registerControlCommand({
  name: 'plan',
  usage: 'plan -f FILE',
  handler: async (args, caller, env): Promise<ControlReply> => {
    // The daemon reads the file (and its includes) as root, and diagnostics quote what they read: a caller let in by
    // --ctl-allow-uid/-gid or --ctl-allow-tcp must not read files through it.
    if (caller.kind !== 'unix' || caller.uid !== 0) return { ok: false, refusal: 'forbidden', message: 'plan reads the file as root: only root may ask for it (over the unix socket)' };
    const file = planFileArg(args);
    if (!file) return badRequest('plan needs the new configuration: plan -f FILE');
    if (!isAbsolute(file)) return badRequest(`plan -f needs an absolute path (the daemon's working directory is not yours): ${file}`);
    if (!env.planReload) return refused('this daemon cannot plan a reload');
    const plan = await env.planReload(file);
    const message = formatReloadPlan(plan).trimEnd();
    return plan.valid ? { ok: true, message, plan } : { ...refused(message), plan };
  },
});
