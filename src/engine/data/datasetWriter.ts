// Writes a prepared dataset into a temporary sibling folder and moves it into place only when complete:
// a failed or interrupted preparation leaves the previous folder (or nothing) behind.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError } from './dataError';
import { EXAMPLE_FIELDS, FILES, readManifest, type DatasetManifest } from './preparedDataset';

class BufferedFile {
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(1 << 22);
  private used = 0;
  bytes = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  /** Room for n bytes; returns the buffer and the offset to write at. */
  reserve(n: number): [Buffer, number] {
    if (this.used + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    }
    const at = this.used;
    this.used += n;
    this.bytes += n;
    return [this.buf, at];
  }
  writeString(s: string): void {
    const b = Buffer.from(s, 'utf8');
    const [buf, at] = this.reserve(b.length);
    b.copy(buf, at);
  }
  flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }
  close(): void {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}

export class DatasetWriter {
  private readonly tokens: BufferedFile;
  private readonly examples: BufferedFile;
  private readonly ranges: BufferedFile;
  private report: BufferedFile | null = null;
  private tokenCount = 0;
  private rangeCount = 0;
  count = 0;
  private closed = false;

  private constructor(readonly outDir: string, readonly tempDir: string, readonly tokenDtype: 'uint16' | 'uint32') {
    this.tokens = new BufferedFile(join(tempDir, FILES.tokens));
    this.examples = new BufferedFile(join(tempDir, FILES.examples));
    this.ranges = new BufferedFile(join(tempDir, FILES.ranges));
  }

  /** Refuses to replace a folder that is not a prepared dataset. */
  static open(outDir: string, vocabSize: number): DatasetWriter {
    if (existsSync(outDir) && (!statSync(outDir).isDirectory() || (readdirSync(outDir).length > 0 && !readManifest(outDir)))) {
      throw new DataError({ code: 'settings', file: outDir, problem: 'the output folder exists and is not a prepared dataset', fix: 'choose another output folder[[ ({{out}})]]; prepare never overwrites other files' });
    }
    const parent = dirname(outDir);
    mkdirSync(parent, { recursive: true });
    removeStaleTemps(outDir);
    const tempDir = `${outDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    mkdirSync(tempDir);
    return new DatasetWriter(outDir, tempDir, vocabSize <= 65536 ? 'uint16' : 'uint32');
  }

  add(ids: ArrayLike<number>, ranges: ArrayLike<number>, line: number, source: number): void {
    const n = ids.length;
    const bpt = this.tokenDtype === 'uint16' ? 2 : 4;
    const [tb, ta] = this.tokens.reserve(n * bpt);
    if (bpt === 2) for (let i = 0; i < n; i++) tb.writeUInt16LE(ids[i]!, ta + 2 * i);
    else for (let i = 0; i < n; i++) tb.writeUInt32LE(ids[i]!, ta + 4 * i);
    const [rb, ra] = this.ranges.reserve(ranges.length * 4);
    for (let i = 0; i < ranges.length; i++) rb.writeUInt32LE(ranges[i]!, ra + 4 * i);
    const [eb, ea] = this.examples.reserve(EXAMPLE_FIELDS * 4);
    const fields = [this.tokenCount % 2 ** 32, Math.floor(this.tokenCount / 2 ** 32), n, this.rangeCount, ranges.length / 2, line, source];
    for (let k = 0; k < EXAMPLE_FIELDS; k++) eb.writeUInt32LE(fields[k]!, ea + 4 * k);
    this.tokenCount += n;
    this.rangeCount += ranges.length / 2;
    this.count++;
  }

  /** One line of skipped.jsonl. */
  reportSkipped(error: DataError): void {
    this.report ??= new BufferedFile(join(this.tempDir, FILES.skipped));
    this.report.writeString(`${JSON.stringify(error.toJSON())}\n`);
  }

  /** Writes the split assignment and the manifest, then moves the folder into place. */
  commit(splits: Uint8Array, manifest: DatasetManifest): void {
    for (const f of [this.tokens, this.examples, this.ranges, this.report]) f?.close();
    this.closed = true;
    writeFileSync(join(this.tempDir, FILES.splits), splits);
    const m = join(this.tempDir, FILES.manifest);
    writeFileSync(m, `${JSON.stringify(manifest, null, 2)}\n`);
    const fd = openSync(m, 'r');
    fsyncSync(fd);
    closeSync(fd);
    let old: string | null = null;
    if (existsSync(this.outDir)) {
      old = `${this.outDir}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
      renameSync(this.outDir, old);
    }
    try {
      renameSync(this.tempDir, this.outDir);
    } catch (error) {
      if (old) renameSync(old, this.outDir);
      throw error;
    }
    if (old) rmSync(old, { recursive: true, force: true });
  }

  /** Removes everything written so far. */
  abort(): void {
    if (!this.closed) {
      for (const f of [this.tokens, this.examples, this.ranges, this.report]) {
        try { f?.close(); } catch { /* removed below */ }
      }
      this.closed = true;
    }
    rmSync(this.tempDir, { recursive: true, force: true });
  }
}

/** Temp folders of earlier runs whose process is gone. */
function removeStaleTemps(outDir: string): void {
  const base = basename(outDir);
  const re = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(tmp|old)-(\\d+)-[0-9a-f]+$`);
  for (const name of readdirSync(dirname(outDir))) {
    const m = re.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    let alive = pid === process.pid;
    if (!alive) {
      try { process.kill(pid, 0); alive = true; } catch (e) { alive = (e as NodeJS.ErrnoException).code === 'EPERM'; }
    }
    if (!alive) rmSync(join(dirname(outDir), name), { recursive: true, force: true });
  }
}
