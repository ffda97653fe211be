// Transcript tests of the VRRP node, data-driven like etcd raft's testdata: each file in test/unit/transcripts/ is a
// sequence of commands, each followed by `----` and the effects the node must return, in order. The config is
// keepalived.conf text read by the production pipeline (parse → model → vrrpPlan); packets are encoded by the
// production codec and go through the node's demux and validation. One file per rule or defect.
//
// Commands (times in ms; `at T` sets the clock, `run T` feeds the timer at every deadline up to T):
//   config            keepalived.conf text follows until `----`; builds a fresh node
//   iface NAME up|down [ipv4=A,B] [ll6=A]   interface facts (complete: addresses not listed are gone)
//   start | shutdown | at T | run T | state
//   advert [at=T] from=A vrid=N prio=P [version=2|3] [int=MS] [vips=A,B] [dst=A] [auth=PASS]
//   track KEY ok=true|false | track KEY value=N
//   addr-removed IFNAME ADDRESS/PREFIX
//   reload            keepalived.conf text follows until `----`
//   guard-ack NAME sent=T timeout=MS | guard-down NAME | guard-expired NAME   split-brain guard session news
//   guard-lock NAME KEY held=true|false [token=X]                              the service says a lock is ours or not
//   switchover TARGET [hold=MS] [force=true] | resume TARGET | maintenance on|off    control inputs (issue 12), answered by
//                     `control #ID ok|refused|bad-request: message` lines (ids count from 1 in each file)
// Output lines: `t=T effect …`; log lines at info/debug are left out, warnings and errors are kept.
// KT_REWRITE=1 rewrites the expected blocks from what the node does (review the diff before committing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/parse.js';
import { buildModel } from '../../src/config/model/index.js';
import { vrrpPlan } from '../../src/vrrp/plan.js';
import { VrrpNode, type InterfaceFacts, type NodeEffect, type NodeInput } from '../../src/vrrp/node.js';
import { encodeIpv4Advert, encodeAdvert, passAuthData } from '../../src/vrrp/packet.js';

const DIR = join(import.meta.dirname, 'transcripts');
const REWRITE = process.env.KT_REWRITE === '1';

function planOf(text: string) {
  const p = parseConfigText(text, 'transcript.conf', { configId: 'node1' });
  const model = buildModel(p.nodes, p.diags, { interfaces: null, hostname: 'node1' });
  const errors = p.diags.list.filter((d) => d.severity === 'error' || d.severity === 'fatal');
  if (errors.length) throw new Error(`config: ${errors.map((d) => d.message).join('; ')}`);
  return vrrpPlan(model, () => ({ uid: 0, gid: 0 }));
}

const kv = (words: string[]): Record<string, string> =>
  Object.fromEntries(words.filter((w) => w.includes('=')).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));

