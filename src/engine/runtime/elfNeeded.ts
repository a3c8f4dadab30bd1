// The shared libraries an ELF file asks the loader for (its DT_NEEDED entries), read from the file
// itself: which CUDA major version a provider build was linked against (libcublasLt.so.12 or .so.13)
// without loading it and without binutils. 64-bit little-endian ELF (Linux x64) only.

import { closeSync, openSync, readSync } from 'node:fs';

const PT_LOAD = 1, PT_DYNAMIC = 2;
const DT_NULL = 0n, DT_NEEDED = 1n, DT_STRTAB = 5n, DT_STRSZ = 10n;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, offset);
  if (n !== length) throw new Error(`short read (${n} of ${length} bytes at ${offset})`);
  return buf;
}

/** DT_NEEDED names in file order. Throws when the file is not a 64-bit little-endian ELF with a dynamic section. */
export function elfNeeded(file: string): string[] {
  const fd = openSync(file, 'r');
  try {
    const h = readAt(fd, 0, 64);
    if (h.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
    if (h[4] !== 2 || h[5] !== 1) throw new Error(`${file} is not a 64-bit little-endian ELF file`);
    const phoff = Number(h.readBigUInt64LE(0x20)), phentsize = h.readUInt16LE(0x36), phnum = h.readUInt16LE(0x38);
    const ph = readAt(fd, phoff, phentsize * phnum);
    const loads: { vaddr: number; offset: number; filesz: number }[] = [];
    let dyn: { offset: number; filesz: number } | null = null;
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      const type = ph.readUInt32LE(at);
      const seg = { offset: Number(ph.readBigUInt64LE(at + 8)), vaddr: Number(ph.readBigUInt64LE(at + 16)), filesz: Number(ph.readBigUInt64LE(at + 32)) };
      if (type === PT_LOAD) loads.push(seg);
      else if (type === PT_DYNAMIC) dyn = seg;
    }
    if (!dyn) throw new Error(`${file} has no dynamic section`);
    const d = readAt(fd, dyn.offset, dyn.filesz);
    const needed: bigint[] = [];
    let strtab = -1n, strsz = 0n;
    for (let at = 0; at + 16 <= d.length; at += 16) {
      const tag = d.readBigInt64LE(at), val = d.readBigUInt64LE(at + 8);
      if (tag === DT_NULL) break;
      if (tag === DT_NEEDED) needed.push(val);
      else if (tag === DT_STRTAB) strtab = val;
      else if (tag === DT_STRSZ) strsz = val;
    }
    if (strtab < 0n) throw new Error(`${file} has no string table in its dynamic section`);
    // DT_STRTAB is a virtual address: the load segment that holds it maps it to a file offset.
    const vaddr = Number(strtab);
    const seg = loads.find((s) => vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
    if (!seg) throw new Error(`${file}: the string table is outside every load segment`);
    const strings = readAt(fd, vaddr - seg.vaddr + seg.offset, Number(strsz));
    return needed.map((off) => {
      const start = Number(off);
      const end = strings.indexOf(0, start);
      return strings.toString('latin1', start, end < 0 ? strings.length : end);
    });
  } finally {
    closeSync(fd);
  }
}
