// Reading the config the way every process of the daemon does: diagnostics logged, fatal ones refuse it.
import { formatDiagnostic } from '../config/diagnostics.js';
import { checkConfig } from '../config/check-config.js';
import type { KeepalivedConfig } from '../config/model/index.js';
import type { Logger } from './log.js';

/** Reads and validates the config; undefined (errors logged) when it cannot run. */
export function loadConfig(o: { configFile: string; configId?: string; allConfig?: boolean }, log: Logger): KeepalivedConfig | undefined {
  const checked = checkConfig(o.configFile, { configId: o.configId, allConfig: o.allConfig });
  for (const d of checked.diags) {
    const line = formatDiagnostic(d);
    if (d.severity === 'fatal') log.error(line);
    else log.warn(line);
  }
  return checked.exitCode === 4 ? undefined : checked.model;
}

