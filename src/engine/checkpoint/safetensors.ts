// The safetensors format (https://github.com/huggingface/safetensors), read and written without a copy of
// the whole file in memory:
//
//   [8 bytes: N, u64 little-endian][N bytes: JSON header, may end in spaces][data: raw little-endian tensors]
//   header = { "__metadata__"?: {string: string}, "<name>": {dtype, shape, data_offsets: [begin, end]} }
//
// Offsets are relative to the start of the data section. Validation follows the reference Rust reader:
// the tensors, sorted by offset, must tile the data section exactly (no overlap, no hole, no trailing bytes).
// Float tensors load as Float32Array (F16/BF16 exactly, F64 rounded); integer tensors as raw bytes.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink, stat, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from './checkpointError';
import { decodeBf16, decodeF16, encodeBf16, encodeF16 } from './halfPrecision';

export const SAFETENSORS_DTYPE_BYTES = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
} as const;
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BYTES;
const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set(['F16', 'BF16', 'F32', 'F64']);

/** A float tensor in memory, row-major. */
export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

/** Same limit as the reference implementation: a larger header is a corrupt length field. */
const MAX_HEADER_BYTES = 100_000_000;
/** Reads and writes go through the OS in pieces of at most this many bytes. */
const IO_CHUNK_BYTES = 64 * 1024 * 1024;

function assertLittleEndianHost(): void {
  if (endianness() !== 'LE') throw new Error('safetensors: big-endian hosts are not supported');
}

function describeBadStart(head: Buffer): string {
  const text = head.toString('latin1');
  if (text.startsWith('version https://git-lfs')) {
    return ' It is a Git LFS pointer, not the weights: fetch them with `git lfs pull` (or `ftlab pull <repo>`).';
  }
  if (head[0] === 0x50 && head[1] === 0x4b) return ' It looks like a zip archive (a PyTorch .bin/.pt pickle?), not safetensors.';
  if (head[0] === 0x80) return ' It looks like a Python pickle, not safetensors.';
  return '';
}

async function readExactly(fh: FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const len = Math.min(IO_CHUNK_BYTES, target.length - done);
    const { bytesRead } = await fh.read(target, done, len, position + done);
    if (bytesRead === 0) throw new CheckpointError(`${file}: unexpected end of file at byte ${position + done}`, file);
    done += bytesRead;
  }
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parses and validates a header (the JSON object) against the size of the data section.
 * Returns the entries in file order (sorted by offset).
 */
function parseHeader(json: unknown, dataStart: number, dataBytes: number, file: string): {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
} {
  const fail = (msg: string): never => {
    throw new CheckpointError(`${file}: ${msg}`, file);
  };
  if (!isRecord(json)) return fail('the safetensors header is not a JSON object');
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isRecord(value)) return fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') return fail(`__metadata__.${k} must be a string, found ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    if (!isRecord(value)) return fail(`tensor "${name}": header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== 'string' || !(dtype in SAFETENSORS_DTYPE_BYTES)) {
      return fail(`tensor "${name}": unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      return fail(`tensor "${name}": shape must be a list of non-negative integers, found ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      return fail(`tensor "${name}": data_offsets must be [begin, end] with 0 <= begin <= end, found ${JSON.stringify(offsets)}`);
    }
    const dt = dtype as SafetensorsDtype;
    const [b, e] = offsets as [number, number];
    const expected = product(shape as number[]) * SAFETENSORS_DTYPE_BYTES[dt];
    if (e - b !== expected) {
      return fail(`tensor "${name}": shape [${(shape as number[]).join(', ')}] of ${dt} needs ${expected} bytes but data_offsets [${b}, ${e}] hold ${e - b}`);
    }
    if (e > dataBytes) {
      return fail(`tensor "${name}" ends at data byte ${e} but the file has only ${dataBytes} data bytes: the file is truncated (an interrupted download or copy?)`);
    }
    entries.push({ name, dtype: dt, shape: shape as number[], begin: dataStart + b, end: dataStart + e });
  }
  // Sorted by offset, the tensors must tile [0, dataBytes) exactly.
  const sorted = [...entries].sort((x, y) => x.begin - y.begin || x.end - y.end);
  let cursor = dataStart;
  let previous: SafetensorsEntry | undefined;
  for (const t of sorted) {
    if (t.begin < cursor) {
      return fail(`tensors "${previous?.name}" and "${t.name}" overlap (data bytes [${previous!.begin - dataStart}, ${previous!.end - dataStart}) and [${t.begin - dataStart}, ${t.end - dataStart}))`);
    }
    if (t.begin > cursor) {
      return fail(`hole in the data section: bytes [${cursor - dataStart}, ${t.begin - dataStart}) before tensor "${t.name}" belong to no tensor`);
    }
    cursor = t.end;
    previous = t;
  }
  if (cursor !== dataStart + dataBytes) {
    return fail(`${dataStart + dataBytes - cursor} trailing bytes after the last tensor: the file is corrupt or was not fully rewritten`);
  }
  return { entries: sorted, metadata };
}

