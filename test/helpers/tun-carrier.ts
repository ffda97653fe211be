// Holds a tun interface's carrier up (the lab's non-Ethernet interface, ARPHRD_NONE): opens /dev/net/tun and attaches
// to the named persistent tun (`ip tuntap add mode tun name X`) with TUNSETIFF, then sleeps until killed. A tun nobody
// has open stays NO-CARRIER, which would fault a VRRP instance for a reason other than the one under test.
// Run in the namespace: ip netns exec NS node --import tsx test/helpers/tun-carrier.ts NAME
import { openSync } from 'node:fs';
import { ksock } from '../../src/net/ksock.js';
import { KtError } from '../../src/util/errors.js';

const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;

const name = process.argv[2];
if (!name) throw new KtError('KT_LAB_ARG', 'usage: tun-carrier.ts IFNAME');
const fd = openSync('/dev/net/tun', 'r+');
const flags = Buffer.alloc(2);
flags.writeUInt16LE(IFF_TUN | IFF_NO_PI);
const err = ksock().ifreqIoctl(fd, TUNSETIFF, name, flags, false);
if (err) throw new KtError('KT_LAB_SETUP', `TUNSETIFF ${name}: errno ${err}`);
process.stdout.write(`attached ${name}\n`);
setInterval(() => {}, 1 << 30);
