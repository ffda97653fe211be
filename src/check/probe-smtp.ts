// SMTP_CHECK (check_smtp.c): connect within connect_timeout, then the dialogue of smtp-dialogue.ts — banner 220,
// HELO → 250, QUIT → any line — each reply awaited at most connect_timeout after the last bytes; the connection
// closed at the end.
import net from 'node:net';
import { SMTP_BUFF_MAX, smtpNext } from './smtp-dialogue.js';
import type { ProbeResult } from './checker-types.js';
import { connectTcp, type ConnOptions } from './probe-socket.js';
import { ProbeDeadline } from './probe-deadline.js';

export interface SmtpProbeTarget extends ConnOptions {
  host: string;
  port: number;
  timeoutMs: number;
  helo: string;
}

export function probeSmtp(t: SmtpProbeTarget): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const where = net.isIPv6(t.host) ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
    let sock: net.Socket;
    try {
      sock = connectTcp(t.host, t.port, t);
    } catch (e) {
      return resolve({ ok: false, reason: `${(e as Error).message} (server ${where})` });
    }
    let done = false;
    let at: 'banner' | 'helo' | 'quit' = 'banner';
    let buf = '';
    let expiry = '';
    // Yields to pending I/O once before failing (probe-deadline.ts): a reply that came in time is read first.
    const deadline = new ProbeDeadline(() => finish({ ok: false, reason: expiry }));
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      deadline.clear();
      sock.destroy();
      resolve(r);
    };
    const arm = (reason: string): void => {
      expiry = reason;
      deadline.arm(t.timeoutMs);
    };
    const readTimeout = `Read timeout from server ${where}`;
    arm(`Connection timeout to server ${where}`);
    sock.once('connect', () => arm(readTimeout));
    sock.on('data', (chunk: Buffer) => {
      if (done) return;
      // keepalived reads into a 512-byte buffer and starts it again when it fills without a newline.
      for (const ch of chunk.toString('latin1')) {
        if (buf.length >= SMTP_BUFF_MAX - 1) buf = '';
        buf += ch;
      }
      if (!buf.includes('\n')) return arm(readTimeout);
      const step = smtpNext(at, buf, t.helo);
      buf = '';
      if (step.kind === 'fail') return finish({ ok: false, reason: `${step.reason} from server ${where}` });
      if (step.kind === 'done') return finish({ ok: true, reason: `SMTP server ${where} answered HELO and QUIT` });
      at = step.expect;
      sock.write(step.line);
      arm(readTimeout);
    });
    sock.once('end', () => finish({ ok: false, reason: `Read failure from server ${where}` }));
    sock.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, reason: `Error connecting to server ${where}: ${e.code ?? e.message}` }));
    sock.once('close', () => finish({ ok: false, reason: `Read failure from server ${where}` }));
  });
}
