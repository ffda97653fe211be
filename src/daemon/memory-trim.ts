// Giving back node's file pages after start-up. A node process maps ~30-40 MB of node's own binary (code, V8's
// builtins, read-only data) while it starts, and the kernel's fault-around maps neighbouring pages too; an idle
// daemon then runs a small part of it. MADV_DONTNEED on the read-only file mappings drops them from this process
// (its RSS), the pages stay in the page cache (shared with every node process), and what the daemon runs next comes
// back as minor faults. Only mappings with no private (copy-on-write) page are trimmed: a page a process wrote
// (RELRO, relocated data) would be lost, not re-read. Locked mappings (*_no_swap) are left alone.
import { readFileSync } from 'node:fs';
import { ksock, MADV_DONTNEED } from '../net/ksock.js';
import { errorFields, type Logger } from './log.js';

export interface TrimMapping { start: number; end: number; name: string; rssKb: number }

/**
 * The /proc/<pid>/smaps entries trimFileMappings drops: file-backed (not deleted), neither writable nor
 * inaccessible, resident, without an anonymous (copy-on-write) page, not locked. Pure.
 */
export function trimmableMappings(smaps: string): TrimMapping[] {
  const out: TrimMapping[] = [];
  let cur: (TrimMapping & { ok: boolean; anon: number; locked: boolean }) | undefined;
  const flush = (): void => {
    if (cur?.ok && cur.anon === 0 && !cur.locked && cur.rssKb > 0) out.push({ start: cur.start, end: cur.end, name: cur.name, rssKb: cur.rssKb });
    cur = undefined;
  };
  for (const line of smaps.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      flush();
      const [, a, b, perm, name] = head as unknown as [string, string, string, string, string];
      const ok = name.startsWith('/') && !name.endsWith(' (deleted)') && perm[0] === 'r' && perm[1] !== 'w';
      cur = { start: parseInt(a, 16), end: parseInt(b, 16), name, rssKb: 0, ok, anon: 0, locked: false };
      continue;
    }
    if (!cur) continue;
    const kb = /^(Rss|Anonymous|Locked):\s+(\d+) kB/.exec(line);
    if (kb) {
      const v = Number(kb[2]);
      if (kb[1] === 'Rss') cur.rssKb = v;
      else if (kb[1] === 'Anonymous') cur.anon = v;
      else if (v > 0) cur.locked = true;
    } else if (line.startsWith('VmFlags:') && /\slo(\s|$)/.test(line)) cur.locked = true;
  }
  flush();
  return out;
}

/** VmRSS of this process in kB (0 if unreadable). */
function rssKb(): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Drops this process's resident pages of read-only file mappings (see the header). Returns the RSS before and
 * after in kB, or undefined when the addon has no madvise (built before it was added) or /proc is unreadable.
 */
export function trimFileMappings(log: Logger): { beforeKb: number; afterKb: number } | undefined {
  const k = ksock();
  if (!k.madvise) return undefined;
  let smaps: string;
  try {
    smaps = readFileSync('/proc/self/smaps', 'utf8');
  } catch (e) {
    log.debug(errorFields(e), `memory trim: cannot read /proc/self/smaps: ${(e as Error).message}`);
    return undefined;
  }
  const beforeKb = rssKb();
  for (const m of trimmableMappings(smaps)) {
    try {
      k.madvise(m.start, m.end - m.start, MADV_DONTNEED);
    } catch (e) {
      log.debug({ ...errorFields(e), mapping: m.name }, `memory trim: madvise ${m.name}: ${(e as Error).message}`);
    }
  }
  const afterKb = rssKb();
  log.debug({ beforeKb, afterKb }, `memory trim: RSS ${beforeKb} kB -> ${afterKb} kB (node's file pages left to the page cache)`);
  return { beforeKb, afterKb };
}

/** How long after start-up (and after a reload) a process trims: the start's one-off code has run by then. */
export const TRIM_AFTER_MS = 5000;

/** Schedules one trim `TRIM_AFTER_MS` from now (a later call replaces a pending one); the timer keeps nothing alive. */
export function scheduleTrim(log: Logger, enabled: () => boolean): () => void {
  let timer: NodeJS.Timeout | undefined;
  return () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (enabled()) trimFileMappings(log);
    }, TRIM_AFTER_MS);
    timer.unref();
  };
}
