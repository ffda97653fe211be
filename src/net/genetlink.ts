// Generic netlink: the family header and resolving a family by name through the "nlctrl" controller.
import { NETLINK_GENERIC } from './ksock.js';
import { attrMap, attrStr, decodeAttrs, readStr } from './netlink-codec.js';
import { NetlinkSocket } from './netlink-socket.js';

export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_GETFAMILY = 3;
export const CTRL_ATTR_FAMILY_ID = 1;
export const CTRL_ATTR_FAMILY_NAME = 2;
export const CTRL_ATTR_VERSION = 3;
export const CTRL_ATTR_MCAST_GROUPS = 7;
export const CTRL_ATTR_MCAST_GRP_NAME = 1;
export const CTRL_ATTR_MCAST_GRP_ID = 2;
export const GENL_HDRLEN = 4;

/** genlmsghdr: cmd u8, version u8, reserved u16; followed by attributes. */
export function genlHeader(cmd: number, version: number): Buffer {
  return Buffer.from([cmd, version, 0, 0]);
}

export function genlPayload(cmd: number, version: number, attrs: Buffer[]): Buffer {
  return Buffer.concat([genlHeader(cmd, version), ...attrs]);
}

export function decodeGenl(payload: Buffer): { cmd: number; version: number; attrs: Buffer } {
  return { cmd: payload[0], version: payload[1], attrs: payload.subarray(GENL_HDRLEN) };
}

export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  mcastGroups: Map<string, number>;
}

/** Resolves a family by name; rejects with NetlinkError ENOENT when the kernel has no such family (e.g. no IPVS). */
export async function resolveFamily(sock: NetlinkSocket, name: string): Promise<GenlFamily> {
  const replies = await sock.request(GENL_ID_CTRL, genlPayload(CTRL_CMD_GETFAMILY, 1, [attrStr(CTRL_ATTR_FAMILY_NAME, name)]));
  if (!replies.length) throw new Error(`genl: no reply resolving family ${name}`);
  const a = attrMap(decodeGenl(replies[0].payload).attrs);
  const groups = new Map<string, number>();
  const g = a.get(CTRL_ATTR_MCAST_GROUPS);
  if (g) {
    for (const grp of decodeAttrs(g)) {
      const ga = attrMap(grp.value);
      const gname = readStr(ga.get(CTRL_ATTR_MCAST_GRP_NAME));
      const gid = ga.get(CTRL_ATTR_MCAST_GRP_ID);
      if (gname && gid) groups.set(gname, gid.readUInt32LE(0));
    }
  }
  return {
    id: a.get(CTRL_ATTR_FAMILY_ID)!.readUInt16LE(0),
    name: readStr(a.get(CTRL_ATTR_FAMILY_NAME)) ?? name,
    version: a.get(CTRL_ATTR_VERSION)?.readUInt32LE(0) ?? 0,
    mcastGroups: groups,
  };
}

export function openGenericSocket(): NetlinkSocket {
  return new NetlinkSocket(NETLINK_GENERIC);
}
