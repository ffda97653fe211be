// Messages between the daemon and the checker child process (JSON over the Node IPC channel).
import type { CheckEvent } from './verdict.js';
import type { CheckConfig, DesiredVs } from './types.js';

export type ToChild =
  | { type: 'start'; config: CheckConfig }
  /** New configuration; unchanged checkers keep their state (answered with 'ready'). */
  | { type: 'reload'; config: CheckConfig }
  | { type: 'stop' }
  /** ha_suspend: the complete list of local addresses, sent whenever it changes. */
  | { type: 'addresses'; present: string[] }
  | { type: 'stats' };

export type FromChild =
  /** After start: the complete desired state of every VS. */
  | { type: 'ready'; desired: DesiredVs[] }
  /** Later: the new desired state of the VSes that changed. */
  | { type: 'desired'; changes: DesiredVs[] }
  | { type: 'events'; events: CheckEvent[] }
  | { type: 'stats'; checksDone: number; inFlight: number; queued: number; cpuUserUs: number; cpuSystemUs: number; rssBytes: number }
  /** After stop: shutdown events (omega); the child exits right after. */
  | { type: 'stopped'; events: CheckEvent[] }
  | { type: 'error'; code: string; message: string };
