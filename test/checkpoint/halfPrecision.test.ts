import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bf16BitsToF32, decodeBf16, decodeF16, encodeBf16, encodeF16, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits,
} from '../../src/engine/checkpoint/halfPrecision';

// [value, F16 bits] pairs that are exact in binary16 (from the IEEE 754 binary16 table).
const F16_EXACT: [number, number][] = [
  [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2.5, 0xc100], [0.5, 0x3800], [65504, 0x7bff], [-65504, 0xfbff],
  [2 ** -24, 0x0001], [-(2 ** -24), 0x8001], [1023 * 2 ** -24, 0x03ff], [2 ** -14, 0x0400], [Infinity, 0x7c00],
  [-Infinity, 0xfc00], [0.333251953125, 0x3555], [1 + 2 ** -10, 0x3c01],
];

test('F16 bit patterns decode and encode exactly', () => {
  for (const [v, bits] of F16_EXACT) {
    assert.ok(Object.is(f16BitsToF32(bits), v), `decode 0x${bits.toString(16)} -> ${v}`);
    assert.equal(f32ToF16Bits(v), bits, `encode ${v}`);
  }
  assert.ok(Number.isNaN(f16BitsToF32(0x7e00)));
  assert.ok(Number.isNaN(f16BitsToF32(0xfc01)));
});

test('F16 encoding rounds to nearest even, overflows to Inf, keeps NaN and subnormals', () => {
  assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // halfway between 1 and 1+2^-10: ties to even (1)
  assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // halfway, odd below: rounds up to even
  assert.equal(f32ToF16Bits(1 + 2 ** -11 + 2 ** -20), 0x3c01); // just above halfway
  assert.equal(f32ToF16Bits(65519), 0x7bff); // below the 65520 rounding boundary
  assert.equal(f32ToF16Bits(65520), 0x7c00); // rounds to Inf
  assert.equal(f32ToF16Bits(1e10), 0x7c00);
  assert.equal(f32ToF16Bits(-1e10), 0xfc00);
  assert.equal(f32ToF16Bits(2 ** -25), 0x0000); // exactly half the smallest subnormal: ties to even (0)
  assert.equal(f32ToF16Bits(2 ** -25 * 1.5), 0x0001);
  assert.equal(f32ToF16Bits(3 * 2 ** -25), 0x0002); // 1.5 ulp: ties to even (2)
  assert.equal(f32ToF16Bits(1e-30), 0x0000);
  assert.equal(f32ToF16Bits(-1e-30), 0x8000);
  assert.equal(f32ToF16Bits(2 ** -14 - 2 ** -25), 0x0400); // rounds up into the smallest normal
  const nan = f32ToF16Bits(NaN);
  assert.equal(nan & 0x7c00, 0x7c00);
  assert.notEqual(nan & 0x3ff, 0, 'NaN must not become Inf');
});

test('BF16 bit patterns, rounding and NaN', () => {
  const exact: [number, number][] = [[1, 0x3f80], [-2.5, 0xc020], [0, 0], [-0, 0x8000], [Infinity, 0x7f80], [-Infinity, 0xff80], [2 ** -133, 0x0001]];
  for (const [v, bits] of exact) {
    assert.ok(Object.is(bf16BitsToF32(bits), v), `decode 0x${bits.toString(16)}`);
    assert.equal(f32ToBf16Bits(v), bits, `encode ${v}`);
  }
  assert.equal(f32ToBf16Bits(1 + 2 ** -8), 0x3f80); // tie -> even
  assert.equal(f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82); // tie -> even (up)
  assert.equal(f32ToBf16Bits(3.4028234663852886e38), 0x7f80); // max float32 rounds to Inf
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
  assert.ok(Number.isNaN(bf16BitsToF32(0x7fc0)));
});

test('bulk F16/BF16 conversion agrees with the scalar functions for every bit pattern', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const f16 = new Float32Array(65536);
  const bf16 = new Float32Array(65536);
  decodeF16(all, f16);
  decodeBf16(all, bf16);
  for (let h = 0; h < 65536; h++) {
    const a = f16BitsToF32(h);
    assert.ok(Object.is(f16[h], Math.fround(a)) || (Number.isNaN(a) && Number.isNaN(f16[h]!)), `f16 0x${h.toString(16)}`);
    const b = bf16BitsToF32(h);
    assert.ok(Object.is(bf16[h], b) || (Number.isNaN(b) && Number.isNaN(bf16[h]!)), `bf16 0x${h.toString(16)}`);
  }
  // Every non-NaN pattern survives decode -> encode.
  const back16 = new Uint16Array(65536);
  const backB = new Uint16Array(65536);
  encodeF16(f16, back16);
  encodeBf16(bf16, backB);
  for (let h = 0; h < 65536; h++) {
    if (!Number.isNaN(f16[h]!)) assert.equal(back16[h], h, `f16 round trip 0x${h.toString(16)}`);
    if (!Number.isNaN(bf16[h]!)) assert.equal(backB[h], h, `bf16 round trip 0x${h.toString(16)}`);
  }
});
