// Config diagnostics: `FILE:LINE:COL: error|warning: message [code]`, collected, never thrown.
import type { Loc } from './tree.js';
import { CONFIG_TEST_ERROR, CONFIG_TEST_FATAL, CONFIG_TEST_NO_CONFIG, CONFIG_TEST_OK, CONFIG_TEST_SECURITY } from '../util/exit-codes.js';

/**
 * Severity, most severe first. `fatal` = keepalived cannot run (missing file, bad interface, missing required
 * setting); `error` = keepalived runs but ignored or replaced something; `warning` = accepted but suspicious or
 * not supported yet; `security` = script-security problems (keepalived's exit 6); `notice` = something keepalived
 * accepts silently that we point out (e.g. a keepalived feature keepalived-ts does not implement yet): it is printed
 * but does not change the `-t` exit code, so our verdict stays keepalived's verdict.
 */
export type Severity = 'fatal' | 'error' | 'warning' | 'security' | 'notice';

export interface Diagnostic {
  severity: Severity;
  /** Stable machine-readable code, e.g. `unknown-keyword`, `out-of-range`. */
  code: string;
  message: string;
  loc?: Loc;
  /** The keyword the diagnostic is about, when there is one. */
  keyword?: string;
  /** "did you mean …" or another hint. */
  suggestion?: string;
}

export class Diagnostics {
  readonly list: Diagnostic[] = [];

  add(d: Diagnostic): void {
    this.list.push(d);
  }
  fatal(code: string, message: string, loc?: Loc, extra: Partial<Diagnostic> = {}): void {
    this.add({ severity: 'fatal', code, message, loc, ...extra });
  }
  error(code: string, message: string, loc?: Loc, extra: Partial<Diagnostic> = {}): void {
    this.add({ severity: 'error', code, message, loc, ...extra });
  }
  warning(code: string, message: string, loc?: Loc, extra: Partial<Diagnostic> = {}): void {
    this.add({ severity: 'warning', code, message, loc, ...extra });
  }
  notice(code: string, message: string, loc?: Loc, extra: Partial<Diagnostic> = {}): void {
    this.add({ severity: 'notice', code, message, loc, ...extra });
  }
  security(code: string, message: string, loc?: Loc, extra: Partial<Diagnostic> = {}): void {
    this.add({ severity: 'security', code, message, loc, ...extra });
  }
  has(sev: Severity): boolean {
    return this.list.some((d) => d.severity === sev);
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.col}: ` : '';
  // notice prints as a warning (operators know that word) but, unlike a warning, never changes the exit code.
  const sev = d.severity === 'fatal' || d.severity === 'security' ? 'error' : d.severity === 'notice' ? 'warning' : d.severity;
  const hint = d.suggestion ? ` (${d.suggestion})` : '';
  return `${where}${sev}: ${d.message}${hint} [${d.code}]`;
}

/**
 * Codes of checked include failures (includer/includem/includew/includeb/includea, include_check, -e): keepalived
 * stops right after reading the configuration with KEEPALIVED_EXIT_NO_CONFIG (6), even with -t (main.c:2665;
 * verified with 2.2.7: `includea missing.conf` → 6). Unchecked ones are `notice`s and change nothing.
 */
export const CONFIG_FILE_ERROR_CODES: ReadonlySet<string> = new Set(['include-missing', 'include-no-match', 'include-unreadable']);

/**
 * Fatal for `-t` (its exit code 4), but keepalived's daemon only logs them and runs: an unknown interface in
 * linkbeat_interfaces (keepalived 2.2.7 vrrp_parser.c: the line is dropped).
 */
const LOGGED_AT_START: ReadonlySet<string> = new Set(['bad-linkbeat-interface']);

/** Whether the daemon refuses this configuration (a start fails, a reload keeps the running one). */
export function refusesToRun(diags: readonly Diagnostic[]): boolean {
  return exitCodeFor(diags.filter((d) => !(d.severity === 'fatal' && LOGGED_AT_START.has(d.code)))) === CONFIG_TEST_FATAL;
}

/**
 * `-t` exit code. keepalived: 0 clean, 4 file not found / bad interface / fatal, 5 other errors and warnings,
 * 6 a checked include failure (CONFIG_FILE_ERROR_CODES, checked first: keepalived stops reading there) or
 * 6 script-security problems. keepalived reports the *least* severe level seen (parser.c keeps the largest enum
 * value); we report the most severe, so a fatal problem is never masked by a warning. Documented in README.
 */
export function exitCodeFor(diags: readonly Diagnostic[]): number {
  if (diags.some((d) => d.severity === 'fatal' && CONFIG_FILE_ERROR_CODES.has(d.code))) return CONFIG_TEST_NO_CONFIG;
  if (diags.some((d) => d.severity === 'fatal')) return CONFIG_TEST_FATAL;
  if (diags.some((d) => d.severity === 'security')) return CONFIG_TEST_SECURITY;
  if (diags.some((d) => d.severity === 'error' || d.severity === 'warning')) return CONFIG_TEST_ERROR;
  return CONFIG_TEST_OK;
}
