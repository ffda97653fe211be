// A child's configuration. The parent reads and validates the file once and hands the model over (ipc.ts `config`
// after every fork, `reload` on SIGHUP); the file is read here only for a SIGHUP sent to the child itself (keepalived's
// children re-read the file then) and in a child forked without a parent's configuration (a bench). The parser's
// modules are loaded only then: a child's start does not pay for them.
import type { KeepalivedConfig } from '../config/model/index.js';
import { errorFields, type Logger } from './log.js';
import type { FromChild } from './ipc.js';

type FileOptions = { configFile: string; configId?: string; allConfig?: boolean };

/** The configuration to start with: the parent's, else the file read and validated (undefined: it cannot run). */
export async function startConfig(given: KeepalivedConfig | undefined, o: FileOptions, log: Logger): Promise<KeepalivedConfig | undefined> {
  if (given) return given;
  const { loadConfig } = await import('./load-config.js');
  return loadConfig(o, log);
}

/**
 * A child's reload: the configuration the parent validated (`given`), or the file re-read (a SIGHUP sent to the
 * child), handed to `apply`; the parent is told how it went. Nothing escapes: a config that cannot run or an error
 * while applying it keeps the running one.
 */
export async function reloadInChild(
  given: KeepalivedConfig | undefined,
  o: FileOptions,
  log: Logger,
  send: (m: FromChild) => void,
  apply: (cfg: KeepalivedConfig) => unknown,
): Promise<void> {
  try {
    const next = await startConfig(given, o, log);
    if (!next) {
      log.error('new configuration cannot run; keeping the running one');
      send({ t: 'reloaded', ok: false, error: 'configuration cannot run' });
      return;
    }
    await apply(next);
    send({ t: 'reloaded', ok: true });
  } catch (e) {
    log.error(errorFields(e), `reload failed: ${(e as Error).stack ?? (e as Error).message}`);
    send({ t: 'reloaded', ok: false, error: (e as Error).message });
  }
}
