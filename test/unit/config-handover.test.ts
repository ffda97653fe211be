// The parent reads the configuration once and hands the model to its children over the IPC channel, which uses
// V8's serialization (fork-child.ts): every configuration must arrive as the parent built it, or a child would run
// something else than what `-t` and the parent validated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { isDeepStrictEqual } from 'node:util';
import { checkConfig } from '../../src/config/check-config.js';
import { repoRoot } from '../lab/index.js';

test('every corpus configuration (fuzz seeds, examples, fixtures) survives the IPC channel unchanged', () => {
  const root = repoRoot();
  const seeds = join(root, 'fuzz/seeds/config');
  const files = [
    ...readdirSync(seeds).map((f) => join(seeds, f)),
    join(root, 'examples/demo/director1.conf'),
    join(root, 'test/fixtures/keepalived-2.2.7-dumps/ka.conf'),
    ...readdirSync(join(root, 'test/fixtures/seeds')).filter((f) => f.endsWith('.conf')).map((f) => join(root, 'test/fixtures/seeds', f)),
  ];
  let models = 0;
  for (const f of files) {
    const { model } = checkConfig(f, { interfaces: null });
    models++;
    const arrived: unknown = deserialize(serialize(model));
    assert.ok(isDeepStrictEqual(arrived, model), `${f}: the model changed on its way to the child`);
  }
  assert.ok(models >= 30, `only ${models} configurations read`);
});
