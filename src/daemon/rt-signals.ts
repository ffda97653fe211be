// keepalived's real-time signals: SIGRTMIN+2 writes the JSON dump, SIGRTMAX-1 clears the stats (lib/signals.c).
// Node cannot trap them, so the socket addon installs the handler and reports deliveries through a pipe.
import { readSync } from 'node:fs';
import { ksock } from '../net/ksock.js';

/** keepalived's numbering on this libc. */
export function keepalivedRtSignals(): { json: number; statsClear: number } {
  const { min, max } = ksock().rtSignals();
  return { json: min + 2, statsClear: max - 1 };
}

/** Calls the handler of each listed signal number when it is delivered. Returns a function that stops watching. */
export function onRealtimeSignals(handlers: Record<number, () => void>): () => void {
  const k = ksock();
  const fd = k.signalPipe(Object.keys(handlers).map(Number));
  const buf = Buffer.alloc(64);
  const w = new k.Watcher(fd, () => {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch {
        return; // EAGAIN: drained
      }
      if (n <= 0) return;
      for (let i = 0; i < n; i++) handlers[buf[i]!]?.();
    }
  });
  w.start();
  return () => w.close();
}
