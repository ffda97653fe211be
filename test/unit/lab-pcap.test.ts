// The lab's pcap reader and frame decoder, checked against the golden captures of keepalived 2.2.7
// (copied into test/fixtures/vectors) and against a hand-built file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { parsePcap, parsePcapHeader, readRecords, isGratuitousArp } from '../helpers/lab.js';

// Copies of shared/vectors kept with the tests, so a clone tests the same bytes wherever it sits.
const VECTORS = new URL('../fixtures/vectors', import.meta.url).pathname;

function pcapOf(frames: { sec: number; usec: number; data: Buffer }[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20);
  const recs = frames.map((f) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(f.sec, 0);
    h.writeUInt32LE(f.usec, 4);
    h.writeUInt32LE(f.data.length, 8);
    h.writeUInt32LE(f.data.length, 12);
    return Buffer.concat([h, f.data]);
  });
  return Buffer.concat([head, ...recs]);
}

// keepalived's GARP for 10.99.0.50 from 02:00:00:99:00:11 (baseline, 42 bytes).
const GARP = Buffer.from('ffffffffffff020000990011080600010800060400010200009900110a630032ffffffffffff0a630032', 'hex');

describe('lab pcap reader', () => {
  it('decodes a gratuitous ARP with micro-second time stamps', () => {
    const [f] = parsePcap(pcapOf([{ sec: 1700000000, usec: 123456, data: GARP }]));
    assert.equal(f.tMs, 1700000000123.456);
    assert.equal(f.ethSrc, '02:00:00:99:00:11');
    assert.equal(f.ethDst, 'ff:ff:ff:ff:ff:ff');
    assert.deepEqual(f.arp, { op: 1, senderMac: '02:00:00:99:00:11', senderIp: '10.99.0.50', targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: '10.99.0.50' });
    assert.ok(isGratuitousArp(f));
  });

  it('leaves a record cut short for the next read (a file still being written)', () => {
    const buf = pcapOf([{ sec: 1, usec: 0, data: GARP }, { sec: 2, usec: 0, data: GARP }]);
    const header = parsePcapHeader(buf);
    const partial = buf.subarray(0, buf.length - 5);
    const r = readRecords(partial, header);
    assert.equal(r.records.length, 1);
    assert.equal(r.nextOffset, 24 + 16 + GARP.length);
  });

  it('rejects what is not a classic pcap', () => {
    assert.throws(() => parsePcap(Buffer.from('0a0d0d0a000000000000000000000000000000000000000000', 'hex')), { code: 'KT_LAB_PCAP_FORMAT' });
    assert.throws(() => parsePcap(Buffer.alloc(3)), { code: 'KT_LAB_PCAP_FORMAT' });
  });

  for (const mode of ['v2', 'v3'] as const) {
    const file = `${VECTORS}/${mode}-full-cycle-vrrp-garp.pcap`;
    it(`decodes keepalived's ${mode} adverts from the golden capture`, { skip: existsSync(file) ? false : `needs ${file}` }, () => {
      const frames = parsePcap(readFileSync(file));
      const adverts = frames.filter((f) => f.vrrp);
      assert.ok(adverts.length > 5);
      const first = adverts[0];
      assert.equal(first.ethDst, '01:00:5e:00:00:12');
      assert.equal(first.ipv4!.dst, '224.0.0.18');
      assert.equal(first.ipv4!.ttl, 255);
      assert.equal(first.ipv4!.tos, 0xc0);
      assert.equal(first.vrrp!.version, mode === 'v2' ? 2 : 3);
      assert.equal(first.vrrp!.vrid, 51);
      assert.equal(first.vrrp!.advertIntMs, mode === 'v2' ? 1000 : 100);
      assert.deepEqual(first.vrrp!.addresses, ['10.99.0.50']);
      assert.ok(adverts.some((f) => f.vrrp!.priority === 0), 'the capture holds priority-0 adverts');
      assert.ok(frames.some((f) => f.arp && isGratuitousArp(f) && f.arp.senderIp === '10.99.0.50'));
      for (let i = 1; i < frames.length; i++) assert.ok(frames[i].tMs >= frames[i - 1].tMs);
    });
  }
});
