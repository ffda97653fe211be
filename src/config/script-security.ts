// Script security as keepalived checks it (notify.c check_script_secure / check_security, vrrp.c
// check_vrrp_script_security, check_data.c check_check_script_security, main.c start/stop scripts), reported as
// `-t` diagnostics. The decision itself (who runs a script, whether it may run) lives in src/notify/script-user.ts
// and is the one the daemon's children use, so `-t` reports exactly what the daemon will do.
import type { Diagnostics } from './diagnostics.js';
import type { KeepalivedConfig } from './model/types.js';
import { decideScript, scriptPolicy, SC_INHIBIT, SC_INSECURE, SC_ISSCRIPT, SC_NOTFOUND, type ScriptFs, type ScriptRole } from '../notify/script-user.js';

export {
  checkScriptSecure, nodeScriptFs, SC_ISSCRIPT, SC_INHIBIT, SC_NOTFOUND, SC_EXECUTABLE, SC_INSECURE, SC_SYSTEM,
  type ScriptFs, type ScriptVerdict,
} from '../notify/script-user.js';

/** Applies keepalived's script-security rules to a whole model: diagnostics only (the model is not changed). */
export function checkModelScriptSecurity(model: KeepalivedConfig, fs: ScriptFs, diags: Diagnostics): void {
  const g = model.globalDefs;
  const security = g.enableScriptSecurity;
  const policy = scriptPolicy(g, fs);
  let defaultReported = false;
  if (g.scriptUser && !policy.default.ok) {
    diags.error('bad-script-user', `script_user '${g.scriptUser.user}${g.scriptUser.group ? ':' + g.scriptUser.group : ''}' does not exist`, undefined, { keyword: 'script_user' });
    defaultReported = true;
  }
  const hasVrrp = model.vrrpInstances.length > 0;
  const hasLvs = model.virtualServers.length > 0;
  let vrrpFlags = 0, checkFlags = 0, startFlags = 0;
  for (const { spec, kind, where } of model.scripts) {
    const inVrrp = kind === 'track' || where.startsWith('vrrp_instance') || where.startsWith('vrrp_sync_group') || where.includes('notify_fifo_script') && !where.includes('lvs_');
    const inCheck = kind === 'check' || where.includes('lvs_notify_fifo') || where.includes(' notify_fifo_script');
    if (kind === 'startup') {
      if (!where.includes('shutdown')) continue; // keepalived checks only the shutdown script at start-up
    } else if (!(inVrrp && hasVrrp) && !(inCheck && hasLvs)) continue;
    const ownUser = spec.user !== undefined && spec.user !== '';
    const role: ScriptRole = kind === 'track' ? 'track' : where.endsWith('MISC_CHECK') ? 'misc' : kind === 'fifo' ? 'fifo' : kind === 'startup' ? 'startup' : 'notify';
    const name = kind === 'track' ? where.replace(/^vrrp_script /, '') : spec.argv.join(' ');
    const d = decideScript(spec, role, name, policy, fs);
    const userFailed = !d.run && d.flags === 0;
    if (userFailed) {
      // No user to run it as: keepalived reports the missing default user once, and removes the script.
      if (!ownUser && !defaultReported) {
        defaultReported = true;
        diags.error('bad-script-user', 'unable to set default user keepalived_script for script', spec.loc, {
          suggestion: "create the 'keepalived_script' user or set 'script_user' in global_defs",
        });
      }
      if (kind === 'track') diags.error('bad-script-user', `unable to set uid/gid for script ${spec.argv[0]} - removing`, spec.loc, { keyword: spec.user });
      else diags.notice('script-disabled', `${where}: ${d.message}`, spec.loc);
      continue;
    }
    if (!d.run) {
      const why = d.reasons.join('; ');
      if (kind === 'track' && d.flags & SC_INHIBIT) diags.error('insecure-script', `disabling track script ${name} due to insecure`, spec.loc, { suggestion: why });
      else if (kind === 'track' && d.flags & SC_NOTFOUND) diags.error('script-not-found', `disabling track script ${name} since not found/accessible`, spec.loc, { suggestion: why });
      else diags.notice('script-disabled', `${where}: script ${spec.argv[0]} will not run: ${d.message}${why ? ` (${why})` : ''}`, spec.loc);
    }
    if (kind === 'startup') startFlags |= d.flags;
    else if (inVrrp && hasVrrp) vrrpFlags |= d.flags;
    if (inCheck && hasLvs) checkFlags |= d.flags;
  }
  const violation = (what: string, flags: number): void => {
    if (security || !(flags & SC_ISSCRIPT)) return;
    diags.security('script-security', `SECURITY VIOLATION - ${what}scripts are being executed but script_security not enabled.${flags & SC_INSECURE ? ' There are insecure scripts.' : ''}`, undefined, {
      suggestion: "add 'enable_script_security' to global_defs (scripts then run as 'keepalived_script' or 'script_user')",
    });
  };
  violation('', vrrpFlags);
  violation('check ', checkFlags);
  violation('start/shutdown ', startFlags);
}
