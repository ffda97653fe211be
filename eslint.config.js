// ESLint (flat config) for src, test, bench, examples and fuzz. Two jobs: typescript-eslint's recommended rules,
// and the architecture's one hard boundary: the pure cores (VRRP protocol core, checker verdicts, IPVS desired
// state and diff, every codec, the config model) cannot reach I/O — no fs/net/dgram/child_process/tls/os, no
// addon, no logger, no shell module. Those live in thin adapters; a core that needs a fact gets it passed in.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node built-ins a pure core must not import. */
const IO_BUILTINS = [
  'fs', 'fs/promises', 'net', 'dgram', 'child_process', 'tls', 'http', 'https', 'http2', 'os', 'cluster',
  'worker_threads', 'dns', 'dns/promises', 'vm', 'readline', 'process',
].flatMap((m) => [m, `node:${m}`]);

/** Shell modules (sockets, processes, timers, the addon, the logger): a core importing one would drag I/O in. */
export const SHELL_MODULES = [
  '**/net/ksock.js', '**/net/netlink-socket.js', '**/net/packet-socket.js', '**/net/vrrp-socket.js',
  '**/net/interfaces.js', '**/net/rtnetlink.js', '**/net/genetlink.js', '**/net/linkbeat-probe.js',
  '**/ipvs/client.js', '**/ipvs/apply.js', '**/ipvs/sync.js',
  '**/vrrp/engine.js', '**/vrrp/shell.js',
  '**/check/engine.js', '**/check/service.js', '**/check/probe-*.js',
  '**/notify/run.js', '**/notify/fifo.js', '**/notify/track-script.js', '**/notify/script-user.js',
  '**/daemon/*', '**/util/long-timer.js', '**/guard/*',
  'pino', 'undici',
];

/** The pure cores. Time is passed in; effects come out as data. */
export const CORE_FILES = [
  'src/vrrp/**/*.ts',
  'src/check/verdict.ts', 'src/check/udp-reply.ts', 'src/check/smtp-dialogue.ts',
  'src/ipvs/desired.ts', 'src/ipvs/reconcile.ts', 'src/ipvs/codec.ts', 'src/ipvs/describe.ts', 'src/ipvs/kernel-table.ts',
  'src/ipvs/virtual-server-spec.ts', 'src/ipvs/overrides.ts',
  'src/net/address.ts', 'src/net/constants.ts', 'src/net/arp.ts', 'src/net/ndisc.ts', 'src/net/checksum.ts',
  'src/net/ipv4-header.ts', 'src/net/netlink-codec.ts', 'src/net/rtnetlink-codec.ts', 'src/net/genetlink-codec.ts',
  'src/net/proc-connector-codec.ts', 'src/net/icmp-echo.ts', 'src/net/dns-message.ts',
  'src/config/model/**/*.ts', 'src/config/parse.ts', 'src/config/tree.ts', 'src/config/line-lexer.ts',
  'src/config/diagnostics.ts', 'src/config/postext.ts', 'src/config/script-words.ts',
  'src/util/errors.ts', 'src/daemon/reload-plan.ts', 'src/guard/etcd-lock.ts',
  'src/daemon/syslog-format.ts', 'src/daemon/rt-demotion.ts',
];
/** The VRRP shell lives beside its core (it is the one adapter around the node). */
export const CORE_EXCEPTIONS = ['src/vrrp/shell.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'src/config/grammar.generated.ts', 'fuzz/corpus/**', 'fuzz/findings/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', clearImmediate: 'readonly', URL: 'readonly', performance: 'readonly', queueMicrotask: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly', fetch: 'readonly', globalThis: 'readonly' } },
    rules: {
      // Unused names are allowed when they say they are (_x), as the code does for ignored callback arguments.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    files: CORE_FILES,
    ignores: CORE_EXCEPTIONS,
    rules: {
      'no-restricted-imports': ['error', {
        paths: IO_BUILTINS.map((name) => ({ name, message: 'a pure core does no I/O: take the fact as an argument, or move this into the shell' })),
        patterns: [{ group: SHELL_MODULES, message: 'a pure core cannot import a shell module (sockets, processes, timers, addon, logger)' }],
      }],
      // Time is an input of the core, never read from the clock.
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'time is passed into the core' },
        { object: 'performance', property: 'now', message: 'time is passed into the core' },
      ],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'a core returns a deadline; the shell owns timers' },
        { name: 'setInterval', message: 'a core returns a deadline; the shell owns timers' },
        { name: 'process', message: 'a core reads no environment or process state' },
      ],
    },
  },
);
