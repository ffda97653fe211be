// Shared by the fuzz targets: what "a parser failed" means. A target calls `allow(fn, ...ErrorTypes)`:
// the documented error types are expected outcomes of bad input; anything else (TypeError, RangeError from a
// Buffer read past the end, a plain Error) is a finding and is rethrown for Jazzer.js to report.
export function allow(fn, ...types) {
  try {
    return fn();
  } catch (e) {
    if (types.some((t) => e instanceof t)) return undefined;
    throw e;
  }
}

/** A finding that is not an exception: a decoder returned something outside its documented shape. */
export function check(cond, what) {
  if (!cond) throw new Error(`invariant broken: ${what}`);
}
