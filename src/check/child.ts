// Entry point of the checker child process. The daemon forks it (see spawn.ts) so that probes, TLS
// handshakes and scripts never share an event loop with VRRP adverts. Configuration arrives over IPC;
// desired IPVS state and events go back as messages.
import { CheckEngine } from './engine.js';
import type { FromChild, ToChild } from './ipc.js';

function send(msg: FromChild): void {
  if (process.connected) process.send!(msg);
}

if (!process.send) {
  process.stderr.write('check/child: must be started with an IPC channel (child_process.fork)\n');
  process.exit(2);
}

let engine: CheckEngine | undefined;
let addresses: string[] = [];
let first = true;

process.on('message', (msg: ToChild) => {
  try {
    switch (msg.type) {
      case 'start':
      case 'reload': {
        const previous = engine;
        previous?.halt();
        first = true;
        engine = new CheckEngine(msg.config, {
          desired: (changes) => {
            if (first) {
              first = false;
              send({ type: 'ready', desired: changes });
            } else send({ type: 'desired', changes });
          },
          events: (events) => send({ type: 'events', events }),
        }, msg.type === 'reload' && previous ? { previous } : {});
        engine.setLocalAddresses(addresses);
        engine.start();
        break;
      }
      case 'addresses': {
        addresses = msg.present;
        engine?.setLocalAddresses(addresses);
        break;
      }
      case 'stats': {
        const s = engine?.stats() ?? { checksDone: 0, inFlight: 0, queued: 0 };
        const cpu = process.cpuUsage();
        send({ type: 'stats', ...s, cpuUserUs: cpu.user, cpuSystemUs: cpu.system, rssBytes: process.memoryUsage.rss() });
        break;
      }
      case 'stop': {
        const events = engine?.stop() ?? [];
        engine = undefined;
        process.send!({ type: 'stopped', events } satisfies FromChild, () => process.exit(0));
        break;
      }
    }
  } catch (e) {
    const err = e as Error & { code?: string };
    send({ type: 'error', code: err.code ?? 'CHECK_ERROR', message: err.message });
  }
});

// The daemon went away: nothing to check for any more.
process.on('disconnect', () => process.exit(0));
