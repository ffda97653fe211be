// Shared by the fuzz targets: what "a parser failed" means. A target calls `allow(fn, ...codes)`: a KtError with
// one of the documented codes (KT_NETLINK_MALFORMED, ...) is an expected outcome of bad input; anything else
// (TypeError, RangeError from a Buffer read past the end, a plain Error, another code) is a finding and is
// rethrown for Jazzer.js to report.
import { isKtError } from '../../dist/src/util/errors.js';

export function allow(fn, ...codes) {
  try {
    return fn();
  } catch (e) {
    if (codes.some((c) => isKtError(e, c))) return undefined;
    throw e;
  }
}

/** A finding that is not an exception: a decoder returned something outside its documented shape. */
export function check(cond, what) {
  if (!cond) throw new Error(`invariant broken: ${what}`);
}