/** One open safetensors file: header parsed and validated, tensors read on demand. */
export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly entries: ReadonlyMap<string, SafetensorsEntry>,
    readonly metadata: Readonly<Record<string, string>>,
    readonly fileBytes: number,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
    assertLittleEndianHost();
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (error) {
      throw new CheckpointError(`cannot open ${path}: ${(error as Error).message}`, path);
    }
    try {
      const size = (await fh.stat()).size;
      if (size < 8) throw new CheckpointError(`${path}: ${size} bytes is too short for a safetensors file (it needs at least an 8-byte header length)`, path);
      const head = Buffer.alloc(Math.min(size, 64));
      await readExactly(fh, head, 0, path);
      const n64 = head.readBigUInt64LE(0);
      if (n64 > BigInt(MAX_HEADER_BYTES) || Number(n64) > size - 8) {
        const why = n64 > BigInt(size - 8)
          ? `runs past the end of the file (${size} bytes): the file is truncated or is not a safetensors file.`
          : `is over the ${MAX_HEADER_BYTES}-byte limit: the file is not a safetensors file.`;
        throw new CheckpointError(`${path}: header length ${n64} (first 8 bytes) ${why}${describeBadStart(head)}`, path);
      }
      const n = Number(n64);
      const headerBytes = Buffer.alloc(n);
      await readExactly(fh, headerBytes, 8, path);
      if (headerBytes[0] !== 0x7b /* { */) {
        throw new CheckpointError(`${path}: the header does not start with '{': not a safetensors file.${describeBadStart(head)}`, path);
      }
      let json: unknown;
      try {
        json = JSON.parse(headerBytes.toString('utf8'));
      } catch (error) {
        throw new CheckpointError(`${path}: the header is not valid JSON (${(error as Error).message})`, path);
      }
      const { entries, metadata } = parseHeader(json, 8 + n, size - 8 - n, path);
      return new SafetensorsFile(path, fh, new Map(entries.map((e) => [e.name, e])), metadata, size);
    } catch (error) {
      await fh.close();
      throw error;
    }
  }

  private entry(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) throw new CheckpointError(`${this.path}: no tensor named "${name}"`, this.path);
    return e;
  }

  /** A float tensor (F32, F16, BF16, F64) as float32. */
  async readFloat32(name: string): Promise<FloatTensor> {
    const e = this.entry(name);
    if (!FLOAT_DTYPES.has(e.dtype)) {
      throw new CheckpointError(`${this.path}: tensor "${name}" has dtype ${e.dtype}; a floating-point tensor (F32, F16, BF16, F64) was expected`, this.path);
    }
    const count = product(e.shape);
    const out = new Float32Array(count);
    if (e.dtype === 'F32') {
      await readExactly(this.fh, new Uint8Array(out.buffer), e.begin, this.path);
      return { shape: [...e.shape], data: out };
    }
    // Convert piece by piece: memory stays at the output plus one chunk.
    const elemBytes = SAFETENSORS_DTYPE_BYTES[e.dtype];
    const perChunk = Math.max(1, Math.floor(IO_CHUNK_BYTES / elemBytes));
    const chunk = new ArrayBuffer(Math.min(count, perChunk) * elemBytes);
    for (let i = 0; i < count; i += perChunk) {
      const m = Math.min(perChunk, count - i);
      await readExactly(this.fh, new Uint8Array(chunk, 0, m * elemBytes), e.begin + i * elemBytes, this.path);
      const dst = out.subarray(i, i + m);
      if (e.dtype === 'F16') decodeF16(new Uint16Array(chunk, 0, m), dst);
      else if (e.dtype === 'BF16') decodeBf16(new Uint16Array(chunk, 0, m), dst);
      else dst.set(new Float64Array(chunk, 0, m));
    }
    return { shape: [...e.shape], data: out };
  }

  /** The raw little-endian bytes of any tensor (for integer and bool tensors). */
  async readBytes(name: string): Promise<Uint8Array> {
    const e = this.entry(name);
    const out = new Uint8Array(e.end - e.begin);
    await readExactly(this.fh, out, e.begin, this.path);
    return out;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Reads every float tensor of a file (or those `select` keeps). Integer tensors are skipped. */
export async function readSafetensors(
  path: string,
  select: (name: string, entry: SafetensorsEntry) => boolean = () => true,
): Promise<{ tensors: Map<string, FloatTensor>; metadata: Record<string, string> }> {
  const file = await SafetensorsFile.open(path);
  try {
    const tensors = new Map<string, FloatTensor>();
    for (const [name, entry] of file.entries) {
      if (FLOAT_DTYPES.has(entry.dtype) && select(name, entry)) tensors.set(name, await file.readFloat32(name));
    }
    return { tensors, metadata: { ...file.metadata } };
  } finally {
    await file.close();
  }
}

// ------------------------------------------------------------------------------------------ sharded

export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';
export const SAFETENSORS_SINGLE_FILE = 'model.safetensors';

/**
 * A checkpoint made of one `model.safetensors` or of shards listed by `model.safetensors.index.json`
 * (`{"metadata": {...}, "weight_map": {tensor: shard file}}`), seen as one set of tensors.
 */
export class SafetensorsCheckpoint {
  private constructor(
    readonly dir: string,
    /** The files read: the index (if any) and every shard, as paths. */
    readonly files: readonly string[],
    private readonly shards: ReadonlyMap<string, SafetensorsFile>,
    /** Tensor name -> the shard holding it. */
    private readonly location: ReadonlyMap<string, SafetensorsFile>,
  ) {}

  /** Opens `dir/model.safetensors.index.json` if present, else `dir/model.safetensors`. */
  static async open(dir: string): Promise<SafetensorsCheckpoint> {
    const indexPath = join(dir, SAFETENSORS_INDEX_FILE);
    const exists = async (p: string) => stat(p).then(() => true, () => false);
    if (!(await exists(indexPath))) {
      const single = join(dir, SAFETENSORS_SINGLE_FILE);
      if (!(await exists(single))) throw new CheckpointError(`${dir} has neither ${SAFETENSORS_SINGLE_FILE} nor ${SAFETENSORS_INDEX_FILE}`, dir);
      return SafetensorsCheckpoint.fromFiles(dir, [single]);
    }
    let index: unknown;
    try {
      index = JSON.parse(await readFile(indexPath, 'utf8'));
    } catch (error) {
      throw new CheckpointError(`${indexPath}: cannot read the shard index (${(error as Error).message})`, indexPath);
    }
    const weightMap = isRecord(index) ? index['weight_map'] : undefined;
    if (!isRecord(weightMap)) throw new CheckpointError(`${indexPath}: no "weight_map" object (tensor name -> shard file)`, indexPath);
    const shardNames = new Set<string>();
    for (const [name, file] of Object.entries(weightMap)) {
      if (typeof file !== 'string' || file !== basename(file) || file === '' || file.startsWith('.')) {
        throw new CheckpointError(`${indexPath}: weight_map["${name}"] must be a file name in the same folder, found ${JSON.stringify(file)}`, indexPath);
      }
      shardNames.add(file);
    }
    for (const file of shardNames) {
      if (!(await exists(join(dir, file)))) {
        throw new CheckpointError(`${indexPath} lists the shard ${file}, which is missing from ${dir} (an incomplete download?)`, indexPath);
      }
    }
    const checkpoint = await SafetensorsCheckpoint.fromFiles(dir, [...shardNames].map((f) => join(dir, f)), indexPath);
    try {
      for (const [name, file] of Object.entries(weightMap as Record<string, string>)) {
        const holder = checkpoint.location.get(name);
        if (!holder || basename(holder.path) !== file) {
          throw new CheckpointError(`${indexPath}: weight_map puts tensor "${name}" in ${file}, but ${holder ? `it is in ${basename(holder.path)}` : 'no shard has it'}`, indexPath);
        }
      }
    } catch (error) {
      await checkpoint.close();
      throw error;
    }
    return checkpoint;
  }

  /** Treats the given safetensors files as one checkpoint (a tensor name must be in one file only). */
  static async fromFiles(dir: string, paths: readonly string[], indexPath?: string): Promise<SafetensorsCheckpoint> {
    const shards = new Map<string, SafetensorsFile>();
    const location = new Map<string, SafetensorsFile>();
    try {
      for (const p of paths) {
        const f = await SafetensorsFile.open(p);
        shards.set(p, f);
        for (const name of f.entries.keys()) {
          const other = location.get(name);
          if (other) throw new CheckpointError(`tensor "${name}" is in two shards: ${basename(other.path)} and ${basename(p)}`, p);
          location.set(name, f);
        }
      }
    } catch (error) {
      await Promise.all([...shards.values()].map((f) => f.close()));
      throw error;
    }
    return new SafetensorsCheckpoint(dir, indexPath ? [indexPath, ...paths] : [...paths], shards, location);
  }

  names(): IterableIterator<string> {
    return this.location.keys();
  }

  entry(name: string): SafetensorsEntry | undefined {
    return this.location.get(name)?.entries.get(name);
  }

  /** The file a tensor is in. */
  fileOf(name: string): string | undefined {
    return this.location.get(name)?.path;
  }

  async readFloat32(name: string): Promise<FloatTensor> {
    const f = this.location.get(name);
    if (!f) throw new CheckpointError(`${this.dir}: no tensor named "${name}" in the checkpoint`, this.dir);
    return f.readFloat32(name);
  }

  async close(): Promise<void> {
    await Promise.all([...this.shards.values()].map((f) => f.close()));
  }
}

// ------------------------------------------------------------------------------------------ writing

/** What can be written: float data as F32 (or F16/BF16/F64 by `dtype`), integer arrays as themselves. */
export interface WritableTensor {
  shape: readonly number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
  /** Stored dtype; by default F32 for Float32Array, F64 for Float64Array, I32, I64, U8 for the others. */
  dtype?: SafetensorsDtype;
}

export interface WriteSafetensorsOptions {
  metadata?: Record<string, string>;
  /** Stored dtype of Float32Array tensors without their own `dtype`. Default F32. */
  floatDtype?: 'F32' | 'F16' | 'BF16';
}

function storedDtype(t: WritableTensor, floatDtype: SafetensorsDtype, name: string): SafetensorsDtype {
  const natural: SafetensorsDtype = t.data instanceof Float32Array ? floatDtype
    : t.data instanceof Float64Array ? 'F64'
    : t.data instanceof Int32Array ? 'I32'
    : t.data instanceof BigInt64Array ? 'I64' : 'U8';
  const dtype = t.dtype ?? natural;
  const allowed = t.data instanceof Float32Array ? ['F32', 'F16', 'BF16'] : t.data instanceof Uint8Array ? ['U8', 'BOOL'] : [natural];
  if (!allowed.includes(dtype)) {
    throw new Error(`writeSafetensors: tensor "${name}": cannot store ${t.data.constructor.name} as ${dtype} (allowed: ${allowed.join(', ')})`);
  }
  return dtype;
}

/** Writes to a temporary file next to `path`, then renames it over `path`. */
export async function writeFileAtomically(path: string, write: (fh: FileHandle) => Promise<void>): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    try {
      await write(fh);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await fh.write(bytes, done, Math.min(IO_CHUNK_BYTES, bytes.length - done));
    done += bytesWritten;
  }
}

