// genhash: fetch a URL the way HTTP_GET/SSL_GET does and print the MD5 of the body, to paste into `digest`.
// Options as keepalived's --genhash (check_genhash.c): -s -p -u [-S] [-I] [-V vhost] [-P 1.0|1.0c|1.1] [-t s] [-v] [-h] [-m].
import { buildRequest, hostHeader, httpFetch, tlsContext } from './probe-http.js';
import { KtError } from '../util/errors.js';
import { EXIT_FATAL, EXIT_OK } from '../util/exit-codes.js';

export interface GenhashIo {
  out(s: string): void;
  err(s: string): void;
}

const USAGE = `Usage: keepalived-ts --genhash COMMAND [OPTIONS]
Commands:
   -s server-address -p port -u url
   -S -s server-address -p port -u url
   -h

Options:
Either long or short options are allowed.
   --use-ssl         -S       Use SSL connection to remote server.
   --use-sni         -I       Use SNI during SSL handshake (uses virtualhost setting; see -V).
   --server          -s       Use the specified remote server address.
   --port            -p       Use the specified remote server port.
   --url             -u       Use the specified remote server url.
   --use-virtualhost -V       Use the specified virtualhost in GET query.
   --verbose         -v       Use verbose mode output.
   --help            -h       Display this short inlined help screen.
   --fwmark          -m       Use the specified FW mark.
   --protocol        -P       Use the specified HTTP protocol - '1.0', 1.0c', '1.1'.
                                1.0c means 1.0 with 'Connection: close'
   --timeout         -t       Timeout in seconds
`;

const LONG: Record<string, string> = {
  '--use-ssl': '-S', '--use-sni': '-I', '--server': '-s', '--port': '-p', '--url': '-u', '--use-virtualhost': '-V',
  '--verbose': '-v', '--help': '-h', '--fwmark': '-m', '--protocol': '-P', '--timeout': '-t',
};
const WITH_ARG = new Set(['-s', '-p', '-u', '-V', '-m', '-P', '-t']);

export interface GenhashOptions {
  ssl: boolean;
  sni: boolean;
  server?: string;
  port?: number;
  url?: string;
  vhost?: string;
  verbose: boolean;
  help: boolean;
  protocol: '1.0' | '1.0C' | '1.1';
  timeoutMs: number;
  /** -m: SO_MARK on the connection, as HTTP_GET's fwmark. */
  fwmark?: number;
}

export function parseGenhashArgs(argv: readonly string[]): GenhashOptions {
  const o: GenhashOptions = { ssl: false, sni: false, verbose: false, help: false, protocol: '1.0', timeoutMs: 5000 };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let val: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) [a, val] = [a.slice(0, eq), a.slice(eq + 1)];
      const short = LONG[a];
      if (!short) throw new KtError('KT_CHECK_GENHASH_USAGE', `unknown option ${a}`);
      a = short;
    } else if (/^-[A-Za-z].+/.test(a) && WITH_ARG.has(a.slice(0, 2))) {
      [a, val] = [a.slice(0, 2), a.slice(2)];
    }
    if (WITH_ARG.has(a) && val === undefined) {
      val = argv[++i];
      if (val === undefined) throw new KtError('KT_CHECK_GENHASH_USAGE', `option ${a} needs a value`);
    }
    switch (a) {
      case '-S': o.ssl = true; break;
      case '-I': o.sni = true; break;
      case '-v': o.verbose = true; break;
      case '-h': o.help = true; break;
      case '-s': o.server = val!; break;
      case '-u': o.url = val!; break;
      case '-V': o.vhost = val!; break;
      case '-m': {
        // keepalived: leading blanks skipped, then decimal digits only.
        const m = /^[ \t]*(\d+)$/.exec(val!);
        if (!m || Number(m[1]) > 0xffffffff) throw new KtError('KT_CHECK_GENHASH_USAGE', `invalid fwmark '${val}'`);
        o.fwmark = Number(m[1]);
        break;
      }
      case '-p': {
        const n = Number(val);
        if (!Number.isInteger(n) || n < 1 || n > 65535) throw new KtError('KT_CHECK_GENHASH_USAGE', `invalid port ${val}`);
        o.port = n;
        break;
      }
      case '-t': {
        const n = Number(val);
        if (!Number.isFinite(n) || n <= 0) throw new KtError('KT_CHECK_GENHASH_USAGE', `invalid timeout ${val}`);
        o.timeoutMs = Math.round(n * 1000);
        break;
      }
      case '-P': {
        const p = val!.toUpperCase();
        if (p !== '1.0' && p !== '1.0C' && p !== '1.1') throw new KtError('KT_CHECK_GENHASH_USAGE', `invalid protocol ${val}`);
        o.protocol = p;
        break;
      }
      default:
        throw new KtError('KT_CHECK_GENHASH_USAGE', `unknown option ${a}`);
    }
  }
  return o;
}

