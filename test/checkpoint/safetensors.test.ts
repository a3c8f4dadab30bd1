import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CheckpointError } from '../../src/engine/checkpoint/checkpointError';
import {
  readSafetensors, SafetensorsCheckpoint, SafetensorsFile, writeSafetensors, type WritableTensor,
} from '../../src/engine/checkpoint/safetensors';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ftlab-safetensors-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A safetensors file built by hand (independently of the writer): header object + data bytes. */
function rawFile(header: Record<string, unknown>, data: Uint8Array | number[] = [], headerText?: string): Buffer {
  const json = Buffer.from(headerText ?? JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(data)]);
}

function u16le(values: number[]): number[] {
  return values.flatMap((v) => [v & 0xff, v >>> 8]);
}

async function expectError(path: string, ...parts: (string | RegExp)[]): Promise<void> {
  await assert.rejects(SafetensorsFile.open(path), (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${String(e)}`);
    assert.ok(e.message.includes(path), `message names the file: ${e.message}`);
    for (const p of parts) assert.match(e.message, typeof p === 'string' ? new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : p);
    assert.equal(e.file, path);
    return true;
  });
}

test('round trip of every writable dtype, with metadata and 8-byte aligned data', async () => {
  const path = join(dir, 'all.safetensors');
  const f32 = Float32Array.from([1, -2.5, 3.25, 1e-8, -0, 1e30]);
  const tensors: Record<string, WritableTensor> = {
    'a.f32': { shape: [2, 3], data: f32 },
    'b.f16': { shape: [3], data: Float32Array.from([1, -2.5, 65504]), dtype: 'F16' },
    'c.bf16': { shape: [2], data: Float32Array.from([1, -2.5]), dtype: 'BF16' },
    'd.f64': { shape: [2], data: Float64Array.from([0.1, -1e300]) },
    'e.i64': { shape: [3], data: BigInt64Array.from([1n, -2n, 9007199254740993n]) },
    'f.i32': { shape: [1, 2], data: Int32Array.from([7, -8]) },
    'g.u8': { shape: [3], data: Uint8Array.from([0, 1, 255]) },
    'h.empty': { shape: [0, 4], data: new Float32Array(0) },
    'i.scalar': { shape: [], data: Float32Array.from([42]) },
  };
  await writeSafetensors(path, tensors, { metadata: { format: 'pt', note: 'ünïcode' } });
  const bytes = await readFile(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0, 'data section 8-byte aligned');
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  assert.deepEqual(header.__metadata__, { format: 'pt', note: 'ünïcode' });
  assert.equal(header['b.f16'].dtype, 'F16');
  assert.equal(header['e.i64'].dtype, 'I64');
  // Largest element size first, so every tensor is aligned to its own element size.
  for (const t of Object.values(header) as { dtype?: string; data_offsets?: number[] }[]) {
    if (!t.dtype) continue;
    const size = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, U8: 1 }[t.dtype]!;
    assert.equal(t.data_offsets![0]! % size, 0, `${t.dtype} aligned`);
  }
  const file = await SafetensorsFile.open(path);
  try {
    assert.deepEqual(file.metadata, { format: 'pt', note: 'ünïcode' });
    assert.deepEqual([...(await file.readFloat32('a.f32')).data], [...f32]);
    assert.deepEqual((await file.readFloat32('a.f32')).shape, [2, 3]);
    assert.deepEqual([...(await file.readFloat32('b.f16')).data], [1, -2.5, 65504]);
    assert.deepEqual([...(await file.readFloat32('c.bf16')).data], [1, -2.5]);
    assert.deepEqual([...(await file.readFloat32('d.f64')).data], [Math.fround(0.1), -Infinity]); // F64 -> float32
    const i64 = await file.readBytes('e.i64');
    assert.deepEqual([...new BigInt64Array(i64.buffer, i64.byteOffset, 3)], [1n, -2n, 9007199254740993n]);
    const i32 = await file.readBytes('f.i32');
    assert.deepEqual([...new Int32Array(i32.buffer, i32.byteOffset, 2)], [7, -8]);
    assert.deepEqual([...(await file.readBytes('g.u8'))], [0, 1, 255]);
    assert.deepEqual(await file.readFloat32('h.empty'), { shape: [0, 4], data: new Float32Array(0) });
    assert.deepEqual(await file.readFloat32('i.scalar'), { shape: [], data: Float32Array.from([42]) });
    await assert.rejects(file.readFloat32('e.i64'), /dtype I64; a floating-point tensor/);
    await assert.rejects(file.readFloat32('nope'), /no tensor named "nope"/);
  } finally {
    await file.close();
  }
  // readSafetensors: float tensors only, filter applied.
  const { tensors: floats } = await readSafetensors(path, (name) => name !== 'a.f32');
  assert.deepEqual([...floats.keys()].sort(), ['b.f16', 'c.bf16', 'd.f64', 'h.empty', 'i.scalar']);
});

test('F16 and BF16 are stored as the expected bit patterns (NaN, Inf, subnormals, rounding)', async () => {
  const path = join(dir, 'bits.safetensors');
  const values = Float32Array.from([1, -2.5, 65504, 2 ** -24, Infinity, -Infinity, NaN, 65520, 1 + 2 ** -11, -0]);
  await writeSafetensors(path, { h: { shape: [10], data: values, dtype: 'F16' }, b: { shape: [10], data: values, dtype: 'BF16' } });
  const file = await SafetensorsFile.open(path);
  try {
    const h = await file.readBytes('h');
    assert.deepEqual([...new Uint16Array(h.buffer, h.byteOffset, 10)].slice(0, 6), [0x3c00, 0xc100, 0x7bff, 0x0001, 0x7c00, 0xfc00]);
    const hv = (await file.readFloat32('h')).data;
    assert.ok(Number.isNaN(hv[6]));
    assert.equal(hv[7], Infinity); // 65520 overflows binary16
    assert.equal(hv[8], 1); // tie to even
    assert.ok(Object.is(hv[9], -0));
    const b = await file.readBytes('b');
    assert.deepEqual([...new Uint16Array(b.buffer, b.byteOffset, 10)].slice(0, 2), [0x3f80, 0xc020]);
    const bv = (await file.readFloat32('b')).data;
    assert.ok(Number.isNaN(bv[6]));
    assert.equal(bv[2], 65536); // 65504 rounds to 2^16 in bfloat16
  } finally {
    await file.close();
  }
});

test('reads a hand-built file (F16, BF16, F32) written by another writer', async () => {
  const path = join(dir, 'hand.safetensors');
  const f32 = Buffer.alloc(8);
  f32.writeFloatLE(0.75, 0);
  f32.writeFloatLE(-3, 4);
  const data = [...u16le([0x3c00, 0xc100, 0x0001, 0x7bff]), ...u16le([0x3f80, 0xc020]), ...f32];
  // JSON keys in alphabetical order with offsets not in key order, padded with spaces as the Rust writer does.
  const header = {
    __metadata__: { format: 'pt' },
    a: { dtype: 'F32', shape: [2], data_offsets: [12, 20] },
    b: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] },
    c: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
  };
  await writeFile(path, rawFile(header, data, JSON.stringify(header) + '      '));
  const { tensors, metadata } = await readSafetensors(path);
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual([...tensors.get('b')!.data], [1, -2.5, 2 ** -24, 65504]);
  assert.deepEqual(tensors.get('b')!.shape, [2, 2]);
  assert.deepEqual([...tensors.get('c')!.data], [1, -2.5]);
  assert.deepEqual([...tensors.get('a')!.data], [0.75, -3]);
});

test('a tensor larger than one I/O chunk (64 MB) reads and converts correctly', async () => {
  const path = join(dir, 'big.safetensors');
  const n = 33_600_000; // 67 MB as BF16: the conversion loop runs twice
  const data = new Float32Array(n);
  for (let i = 0; i < n; i += 1) data[i] = (i % 256) - 128; // exact in bfloat16
  await writeSafetensors(path, { big: { shape: [n], data, dtype: 'BF16' }, small: { shape: [1], data: Float32Array.from([3]) } });
  const file = await SafetensorsFile.open(path);
  try {
    const t = await file.readFloat32('big');
    assert.equal(t.data.length, n);
    for (const i of [0, 1, 999, 32 * 1024 * 1024 - 1, 32 * 1024 * 1024, 32 * 1024 * 1024 + 1, n - 1]) assert.equal(t.data[i], (i % 256) - 128, `element ${i}`);
    assert.deepEqual([...(await file.readFloat32('small')).data], [3]);
  } finally {
    await file.close();
  }
});

test('corrupt files are refused with an error naming the file and the problem', async (t) => {
  const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const eight = new Array(8).fill(0);
  const cases: [string, Buffer, (string | RegExp)[]][] = [
    ['tiny', Buffer.from([1, 2, 3]), ['too short']],
    ['header past EOF', (() => { const b = rawFile({ x: ok }, eight); b.writeBigUInt64LE(10_000n, 0); return b; })(), ['header length 10000', 'past the end of the file', 'truncated']],
    ['huge header length', (() => { const b = rawFile({ x: ok }, eight); b.writeBigUInt64LE(2n ** 60n, 0); return b; })(), ['past the end']],
    ['lfs pointer', Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 548105171\n'), ['Git LFS pointer', 'git lfs pull']],
    ['not json', rawFile({}, [], '{"x": {"dtype": "F32",'), ['not valid JSON']],
    ['not an object', rawFile({}, [], '[1, 2]   '), [/does not start with '\{'/]],
    ['unknown dtype', rawFile({ x: { dtype: 'F12', shape: [2], data_offsets: [0, 8] } }, eight), ['tensor "x"', 'unknown dtype "F12"', 'known: BOOL']],
    ['shape/bytes mismatch', rawFile({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, eight), ['tensor "x"', 'shape [3] of F32 needs 12 bytes', 'hold 8']],
    ['truncated data', rawFile({ x: ok, y: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, eight.concat([0, 0, 0])), ['tensor "y" ends at data byte 16', 'only 11 data bytes', 'truncated']],
    ['overlap', rawFile({ x: ok, y: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Array(12).fill(0)), ['"x" and "y" overlap']],
    ['hole', rawFile({ x: ok, y: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } }, new Array(16).fill(0)), ['hole', 'bytes [8, 12)', '"y"']],
    ['trailing bytes', rawFile({ x: ok }, new Array(12).fill(0)), ['4 trailing bytes']],
    ['bad offsets', rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, eight), ['data_offsets must be [begin, end]']],
    ['bad shape', rawFile({ x: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, eight), ['shape must be a list of non-negative integers']],
    ['bad metadata', rawFile({ __metadata__: { format: 1 }, x: ok }, eight), ['__metadata__.format must be a string']],
    ['zip pickle', (() => { const b = Buffer.alloc(64); b.write('PK\u0003\u0004', 0, 'latin1'); return b; })(), ['zip archive']],
  ];
  for (const [name, bytes, parts] of cases) {
    await t.test(name, async () => {
      const path = join(dir, `corrupt-${name.replace(/\W+/g, '-')}.safetensors`);
      await writeFile(path, bytes);
      await expectError(path, ...parts);
    });
  }
  await t.test('missing file', async () => {
    await expectError(join(dir, 'absent.safetensors'), 'cannot open');
  });
});

test('writing is atomic: a failed write leaves the old file and no temporary file', async () => {
  const sub = join(dir, 'atomic');
  await mkdir(sub);
  const path = join(sub, 'model.safetensors');
  await writeSafetensors(path, { a: { shape: [2], data: Float32Array.from([1, 2]) } });
  const before = await readFile(path);
  await assert.rejects(writeSafetensors(path, { a: { shape: [3], data: Float32Array.from([1, 2]) } }), /shape \[3\] has 3 elements but the data has 2/);
  await assert.rejects(writeSafetensors(path, { a: { shape: [2], data: Int32Array.from([1, 2]), dtype: 'F16' } }), /cannot store Int32Array as F16/);
  assert.deepEqual(await readFile(path), before);
  assert.deepEqual(await readdir(sub), ['model.safetensors']);
});

async function writeShards(sub: string, index: unknown): Promise<string> {
  const d = join(dir, sub);
  await mkdir(d, { recursive: true });
  await writeSafetensors(join(d, 'model-00001-of-00002.safetensors'), { a: { shape: [2], data: Float32Array.from([1, 2]) }, b: { shape: [1], data: Float32Array.from([3]), dtype: 'BF16' } });
  await writeSafetensors(join(d, 'model-00002-of-00002.safetensors'), { c: { shape: [1, 1], data: Float32Array.from([4]), dtype: 'F16' } });
  await writeFile(join(d, 'model.safetensors.index.json'), JSON.stringify(index));
  return d;
}

test('sharded checkpoints: index + shards read as one set of tensors', async () => {
  const map = { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' };
  const d = await writeShards('sharded', { metadata: { total_size: 14 }, weight_map: map });
  const ckpt = await SafetensorsCheckpoint.open(d);
  try {
    assert.deepEqual([...ckpt.names()].sort(), ['a', 'b', 'c']);
    assert.deepEqual([...(await ckpt.readFloat32('c')).data], [4]);
    assert.deepEqual((await ckpt.readFloat32('c')).shape, [1, 1]);
    assert.deepEqual([...(await ckpt.readFloat32('b')).data], [3]);
    assert.equal(ckpt.files.length, 3);
    assert.ok(ckpt.files[0]!.endsWith('model.safetensors.index.json'));
    assert.ok(ckpt.fileOf('c')!.endsWith('model-00002-of-00002.safetensors'));
  } finally {
    await ckpt.close();
  }
});

test('sharded checkpoint errors: missing shard, wrong shard, tensor in no shard, duplicates, bad index', async () => {
  const s1 = 'model-00001-of-00002.safetensors';
  const s2 = 'model-00002-of-00002.safetensors';
  let d = await writeShards('missing-shard', { weight_map: { a: s1, b: s1, c: 'model-00003-of-00003.safetensors' } });
  await assert.rejects(SafetensorsCheckpoint.open(d), /lists the shard model-00003-of-00003\.safetensors, which is missing/);
  d = await writeShards('wrong-shard', { weight_map: { a: s2, b: s1, c: s2 } });
  await assert.rejects(SafetensorsCheckpoint.open(d), /weight_map puts tensor "a" in model-00002-of-00002\.safetensors, but it is in model-00001-of-00002\.safetensors/);
  d = await writeShards('phantom', { weight_map: { a: s1, b: s1, c: s2, z: s2 } });
  await assert.rejects(SafetensorsCheckpoint.open(d), /tensor "z" in model-00002-of-00002\.safetensors, but no shard has it/);
  d = await writeShards('no-map', { metadata: {} });
  await assert.rejects(SafetensorsCheckpoint.open(d), /no "weight_map" object/);
  d = await writeShards('escape', { weight_map: { a: '../x.safetensors' } });
  await assert.rejects(SafetensorsCheckpoint.open(d), /must be a file name in the same folder/);
  d = await writeShards('dup', { weight_map: { a: s1, b: s1, c: s2 } });
  await writeSafetensors(join(d, s2), { c: { shape: [1], data: Float32Array.from([4]) }, a: { shape: [1], data: Float32Array.from([5]) } });
  await assert.rejects(SafetensorsCheckpoint.open(d), /tensor "a" is in two shards/);
  await mkdir(join(dir, 'empty-folder'), { recursive: true });
  await assert.rejects(SafetensorsCheckpoint.open(join(dir, 'empty-folder')), /has neither model\.safetensors nor model\.safetensors\.index\.json/);
});