/**
 * Writes a safetensors file atomically. Tensors are laid out by element size (largest first, so every
 * tensor is aligned to its element size) and then by name, as the reference writer does.
 */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, WritableTensor> | Readonly<Record<string, WritableTensor>>,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  assertLittleEndianHost();
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const planned = list.map(([name, t]) => {
    if (name === '__metadata__') throw new Error('writeSafetensors: "__metadata__" is reserved and cannot name a tensor');
    if (!t.shape.every(isCount)) throw new Error(`writeSafetensors: tensor "${name}": bad shape [${t.shape.join(', ')}]`);
    if (product(t.shape) !== t.data.length) {
      throw new Error(`writeSafetensors: tensor "${name}": shape [${t.shape.join(', ')}] has ${product(t.shape)} elements but the data has ${t.data.length}`);
    }
    const dtype = storedDtype(t, options.floatDtype ?? 'F32', name);
    return { name, t, dtype, bytes: t.data.length * SAFETENSORS_DTYPE_BYTES[dtype] };
  });
  planned.sort((a, b) => SAFETENSORS_DTYPE_BYTES[b.dtype] - SAFETENSORS_DTYPE_BYTES[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (options.metadata && Object.keys(options.metadata).length) header['__metadata__'] = options.metadata;
  let offset = 0;
  for (const p of planned) {
    header[p.name] = { dtype: p.dtype, shape: [...p.t.shape], data_offsets: [offset, offset + p.bytes] };
    offset += p.bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // data section starts 8-byte aligned
  const jsonBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(jsonBytes.length));

  await writeFileAtomically(path, async (fh) => {
    await writeAll(fh, prefix);
    await writeAll(fh, jsonBytes);
    for (const { t, dtype } of planned) {
      const d = t.data;
      if (d instanceof Float32Array && (dtype === 'F16' || dtype === 'BF16')) {
        const perChunk = IO_CHUNK_BYTES / 2;
        const chunk = new Uint16Array(Math.min(d.length, perChunk));
        for (let i = 0; i < d.length; i += perChunk) {
          const src = d.subarray(i, Math.min(d.length, i + perChunk));
          const dst = chunk.subarray(0, src.length);
          if (dtype === 'F16') encodeF16(src, dst);
          else encodeBf16(src, dst);
          await writeAll(fh, new Uint8Array(dst.buffer, 0, dst.byteLength));
        }
      } else {
        await writeAll(fh, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      }
    }
  });
}
