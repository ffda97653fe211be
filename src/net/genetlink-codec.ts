// Generic netlink messages: the family header and the "nlctrl" controller's family reply. Pure; genetlink.ts
// sends them.
import { attrMap, decodeAttrs, readStr } from './netlink-codec.js';
import { KtError } from '../util/errors.js';

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

/** Splits a genl payload into its header and attributes. Throws KT_NETLINK_MALFORMED when the header is cut short. */
export function decodeGenl(payload: Buffer): { cmd: number; version: number; attrs: Buffer } {
  if (payload.length < GENL_HDRLEN) throw new KtError('KT_NETLINK_MALFORMED', `genl payload of ${payload.length} bytes, header needs ${GENL_HDRLEN}`);
  return { cmd: payload[0]!, version: payload[1]!, attrs: payload.subarray(GENL_HDRLEN) };
}

export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  mcastGroups: Map<string, number>;
}

/** Decodes a CTRL_CMD_NEWFAMILY reply. Throws KT_NETLINK_MALFORMED when the family id is missing or cut short. */
export function decodeFamilyReply(payload: Buffer, name = ''): GenlFamily {
  const a = attrMap(decodeGenl(payload).attrs);
  const groups = new Map<string, number>();
  const g = a.get(CTRL_ATTR_MCAST_GROUPS);
  if (g) {
    for (const grp of decodeAttrs(g)) {
      const ga = attrMap(grp.value);
      const gname = readStr(ga.get(CTRL_ATTR_MCAST_GRP_NAME));
      const gid = ga.get(CTRL_ATTR_MCAST_GRP_ID);
      if (gname && gid && gid.length >= 4) groups.set(gname, gid.readUInt32LE(0));
    }
  }
  const id = a.get(CTRL_ATTR_FAMILY_ID);
  if (!id || id.length < 2) throw new KtError('KT_NETLINK_MALFORMED', `genl family reply for '${name}' without a family id`);
  const version = a.get(CTRL_ATTR_VERSION);
  return {
    id: id.readUInt16LE(0),
    name: readStr(a.get(CTRL_ATTR_FAMILY_NAME)) ?? name,
    version: version && version.length >= 4 ? version.readUInt32LE(0) : 0,
    mcastGroups: groups,
  };
}
