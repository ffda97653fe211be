// Generic netlink's socket shell: open a NETLINK_GENERIC socket and resolve a family by name through the "nlctrl"
// controller (messages in genetlink-codec.ts).
import { NETLINK_GENERIC } from './ksock.js';
import { attrStr } from './netlink-codec.js';
import { NetlinkSocket } from './netlink-socket.js';
import { CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY, GENL_ID_CTRL, decodeFamilyReply, genlPayload, type GenlFamily } from './genetlink-codec.js';

/** Resolves a family by name; rejects with NetlinkError (errnoName ENOENT) when the kernel has no such family (e.g. no IPVS). */
export async function resolveFamily(sock: NetlinkSocket, name: string): Promise<GenlFamily> {
  const replies = await sock.request(GENL_ID_CTRL, genlPayload(CTRL_CMD_GETFAMILY, 1, [attrStr(CTRL_ATTR_FAMILY_NAME, name)]));
  if (!replies.length) throw new Error(`genl: no reply resolving family ${name}`);
  return decodeFamilyReply(replies[0].payload, name);
}

export function openGenericSocket(): NetlinkSocket {
  return new NetlinkSocket(NETLINK_GENERIC);
}
