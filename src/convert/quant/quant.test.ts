/**
 * Bit-exactness of the TypeScript quantizers against ggml's reference (`ggml_quantize_chunk` in
 * node-llama-cpp's prebuilt libggml-base.so, called through FFI), and of the dequantizers against
 * ggml's `dequantize_row_*`. Skipped, with the reason printed, when the reference cannot be loaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dequantize, quantizeRows, quantizedSize, QUANTIZABLE_TYPES } from './index.js';
import { f32ToBf16, f32ToF16 } from './fp.js';
import { engineKind } from './engine.js';
import { loadGgmlReference } from '../../../test/ggml-reference/index.js';
import { rng, rowCases } from '../../../test/ggml-reference/rows.js';
import { GGML_BY_NAME } from '../../dtypes.js';

const ref = loadGgmlReference();
const skip = typeof ref === 'string' ? ref : false;
if (skip) console.log(`# SKIP bit-exactness tests: ${skip}`);

const TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q2_k', 'q3_k', 'q4_k', 'q5_k', 'q6_k'];

/** First differing byte, reported with its block for a readable failure. */
function firstDiff(type: string, a: Uint8Array, b: Uint8Array): string | undefined {
  if (a.length !== b.length) return `length ${a.length} ≠ ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const t = GGML_BY_NAME.get(type)!;
      const blk = Math.floor(i / t.typeSize);
      return `byte ${i} (block ${blk}, offset ${i % t.typeSize}): ours ${a[i]} ≠ ggml ${b[i]}`;
    }
  }
  return undefined;
}

function bitsEqual(a: Float32Array, b: Float32Array): string | undefined {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return `element ${i}: ours ${a[i]} ≠ ggml ${b[i]}`;
  return undefined;
}

test('quant: every required type is implemented', () => {
  for (const t of TYPES) assert.ok(QUANTIZABLE_TYPES.includes(t), t);
  assert.equal(quantizedSize('Q4_K', 512), 288);
  assert.throws(() => quantizeRows('q4_k', new Float32Array(300), 300), /block size 256/);
  assert.throws(() => quantizeRows('iq2_xxs', new Float32Array(256), 256), /not supported/);
  assert.throws(() => quantizeRows('nope', new Float32Array(32), 32), /unknown ggml type/);
});

/** Types with a WebAssembly kernel and a TypeScript fallback: both are checked. */
const K_TYPES = TYPES.filter((t) => t !== 'f32');
const RUNS = [...TYPES.map((type) => ({ type, engine: 'wasm' as const })), ...K_TYPES.map((type) => ({ type, engine: 'ts' as const }))];

for (const { type, engine } of RUNS) {
  const label = K_TYPES.includes(type) ? ` (${engine} engine)` : '';
  test(`quant: ${type}${label} equals ggml byte for byte`, { skip }, () => {
    const r = ref as Exclude<typeof ref, string>;
    const kind = engineKind(engine);
    if (engine === 'wasm') assert.equal(kind, 'wasm', 'WebAssembly kernels available');
    let checked = 0;
    for (const [rowLength, nrows, seed] of [[256, 3, 1], [512, 2, 2], [4096, 2, 3]] as const) {
      for (const c of rowCases(rowLength, nrows, seed + type.length * 1000)) {
        const ours = quantizeRows(type, c.rows, c.rowLength);
        const theirs = r.quantize(type, c.rows, c.rows.length / c.rowLength, c.rowLength);
        const diff = firstDiff(type, ours, theirs);
        assert.equal(diff, undefined, `${type} / ${c.name}: ${diff}`);
        // dequantization of the reference bytes, bit for bit
        const d = bitsEqual(dequantize(type, theirs, c.rows.length), r.dequantize(type, theirs, c.rows.length));
        assert.equal(d, undefined, `${type} dequantize / ${c.name}: ${d}`);
        checked += ours.length;
      }
    }
    assert.ok(checked > 0);
  });
}

test('quant: K-quants and legacy types on 1M random values of varied distributions (both engines)', { skip }, () => {
  const r = ref as Exclude<typeof ref, string>;
  const u = rng(42);
  const n = 1 << 20;
  const x = new Float32Array(n);
  for (let b = 0; b < n; b += 256) {
    // every super-block its own distribution and scale, so rare search paths get exercised
    const scale = 10 ** (u() * 8 - 4);
    const kind = Math.floor(u() * 5);
    for (let i = b; i < b + 256; i++) {
      const v = u();
      x[i] = scale * (kind === 0 ? v - 0.5 : kind === 1 ? Math.tan(Math.PI * (v - 0.5)) : kind === 2 ? (v < 0.3 ? 0 : v)
        : kind === 3 ? Math.round((v - 0.5) * 16) / 2 : Math.log(v + 1e-9));
    }
  }
  for (const type of TYPES.filter((t) => t.startsWith('q'))) {
    const theirs = r.quantize(type, x, n / 4096, 4096);
    for (const engine of K_TYPES.includes(type) ? (['wasm', 'ts'] as const) : (['wasm'] as const)) {
      engineKind(engine);
      assert.equal(firstDiff(type, quantizeRows(type, x, 4096), theirs), undefined, `${type} (${engine})`);
    }
  }
  engineKind('wasm');
});

test('quant: f16 and bf16 conversion of 4M bit patterns (NaN, inf, subnormal, rounding edges)', { skip }, () => {
  const r = ref as Exclude<typeof ref, string>;
  const n = 1 << 22;
  const bits = new Uint32Array(n);
  const u = rng(7);
  for (let i = 0; i < n; i++) {
    // a stratified sweep of the whole space plus values near f16 rounding boundaries
    bits[i] = i % 2 === 0 ? (i * 1024 + Math.floor(u() * 1024)) >>> 0 : ((Math.floor(u() * 65536) << 13) ^ (u() < 0.5 ? 0x1000 : 0x0fff) ^ (u() < 0.3 ? 0x80000000 : 0)) >>> 0;
  }
  const x = new Float32Array(bits.buffer);
  for (const type of ['f16', 'bf16']) {
    const theirs = r.quantize(type, x, 1, n);
    for (const engine of ['wasm', 'ts'] as const) {
      engineKind(engine);
      assert.equal(firstDiff(type, quantizeRows(type, x, n), theirs), undefined, `${type} (${engine})`);
    }
  }
  engineKind('wasm');
  // the scalar helpers agree with the row versions
  const f16 = new Uint16Array(quantizeRows('f16', x, n).buffer);
  const b16 = new Uint16Array(quantizeRows('bf16', x, n).buffer);
  for (let i = 0; i < n; i += 97) {
    assert.equal(f32ToF16(x[i]), f16[i]);
    assert.equal(f32ToBf16(x[i]), b16[i]);
  }
});

test('quant: blocks with NaN and infinities follow C exactly (fallback paths)', { skip }, () => {
  const r = ref as Exclude<typeof ref, string>;
  const u = rng(13);
  const x = new Float32Array(256 * 64);
  for (let i = 0; i < x.length; i++) x[i] = u() - 0.5;
  const specials = [NaN, Infinity, -Infinity, 0, -0, 3.4028234663852886e38, -3.4028234663852886e38];
  for (let b = 0; b < 64; b++) {
    // a few special values per block, some blocks made only of them
    const count = b % 8 === 7 ? 256 : 1 + (b % 4);
    for (let k = 0; k < count; k++) x[b * 256 + Math.floor(u() * 256)] = specials[(b + k) % specials.length];
  }
  for (const type of TYPES) {
    for (const engine of type === 'f32' ? (['wasm'] as const) : (['wasm', 'ts'] as const)) {
      engineKind(engine);
      assert.equal(firstDiff(type, quantizeRows(type, x, 256), r.quantize(type, x, 64, 256)), undefined, `${type} (${engine})`);
    }
  }
  engineKind('wasm');
});

test('quant: f16 and bf16 rows of any length (vector body and scalar tail)', { skip }, () => {
  const r = ref as Exclude<typeof ref, string>;
  const u = rng(9);
  for (const n of [1, 7, 9, 13, 1001, 40000]) {
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = (u() - 0.5) * 10 ** (u() * 12 - 6);
    for (const type of ['f16', 'bf16']) assert.equal(firstDiff(type, quantizeRows(type, x, n), r.quantize(type, x, 1, n)), undefined, `${type} n=${n}`);
  }
});

test('quant: dequantize every f16 and bf16 pattern like ggml', { skip }, () => {
  const r = ref as Exclude<typeof ref, string>;
  const all = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i;
  const bytes = new Uint8Array(all.buffer);
  for (const type of ['f16', 'bf16']) {
    assert.equal(bitsEqual(dequantize(type, bytes, 65536), r.dequantize(type, bytes, 65536)), undefined, type);
  }
});

test('quant: dequantize round trip is close for random data (formula sanity, no reference needed)', () => {
  const u = rng(5);
  const x = new Float32Array(4096);
  for (let i = 0; i < x.length; i++) x[i] = u() * 2 - 1;
  const tol: Record<string, number> = { f32: 0, f16: 1e-3, bf16: 8e-3, q8_0: 0.01, q6_k: 0.03, q5_k: 0.05, q5_0: 0.08, q5_1: 0.05, q4_k: 0.1, q4_0: 0.15, q4_1: 0.1, q3_k: 0.25, q2_k: 0.5 };
  for (const type of TYPES) {
    const y = dequantize(type, quantizeRows(type, x, 4096), x.length);
    let max = 0;
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
    assert.ok(max <= tol[type], `${type}: max abs error ${max}`);
  }
});
