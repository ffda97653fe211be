// The split-brain guard's pure rules (README "Split-brain guard"): which lock an instance or sync group takes, when
// a lock still counts as ours (the client-side deadline against the server's session expiry), and the guard state
// /status, metrics and logs show. node.ts applies them to the VRRP units; the lock clients (src/guard/zookeeper.ts) are
// the shell and only report what the service said, with the monotonic time their requests were sent.
import type { VrrpGuard } from '../config/model/index.js';

/**
 * Clock-rate allowance, per side: our monotonic clock and the server's may each run this much fast or slow. 1% is
 * a hundred times a cheap quartz's tolerance; it also absorbs a VM's steal-time rate errors.
 */
export const GUARD_DRIFT = 0.01;

/** Time kept in hand for removing the VIPs and a late timer (ms): 5% of the timeout, at least 100 ms, at most 1 s. */
export function guardMarginMs(timeoutMs: number): number {
  return Math.min(1000, Math.max(100, timeoutMs * 0.05));
}

/**
 * The client-side deadline: until when a lock confirmed by a reply to a request we sent at `sentAt` is still ours.
 *
 * The server renews a session when it receives any request of it, so a reply to a request sent at `sentAt` proves
 * the server renewed the session at some real time ≥ sentAt, and it cannot expire it (delete our lock node, let the
 * next director's watch fire) before sentAt + T as measured by its clock, i.e. not before sentAt + T/(1+ρ) real
 * time. Our timer measures T(1−2ρ) − margin on our clock, at most (T(1−2ρ) − margin)/(1−ρ) real time, which is less
 * than T/(1+ρ) − margin for ρ ≤ 1%. So the VIPs go at least `margin` before the lock can pass, whatever the network
 * did after sentAt. T is the session timeout the server granted (it may shorten the one we asked for).
 */
export function safeDeadline(sentAt: number, timeoutMs: number): number {
  return sentAt + timeoutMs * (1 - 2 * GUARD_DRIFT) - guardMarginMs(timeoutMs);
}

/** The lock name below the guard's path: instances by VRID and interface (unique per director), groups by name. */
export function lockKeyForInstance(vrid: number, ifname: string): string {
  return `vrid-${vrid}-${ifname}`;
}

export function lockKeyForGroup(name: string): string {
  return `group-${name}`;
}

/** What /status, the metric and the logs say about a guarded instance. */
export type GuardState =
  /** The lock is ours and the session is confirmed: MASTER allowed. */
  | 'held'
  /** VRRP elected us but the lock is another director's (or not granted yet): BACKUP, sending no adverts. */
  | 'waiting'
  /** Not asking for the lock (VRRP made us BACKUP). */
  | 'idle'
  /** The service cannot be reached (no confirmed session). */
  | 'unreachable'
  /** advisory mode: MASTER without the lock (logged and counted, not blocked). */
  | 'unlocked-master';

export const GUARD_STATES: readonly GuardState[] = ['held', 'waiting', 'idle', 'unreachable', 'unlocked-master'];

/** One vrrp_guard's session as the node sees it. */
export interface GuardSession {
  spec: VrrpGuard;
  /** The last reply came in and no disconnection was reported since. */
  connected: boolean;
  /** Until when locks of this session are ours (safeDeadline of the last confirmed request); undefined = no session. */
  safeUntil?: number;
  /** Had a confirmed session once (for the log wording only). */
  everConfirmed: boolean;
  /** Why the last session's locks stopped counting (for the log). */
  lost?: string;
}

/** One lock: a guarded instance's or sync group's. */
export interface GuardLock {
  guard: string;
  key: string;
  /** Asked of the shell (guard-want effect). */
  want: boolean;
  /** The service says we hold it (lowest sequence node / campaign won) in the current session. */
  held: boolean;
  /** Fencing token of the held lock (ZooKeeper: the lock node's czxid). */
  token?: string;
}

/** Whether the lock lets its unit be MASTER at `now` (required mode). */
export function lockOpen(session: GuardSession | undefined, lock: GuardLock, now: number): boolean {
  if (!session || !lock.held || session.safeUntil === undefined || now >= session.safeUntil) return false;
  return session.connected || session.spec.unreachable === 'keep';
}

/** The state shown for a unit, from its lock and whether VRRP has it MASTER or wanting MASTER. */
export function guardStateOf(session: GuardSession | undefined, lock: GuardLock, now: number, master: boolean, wants: boolean): GuardState {
  const open = lockOpen(session, lock, now);
  if (open) return 'held';
  if (master && session?.spec.mode === 'advisory') return 'unlocked-master';
  if (!session?.connected) return 'unreachable';
  return wants || master ? 'waiting' : 'idle';
}
