// Tests that touch the kernel (namespaces, raw sockets, qemu) need root. They skip with a loud reason instead of
// passing vacuously; the summary reporter lists every skip with its reason.
import { execFileSync } from 'node:child_process';

export function needsRoot(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (run the tests as root: namespaces, raw sockets, qemu)';
  return false;
}

export function needsCommand(cmd: string): string | false {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return false;
  } catch {
    return `needs '${cmd}' (scripts/setup-system.sh installs it)`;
  }
}
