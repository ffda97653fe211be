// `keepalived-ts -t`: read, build and validate a configuration; the verdict as keepalived's exit code.
// The host facts (interfaces, file system for script security, host name) are passed in or read here, so the
// daemon can call the same function before a start or a reload.
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { Diagnostics, exitCodeFor, type Diagnostic } from './diagnostics.js';
import { parseConfigFile } from './parse.js';
import { ModelBuilder } from './model/build.js';
import type { KeepalivedConfig } from './model/types.js';
import { checkModelScriptSecurity, nodeScriptFs, type ScriptFs } from './script-security.js';

export interface CheckConfigOptions {
  /** -i: config id for `@ID` lines (default: short host name). */
  configId?: string;
  /** -e: missing include files are fatal. */
  allConfig?: boolean;
  /** Interfaces of the current namespace; default: read /sys/class/net. null = do not check. */
  interfaces?: ReadonlySet<string> | null;
  /** Host facts for script security; default: the real file system. */
  scriptFs?: ScriptFs;
  /** Short host name (router_id and smtp defaults); default os.hostname() up to the first '.'. */
  hostname?: string;
}

export interface CheckConfigResult {
  model: KeepalivedConfig;
  diags: Diagnostic[];
  exitCode: number;
  /** Every file read, root first. */
  files: string[];
}

/** Interface names in the current network namespace. */
export function readInterfaces(): Set<string> {
  try {
    return new Set(readdirSync('/sys/class/net'));
  } catch {
    return new Set();
  }
}

export function shortHostname(): string {
  return hostname().split('.')[0] || 'localhost';
}

export function checkConfig(path: string, opts: CheckConfigOptions = {}): CheckConfigResult {
  const host = opts.hostname ?? shortHostname();
  const interfaces = opts.interfaces === undefined ? readInterfaces() : opts.interfaces;
  // Only asked for an existing interface named by use_ipvlan / use_vmac (rare): sysfs does not tell an ipvlan from a
  // macvlan nor give a macvlan's mode, iproute2's detailed link dump does. This namespace's, when the daemon or -t
  // runs in it.
  const linkKind = (name: string): { info_kind?: string; info_data?: { mode?: string } } | undefined => {
    const r = spawnSync('ip', ['-d', '-j', 'link', 'show', 'dev', name], { encoding: 'utf8', timeout: 5000 });
    try {
      return (JSON.parse(r.stdout) as Array<{ linkinfo?: { info_kind?: string; info_data?: { mode?: string } } }>)[0]?.linkinfo;
    } catch {
      return undefined;
    }
  };
  const isL2Ipvlan = (name: string): boolean => {
    const info = linkKind(name);
    return info?.info_kind === 'ipvlan' && info.info_data?.mode === 'l2';
  };
  const isPrivateMacvlan = (name: string): boolean => {
    const info = linkKind(name);
    return info?.info_kind === 'macvlan' && info.info_data?.mode === 'private';
  };
  // IFF_MULTICAST of an existing interface, as keepalived reads its flags when it completes an instance.
  const hasMulticast = (name: string): boolean => {
    try {
      return (parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8'), 16) & 0x1000) !== 0; // IFF_MULTICAST
    } catch {
      return true;
    }
  };
  // ARPHRD_ETHER (1) of an existing interface: keepalived's VMAC check reads the link's hardware type.
  const isEthernet = (name: string): boolean => {
    try {
      return parseInt(readFileSync(`/sys/class/net/${name}/type`, 'utf8'), 10) === 1;
    } catch {
      return true;
    }
  };
  const env = { interfaces, hostname: host, ...(opts.interfaces === undefined ? { isL2Ipvlan, isPrivateMacvlan, hasMulticast, isEthernet } : {}) };
  // The model is built block by block as the reader completes them (see ModelBuilder).
  let builder = new ModelBuilder(env);
  const parsed = parseConfigFile(path, {
    configId: opts.configId ?? host,
    allConfig: opts.allConfig,
    includeCheckAll: opts.allConfig,
  }, (n) => builder.add(n));
  if (parsed.truncated) builder = new ModelBuilder(env);
  const diags: Diagnostics = parsed.diags;
  const model = builder.finish(diags);
  if (!diags.list.some((d) => d.code === 'file-not-found' && d.severity === 'fatal' && !d.loc))
    checkModelScriptSecurity(model, opts.scriptFs ?? nodeScriptFs(), diags);
  return { model, diags: diags.list, exitCode: exitCodeFor(diags.list), files: parsed.files };
}
