// Timers for config-derived durations. Node's setTimeout/setInterval take at most 2^31-1 ms (24.8 days): a longer
// delay (delay_loop 3000000 is 34.7 days) becomes 1 ms with only a warning, which turned one checker into a probe
// storm. setLongTimeout chains timeouts of at most that size; a delay within range is a plain Node timer, so the
// common case costs nothing extra.

/** The largest delay Node's timers honour. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The next link of a chain: how long to wait now for `remainingMs` still to go (pure). */
export function nextChunkMs(remainingMs: number, maxChunkMs = MAX_TIMER_MS): number {
  return Math.min(remainingMs, maxChunkMs);
}

/** A delay Node accepts as given: finite and not negative (NaN or negative is 0, as a caller means "now"). */
export function normalizeDelayMs(ms: number): number {
  return Number.isNaN(ms) || ms < 0 ? 0 : ms;
}

export interface LongTimerOptions {
  /** Largest single setTimeout (tests shorten it to see the chain); default 2^31-1. */
  maxChunkMs?: number;
}

/** A timeout longer than one Node timer: re-armed link by link until the whole delay has passed. */
export class LongTimeout {
  private timer?: NodeJS.Timeout;
  private remaining: number;
  private referenced = true;
  private cleared = false;
  /** Links armed so far (for tests and diagnostics). */
  links = 0;

  constructor(
    private readonly fn: () => void,
    ms: number,
    private readonly maxChunkMs: number,
  ) {
    this.remaining = ms;
    this.arm();
  }

  private arm(): void {
    // Infinity waits forever, one maximal link at a time.
    const chunk = nextChunkMs(this.remaining, this.maxChunkMs);
    this.links++;
    this.timer = setTimeout(() => {
      this.remaining -= chunk;
      if (this.cleared) return;
      if (this.remaining > 0) this.arm();
      else this.fn();
    }, chunk);
    if (!this.referenced) this.timer.unref();
  }

  clear(): void {
    this.cleared = true;
    if (this.timer) clearTimeout(this.timer);
  }

  unref(): this {
    this.referenced = false;
    this.timer?.unref();
    return this;
  }

  ref(): this {
    this.referenced = true;
    this.timer?.ref();
    return this;
  }

  hasRef(): boolean {
    return this.referenced;
  }
}

export type TimerHandle = NodeJS.Timeout | LongTimeout;

/** setTimeout for any delay: a plain Node timer when it fits, a chain when it does not. */
export function setLongTimeout<A extends unknown[]>(fn: (...args: A) => void, ms: number, ...args: A): TimerHandle;
export function setLongTimeout(fn: (...args: unknown[]) => void, ms: number, ...args: unknown[]): TimerHandle {
  return setLongTimeoutWith({}, fn, ms, ...args);
}

export function setLongTimeoutWith<A extends unknown[]>(opts: LongTimerOptions, fn: (...args: A) => void, ms: number, ...args: A): TimerHandle {
  const max = opts.maxChunkMs ?? MAX_TIMER_MS;
  const d = normalizeDelayMs(ms);
  if (d <= max) return setTimeout(fn, d, ...args);
  return new LongTimeout(() => fn(...args), d, max);
}

export function clearLongTimeout(t: TimerHandle | undefined): void {
  if (t === undefined) return;
  if (t instanceof LongTimeout) t.clear();
  else clearTimeout(t);
}

/** A repeating timer for any period (each period a setLongTimeout), cleared with its clear(). */
export class LongInterval {
  private handle?: TimerHandle;
  private stopped = false;
  private referenced = true;

  constructor(
    private readonly fn: () => void,
    private readonly periodMs: number,
    private readonly opts: LongTimerOptions = {},
  ) {
    this.arm();
  }

  private arm(): void {
    this.handle = setLongTimeoutWith(this.opts, () => {
      if (this.stopped) return;
      this.arm();
      this.fn();
    }, Math.max(1, normalizeDelayMs(this.periodMs)));
    if (!this.referenced) this.handle.unref();
  }

  clear(): void {
    this.stopped = true;
    clearLongTimeout(this.handle);
  }

  unref(): this {
    this.referenced = false;
    this.handle?.unref();
    return this;
  }
}

export function setLongInterval(fn: () => void, periodMs: number, opts: LongTimerOptions = {}): LongInterval {
  return new LongInterval(fn, periodMs, opts);
}
