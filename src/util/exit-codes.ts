// Every process exit code keepalived-ts uses, in one table: the parent, the children, the CLI and `-t`. The values
// are keepalived's where we match them (lib/scheduler.h:205-220, see keepalived-behaviour.md §1.2 and §6.1), so
// scripts and unit files written for keepalived read them the same way. No imports: the config core uses it too.

// ---- the daemon (parent and children) --------------------------------------------------------------------------

/** Stopped on request (SIGTERM/SIGINT), or nothing to do. keepalived KEEPALIVED_EXIT_OK. */
export const EXIT_OK = 0;
/**
 * Cannot run: the pid file belongs to a live daemon, the status endpoint cannot listen, an engine failed to start.
 * Also the CLI's usage errors and a failed --genhash fetch. keepalived KEEPALIVED_EXIT_FATAL; a child exiting with
 * it stops the whole daemon.
 */
export const EXIT_FATAL = 1;
/** The configuration cannot run. keepalived KEEPALIVED_EXIT_CONFIG; a child exiting with it stops the whole daemon. */
export const EXIT_CONFIG = 2;
/**
 * keepalived KEEPALIVED_EXIT_MISSING_PERMISSION. keepalived-ts never exits with it, but a child that did would stop
 * the whole daemon, as keepalived's parent does.
 */
export const EXIT_MISSING_PERMISSION = 4;
/**
 * A child crashed (uncaught exception, unhandled rejection) after releasing what it holds; the parent respawns it.
 * keepalived KEEPALIVED_EXIT_PROGRAM_ERROR (EX_SOFTWARE).
 */
export const EXIT_PROGRAM_ERROR = 70;

/** Child exits that stop the whole daemon instead of a respawn (keepalived lib/scheduler.c report_child_status). */
export const STOP_ALL_EXIT_CODES: ReadonlySet<number> = new Set([EXIT_FATAL, EXIT_CONFIG, EXIT_MISSING_PERMISSION]);

// ---- `-t` / --config-test (keepalived config_test_exit) ---------------------------------------------------------
// keepalived reports the least severe level seen; keepalived-ts the most severe (config/diagnostics.ts exitCodeFor).

/** Clean configuration. */
export const CONFIG_TEST_OK = 0;
/** A file not found, a bad interface, an instance that cannot run. keepalived CONFIG_FILE_NOT_FOUND/BAD_IF/FATAL. */
export const CONFIG_TEST_FATAL = 4;
/** Any other error or warning. keepalived CONFIG_GENERAL_ERROR/WARNING. */
export const CONFIG_TEST_ERROR = 5;
/**
 * Script security problems, and a checked include that failed (keepalived stops reading there with
 * KEEPALIVED_EXIT_NO_CONFIG, which is also 6).
 */
export const CONFIG_TEST_SECURITY = 6;
export const CONFIG_TEST_NO_CONFIG = 6;

// ---- `keepalived-ts ctl` (daemon/ctl-cli.ts) ---------------------------------------------------------------------

/** The command was done. */
export const CTL_OK = 0;
/** The daemon refused the command (the state does not allow it, or the caller may not control). */
export const CTL_REFUSED = 1;
/** Bad usage (unknown command, bad arguments) or the daemon could not be reached. */
export const CTL_USAGE_OR_UNREACHABLE = 2;
