// NODE_EXTRA_CA_CERTS kept out of keepalived-ts's own Node processes, and kept for the scripts they run.
//
// Node reads the file NODE_EXTRA_CA_CERTS names while it starts, before any JavaScript runs, and builds its root
// certificate store with it: measured on Debian 12's node 20 with the system bundle (/etc/ssl/certs/
// ca-certificates.crt), `node -e 0` takes 80-110 ms instead of 30. keepalived-ts verifies no certificate (SSL_GET
// does not, as keepalived does not; etcd over TLS is refused), so the store is never used, and a daemon starts two
// or three Node processes in a row before its first advert. Hosts behind a TLS-inspecting proxy often set the variable
// for every process.
//
// The launcher (bin/keepalived-ts, a shell script: only it runs before Node) moves the value to
// KEEPALIVED_TS_EXTRA_CA_CERTS; each of our processes puts it back in its environment first thing (restore), so
// notify, track and check scripts see the environment keepalived-ts was started with, and moves it aside again for
// the Node processes it starts itself (forNodeChild).

/** Where the value waits while a keepalived-ts Node process starts. */
export const EXTRA_CA_CERTS_ASIDE = 'KEEPALIVED_TS_EXTRA_CA_CERTS';
const NODE_VAR = 'NODE_EXTRA_CA_CERTS';

/** Puts NODE_EXTRA_CA_CERTS back as the launcher or the parent found it. */
export function restoreExtraCaCerts(env: NodeJS.ProcessEnv = process.env): void {
  const aside = env[EXTRA_CA_CERTS_ASIDE];
  if (aside === undefined) return;
  delete env[EXTRA_CA_CERTS_ASIDE];
  env[NODE_VAR] = aside;
}

/** `env` for a keepalived-ts Node process this one starts: NODE_EXTRA_CA_CERTS moved aside (a copy; `env` is kept). */
export function forNodeChild(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  const value = out[NODE_VAR];
  if (value === undefined) return out;
  delete out[NODE_VAR];
  out[EXTRA_CA_CERTS_ASIDE] = value;
  return out;
}
