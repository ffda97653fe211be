// keepalived.conf text for one VRRP instance, as the lab's directors run it. Pure: options in, text out.
// The same text is fed to Debian's keepalived and to keepalived-ts, so it only uses keepalived's own keywords.
import { KtError } from '../../src/util/errors.js';

export interface VrrpConfigOptions {
  vrid: number;
  priority: number;
  state?: 'MASTER' | 'BACKUP';
  /** Seconds; v2 accepts integers only (keepalived rounds and warns), v3 accepts centisecond steps. */
  advertInt: number;
  version?: 2 | 3;
  /** One or more VIPs, CIDR form ("10.99.0.50/24"); a bare address gets no prefix (keepalived's default /32). */
  vip: string | string[];
  iface: string;
  /** Path of a notify script; it is called as `<script> MASTER|BACKUP|FAULT|STOP` and, as generic notify,
   *  `<script> NOTIFY INSTANCE <name> <state> <priority>`. */
  notify?: string;
  unicastPeers?: string[];
  unicastSrcIp?: string;
  nopreempt?: boolean;
  preemptDelay?: number;
  instanceName?: string;
  authPass?: string;
  /** Extra lines inside global_defs / the vrrp_instance block, verbatim. */
  extraGlobal?: string[];
  extraInstance?: string[];
}

const quote = (s: string): string => {
  if (/["\n]/.test(s)) throw new KtError('KT_LAB_CONFIG_OPTION', `cannot quote ${JSON.stringify(s)} for keepalived.conf`);
  return `"${s}"`;
};

export function vrrpConfig(o: VrrpConfigOptions): string {
  if (!Number.isInteger(o.vrid) || o.vrid < 1 || o.vrid > 255) throw new KtError('KT_LAB_CONFIG_OPTION', `vrid ${o.vrid} outside 1..255`);
  if (!Number.isInteger(o.priority) || o.priority < 1 || o.priority > 255) throw new KtError('KT_LAB_CONFIG_OPTION', `priority ${o.priority} outside 1..255`);
  if (!(o.advertInt > 0)) throw new KtError('KT_LAB_CONFIG_OPTION', `advertInt ${o.advertInt} must be positive`);
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(o.iface)) throw new KtError('KT_LAB_CONFIG_OPTION', `bad interface name ${JSON.stringify(o.iface)}`);
  const version = o.version ?? 2;
  const name = o.instanceName ?? 'VI_1';
  const vips = Array.isArray(o.vip) ? o.vip : [o.vip];
  const g: string[] = [];
  if (version === 3) g.push('vrrp_version 3');
  if (o.notify) g.push('enable_script_security', 'script_user root');
  g.push(...(o.extraGlobal ?? []));
  const i: string[] = [
    `state ${o.state ?? 'BACKUP'}`,
    `interface ${o.iface}`,
    `virtual_router_id ${o.vrid}`,
    `priority ${o.priority}`,
    `advert_int ${o.advertInt}`,
  ];
  if (o.nopreempt) i.push('nopreempt');
  if (o.preemptDelay !== undefined) i.push(`preempt_delay ${o.preemptDelay}`);
  if (o.authPass) i.push('authentication {', '    auth_type PASS', `    auth_pass ${o.authPass}`, '}');
  if (o.unicastSrcIp) i.push(`unicast_src_ip ${o.unicastSrcIp}`);
  if (o.unicastPeers?.length) i.push('unicast_peer {', ...o.unicastPeers.map((p) => `    ${p}`), '}');
  i.push('virtual_ipaddress {', ...vips.map((v) => `    ${v} dev ${o.iface}`), '}');
  if (o.notify) {
    for (const st of ['MASTER', 'BACKUP', 'FAULT', 'STOP'] as const) i.push(`notify_${st.toLowerCase()} ${quote(`${o.notify} ${st}`)}`);
    i.push(`notify ${quote(`${o.notify} NOTIFY`)}`);
  }
  i.push(...(o.extraInstance ?? []));
  const block = (head: string, lines: string[]): string[] => {
    const out = [`${head} {`];
    let depth = 1;
    for (const l of lines) {
      if (l.startsWith('}')) depth--;
      out.push(`${'    '.repeat(depth)}${l.trim()}`);
      if (l.endsWith('{')) depth++;
    }
    out.push('}');
    return out;
  };
  return [...(g.length ? block('global_defs', g) : []), '', ...block(`vrrp_instance ${name}`, i), ''].join('\n');
}

/**
 * A virtual server whose one real server is checked by MISC_CHECK running `miscPath`: gives the daemon a checker
 * child on a kernel without IPVS (keepalived's checker exits there; keepalived-ts's runs its checks).
 */
export function miscCheckServer(miscPath: string): string {
  return `
virtual_server 10.250.0.1 80 {
    delay_loop 1
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.250.0.2 80 {
        MISC_CHECK {
            misc_path "${miscPath}"
            misc_timeout 5
        }
    }
}
`;
}
