// Small servers for the checker tests, run inside a namespace (test/netns/checker-protocols.test.ts,
// checker-fwmark.test.ts): UDP echo, a UDP sink that never answers, a UDP server that answers only with malformed
// DNS, one that answers every DNS query with RCODE 0, three SMTP listeners (a good one, one with a 5xx banner, one
// that never speaks) and an HTTP server that answers 200. Every line a server receives is reported on
// stdout as JSON; "ready" once everything listens.
import dgram from 'node:dgram';
import net from 'node:net';

const [addr] = process.argv.slice(2);
if (!addr) throw new Error('usage: checker-servers.ts ADDRESS');
const out = (m: unknown): void => void process.stdout.write(`${JSON.stringify(m)}\n`);
const pending: Promise<void>[] = [];

function udp(port: number, onMessage: (s: dgram.Socket, m: Buffer, r: dgram.RemoteInfo) => void): void {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => {
    out({ udp: port, hex: m.toString('hex') });
    onMessage(s, m, r);
  });
  pending.push(new Promise((res) => s.bind(port, addr, () => res())));
}

udp(7000, (s, m, r) => s.send(m, r.port, r.address));
udp(7001, () => {});
// Malformed answers to a DNS query: too short, then a "reply" with another id; never a real answer.
udp(7003, (s, m, r) => {
  s.send(Buffer.from([1, 2, 3]), r.port, r.address);
  const wrong = Buffer.from(m.subarray(0, 12));
  wrong.writeUInt16BE((m.readUInt16BE(0) + 1) & 0xffff, 0);
  wrong[2]! |= 0x80;
  s.send(wrong, r.port, r.address);
});

// A DNS "answer": the query sent back as a response (QR set), RCODE 0.
udp(7004, (s, m, r) => {
  const a = Buffer.from(m);
  if (a.length >= 4) a.writeUInt16BE(a.readUInt16BE(2) | 0x8000, 2);
  s.send(a, r.port, r.address);
});

function smtp(port: number, onConnect: (c: net.Socket) => void): void {
  const srv = net.createServer((c) => {
    c.on('error', () => {});
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i + 1);
        buf = buf.slice(i + 1);
        out({ smtp: port, line });
        if (port !== 2525) continue;
        if (line.startsWith('HELO ')) c.write('250 kt.test\r\n');
        else if (line.startsWith('QUIT')) c.end('221 bye\r\n');
      }
    });
    onConnect(c);
  });
  pending.push(new Promise((res) => srv.listen(port, addr, () => res())));
}

smtp(2525, (c) => c.write('220 kt.test ESMTP\r\n'));
smtp(2526, (c) => c.write('554 go away\r\n'));
smtp(2527, () => {});

const http = net.createServer((c) => {
  c.on('error', () => {});
  c.once('data', () => c.end('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'));
});
pending.push(new Promise((res) => http.listen(8080, addr, () => res())));

await Promise.all(pending);
out({ ready: true });
