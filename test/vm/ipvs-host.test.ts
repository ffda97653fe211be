// On the host: a kernel without IPVS gives the operator a clear, typed error (this machine's kernel has none;
// on a kernel with IPVS the client must open instead).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpvsClient, IpvsUnavailableError } from '../../src/ipvs/client.js';

test('IpvsClient.open(): a typed IpvsUnavailableError naming the cause when the kernel has no IPVS', async () => {
  try {
    const c = await IpvsClient.open();
    // This kernel has IPVS: then GET_INFO must work.
    assert.match((await c.getInfo()).versionString, /^\d+\.\d+\.\d+$/);
    c.close();
  } catch (e) {
    assert.ok(e instanceof IpvsUnavailableError, `unexpected error: ${(e as Error).message}`);
    assert.equal(e.code, 'KT_IPVS_UNAVAILABLE');
    assert.equal(e.message, 'this kernel has no IPVS (ip_vs module not loaded / CONFIG_IP_VS not set)');
  }
});
