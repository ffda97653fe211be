// Messages between the parent and its children over Node's IPC channel (child_process.fork). Signals still work
// the keepalived way (SIGTERM stops a child; SIGHUP/SIGUSR1/SIGUSR2 sent straight to a child act too); the channel
// carries what signals cannot: validated reloads, status requests and their answers.
import type { InstanceStats } from '../vrrp/shell.js';
import type { VrrpState } from '../vrrp/types.js';
import type { Family } from '../net/address.js';

export type DumpRequest = 'data' | 'stats' | 'json' | 'stats-clear';

export type ToChild =
  /** The parent validated the new config: re-read it and apply it. */
  | { t: 'reload' }
  /** Write a dump file (keepalived's SIGUSR1 / SIGUSR2 / JSON / STATS_CLEAR). */
  | { t: 'dump'; kind: DumpRequest }
  /** Answer with a ChildStatus. */
  | { t: 'status'; id: number };

export type FromChild =
  | { t: 'status'; id: number; status: ChildStatus }
  | { t: 'reloaded'; ok: boolean; error?: string }
  /** The child runs (config read, engine started): the respawn back-off may reset once it has run long enough. */
  | { t: 'ready' };

export interface VrrpInstanceStatus {
  name: string;
  interface: string;
  vrid: number;
  family: Family;
  state: VrrpState;
  wantState: VrrpState;
  priority: number;
  effectivePriority: number;
  vipset: boolean;
  vips: string[];
  master?: string;
  masterPriority?: number;
  /** ISO time of the last transition. */
  lastTransition?: string;
  src?: string;
  faults: string[];
  trackers: Array<{ name: string; ok?: boolean; value?: number; weight: number }>;
  stats: InstanceStats;
}

export interface ScriptStatus { kind: 'track' | 'notify'; name: string; runs: number; failures: number }

/** What the checker child reports (filled in by the checker child when it is wired in). */
export interface CheckerStatus {
  virtualServer: string;
  realServer: string;
  up: boolean;
  /** Weight set in IPVS. */
  weight?: number;
}

export interface ChildStatus {
  vrrp?: VrrpInstanceStatus[];
  scripts?: ScriptStatus[];
  checkers?: CheckerStatus[];
  /** keepalived.json content (VRRP child), served as /keepalived.json. */
  keepalivedJson?: unknown;
}

export function isToChild(m: unknown): m is ToChild {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}
