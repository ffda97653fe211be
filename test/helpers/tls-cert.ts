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

export function makeCert(cn = 'test'): TestCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kt-cert-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-days', '1', '-keyout', keyFile, '-out', certFile], {
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