/** keepalived's dump_buffer layout: decimal offset, 8 bytes - 8 bytes, printable ASCII. */
export function dumpBuffer(buf: Buffer): string {
  let s = '';
  for (let off = 0; off < buf.length; off += 16) {
    const row = buf.subarray(off, off + 16);
    let hex = '';
    let asc = '';
    for (let i = 0; i < 16; i++) {
      if (i === 8) hex += '- ';
      if (i < row.length) {
        hex += row[i]!.toString(16).padStart(2, '0') + ' ';
        asc += row[i]! >= 0x20 && row[i]! < 0x7f ? String.fromCharCode(row[i]!) : '.';
      } else {
        hex += '   ';
        asc += ' ';
      }
    }
    s += `${String(off).padStart(4, "0")}  ${hex}  ${asc}\n`;
  }
  return s;
}

const banner = (t: string) => `-----------------------[${t}]-----------------------\n`;

/** Run genhash with its argv (without the `--genhash` itself). Returns the process exit code. */
export async function runGenhash(argv: readonly string[], io: GenhashIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  let o: GenhashOptions;
  try {
    o = parseGenhashArgs(argv);
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return EXIT_FATAL;
  }
  if (o.help) {
    io.err(USAGE);
    return EXIT_OK;
  }
  if (!o.server || !o.port || !o.url) {
    io.err(USAGE);
    return EXIT_FATAL;
  }
  const host = o.server;
  const started = process.hrtime.bigint();
  try {
    const r = await httpFetch(
      {
        host,
        port: o.port,
        timeoutMs: o.timeoutMs,
        ssl: o.ssl,
        ...(o.ssl ? { secureContext: tlsContext(undefined) } : {}),
        ...(o.ssl && o.sni && o.vhost ? { servername: o.vhost } : {}),
        request: buildRequest(o.url, o.protocol, hostHeader(o.vhost, host, o.port)),
        url: { path: o.url },
        ...(o.fwmark ? { fwmark: o.fwmark } : {}),
      },
      o.verbose,
      o.verbose,
    );
    if (o.verbose) {
      io.out(banner('    HTTP Header Buffer    ') + dumpBuffer(r.header!));
      io.out(banner(' HTTP Header Ascii Buffer ') + r.header!.toString('latin1') + '\n');
      io.out(banner('        HTML Buffer        ') + dumpBuffer(r.body) + '\n');
      io.out(banner('    HTML hash resulting    ') + dumpBuffer(Buffer.from(r.md5, 'hex')));
      io.out(banner(' HTML hash final resulting ') + r.md5 + '\n\n');
      const us = Number((process.hrtime.bigint() - started) / 1000n);
      io.out(`Global response time for [${o.url}] = ${us} usecs\n`);
    } else {
      io.out(`${r.md5}\n`);
    }
    return EXIT_OK;
  } catch (e) {
    // keepalived prints "Connection failed" and still exits 0; we exit 1 so scripts can tell.
    io.err(`Connection failed: ${(e as Error).message}\n`);
    return EXIT_FATAL;
  }
}
