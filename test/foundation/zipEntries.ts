// The files in a zip (a .vsix), read from its central directory; enough to check what a package holds.
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  readonly name: string;
  readonly size: number;
  readonly compressedSize: number;
  readonly method: number; // 0 stored, 8 deflated
  readonly localHeader: number;
}

export function zipEntries(zip: Buffer): ZipEntry[] {
  // End of central directory record: signature 0x06054b50, at most 64 KiB of comment after it.
  let eocd = zip.length - 22;
  while (eocd > 0 && eocd >= zip.length - 22 - 0xffff && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0 || zip.readUInt32LE(eocd) !== 0x06054b50) throw new Error('not a zip file');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
    const nameLength = zip.readUInt16LE(at + 28);
    entries.push({
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      method: zip.readUInt16LE(at + 10),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      localHeader: zip.readUInt32LE(at + 42),
    });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

/** The contents of one file in the zip. */
export function zipFile(zip: Buffer, entry: ZipEntry): Buffer {
  const start = entry.localHeader + 30 + zip.readUInt16LE(entry.localHeader + 26) + zip.readUInt16LE(entry.localHeader + 28);
  const data = zip.subarray(start, start + entry.compressedSize);
  return entry.method === 8 ? inflateRawSync(data) : data;
}

/** The text of one file in the zip. */
export function zipText(zip: Buffer, name: string): string {
  const entry = zipEntries(zip).find((e) => e.name === name);
  if (!entry) throw new Error(`${name} is not in the zip`);
  return zipFile(zip, entry).toString('utf8');
}
