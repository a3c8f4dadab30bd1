// Streams a file as UTF-8 lines with their numbers, in bounded memory, hashing the bytes on the way.
// A line that is not UTF-8 becomes a DataError for that line; the others go on.
import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { DataError } from './dataError';

const CHUNK = 1 << 20;
/** A line longer than this is reported and skipped, so that memory stays bounded. */
export const MAX_LINE_BYTES = 64 << 20;

/** What was read of a source file: counted and hashed as it streams. */
export class SourceDigest {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
  }
  sha256(): string {
    return this.hash.copy().digest('hex');
  }
}

/** Raw chunks of a file, in order. */
export async function* readChunks(file: string, digest?: SourceDigest): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await handle.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) return;
      const chunk = buf.subarray(0, bytesRead);
      digest?.update(chunk);
      yield chunk;
    }
  } finally {
    await handle.close();
  }
}

export interface TextLine {
  /** 1-based. */
  line: number;
  /** Without the line break (\n or \r\n) and without a leading byte-order mark. */
  text: string;
}

export async function* readLines(file: string, digest?: SourceDigest): AsyncGenerator<TextLine | DataError> {
  let carry: Buffer | null = null;
  let lineNo = 0;
  let skipping = false; // inside an over-long line, dropping bytes until its end
  for await (const chunk of readChunks(file, digest)) {
    let data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    carry = null;
    if (skipping) {
      const nl = data.indexOf(0x0a);
      if (nl < 0) continue;
      data = data.subarray(nl + 1);
      skipping = false;
    }
    const last = data.lastIndexOf(0x0a);
    if (last < 0) {
      if (data.length > MAX_LINE_BYTES) {
        yield tooLong(file, ++lineNo);
        skipping = true;
      } else {
        carry = Buffer.from(data); // the read buffer is not reused, but a copy keeps the carry small
      }
      continue;
    }
    const tail = data.subarray(last + 1);
    if (tail.length) carry = Buffer.from(tail);
    const whole = data.subarray(0, last + 1);
    if (isUtf8(whole)) {
      const lines = whole.toString('utf8').split('\n');
      lines.pop(); // after the final \n
      for (const text of lines) yield textLine(++lineNo, text);
    } else {
      let start = 0;
      while (start < whole.length) {
        const nl = whole.indexOf(0x0a, start);
        const bytes = whole.subarray(start, nl);
        start = nl + 1;
        ++lineNo;
        if (isUtf8(bytes)) yield textLine(lineNo, bytes.toString('utf8'));
        else yield invalidUtf8(file, lineNo, bytes);
      }
    }
  }
  if (skipping) return;
  if (carry && carry.length) {
    ++lineNo;
    if (isUtf8(carry)) yield textLine(lineNo, carry.toString('utf8'));
    else yield invalidUtf8(file, lineNo, carry);
  }
}

function textLine(line: number, text: string): TextLine {
  if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
  if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { line, text };
}

function tooLong(file: string, line: number): DataError {
  return new DataError({
    code: 'line-too-long', file, line,
    problem: `the line is longer than ${MAX_LINE_BYTES >> 20} MB`,
    fix: 'put one record per line (JSON Lines), or check that the file is not binary',
  });
}

export function invalidUtf8(file: string, line: number, bytes: Buffer): DataError {
  const at = firstInvalidUtf8(bytes);
  const sample = bytes.subarray(Math.max(0, at - 8), at + 4).toString('hex').replace(/(..)/g, '$1 ').trim();
  return new DataError({
    code: 'invalid-utf8', file, line,
    problem: `invalid UTF-8 at byte ${at + 1} of the line (bytes ${sample})`,
    fix: 'save the file as UTF-8 (it is probably Latin-1 or Windows-1252); in VS Code: "Save with Encoding" > UTF-8',
  });
}

/** Index of the first byte that does not belong to a valid UTF-8 sequence. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n: number;
    let min: number;
    if (c < 0x80) { i++; continue; }
    else if (c >= 0xc2 && c <= 0xdf) { n = 1; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { n = 2; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; min = 0x10000; }
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return b.length;
}
