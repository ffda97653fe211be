// Whether this kernel's IPVS can be used: the namespace tests that watch the no-IPVS path and the guest tests that
// need IPVS ask the same question.
import { IpvsClient, IpvsUnavailableError } from '../../src/ipvs/client.js';

/** Why IPVS cannot be used here, or false when it can. */
export async function ipvsUnavailable(): Promise<string | false> {
  try {
    (await IpvsClient.open()).close();
    return false;
  } catch (e) {
    return e instanceof IpvsUnavailableError ? e.message : `cannot open IPVS: ${(e as Error).message}`;
  }
}
