/**
 * The ggml reference quantizer, called through FFI (koffi) from node-llama-cpp's prebuilt
 * `libggml-base.so` (devDependency `@node-llama-cpp/linux-x64`, pinned to node-llama-cpp 3.21.1).
 *
 *   const ref = loadGgmlReference();
 *   if (typeof ref === 'string') t.skip(ref);   // the reason it cannot be loaded
 *
 * `quantize` is `ggml_quantize_chunk(type, src, dst, 0, nrows, n_per_row, NULL)` — what
 * llama-quantize runs for each tensor when no importance matrix is given. `dequantize` uses the
 * exported `dequantize_row_*` (the `to_float` of ggml's type traits) or `ggml_*_to_fp32_row`.
 * Test-only code: it may use node:* modules.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GGML_BY_NAME } from '../../src/dtypes.js';

const require = createRequire(import.meta.url);

export interface GgmlReference {
  /** Folder of the prebuilt libraries. */
  binDir: string;
  quantize(type: string, src: Float32Array, nrows: number, nPerRow: number): Uint8Array;
  dequantize(type: string, bytes: Uint8Array, n: number): Float32Array;
  /** `ggml_row_size(type, n)`. */
  rowSize(type: string, n: number): number;
  /** The raw koffi module and library handle, for other harnesses (llama policy). */
  koffi: KoffiModule;
  lib: KoffiLib;
}

/* Minimal structural types for koffi (its own .d.ts is not needed here). */
type KoffiFn = (...args: unknown[]) => any;
export interface KoffiLib {
  func(decl: string): KoffiFn;
  func(name: string, result: unknown, args: unknown[]): KoffiFn;
}
export interface KoffiModule {
  load(path: string): KoffiLib;
  struct(name: string, def: Record<string, unknown>): unknown;
  pointer(type: unknown): unknown;
  alloc(type: unknown, n: number): unknown;
  free(p: unknown): void;
  encode(ref: unknown, type: unknown, value: unknown): void;
  decode(ref: unknown, type: unknown): any;
  out(type: unknown): unknown;
  sizeof(type: unknown): number;
}

let cached: GgmlReference | string | undefined;

/** Where the prebuilt binaries are, or undefined. */
export function ggmlBinDir(): string | undefined {
  try {
    const main = require.resolve('@node-llama-cpp/linux-x64'); // <pkg>/dist/index.js
    const dir = join(dirname(main), '..', 'bins', 'linux-x64');
    return existsSync(join(dir, 'libggml-base.so')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Load the reference, or return why it cannot be loaded (to print as the skip reason). */
export function loadGgmlReference(): GgmlReference | string {
  if (cached !== undefined) return cached;
  cached = load();
  return cached;
}

function load(): GgmlReference | string {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return `ggml reference: needs linux-x64 (this is ${process.platform}-${process.arch})`;
  }
  const binDir = ggmlBinDir();
  if (!binDir) return 'ggml reference: @node-llama-cpp/linux-x64 (bins/linux-x64/libggml-base.so) is not installed';
  let koffi: KoffiModule;
  try {
    koffi = require('koffi') as KoffiModule;
  } catch (e) {
    return `ggml reference: koffi (FFI) cannot be loaded: ${(e as Error).message}`;
  }
  let lib: KoffiLib;
  try {
    lib = koffi.load(join(binDir, 'libggml-base.so'));
  } catch (e) {
    return `ggml reference: cannot load libggml-base.so: ${(e as Error).message}`;
  }
  const quantizeChunk = lib.func(
    'size_t ggml_quantize_chunk(int type, const float *src, void *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)',
  );
  const rowSizeFn = lib.func('size_t ggml_row_size(int type, int64_t ne)');
  const dequantizers = new Map<string, KoffiFn>();
  const typeId = (type: string): number => {
    const t = GGML_BY_NAME.get(type.toLowerCase());
    if (!t) throw new Error(`unknown ggml type ${type}`);
    return t.id;
  };
  const dequantFn = (type: string): KoffiFn => {
    let fn = dequantizers.get(type);
    if (fn) return fn;
    const symbol = type === 'f16' ? 'ggml_fp16_to_fp32_row'
      : type === 'bf16' ? 'ggml_bf16_to_fp32_row'
      : `dequantize_row_${type.replace(/_k$/, '_K')}`;
    fn = lib.func(`void ${symbol}(const void *x, float *y, int64_t k)`);
    dequantizers.set(type, fn);
    return fn;
  };
  const rowSize = (type: string, n: number): number => Number(rowSizeFn(typeId(type), n));
  return {
    binDir,
    koffi,
    lib,
    rowSize,
    quantize(type, src, nrows, nPerRow) {
      if (src.length !== nrows * nPerRow) throw new RangeError('src length ≠ nrows·nPerRow');
      const dst = new Uint8Array(rowSize(type, nPerRow) * nrows);
      const n = Number(quantizeChunk(typeId(type), src, dst, 0, nrows, nPerRow, null));
      if (n !== dst.length) throw new Error(`ggml_quantize_chunk wrote ${n} bytes, expected ${dst.length}`);
      return dst;
    },
    dequantize(type, bytes, n) {
      const t = type.toLowerCase();
      const out = new Float32Array(n);
      if (t === 'f32') {
        out.set(new Float32Array(bytes.slice(0, n * 4).buffer));
        return out;
      }
      dequantFn(t)(bytes, out, n);
      return out;
    },
  };
}
