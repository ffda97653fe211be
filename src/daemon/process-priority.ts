// keepalived's vrrp_priority / checker_priority: each child sets its own nice value (setpriority on itself), so an
// operator can keep a busy checker process from taking CPU time the VRRP process needs to send adverts on time.
import { setPriority } from 'node:os';
import { errorFields, type Logger } from './log.js';

export function applyProcessNice(nice: number | undefined, keyword: string, log: Logger): void {
  if (nice === undefined) return;
  try {
    setPriority(0, nice);
    log.info({ nice }, `${keyword} ${nice}: process nice value set`);
  } catch (e) {
    log.warn({ ...errorFields(e), nice }, `${keyword} ${nice}: cannot set the process nice value: ${(e as Error).message}`);
  }
}
