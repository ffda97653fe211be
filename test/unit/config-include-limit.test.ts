// Includes that fan out without a cycle are bounded in total (issue 9): each file including the next one twice
// reached 65,536 file reads at depth 16 (32 s, synchronously, in the parent). Now reading stops with one clear
// error at the include that crossed the bound, and nothing of the partial configuration is used.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigFile } from '../../src/config/parse.js';
import { exitCodeFor } from '../../src/config/diagnostics.js';
import { MAX_INCLUDED_FILES } from '../../src/config/preprocess.js';
import { renderDiags } from '../helpers/config-tree.js';

describe('include fan-out bound', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-fanout-'));
    // f0 includes f1 twice, f1 includes f2 twice, ... f16 is one line: 2^16 reads of f16 without a cycle.
    for (let i = 0; i < 16; i++) writeFileSync(join(dir, `f${i}.conf`), `include f${i + 1}.conf\ninclude f${i + 1}.conf\n`);
    writeFileSync(join(dir, 'f16.conf'), 'global_defs {\n router_id x\n}\n');
    for (let i = 0; i < 100; i++) writeFileSync(join(dir, `vs${String(i).padStart(3, '0')}.part`), `virtual_server 10.0.0.${i} 80 {\n}\n`);
    writeFileSync(join(dir, 'big.conf'), 'global_defs {\n}\n'.repeat(30));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a fan-out of depth 16 stops at the bound, with file:line:col of the include, the limit and what to do', () => {
    const r = parseConfigFile(join(dir, 'f0.conf'), { configId: 'n' });
    const d = renderDiags(r.diags);
    assert.equal(d.length, 1, d.join('\n'));
    assert.match(d[0]!, new RegExp(`^${dir}/f\\d+\\.conf:[12]:9: error: reading stopped: more than ${MAX_INCLUDED_FILES} files included in total \\(repeated includes counted\\) at 'f\\d+\\.conf'; include each file once \\(a fan-out of includes without a cycle\\?\\) \\[include-limit\\]$`));
    assert.deepEqual(r.nodes, [], 'nothing of the partial configuration is used');
    assert.notEqual(exitCodeFor(r.diags.list), 0);
  });

  test('the bounds are options: files and lines', () => {
    const m = join(dir, 'main.conf');
    writeFileSync(m, 'include vs*.part\n');
    const ok = parseConfigFile(m, { configId: 'n', maxIncludedFiles: 100 });
    assert.deepEqual(renderDiags(ok.diags), [], 'a conf.d of 100 files is fine');
    assert.equal(ok.nodes.length, 100);
    const r = parseConfigFile(m, { configId: 'n', maxIncludedFiles: 99 });
    assert.deepEqual(renderDiags(r.diags), [
      `${m}:1:9: error: reading stopped: more than 99 files included in total (repeated includes counted) at 'vs*.part'; include each file once (a fan-out of includes without a cycle?) [include-limit]`,
    ]);
    writeFileSync(m, 'include big.conf\n');
    const l = parseConfigFile(m, { configId: 'n', maxReadLines: 25 });
    assert.deepEqual(renderDiags(l.diags), [
      `${m}:1:9: error: reading stopped: more than 25 lines read from the configuration files in total (repeated includes counted), reached including '${join(dir, 'big.conf')}'; include each file once (a fan-out of includes?) [include-limit]`,
    ]);
    assert.deepEqual(l.nodes, []);
  });
});
