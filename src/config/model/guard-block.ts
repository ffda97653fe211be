// vrrp_guard NAME { zookeeper|etcd …; path; session_timeout; mode; unreachable } — a keepalived-ts extension
// (keepalived says "unknown keyword"): the coordination service whose lock an instance or sync group must hold to be
// MASTER. Only reading and checking here; the semantics are in vrrp/guard.ts and README "Split-brain guard".
import type { ConfigNode } from '../tree.js';
import type { VrrpGuard } from './types.js';
import { otherKeyword } from './keywords.js';
import { type Ctx, readTimerMs } from './values.js';

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const URL_RE = /^https?:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/;
const PATH_RE = /^(\/[A-Za-z0-9._-]+)+$/;

/** Default session timeout: 6 s (the example; ZooKeeper's default tickTime 2 s allows 4..40 s). */
export const GUARD_DEFAULT_SESSION_TIMEOUT_MS = 6000;

export function buildGuard(ctx: Ctx, n: ConfigNode): VrrpGuard | undefined {
  const name = n.args[0]?.text;
  if (!name) {
    ctx.diags.error('missing-name', "'vrrp_guard' needs a name: vrrp_guard NAME { … }", n.loc, { keyword: n.keyword });
    return undefined;
  }
  let backend: VrrpGuard['backend'] | undefined;
  let endpoints: string[] = [];
  let path: string | undefined;
  const g: Omit<VrrpGuard, 'backend' | 'endpoints' | 'path'> = {
    name, sessionTimeoutMs: GUARD_DEFAULT_SESSION_TIMEOUT_MS, mode: 'required', unreachable: 'keep', loc: n.loc,
  };
  for (const k of n.block ?? []) {
    switch (k.keyword) {
      case 'zookeeper': case 'etcd': {
        const expected = k.keyword === 'zookeeper' ? 'HOST:PORT[,HOST:PORT…]' : 'http://HOST:PORT[,http://HOST:PORT…]';
        if (!ctx.need(k, 1, expected)) break;
        if (backend) { ctx.bad(k, 0, 'duplicate', `vrrp_guard ${name}: the service is already given (${backend})`, 'one zookeeper or etcd line per vrrp_guard'); break; }
        const list = k.args.flatMap((a) => a.text.split(',')).filter(Boolean);
        const re = k.keyword === 'zookeeper' ? HOST_PORT : URL_RE;
        const bad = list.find((e) => { const m = re.exec(e); return !m || Number(m[2]) < 1 || Number(m[2]) > 65535; });
        if (bad !== undefined) { ctx.bad(k, 0, 'invalid-value', `vrrp_guard ${name}: '${bad}' is not a valid ${k.keyword} endpoint`, `expected ${expected}`); break; }
        const tls = k.keyword === 'etcd' ? list.find((e) => e.startsWith('https:')) : undefined;
        if (tls !== undefined) {
          // No TLS options (CA, client certificate) exist yet: refused rather than a guard that cannot connect.
          ctx.bad(k, 0, 'not-supported', `vrrp_guard ${name}: '${tls}': etcd over TLS is not supported yet by keepalived-ts`, 'use http://HOST:PORT endpoints');
          break;
        }
        backend = k.keyword;
        endpoints = list;
        break;
      }
      case 'path':
        if (!ctx.need(k, 1, '/PATH')) break;
        if (!PATH_RE.test(k.args[0]!.text)) { ctx.bad(k, 0, 'invalid-value', `vrrp_guard ${name}: '${k.args[0]!.text}' is not a valid lock path`, 'expected an absolute path such as /keepalived-ts/lvs-prod (letters, digits, . _ -)'); break; }
        path = k.args[0]!.text;
        ctx.extraWords(k, 1);
        break;
      case 'session_timeout': {
        if (!ctx.need(k, 1, 'SECONDS')) break;
        const ms = readTimerMs(ctx, k, 0, 1, 3600);
        if (ms !== undefined) g.sessionTimeoutMs = ms;
        ctx.extraWords(k, 1);
        break;
      }
      case 'mode': case 'unreachable': {
        const allowed = k.keyword === 'mode' ? ['required', 'advisory'] : ['keep', 'release'];
        if (!ctx.need(k, 1, allowed.join('|'))) break;
        const v = k.args[0]!.text;
        if (!allowed.includes(v)) { ctx.bad(k, 0, 'invalid-value', `vrrp_guard ${name}: '${k.keyword}' is '${v}'`, `expected ${allowed.join(' or ')}`); break; }
        if (k.keyword === 'mode') g.mode = v as VrrpGuard['mode'];
        else g.unreachable = v as VrrpGuard['unreachable'];
        ctx.extraWords(k, 1);
        break;
      }
      default: otherKeyword(ctx, k, 'vrrp_guard');
    }
  }
  if (!backend) {
    ctx.diags.error('missing-parameter', `vrrp_guard ${name} has no service`, n.loc, { keyword: 'zookeeper', suggestion: 'add: zookeeper HOST:PORT[,HOST:PORT…] or etcd http://HOST:PORT[,http://HOST:PORT…]' });
    return undefined;
  }
  if (!path) {
    ctx.diags.error('missing-parameter', `vrrp_guard ${name} has no lock path`, n.loc, { keyword: 'path', suggestion: 'add: path /keepalived-ts/NAME' });
    return undefined;
  }
  return { ...g, backend, endpoints, path };
}
