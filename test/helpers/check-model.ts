// Config-model objects (src/config/model) for the checker tests and the checker-load bench, built in code: every
// field the model resolves is given keepalived's default unless the caller overrides it. The checkers consume
// these objects as the config reader produces them.
import type { Loc } from '../../src/config/tree.js';
import type {
  FileCheck, HttpCheck, HttpUrl, MiscCheck, RealServer, ScriptSpec, TcpCheck, VirtualServer,
} from '../../src/config/model/index.js';

export const testLoc: Loc = { file: 'test.conf', line: 1, col: 1 };

const common = {
  connectTimeoutMs: 5000, retry: 1, delayBeforeRetryMs: 1000, delayLoopMs: 60_000, warmupMs: 60_000, alpha: false,
  logAllFailures: false, loc: testLoc,
};

export function tcpCheck(over: Partial<TcpCheck> = {}): TcpCheck {
  return { type: 'TCP_CHECK', ...common, ...over };
}

export function url(over: Partial<HttpUrl> = {}): HttpUrl {
  return { path: '/', statusCodes: [[200, 299]], regexNoMatch: false, regexOptions: [], loc: testLoc, ...over };
}

export function httpCheck(over: Partial<HttpCheck> = {}): HttpCheck {
  return {
    type: 'HTTP_GET', ...common, delayBeforeRetryMs: 3000, urls: [url()], httpProtocol: '1.0', fastRecovery: false, enableSni: false,
    ...over,
  };
}

/** A script as the config reader gives it: argv split from `raw` on blanks (enough for the tests' commands). */
export function script(raw: string, over: Partial<ScriptSpec> = {}): ScriptSpec {
  return { argv: raw.split(/\s+/).filter(Boolean), raw, loc: testLoc, ...over };
}

export function miscCheck(path: string, over: Partial<MiscCheck> = {}): MiscCheck {
  return { type: 'MISC_CHECK', ...common, retry: 0, script: script(path), timeoutMs: common.delayLoopMs, dynamic: false, ...over };
}

export function fileCheck(file: string, over: Partial<FileCheck> = {}): FileCheck {
  return { type: 'FILE_CHECK', ...common, trackFile: 'tf', file, weight: 1, weightReverse: false, ...over };
}

export function realServer(address: string, over: Partial<RealServer> = {}): RealServer {
  return {
    address, family: address.includes(':') ? 6 : 4, port: 80, weight: 1, lbKind: 'NAT', inhibitOnFailure: false, smtpAlert: false,
    connectTimeoutMs: 5000, delayLoopMs: 60_000, alpha: false, checkers: [tcpCheck()], loc: testLoc,
    ...over,
  };
}

export function virtualServer(over: Partial<VirtualServer> = {}): VirtualServer {
  return {
    kind: 'address', address: '10.0.0.1', port: 80, family: 4, key: '[10.0.0.1]:tcp:80', protocol: 'TCP', lbAlgo: 'wlc', lbKind: 'NAT',
    persistenceTimeoutS: 0, schedFlags: [], inhibitOnFailure: false, omega: false, quorum: 1, hysteresis: 0, weight: 1,
    haSuspend: false, connectTimeoutMs: 5000, delayLoopMs: 60_000, alpha: false, realServers: [], loc: testLoc,
    ...over,
  };
}
