// Reading the config the way every process of the daemon does: diagnostics logged, fatal ones refuse it.
import { formatDiagnostic, refusesToRun } from '../config/diagnostics.js';
import { checkConfig, type CheckConfigResult } from '../config/check-config.js';
import type { KeepalivedConfig } from '../config/model/index.js';
import { errorFields, type Logger } from './log.js';
import type { FromChild } from './ipc.js';
import { refused } from './control.js';

/**
 * Reads and validates the config; undefined (errors logged) when it cannot run. `checked`: the file already read
 * (launch.ts reads it before this logger exists), whose diagnostics are logged here.
 */
export function loadConfig(o: { configFile: string; configId?: string; allConfig?: boolean }, log: Logger, checked?: CheckConfigResult): KeepalivedConfig | undefined {
  checked ??= checkConfig(o.configFile, { configId: o.configId, allConfig: o.allConfig });
  for (const d of checked.diags) {
    const line = formatDiagnostic(d);
    const fields = { diagnostic: d.code, file: d.loc?.file, line: d.loc?.line };
    if (d.severity === 'fatal') log.error(fields, line);
    else log.warn(fields, line);
  }
  return refusesToRun(checked.diags) ? undefined : checked.model;
}


/**
 * A child's part of `ctl plan`: read `configFile` as a reload would (quietly: the parent reports the diagnostics),
 * hand it to `compute`, and answer control request `id` with its fields. Nothing escapes; nothing is applied.
 */
export async function planInChild(
  o: { configId?: string; allConfig?: boolean },
  configFile: string,
  id: number,
  log: Logger,
  send: (m: FromChild) => void,
  compute: (cfg: KeepalivedConfig, quiet: Logger) => Promise<Record<string, unknown>>,
): Promise<void> {
  const quiet = log.child({}, { level: 'silent' });
  try {
    const next = loadConfig({ ...o, configFile }, quiet);
    if (!next) {
      send({ t: 'ctl', id, reply: refused('the configuration cannot run') });
      return;
    }
    send({ t: 'ctl', id, reply: { ok: true, message: 'planned', ...(await compute(next, quiet)) } });
  } catch (e) {
    log.error(errorFields(e), `plan failed: ${(e as Error).stack ?? (e as Error).message}`);
    send({ t: 'ctl', id, reply: refused(`plan failed: ${(e as Error).message}`) });
  }
}
