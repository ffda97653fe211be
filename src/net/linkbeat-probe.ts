// linkbeat's ioctls (keepalived 2.2.7 vrrp_if.c if_mii_probe, if_ethtool_probe, if_ioctl_flags) on one AF_INET
// datagram socket, through the addon's ifreqIoctl. It only takes readings; what they mean is vrrp/linkbeat.ts's.
import { ksock, SOCK_DGRAM } from './ksock.js';
import { AF_INET } from './constants.js';
import { KtError } from '../util/errors.js';
import type { EthtoolReading, FlagsReading, LinkbeatReadings, MiiReading } from '../vrrp/linkbeat.js';

const SIOCGIFFLAGS = 0x8913;
const SIOCETHTOOL = 0x8946;
const SIOCGMIIPHY = 0x8947;
const SIOCGMIIREG = 0x8948;
const ETHTOOL_GLINK = 0x0000000a;
const MII_BMCR = 0;
const MII_BMSR = 1;

export class LinkbeatProbe {
  private fd: number;

  constructor() {
    const k = ksock();
    if (typeof k.ifreqIoctl !== 'function')
      throw new KtError('KT_NET_ADDON_OUTDATED', 'the socket addon has no ifreqIoctl (linkbeat): rebuild it with `npm ci` or node-gyp rebuild');
    this.fd = k.socket(AF_INET, SOCK_DGRAM, 0);
  }

  /** struct mii_ioctl_data: phy_id, reg_num, val_in, val_out (u16 each), in the ifreq itself. */
  mii(ifname: string): MiiReading {
    const k = ksock();
    const d = Buffer.alloc(8);
    const none = { probeErrno: 0, bmcr: 0xffff, bmcrErrno: 0, bmsr: 0xffff, bmsrErrno: 0, bmsr2: 0xffff, bmsr2Errno: 0 };
    const phyErrno = k.ifreqIoctl(this.fd, SIOCGMIIPHY, ifname, d, false);
    if (phyErrno) return { phyErrno, ...none };
    const phyId = d.readUInt16LE(0);
    const reg = (n: number): [number, number] => {
      const b = Buffer.alloc(8);
      b.writeUInt16LE(phyId, 0);
      b.writeUInt16LE(n, 2);
      const e = k.ifreqIoctl(this.fd, SIOCGMIIREG, ifname, b, false);
      return [e ? 0xffff : b.readUInt16LE(6), e];
    };
    const [, probeErrno] = reg(MII_BMSR);
    if (probeErrno) return { phyErrno, ...none, probeErrno };
    const [bmcr, bmcrErrno] = reg(MII_BMCR);
    const [bmsr, bmsrErrno] = reg(MII_BMSR);
    const [bmsr2, bmsr2Errno] = reg(MII_BMSR);
    return { phyErrno, probeErrno, bmcr, bmcrErrno, bmsr, bmsrErrno, bmsr2, bmsr2Errno };
  }

  /** struct ethtool_value { u32 cmd; u32 data } pointed to by ifr_data. */
  ethtool(ifname: string): EthtoolReading {
    const d = Buffer.alloc(8);
    d.writeUInt32LE(ETHTOOL_GLINK, 0);
    const errno = ksock().ifreqIoctl(this.fd, SIOCETHTOOL, ifname, d, true);
    return { errno, link: errno ? 0 : d.readUInt32LE(4) };
  }

  /** ifr_flags (a short) in the ifreq. */
  flags(ifname: string): FlagsReading {
    const d = Buffer.alloc(2);
    const errno = ksock().ifreqIoctl(this.fd, SIOCGIFFLAGS, ifname, d, false);
    return { errno, flags: errno ? 0 : d.readUInt16LE(0) };
  }

  /** The readings `which` names (vrrp/linkbeat.ts readingsFor). */
  read(ifname: string, which: ReadonlyArray<keyof LinkbeatReadings>): LinkbeatReadings {
    const r: LinkbeatReadings = {};
    if (which.includes('mii')) r.mii = this.mii(ifname);
    if (which.includes('ethtool')) r.ethtool = this.ethtool(ifname);
    if (which.includes('flags')) r.flags = this.flags(ifname);
    return r;
  }

  close(): void {
    if (this.fd >= 0) ksock().close(this.fd);
    this.fd = -1;
  }
}
