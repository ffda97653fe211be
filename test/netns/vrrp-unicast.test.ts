// Unicast VRRP (unicast_src_ip + unicast_peer on both directors): the two-director scenario with adverts sent to the
// peer's address only (the capture shows no 224.0.0.18 traffic), keepalived-ts on both sides and beside Debian's
// keepalived in both roles.
import { needsRoot, needsCommand } from '../helpers/root.js';
import { twoDirectorSuite } from '../helpers/two-directors.js';

const skip = needsRoot() || needsCommand('tcpdump') || needsCommand('tshark');
const noKeepalived = skip || needsCommand('keepalived');
twoDirectorSuite({ d1: 'keepalived-ts', d2: 'keepalived-ts', version: 3, advertInt: 0.1, unicast: true, skip });
twoDirectorSuite({ d1: 'keepalived-ts', d2: 'keepalived', version: 3, advertInt: 0.1, unicast: true, skip: noKeepalived });
twoDirectorSuite({ d1: 'keepalived', d2: 'keepalived-ts', version: 2, advertInt: 1, unicast: true, skip: noKeepalived });
