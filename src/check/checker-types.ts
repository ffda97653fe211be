// What the health-checker subsystem adds to the config model. The checkers consume the model's own objects
// (VirtualServer, RealServer, Checker, SorryServer, SslConfig from src/config/model): the model already applied
// keepalived's VS → RS → checker inheritance and defaults, with every duration in milliseconds. Defined here is
// only what the model does not hold: the decision of who runs each script, the desired IPVS destinations that
// follow from the checkers' verdict, and a probe's result.
import type { KeepalivedConfig, ScriptSpec } from '../config/model/types.js';

/** The part of the configuration the checkers read. */
export type CheckInput = Pick<KeepalivedConfig, 'virtualServers' | 'ssl'>;

/** Who runs a script, or null when keepalived would remove it (src/notify/script-user.ts scriptUserResolver). */
export type CheckScriptUsers = (s: ScriptSpec, role: 'notify' | 'misc') => { uid: number; gid: number } | null;

/**
 * A configured script with its runner decided at start or reload: the model's ScriptSpec itself (its raw text is
 * what the logs name) and, derived, who runs it. `runAs` is set when a CheckScriptUsers decided it; without one,
 * the spec's own user/group names (if any) are looked up when the script runs. The exec-ready form
 * (notify/run.ts ScriptRun) is built from it when the script runs.
 */
export interface DecidedScript {
  spec: ScriptSpec;
  runAs?: { uid: number; gid: number };
}

/** One destination as it must be in IPVS. */
export interface DesiredDest {
  addr: string;
  port: number;
  weight: number;
  /** Present only because of inhibit_on_failure / sorry_server_inhibit (weight 0). */
  inhibited: boolean;
}

export interface DesiredVs {
  vsKey: string;
  dests: DesiredDest[];
}

/** Result of one probe. `exitStatus` is set by MISC_CHECK when the script exited normally. */
export interface ProbeResult {
  ok: boolean;
  reason: string;
  exitStatus?: number;
  /** MISC_CHECK: killed at misc_timeout (keepalived logs "timed out"). */
  timedOut?: boolean;
  /** MISC_CHECK: the signal number that ended the script. */
  signal?: number;
  /** Datagrams read and dropped as not this check's answer, by reason (DNS_CHECK: short, id, not-a-response;
   *  PING_CHECK: other-sequence); absent when none. */
  dropped?: DroppedReplies;
}

/** Counts of dropped replies by reason. */
export type DroppedReplies = Record<string, number>;

