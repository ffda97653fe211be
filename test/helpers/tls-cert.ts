// Self-signed certificates for TLS tests, generated with the system openssl into a temp dir.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCert {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  cleanup(): void;
}

/** `rsa` as the brief asks for tests; `ec` (P-256) where the server's handshake cost matters (benchmark). */
export function makeCert(cn = 'test', keyType: 'rsa' | 'ec' = 'rsa'): TestCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kt-cert-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const newkey = keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-x509', ...newkey, '-nodes', '-subj', `/CN=${cn}`, '-days', '1', '-keyout', keyFile, '-out', certFile], {
    stdio: 'ignore',
  });
  return {
    dir,
    certFile,
    keyFile,
    cert: fs.readFileSync(certFile),
    key: fs.readFileSync(keyFile),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
