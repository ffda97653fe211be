// Jazzer.js 4.0.0 ships its libFuzzer addon prebuilt against glibc 2.38 / libstdc++ 13; Debian 12
// has glibc 2.36 / libstdc++ 12, so `require` fails with "version `GLIBC_2.38' not found".
// Measured: the only newer imports are
//   __isoc23_strtol / __isoc23_strtoul (GLIBC_2.38): C23 variants that also accept "0b"; libFuzzer
//     parses its flags with them. Rewritten to glibc 2.2.5's strtol / strtoul.
//   _ZSt21ios_base_library_initv (GLIBCXX_3.4.32): GCC 13's <iostream> only names it (.globl) to pull
//     in the library's iostream init; no relocation uses it, so nothing ever looks it up.
// Both version requirements are marked weak (VER_FLG_WEAK), everything else stays as shipped.
// Idempotent; the original is kept beside it as .orig and `npm ci` restores it anyway.
import { readFileSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';

/** Pure: returns the patched bytes, or null when nothing needs patching. Throws on a malformed ELF. */
export function patchElf(input) {
  const b = Buffer.from(input);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error('not a 64-bit little-endian ELF');
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a), shnum = b.readUInt16LE(0x3c);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({ type: b.readUInt32LE(o + 4), off: Number(b.readBigUInt64LE(o + 0x18)),
      size: Number(b.readBigUInt64LE(o + 0x20)), link: b.readUInt32LE(o + 0x28), info: b.readUInt32LE(o + 0x2c) });
  }
  const SHT_DYNSYM = 11, SHT_GNU_verneed = 0x6ffffffe, SHT_GNU_versym = 0x6fffffff;
  const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
  const verneed = sections.find((s) => s.type === SHT_GNU_verneed);
  const versym = sections.find((s) => s.type === SHT_GNU_versym);
  if (!dynsym || !verneed || !versym) throw new Error('no .dynsym / .gnu.version / .gnu.version_r section');
  const dynstr = sections[dynsym.link];
  const str = (off) => { const s = dynstr.off + off; return b.toString('latin1', s, b.indexOf(0, s)); };
  let idxNew = -1, idxOld = -1, idxCxx = -1, changed = false;
  let vn = verneed.off;
  for (let n = 0; n < verneed.info; n++) {
    const file = str(b.readUInt32LE(vn + 4));
    let aux = vn + b.readUInt32LE(vn + 8);
    for (let a = 0; a < b.readUInt16LE(vn + 2); a++) {
      const name = str(b.readUInt32LE(aux + 8));
      if ((file === 'libc.so.6' && name === 'GLIBC_2.38') || (file === 'libstdc++.so.6' && name === 'GLIBCXX_3.4.32')) {
        if (name === 'GLIBC_2.38') idxNew = b.readUInt16LE(aux + 6);
        else idxCxx = b.readUInt16LE(aux + 6);
        if (!(b.readUInt16LE(aux + 4) & 2)) { b.writeUInt16LE(b.readUInt16LE(aux + 4) | 2, aux + 4); changed = true; }
      }
      if (file === 'libc.so.6' && name === 'GLIBC_2.2.5') idxOld = b.readUInt16LE(aux + 6);
      aux += b.readUInt32LE(aux + 12);
    }
    vn += b.readUInt32LE(vn + 12);
  }
  if (idxNew < 0) return changed ? b : null;
  if (idxOld < 0) throw new Error('no GLIBC_2.2.5 requirement to retarget to');
  const count = dynsym.size / 24;
  for (let i = 0; i < count; i++) {
    const vs = versym.off + i * 2;
    if (idxCxx >= 0 && (b.readUInt16LE(vs) & 0x7fff) === idxCxx) {
      const name = str(b.readUInt32LE(dynsym.off + i * 24));
      if (name !== '_ZSt21ios_base_library_initv') throw new Error(`unexpected GLIBCXX_3.4.32 import '${name}'`);
    }
    if ((b.readUInt16LE(vs) & 0x7fff) !== idxNew) continue;
    const nameOff = dynstr.off + b.readUInt32LE(dynsym.off + i * 24);
    const name = str(b.readUInt32LE(dynsym.off + i * 24));
    const m = /^__isoc23_(strto[a-z]+)$/.exec(name);
    if (!m) throw new Error(`unexpected GLIBC_2.38 import '${name}'`);
    b.write(m[1] + '\0', nameOff, 'latin1');
    b.writeUInt16LE(idxOld, vs);
    changed = true;
  }
  return changed ? b : null;
}

export function ensureLoadable(addonPath) {
  if (!existsSync(addonPath)) throw new Error(`Jazzer.js addon not found at ${addonPath} (run npm ci)`);
  const patched = patchElf(readFileSync(addonPath));
  if (!patched) return false;
  if (!existsSync(addonPath + '.orig')) copyFileSync(addonPath, addonPath + '.orig');
  writeFileSync(addonPath, patched);
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const p = process.argv[2];
  console.log(ensureLoadable(p) ? `patched ${p}` : `${p}: nothing to patch`);
}
