// One error base for the whole tree. Every error keepalived-ts raises on purpose is a KtError with a stable code
// `KT_<AREA>_<WHAT>` (as undici's `UND_ERR_*`): callers branch on the code, logs carry it, tests assert it, and the
// message stays free to improve. Errors from the platform (errno from fs/net, a netlink errno) keep their errno on
// a separate field; `code` is always ours.

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