function fmt(t: number, e: NodeEffect): string | undefined {
  const at = `t=${Math.round(t * 1000) / 1000}`;
  switch (e.type) {
    case 'open-socket': return `${at} socket+ ${e.key}`;
    case 'close-socket': return `${at} socket- ${e.key}`;
    case 'send-advert': return `${at} advert ${e.instance} prio=${e.priority} ${e.src}>${e.dst}`;
    case 'add-vips': return `${at} add-vips ${e.instance} ${e.vips.map((v) => `${v.address}/${v.prefix}`).join(',')}`;
    case 'remove-vips': return `${at} remove-vips ${e.instance} ${e.vips.map((v) => `${v.address}/${v.prefix}`).join(',')}`;
    case 'add-routes': return `${at} add-routes ${e.instance} ${e.routes.map((r) => r.words.join(' ')).join(',')}`;
    case 'remove-routes': return `${at} remove-routes ${e.instance}${e.keys ? ` ${e.keys.join(',')}` : ''}`;
    case 'add-rules': return `${at} add-rules ${e.instance} ${e.rules.map((r) => r.words.join(' ')).join(',')}`;
    case 'remove-rules': return `${at} remove-rules ${e.instance}${e.keys ? ` ${e.keys.join(',')}` : ''}`;
    case 'send-garp': return `${at} garp ${e.instance} ${e.vip.address}`;
    case 'notify': return `${at} notify ${e.scope} ${e.name} ${e.state} ${e.priority}${e.guardToken !== undefined ? ` token=${e.guardToken || '-'}` : ''}`;
    case 'guard-want': return `${at} guard-${e.want ? 'want' : 'release'} ${e.guard} ${e.key}`;
    case 'guard-reset': return `${at} guard-reset ${e.guard}`;
    case 'state-changed': return `${at} state ${e.instance} ${e.from}->${e.to} (${e.reason})`;
    case 'create-vmac':
      if (e.vmac.ipvlan) {
        const a = e.vmac.ipvlan.address;
        return `${at} ipvlan+ ${e.instance} ${e.vmac.ifname} flags=${e.vmac.ipvlan.flags}${a ? ` ${a.address}/${a.prefix}` : ''} on ${e.vmac.base}${e.ipv6 ? ' ipv6' : ''}`;
      }
      return `${at} vmac+ ${e.instance} ${e.vmac.ifname} ${e.vmac.mac} on ${e.vmac.base}${e.vmac.xmitBase ? ' xmit_base' : ''}${e.ipv6 ? ' ipv6' : ''}`;
    case 'delete-vmac': return `${at} ${e.vmac.ipvlan ? 'ipvlan' : 'vmac'}- ${e.instance} ${e.vmac.ifname}`;
    case 'control-result': return `${at} control #${e.id} ${e.ok ? 'ok' : e.refusal}: ${e.message}`;
    case 'log': return e.level === 'warning' || e.level === 'error' ? `${at} ${e.level} ${e.msg}` : undefined;
  }
}

interface Block { comments: string[]; command: string; body: string[]; expected: string[] }

function parseFile(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let i = 0;
  let comments: string[] = [];
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.startsWith('#')) { comments.push(line); i++; continue; }
    if (!line.trim()) { i++; continue; }
    const command = line;
    const body: string[] = [];
    i++;
    while (i < lines.length && lines[i] !== '----') body.push(lines[i++]!);
    if (i >= lines.length) throw new Error(`command "${command}" has no ---- line`);
    i++;
    const expected: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') expected.push(lines[i++]!);
    blocks.push({ comments, command, body, expected });
    comments = [];
  }
  return blocks;
}

class Driver {
  node?: VrrpNode;
  now = 0;
  controlId = 0;
  sockets = new Map<string, { family: 4 | 6; mode: string; group: string; src?: string }>();

  private feed(input: NodeInput, out: string[], t = this.now): void {
    for (const e of this.node!.handle(input, t)) {
      if (e.type === 'open-socket') this.sockets.set(e.key, e);
      if (e.type === 'close-socket') this.sockets.delete(e.key);
      const s = fmt(t, e);
      if (s) out.push(s);
    }
  }

  private runTo(until: number, out: string[]): void {
    for (let guard = 0; guard < 100_000; guard++) {
      const d = this.node!.deadline();
      if (d === undefined || d > until) break;
      this.now = Math.max(this.now, d);
      this.feed({ type: 'timer' }, out);
    }
    this.now = Math.max(this.now, until);
  }

