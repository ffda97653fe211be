import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { childExecArgv } from '../../src/daemon/child-flags.js';
import type { GlobalDefs } from '../../src/config/model/index.js';

const defs = (d: Partial<GlobalDefs>): GlobalDefs => d as GlobalDefs;

describe('childExecArgv: the V8 flags a child is forked with', () => {
  it('a VRRP child always runs without the memory reducer (its mark-compact after start-up delayed adverts)', () => {
    assert.deepEqual(childExecArgv('vrrp', defs({})), ['--no-memory-reducer']);
  });
  it('a real-time child adds single-threaded GC, VRRP and checker alike', () => {
    assert.deepEqual(childExecArgv('vrrp', defs({ vrrpRtPriority: 50 })), ['--single-threaded-gc', '--no-memory-reducer']);
    assert.deepEqual(childExecArgv('checker', defs({ checkerRtPriority: 10 })), ['--single-threaded-gc', '--no-memory-reducer']);
  });
  it("the checker keeps V8's defaults, whatever the VRRP child's settings", () => {
    assert.deepEqual(childExecArgv('checker', defs({})), []);
    assert.deepEqual(childExecArgv('checker', defs({ vrrpRtPriority: 50 })), []);
  });
});
