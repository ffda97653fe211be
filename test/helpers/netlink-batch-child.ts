// Runs inside a fresh network namespace (`unshare -n`, spawned by test/unit/netlink-batch.test.ts): drives a real
// NETLINK_ROUTE socket with batches of address adds on lo and prints what each request got, as one JSON line.
import { NetlinkSocket, NetlinkError } from '../../src/net/netlink-socket.js';
import { NETLINK_ROUTE } from '../../src/net/ksock.js';
import { NLM_F_CREATE, NLM_F_EXCL } from '../../src/net/netlink-codec.js';
import { RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR, decodeAddress, encodeDelAddress, encodeGetAddress, encodeNewAddress } from '../../src/net/rtnetlink-codec.js';

const sock = new NetlinkSocket(NETLINK_ROUTE);
const addr = (n: number): string => `10.77.${(n >> 8) & 255}.${n & 255}`;
const add = (n: number) => ({ type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_EXCL, payload: encodeNewAddress({ ifindex: 1, address: addr(n), prefixlen: 32 }) });
/** Each request's result: 'ok' or the errno name. */
const outcomes = (ps: Promise<unknown>[]): Promise<string[]> =>
  Promise.all(ps.map((p) => p.then(() => 'ok', (e: unknown) => (e instanceof NetlinkError ? e.errnoName : `other: ${(e as Error).message}`))));
const onLo = async (): Promise<string[]> =>
  (await sock.request(RTM_GETADDR, encodeGetAddress(4), { dump: true }))
    .map((m) => decodeAddress(m.payload)).filter((a) => a?.ifindex === 1 && a.address.startsWith('10.77.')).map((a) => a!.address).sort();
const step = async <T>(f: () => Promise<T>): Promise<{ datagrams: number; result: T }> => {
  const before = sock.datagramsSent;
  const result = await f();
  return { datagrams: sock.datagramsSent - before, result };
};

const out: Record<string, unknown> = { batchWindow: sock.batchWindow };
// Five adds in one datagram, the third repeating the first: only the third fails.
out.small = await step(() => outcomes(sock.requestBatch([add(1), add(2), add(1), add(3), add(4)])));
out.smallTable = await onLo();
// 1,000 adds (more than one window), every 100th repeating the one before it; then a plain request queued behind
// them that deletes the last address: it is sent after the batch, so the kernel has that address by then.
const big = Array.from({ length: 1000 }, (_, i) => add(i % 100 === 99 ? 1000 + i - 1 : 1000 + i));
const del = { type: RTM_DELADDR, payload: encodeDelAddress({ ifindex: 1, address: addr(1998), prefixlen: 32 }) };
out.big = await step(async () => {
  const batch = sock.requestBatch(big);
  const after = sock.request(del.type, del.payload);
  const res = await outcomes([...batch, after]);
  return res.flatMap((r, i) => (r === 'ok' ? [] : [`${i}:${r}`])).concat(`last:${res[res.length - 1]}`);
});
out.bigCount = (await onLo()).length;
// window 1: one request per datagram.
out.one = await step(() => outcomes(sock.requestBatch([add(3000), add(3001), add(3000)], { window: 1 })));
out.overruns = sock.overruns;
sock.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
