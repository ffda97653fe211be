// One error base for the whole tree. Every error keepalived-ts raises on purpose is a KtError with a stable code
// `KT_<AREA>_<WHAT>` (as undici's `UND_ERR_*`): callers branch on the code, logs carry it, tests assert it, and the
// message stays free to improve. Errors from the platform (errno from fs/net, a netlink errno) keep their errno on
// a separate field (`errno`, `errnoName`) or as `cause`; `code` is always ours.
//
// A subclass exists only where callers `instanceof` it or it carries fields (NetlinkError, VrrpSocketError,
// IpvsError, IpvsUnavailableError, PidFileBusyError, UnsafeFileError, AddressError, the private PcreError); otherwise
// `new KtError(code, msg)`.
//
// The codes, by area (the throw sites are the reference; grep the code):
//   KT_NET_*       sockets and frames (net/vrrp-socket, packet-socket, arp, ndisc, ipv4-header):
//                  NO_INTERFACE, BAD_ARGUMENT, SOCKET_SETUP, SOCKET_CLOSED, SEND_FAILED, SEND_BUFFER_FULL (the
//                  VRRP socket's are VrrpSocketError, the system errno name on errnoName),
//                  FRAME_INVALID, IPV4_HEADER_INVALID, NFT_FAILED (net/nft: the `nft` command failed or is missing),
//                  PEERCRED (net/ksock: SO_PEERCRED answered short), ADDON_OUTDATED (net/linkbeat-probe: the built
//                  addon predates ifreqIoctl)
//   KT_NETLINK_*   REQUEST_FAILED (NetlinkError: kernel errno on errno/errnoName), MALFORMED (a reply that does not
//                  decode), BAD_SPEC (a request we refuse to encode)
//   KT_IPVS_*      UNAVAILABLE (no IPVS in this kernel), REQUEST_FAILED / NO_SCHEDULER (IpvsError: errno on
//                  errno/errnoName), MALFORMED (a reply that does not decode), BAD_SPEC (a service/dest we refuse)
//   KT_VRRP_*      ENCODE_BAD_VERSION / _BAD_VRID / _BAD_PRIORITY / _TOO_MANY_ADDRESSES / _BAD_INTERVAL /
//                  _MISSING_CONTEXT (vrrp/packet), BAD_ROUTE (vrrp/routes), SYNC_GROUP_UNKNOWN_MEMBER / SYNC_GROUP_BAD_INPUT (vrrp/sync)
//   KT_CHECK_*     CONFIG (a checker spec the verdict core refuses), GENHASH_USAGE, PCRE_SYNTAX
//   KT_NOTIFY_*    UNKNOWN_USER, UNKNOWN_GROUP (script users), FIFO_CREATE, FIFO_OPEN, FIFO_NOT_FIFO
//   KT_DAEMON_*    PIDFILE_BUSY, UNSAFE_FILE, STATUS_BAD_ADDRESS, STATUS_NOT_LOOPBACK
//   KT_CTL_*       control commands: BAD_ARGS (words that do not parse), NO_SUCH_SERVER (ipvs/overrides: a real
//                  server the configuration does not have), DUPLICATE_COMMAND (control.ts: a name registered twice)
//   KT_ADDR_*      INVALID: text that is not an address of the expected family, or bytes of the wrong length
//                  (AddressError in net/address.ts, with the input and the expected family as fields)
//   KT_GUARD_*     split-brain guard clients (guard/etcd): UNREACHABLE (no endpoint answered), TIMEOUT (one
//                  request), ETCD_FAILED (an endpoint's error), ETCD_REFUSED (etcd refused the request itself)
//   KT_LAB_*, KT_VM_*  test harnesses only (test/lab, test/vm)
// Process exit codes are a different table: util/exit-codes.ts.

/** A stable error code: KT_ then an area (CONFIG, ADDR, NET, NETLINK, IPVS, VRRP, CHECK, NOTIFY, DAEMON, LAB, ...)
 *  then what went wrong, upper snake case. */
export type KtCode = `KT_${string}`;

export class KtError extends Error {
  constructor(
    readonly code: KtCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** True for a KtError, and when `code` is given, one with that code. */
export function isKtError(e: unknown, code?: KtCode): e is KtError {
  return e instanceof KtError && (code === undefined || e.code === code);
}
