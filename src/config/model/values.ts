// Reading keyword arguments the way keepalived's handlers do (read_int/read_unsigned/read_timer/check_true_false),
// reporting bad values as diagnostics that name the keyword, what was expected and where.
import type { Diagnostics } from '../diagnostics.js';
import type { ConfigNode, Loc, Arg } from '../tree.js';
import { parseCidr, type Cidr } from '../../net/address.js';

/** What the model builder needs from the host (kept out of the pure core). */
export interface ModelEnv {
  /** Interface names in the current network namespace; null = do not check. */
  interfaces: ReadonlySet<string> | null;
  /**
   * Whether an existing interface is an l2 ipvlan: use_ipvlan's name may be a leftover one (a killed run's), not any
   * other interface. Undefined = no existing interface is one.
   */
  isL2Ipvlan?: (name: string) => boolean;
  /** Whether an existing interface has IFF_MULTICAST. Undefined = every interface is taken to have it. */
  hasMulticast?: (name: string) => boolean;
  /** Whether an existing interface is an Ethernet one (ARPHRD_ETHER), as a VMAC's parent must be. Undefined = all are. */
  isEthernet?: (name: string) => boolean;
  /**
   * Whether an existing interface is a private-mode macvlan: use_vmac's name may be a leftover VMAC (a killed run's),
   * not any other interface. Undefined = no existing interface is one.
   */
  isPrivateMacvlan?: (name: string) => boolean;
  /** Short host name (router_id default, smtp defaults); default 'localhost'. */
  hostname?: string;
}

export class Ctx {
  /** use_vmac / use_ipvlan interface names given so far, and the instance that gave each (keepalived's vmac_ifname). */
  readonly vmacNames = new Map<string, string>();

  constructor(
    readonly diags: Diagnostics,
    readonly env: ModelEnv,
  ) {}

  argLoc(node: ConfigNode, i: number): Loc {
    return node.args[i]?.loc ?? node.loc;
  }

  /** keepalived exits 2 on a keyword with too few words; we report which arguments were expected and go on. */
  need(node: ConfigNode, n: number, expected: string): boolean {
    if (node.args.length >= n) return true;
    this.diags.error('missing-parameter', `'${node.keyword}' needs ${expected}`, node.loc, {
      keyword: node.keyword,
      suggestion: `write: ${node.keyword} ${expected}`,
    });
    return false;
  }

  bad(node: ConfigNode, i: number, code: string, message: string, suggestion?: string): void {
    this.diags.error(code, message, this.argLoc(node, i), { keyword: node.keyword, suggestion });
  }

  /** An extra word after the arguments keepalived reads: keepalived ignores it silently, we point it out (notice: the verdict stays keepalived's). */
  extraWords(node: ConfigNode, max: number): void {
    if (node.args.length > max)
      this.diags.notice('extra-arguments', `'${node.keyword}' takes ${max} argument(s); ignoring '${node.args.slice(max).map((a) => a.text).join(' ')}'`,
        this.argLoc(node, max), { keyword: node.keyword });
  }
}

const INT_RE = /^[+-]?\d+$/;

/** Integer in [min, max] (keepalived's read_int_strvec / read_unsigned_strvec): undefined + error when bad. */
export function readInt(ctx: Ctx, node: ConfigNode, i: number, min: number, max: number, expected?: string): number | undefined {
  const a = node.args[i];
  if (!a) return undefined;
  if (!INT_RE.test(a.text)) {
    ctx.bad(node, i, 'invalid-number', `'${node.keyword}': '${a.text}' is not a valid integer`, expected ?? `expected an integer in [${min}, ${max}]`);
    return undefined;
  }
  const v = Number(a.text);
  if (v < min || v > max) {
    ctx.bad(node, i, 'out-of-range', `'${node.keyword}': number '${a.text}' outside range [${min}, ${max}]`, expected);
    return undefined;
  }
  return v;
}

const TIMER_RE = /^\+?(\d+(\.\d*)?|\.\d+)$/;

/**
 * Decimal seconds with µs resolution (read_timer) → milliseconds. Range checked in seconds.
 * Returns undefined + error when bad.
 */
export function readTimerMs(ctx: Ctx, node: ConfigNode, i: number, minS: number, maxS: number): number | undefined {
  const a = node.args[i];
  if (!a) return undefined;
  if (!TIMER_RE.test(a.text)) {
    ctx.bad(node, i, 'invalid-number', `'${node.keyword}': '${a.text}' is not a valid time (decimal seconds)`, `expected seconds in [${minS}, ${maxS}]`);
    return undefined;
  }
  const s = Number(a.text);
  if (s < minS || s > maxS) {
    ctx.bad(node, i, 'out-of-range', `'${node.keyword}': time '${a.text}' outside range [${minS}, ${maxS}] seconds`);
    return undefined;
  }
  // µs resolution like TIMER_HZ, expressed in ms.
  return Math.round(s * 1_000_000) / 1000;
}

const TRUE = new Set(['on', 'true', 'yes']);
const FALSE = new Set(['off', 'false', 'no']);

/** `<BOOL>` argument; a bare keyword means true. Undefined + error when the word is not a boolean. */
export function readBool(ctx: Ctx, node: ConfigNode, i = 0): boolean | undefined {
  const a = node.args[i];
  if (!a) return true;
  if (TRUE.has(a.text)) return true;
  if (FALSE.has(a.text)) return false;
  ctx.bad(node, i, 'invalid-value', `'${node.keyword}': invalid boolean '${a.text}'`, 'expected on|off|true|false|yes|no');
  return undefined;
}

/** An address argument (inet_pton strictness, canonical text); a bad one is an `invalid-address` diagnostic. */
export function readIp(ctx: Ctx, node: ConfigNode, i: number, allowPrefix = false): Cidr | undefined {
  const a = node.args[i];
  if (!a) return undefined;
  const ip = parseCidr(a.text, allowPrefix);
  if (!ip) ctx.bad(node, i, 'invalid-address', `'${node.keyword}': '${a.text}' is not a valid IP address`);
  return ip;
}

/** Words of a node as plain strings. */
export function words(node: ConfigNode): string[] {
  return node.args.map((a: Arg) => a.text);
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const m = a.length, n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[n]!;
}

export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestD <= limit ? best : undefined;
}