  exec(b: Block): string[] {
    const out: string[] = [];
    const words = b.command.trim().split(/\s+/);
    const args = kv(words.slice(1));
    switch (words[0]) {
      case 'config':
        this.node = new VrrpNode(planOf(b.body.join('\n')));
        this.sockets.clear();
        break;
      case 'reload':
        this.feed({ type: 'reload', plan: planOf(b.body.join('\n')) }, out);
        break;
      case 'iface': {
        const facts: InterfaceFacts = {
          name: words[1]!, ifindex: 2, up: words[2] === 'up',
          ipv4: args.ipv4 ? args.ipv4.split(',') : [], ipv6LinkLocal: args.ll6 ? args.ll6.split(',') : [],
        };
        this.feed({ type: 'interface', facts }, out);
        break;
      }
      case 'start': this.feed({ type: 'start' }, out); break;
      case 'shutdown': this.feed({ type: 'shutdown' }, out); break;
      case 'switchover':
        this.feed({ type: 'switchover', id: ++this.controlId, target: words[1]!, ...(args.hold ? { holdMs: Number(args.hold) } : {}), ...(args.force ? { force: true } : {}) }, out);
        break;
      case 'resume': this.feed({ type: 'resume', id: ++this.controlId, target: words[1]! }, out); break;
      case 'maintenance': this.feed({ type: 'maintenance', id: ++this.controlId, on: words[1] === 'on' }, out); break;
      case 'at': this.now = Number(words[1]); break;
      case 'run': this.runTo(Number(words[1]), out); break;
      case 'track':
        this.feed({ type: 'tracker', key: words[1]!, ...(args.ok !== undefined ? { ok: args.ok === 'true' } : { value: Number(args.value) }) }, out);
        break;
      case 'addr-removed': {
        const [address, prefix] = words[2]!.split('/');
        this.feed({ type: 'address-removed', ifname: words[1]!, address: address!, prefix: Number(prefix) }, out);
        break;
      }
      case 'advert': {
        if (args.at) this.runTo(Number(args.at), out);
        const v6 = args.from!.includes(':');
        const version = Number(args.version ?? 2) as 2 | 3;
        const dst = args.dst ?? (v6 ? 'ff02::12' : '224.0.0.18');
        const advert = {
          version, type: 1, vrid: Number(args.vrid), priority: Number(args.prio), advertIntMs: Number(args.int ?? 1000),
          addresses: args.vips ? args.vips.split(',') : [],
          ...(version === 2 && !v6 ? { authType: args.auth ? 1 : 0, authData: args.auth ? passAuthData(args.auth) : new Uint8Array(8) } : {}),
        };
        const bytes = v6
          ? encodeAdvert(advert, { family: 6, src: args.from!, dst })
          : encodeIpv4Advert(advert, { src: args.from!, dst, ttl: 255 });
        const family = v6 ? 6 : 4;
        let delivered = false;
        for (const [key, s] of this.sockets) {
          if (s.family !== family || (s.mode === 'multicast' ? s.group !== dst : s.src !== dst)) continue;
          this.feed({ type: 'packet', socket: key, bytes, family, src: args.from!, dst, ttl: 255 }, out);
          delivered = true;
        }
        if (!delivered) out.push(`(no socket receives ${dst})`);
        break;
      }
      case 'state':
        for (const v of this.node!.view())
          out.push(`${v.plan.config.name} ${v.state} prio=${v.effectivePriority}${v.src ? ` src=${v.src}` : ''}${v.masterAddress ? ` master=${v.masterAddress}` : ''}${v.faults.length ? ` faults=${v.faults.join(',')}` : ''}${v.guard ? ` guard=${v.guard.state}${v.guard.token ? `:${v.guard.token}` : ''}` : ''}${v.hold ? ` hold=${v.hold.untilMs ?? 'resume'}${v.hold.confirmed ? '' : ',unconfirmed'}` : ''}${v.maintenance ? ' maintenance' : ''}`);
        break;
      case 'guard-ack':
        this.feed({ type: 'guard-session', guard: words[1]!, event: 'ack', sentAt: Number(args.sent ?? this.now), timeoutMs: Number(args.timeout) }, out);
        break;
      case 'guard-down': this.feed({ type: 'guard-session', guard: words[1]!, event: 'disconnected' }, out); break;
      case 'guard-expired': this.feed({ type: 'guard-session', guard: words[1]!, event: 'expired' }, out); break;
      case 'guard-lock':
        this.feed({ type: 'guard-lock', guard: words[1]!, key: words[2]!, held: args.held === 'true', ...(args.token ? { token: args.token } : {}) }, out);
        break;
      default:
        throw new Error(`unknown command "${b.command}"`);
    }
    return out;
  }
}

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort()) {
  test(`transcript ${file}`, () => {
    const path = join(DIR, file);
    const text = readFileSync(path, 'utf8');
    const blocks = parseFile(text);
    const d = new Driver();
    const rewritten: string[] = [];
    for (const b of blocks) {
      const got = d.exec(b);
      if (REWRITE) rewritten.push(...b.comments, b.command, ...b.body, '----', ...got, '');
      else assert.deepEqual(got, b.expected, `${file}: after "${b.command}"`);
    }
    if (REWRITE) writeFileSync(path, rewritten.join('\n'));
  });
}
