// MISC_CHECK: run misc_path with misc_timeout through the notify runner (src/notify/run.ts).
// Exit 0 = success; with misc_dynamic 2..255 = success with weight status − 2 (the verdict core decides);
// a timeout (SIGTERM, then SIGKILL to the group) or a kill is a failure without exit status.
import { describeResult, runScript, type ScriptRun } from '../notify/run.js';
import type { ProbeResult } from './checker-types.js';
import { constants as osConstants } from 'node:os';

export interface MiscProbeTarget {
  argv: string[];
  timeoutMs: number;
  uid?: number;
  gid?: number;
}

export async function probeMisc(t: MiscProbeTarget): Promise<ProbeResult> {
  const spec: ScriptRun = { argv: t.argv, timeoutMs: t.timeoutMs };
  if (t.uid !== undefined) spec.uid = t.uid;
  if (t.gid !== undefined) spec.gid = t.gid;
  const r = await runScript(spec, { killGraceMs: 2000 });
  const reason = `${t.argv[0]} ${describeResult(r)}`;
  // A script that could not be started is a failure here (keepalived's child would exit 0 = success, issue #2126).
  if (r.spawnError !== undefined || r.timedOut || r.signal !== null || r.exitCode === null) {
    return { ok: false, reason, timedOut: r.timedOut || undefined, signal: r.signal ? osConstants.signals[r.signal as NodeJS.Signals] : undefined };
  }
  return { ok: r.exitCode === 0, reason, exitStatus: r.exitCode };
}
