// Entry point of the checker process (keepalived's healthcheckers child): forked by the daemon with the same
// config file; runs the CheckerService until SIGTERM or until the parent goes away.
import { parseArgs } from 'node:util';
import { checkConfig } from '../config/check-config.js';
import { createLogger } from '../daemon/log.js';
import { NotifyFifo } from '../notify/fifo.js';
import { CheckerService } from './service.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'use-file': { type: 'string', short: 'f' },
      'config-id': { type: 'string', short: 'i' },
      'log-detail': { type: 'boolean', short: 'D' },
      'log-json': { type: 'boolean' },
      'dont-release-ipvs': { type: 'boolean', short: 'I' },
    },
  });
  const log = createLogger({ detail: values['log-detail'], json: values['log-json'], role: 'Keepalived_healthcheckers' });
  const checked = checkConfig(values['use-file']!, { configId: values['config-id'] });
  const cfg = checked.model;
  const fifos: NotifyFifo[] = [];
  for (const f of [cfg.globalDefs.lvsNotifyFifo, cfg.globalDefs.notifyFifo]) {
    if (!f) continue;
    try {
      fifos.push(await NotifyFifo.open(f.path, { label: 'lvs', log: (lvl, m) => log[lvl](m) }));
    } catch (e) {
      log.error(`notify FIFO ${f.path}: ${(e as Error).message}`);
    }
  }
  const service = new CheckerService(cfg, { log, fifos, dontReleaseIpvs: values['dont-release-ipvs'] });
  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    stopping ??= (async () => {
      log.info(`Stopping healthcheckers (${why})`);
      await service.stop();
      await Promise.all(fifos.map((f) => f.close()));
    })();
    return stopping;
  };
  await service.start();
  return new Promise<number>((resolve) => {
    const done = (why: string) => void stop(why).then(() => resolve(0));
    process.on('SIGTERM', () => done('SIGTERM'));
    process.on('SIGINT', () => done('SIGINT'));
    // No PR_SET_PDEATHSIG in Node: the IPC channel closing means the daemon is gone.
    process.on('disconnect', () => done('parent exited'));
  });
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`healthcheckers: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
