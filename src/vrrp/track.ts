// Effective priority from weighted trackers (keepalived vrrp_track.c:561-830). Pure functions. vrrp_script rise/fall
// counting lives with its runner in src/notify/track-script.ts (initialTrackScriptState/nextScriptState).
import type { TrackerSpec } from './spec.js';

/** Live state of one tracker. `ok` for interface/script/process/bfd; `value` for track_file (integer in the file). */
export interface TrackerStatus {
  spec: TrackerSpec;
  /** Interface up / script succeeding / process quorum / BFD up. undefined = not known yet (script in INIT). */
  ok?: boolean;
  /** track_file: the number read from the file (0 when empty/unreadable). */
  value?: number;
}

export interface TrackVerdict {
  /** base + Σ adjustments (unclamped). */
  totalPriority: number;
  /** clamp(total, 1, 254); the base when the base is 255 (owner never changes). */
  effectivePriority: number;
  /** Names of trackers that put the instance in FAULT (weight-0 failures, track_file ≤ -254). */
  faults: string[];
}

/** Priority adjustment of one weighted tracker (0 for weight 0, which acts through FAULT instead). */
export function trackerAdjustment(t: TrackerStatus): number {
  const { weight, reverse, kind } = t.spec;
  const m = reverse ? -1 : 1;
  if (kind === 'file') {
    if (weight === 0) return 0;
    const status = (t.value ?? 0) * weight * m;
    return status <= -254 ? 0 : Math.min(status, 253);
  }
  if (weight === 0 || t.ok === undefined) return 0; // unknown (script INIT): no adjustment yet, like keepalived
  if (weight > 0) return t.ok ? weight * m : 0;
  return t.ok ? 0 : weight * m;
}

/** Whether one tracker forces FAULT. */
export function trackerFaults(t: TrackerStatus): boolean {
  const { weight, reverse, kind } = t.spec;
  if (kind === 'file') {
    if (weight === 0) return ((t.value ?? 0) !== 0) === !reverse;
    return (t.value ?? 0) * weight * (reverse ? -1 : 1) <= -254;
  }
  if (weight !== 0 || t.ok === undefined) return false;
  return t.ok === reverse;
}

/** Combine all trackers of an instance. Owner (base 255) ignores weights but still faults on weight-0 trackers. */
export function trackVerdict(basePriority: number, trackers: readonly TrackerStatus[]): TrackVerdict {
  const faults = trackers.filter(trackerFaults).map((t) => t.spec.name);
  if (basePriority === 255) return { totalPriority: 255, effectivePriority: 255, faults };
  const total = basePriority + trackers.reduce((s, t) => s + trackerAdjustment(t), 0);
  return { totalPriority: total, effectivePriority: Math.min(254, Math.max(1, total)), faults };
}
