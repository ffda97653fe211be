// Interop with Debian's keepalived 2.2.7 on the same LAN, keepalived-ts as master and as backup, VRRPv2 and v3:
// one VIP holder at every step, takeovers both ways, and keepalived's log shows no complaint about our adverts.
import { needsRoot, needsCommand } from '../helpers/root.js';
import { twoDirectorSuite } from '../helpers/two-directors.js';

const skip = needsRoot() || needsCommand('keepalived') || needsCommand('tcpdump') || needsCommand('tshark');
twoDirectorSuite({ d1: 'keepalived-ts', d2: 'keepalived', version: 3, advertInt: 0.1, skip });
twoDirectorSuite({ d1: 'keepalived', d2: 'keepalived-ts', version: 3, advertInt: 0.1, skip });
twoDirectorSuite({ d1: 'keepalived-ts', d2: 'keepalived', version: 2, advertInt: 1, skip });
twoDirectorSuite({ d1: 'keepalived', d2: 'keepalived-ts', version: 2, advertInt: 1, skip });
