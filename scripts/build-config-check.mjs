#!/usr/bin/env node
// Build step of `npm run build` (after tsc): the configuration checker `-t` / `-d` run, as one CommonJS file with a
// V8 code cache beside it (src/config/check-bundle.ts loads them; issue 11: a cold `-t` spent ~30 ms loading and
// compiling ~30 ES modules). esbuild bundles tsc's output (dist/src/config/check-config.js and what it imports, moo
// and nearley included); a training run over a small configuration of every block kind compiles the functions the
// checker uses, and V8's cache of the script taken after that run holds their bytecode. The manifest records size and
// modification time of every input: a later tsc run makes the bundle stale and `-t` falls back to the modules.
// Run: node scripts/build-config-check.mjs [DIST_DIR]   (default dist/, after tsc -p tsconfig.build.json)
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** keepalived.conf for the training run: one block of each kind, so their handlers' bytecode is in the cache. */
export function trainingConfig() {
  const vs = [];
  for (let v = 0; v < 20; v++) {
    vs.push(`virtual_server 10.200.0.${v + 1} ${v % 2 ? 443 : 80} {`, '    delay_loop 6', '    lb_algo wrr', '    lb_kind NAT', '    protocol TCP', '    persistence_timeout 60', '    quorum 1', '    hysteresis 0');
    for (let r = 0; r < 5; r++) {
      vs.push(`    real_server 192.168.${v}.${r + 10} 8080 {`, '        weight 2', '        inhibit_on_failure');
      if (r % 3 === 0) vs.push('        TCP_CHECK {', '            connect_timeout 3', '            connect_port 8080', '            retry 2', '            delay_before_retry 1', '        }');
      else if (r % 3 === 1) vs.push('        HTTP_GET {', '            url {', '                path /health', '                status_code 200', '            }', '            connect_timeout 3', '        }');
      else vs.push('        MISC_CHECK {', '            misc_path "/bin/true"', '            misc_timeout 5', '        }');
      vs.push('    }');
    }
    vs.push('}');
  }
  return [
    '! training configuration for the code cache',
    'global_defs {', '    router_id train', '    notification_email {', '        root@localhost', '    }', '    smtp_server 127.0.0.1', '    enable_script_security', '    script_user root', '}',
    '$IF=eth0',
    'vrrp_script chk {', '    script "/bin/true"', '    interval 2', '    weight -10', '}',
    'vrrp_sync_group G {', '    group {', '        VI_1', '        VI_2', '    }', '    sync_group_tracking_weight', '}',
    ...[1, 2].flatMap((i) => [
      `vrrp_instance VI_${i} {`, '    state BACKUP', '    interface $IF', `    virtual_router_id ${50 + i}`, '    priority 100', '    advert_int 1',
      '    authentication {', '        auth_type PASS', '        auth_pass secret', '    }',
      '    virtual_ipaddress {', `        10.0.${i}.1/24 dev eth0`, `        10.0.${i}.2`, '    }',
      '    track_script {', '        chk', '    }', '    notify_master "/bin/true master"', '}',
    ]),
    'virtual_server_group VG {', '    10.201.0.1 80', '    10.201.0.2 80', '}',
    'virtual_server group VG {', '    lb_algo rr', '    lb_kind DR', '    protocol TCP', '    real_server 192.168.99.1 80 {', '        TCP_CHECK {', '        }', '    }', '}',
    ...vs,
  ].join('\n') + '\n';
}

/**
 * Bundles the checker into outDir and makes its cache and manifest. `entryDir` holds src/config/check-config.{js,ts}:
 * dist/ for the build; the repository itself (TypeScript sources) for the unit test of the mechanism.
 */
export async function buildConfigCheck({ entryDir, outDir, ext = 'js' }) {
  const { build } = await import('esbuild');
  const loader = await import(pathToFileURL(join(entryDir, `src/config/check-bundle.${ext}`)).href);
  const bundlePath = join(outDir, loader.CONFIG_CHECK_BUNDLE);
  // `createRequire(import.meta.url)('moo')` (how the modules load moo and nearley, see parse.ts) becomes require():
  // the packages are bundled and import.meta, which a CommonJS file lacks, is gone.
  const requireRewrite = {
    name: 'create-require',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]config[\\/][^\\/]+\.(js|ts)$/ }, async (args) => {
        const { readFileSync } = await import('node:fs');
        const text = readFileSync(args.path, 'utf8');
        return { contents: text.replace(/createRequire\(import\.meta\.url\)\(/g, 'require('), loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
      });
    },
  };
  const result = await build({
    stdin: {
      contents: `export { checkConfig } from './src/config/check-config.${ext}';\nexport { formatDiagnostic } from './src/config/diagnostics.${ext}';\n`,
      resolveDir: entryDir,
      sourcefile: 'config-check-entry.js',
      loader: 'js',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bundlePath,
    metafile: true,
    logLevel: 'silent',
    plugins: [requireRewrite],
    banner: { js: '// keepalived-ts configuration checker (-t, -d): generated by scripts/build-config-check.mjs from tsc\'s output; see src/config/check-bundle.ts.' },
  });
  if (result.warnings.length) throw new Error(`esbuild warnings: ${result.warnings.map((w) => w.text).join('; ')}`);
  const { readFileSync } = await import('node:fs');
  if (readFileSync(bundlePath, 'utf8').includes('import.meta')) throw new Error(`${bundlePath}: import.meta left in a CommonJS bundle`);

  // Training run in this process, then the cache of the script with what the run compiled.
  const dir = mkdtempSync(join(tmpdir(), 'kt-train-'));
  try {
    const file = join(dir, 'keepalived.conf');
    writeFileSync(file, trainingConfig());
    const { checker, script } = loader.compileCheckerBundle(bundlePath);
    const r = checker.checkConfig(file, { configId: 'train', hostname: 'train', interfaces: new Set(['lo', 'eth0']) });
    for (const d of r.diags) checker.formatDiagnostic(d);
    if (r.exitCode !== 0) throw new Error(`training configuration: exit ${r.exitCode}: ${r.diags.map((d) => checker.formatDiagnostic(d)).join('\n')}`);
    writeFileSync(join(outDir, loader.CONFIG_CHECK_CACHE), script.createCachedData());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('<stdin>') && !p.endsWith('config-check-entry.js')).map((p) => resolve(p));
  const files = [...inputs, bundlePath, join(outDir, loader.CONFIG_CHECK_CACHE)];
  const manifest = { inputs: files.map((f) => { const st = statSync(f); return [relative(outDir, f), st.size, st.mtimeMs]; }) };
  writeFileSync(join(outDir, loader.CONFIG_CHECK_MANIFEST), JSON.stringify(manifest) + '\n');
  return { bundlePath, inputs: inputs.length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dist = resolve(process.argv[2] ?? join(root, 'dist'));
  const r = await buildConfigCheck({ entryDir: dist, outDir: dist });
  console.log(`${relative(process.cwd(), r.bundlePath)}: ${r.inputs} inputs bundled, code cache and manifest written`);
}
