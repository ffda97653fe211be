// A checker probe's timeout that yields to pending I/O once before it fires. After the event loop was held (a big
// reconcile, a GC, a slow disk write), an expired timer runs in the timers phase, before the poll phase that would
// deliver the answer that arrived in time; so the expiry is deferred to the check phase (setImmediate), which
// follows that poll. A reply already queued then wins; with none the timeout fires once. Used by every probe that
// waits on a socket (TCP, HTTP/SSL, UDP, DNS, SMTP, PING).

/** The timer calls a deadline needs; the real ones by default, a fake clock's in tests. */
export interface DeadlineTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setImmediate(fn: () => void): unknown;
  clearImmediate(handle: unknown): void;
}

const realTimers: DeadlineTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setImmediate: (fn) => setImmediate(fn),
  clearImmediate: (h) => clearImmediate(h as NodeJS.Immediate),
};

/** One probe's deadline: `arm` (re-arming restarts it, as SMTP does per reply), `clear` when the probe finished. */
export class ProbeDeadline {
  private timer: unknown;
  private immediate: unknown;

  constructor(private readonly onExpire: () => void, private readonly timers: DeadlineTimers = realTimers) {}

  arm(ms: number): void {
    this.clear();
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.immediate = this.timers.setImmediate(() => {
        this.immediate = undefined;
        this.onExpire();
      });
    }, ms);
  }

  clear(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    if (this.immediate !== undefined) this.timers.clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}

/** A deadline armed now for `ms`. */
export function probeDeadline(ms: number, onExpire: () => void, timers?: DeadlineTimers): ProbeDeadline {
  const d = new ProbeDeadline(onExpire, timers);
  d.arm(ms);
  return d;
}
