// keepalived-ts on both directors of a namespace LAN: election, failover by link loss, failback, SIGTERM hand-over,
// notify scripts — the same scenario lab.test.ts proves for Debian's keepalived.
import { needsRoot, needsCommand } from '../helpers/root.js';
import { twoDirectorSuite } from '../helpers/two-directors.js';

const skip = needsRoot() || needsCommand('tcpdump') || needsCommand('tshark');
twoDirectorSuite({ d1: 'keepalived-ts', d2: 'keepalived-ts', version: 3, advertInt: 0.1, skip });
twoDirectorSuite({ d1: 'keepalived-ts', d2: 'keepalived-ts', version: 2, advertInt: 1, skip });
