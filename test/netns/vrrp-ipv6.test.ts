// VRRPv3 over IPv6: the two-director scenario with an IPv6 VIP (the lab's ULA), adverts from link-local to ff02::12
// with hop limit 255, unsolicited neighbour advertisements moving the clients' neighbour entries; keepalived-ts on
// both sides and beside Debian's keepalived in both roles.
import { needsRoot, needsCommand } from '../helpers/root.js';
import { twoDirectorSuite } from '../helpers/two-directors.js';

const skip = needsRoot() || needsCommand('tcpdump') || needsCommand('tshark');
const noKeepalived = skip || needsCommand('keepalived');
twoDirectorSuite({ d1: 'keepalived-ts', d2: 'keepalived-ts', version: 3, advertInt: 0.1, ipv6: true, skip });
twoDirectorSuite({ d1: 'keepalived-ts', d2: 'keepalived', version: 3, advertInt: 0.1, ipv6: true, skip: noKeepalived });
twoDirectorSuite({ d1: 'keepalived', d2: 'keepalived-ts', version: 3, advertInt: 0.1, ipv6: true, skip: noKeepalived });
