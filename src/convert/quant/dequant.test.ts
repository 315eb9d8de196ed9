/**
 * Dequantizers of every other ggml type against ggml's own `dequantize_row_*` (random blocks,
 * bit for bit), and the plain types against their formulas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEQUANTIZABLE_TYPES, dequantize, dequantizeInto } from './index.js';
import { GGML_BY_NAME, GGML_TYPES } from '../../dtypes.js';
import { loadGgmlReference } from '../../../test/ggml-reference/index.js';
import { rng } from '../../../test/ggml-reference/rows.js';

const ref = loadGgmlReference();
const skip = typeof ref === 'string' ? ref : false;

/** Byte offsets of the f16 scale fields per block, kept finite in random blocks. */
const F16_FIELDS: Record<string, number[]> = {
  tq1_0: [52], tq2_0: [64], iq4_nl: [0], iq4_xs: [0], q1_0: [0], q2_0: [0],
  iq2_xxs: [0], iq2_xs: [0], iq2_s: [0], iq3_xxs: [0], iq3_s: [0], iq1_s: [0],
};
const WITH_REFERENCE = ['q8_k', 'tq1_0', 'tq2_0', 'mxfp4', 'nvfp4', 'iq4_nl', 'iq4_xs', 'q1_0', 'q2_0', 'iq2_xxs', 'iq2_xs', 'iq2_s', 'iq3_xxs', 'iq3_s', 'iq1_s', 'iq1_m'];

function randomBlocks(type: string, nBlocks: number, seed: number): Uint8Array {
  const t = GGML_BY_NAME.get(type)!;
  const u = rng(seed);
  const b = new Uint8Array(nBlocks * t.typeSize);
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(u() * 256);
  for (let k = 0; k < nBlocks; k++) {
    const o = k * t.typeSize;
    for (const f of F16_FIELDS[type] ?? []) if ((b[o + f + 1] & 0x7c) === 0x7c) b[o + f + 1] &= ~0x40;
    if (type === 'q8_k' && (b[o + 3] & 0x7f) === 0x7f) b[o + 3] &= ~0x40; // finite f32 d
    if (type === 'iq1_m' && (b[o + 55] & 0x70) === 0x70 && (b[o + 53] & 0xc0) === 0xc0) b[o + 55] &= ~0x40;
  }
  return b;
}

test('dequant: every ggml type of src/dtypes.ts can be read', () => {
  for (const t of GGML_TYPES) {
    if (t.name === 'bf16' || t.name === 'f16' || t.name === 'f32') continue;
    assert.ok(DEQUANTIZABLE_TYPES.includes(t.name), t.name);
  }
});

for (const type of WITH_REFERENCE) {
  test(`dequant: ${type} equals ggml bit for bit on random blocks`, { skip }, () => {
    const r = ref as Exclude<typeof ref, string>;
    const t = GGML_BY_NAME.get(type)!;
    const nBlocks = Math.max(64, Math.ceil(65536 / t.blockSize));
    const bytes = randomBlocks(type, nBlocks, t.id * 7919);
    const n = nBlocks * t.blockSize;
    const ours = new Uint32Array(dequantize(type, bytes, n).buffer);
    const theirs = new Uint32Array(r.dequantize(type, bytes, n).buffer);
    for (let i = 0; i < n; i++) {
      if (ours[i] !== theirs[i]) assert.fail(`${type} element ${i}: ours 0x${ours[i].toString(16)} ≠ ggml 0x${theirs[i].toString(16)}`);
    }
  });
}

test('dequant: plain types and Q8_1 by formula', () => {
  const f64 = new Float64Array([1.5, -1e300, 1e-50, 0.1]);
  assert.deepEqual([...dequantize('f64', new Uint8Array(f64.buffer), 4)], [1.5, -Infinity, 0, Math.fround(0.1)]);
  assert.deepEqual([...dequantize('i8', new Uint8Array([0, 255, 128]), 3)], [0, -1, -128]);
  assert.deepEqual([...dequantize('i16', new Uint8Array(new Int16Array([-2, 300]).buffer), 2)], [-2, 300]);
  assert.deepEqual([...dequantize('i32', new Uint8Array(new Int32Array([16777217, -5]).buffer), 2)], [16777216, -5]);
  const i64 = new BigInt64Array([2n ** 60n + 2n ** 36n + 1n, -(2n ** 60n + 2n ** 36n), 2n ** 24n + 1n, 9007199254740993n]);
  // 2^60 + 2^36 + 1 is just above the midpoint 2^60 + 2^36: rounds up; the exact midpoint rounds to even
  assert.deepEqual([...dequantize('i64', new Uint8Array(i64.buffer), 4)], [2 ** 60 + 2 ** 37, -(2 ** 60), 16777216, 9007199254740992]);
  const q81 = new Uint8Array(36);
  q81[1] = 0x3c; // d = 1
  q81[4] = 5;
  q81[5] = 251;
  const y = dequantize('q8_1', q81, 32);
  assert.equal(y[0], 5);
  assert.equal(y[1], -5);
});

test('dequant: bounds are checked', () => {
  assert.throws(() => dequantize('q4_0', new Uint8Array(17), 32), /need 18 bytes/);
  assert.throws(() => dequantize('q4_0', new Uint8Array(18), 31), /whole number/);
  assert.throws(() => dequantizeInto('q4_0', new Uint8Array(18), 0, 32, new Float32Array(31), 0), /destination/);
  assert.throws(() => dequantize('q4_2', new Uint8Array(18), 32), /unknown ggml type/);
});
