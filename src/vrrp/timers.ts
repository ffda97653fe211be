// VRRP timer formulas (keepalived vrrp.h:507-510, RFC 3768 §6.1 / RFC 5798 §6.1), computed in integer
// microseconds exactly as keepalived does, returned in milliseconds.

/** keepalived uses the configured priority 255 for the skew of an owner, else the effective priority. */
export function skewPriority(basePriority: number, effectivePriority: number): number {
  return basePriority === 255 ? 255 : effectivePriority;
}

/**
 * Skew_Time in ms. v2: (256 - p) / 256 s. v3: (256 - p) × Master_Adver_Interval / 256, with the interval in
 * centiseconds and integer µs truncation as keepalived (`(256-p) * cs * 625 / 16`).
 */
export function skewTimeMs(version: 2 | 3, priority: number, masterAdverIntMs: number): number {
  if (version === 2) return Math.floor(((256 - priority) * 1_000_000) / 256) / 1000;
  const cs = Math.floor(masterAdverIntMs / 10);
  return Math.floor(((256 - priority) * cs * 625) / 16) / 1000;
}

/** Master_Down_Interval in ms = down_timer_adverts × Master_Adver_Interval + Skew_Time. */
export function masterDownMs(version: 2 | 3, priority: number, masterAdverIntMs: number, downTimerAdverts = 3): number {
  return downTimerAdverts * masterAdverIntMs + skewTimeMs(version, priority, masterAdverIntMs);
}

/**
 * Round a configured advert_int (ms) as keepalived does: v2 to whole seconds (min 1, max 255), v3 to 10 ms
 * (min 10, max 40950). Returns the rounded value and whether it changed (keepalived warns then).
 */
export function roundAdvertInt(version: 2 | 3, ms: number): { ms: number; changed: boolean } {
  let r: number;
  if (version === 2) r = Math.min(255, Math.max(1, Math.round(ms / 1000))) * 1000;
  else r = Math.min(4095, Math.max(1, Math.round(ms / 10))) * 10;
  return { ms: r, changed: r !== ms };
}
