/**
 * The quantizer kernels' WebAssembly instance (built at first use from search.ts and blocks.ts),
 * or null where WebAssembly is unavailable or refuses to compile synchronously — the TypeScript
 * quantizers are used then.
 */
import { assemble } from './asm.js';
import { BLOCK_KERNELS } from './blocks.js';
import { PAGES } from './layout.js';
import { BLOCK_FNS } from './legacy.js';
import { bf16row, f16row, q4_0, q4_1, q5_0, q5_1, q8_0 } from './simd.js';
import { SEARCH_KERNELS } from './search.js';

export type Kernel = (...args: number[]) => number;

export interface Kernels {
  qkx2: Kernel; qx: Kernel; q3: Kernel;
  k8x32: Kernel; k16x16: Kernel; qx16: Kernel; q3x16: Kernel; requantAsym: Kernel; requantSym: Kernel;
  f16: Kernel; q8_0: Kernel; q4_0: Kernel; q4_1: Kernel; q5_0: Kernel; q5_1: Kernel; f16row: Kernel; bf16row: Kernel;
  memory: WebAssembly.Memory;
}

let instance: Kernels | null | undefined;

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const parts = [...SEARCH_KERNELS, ...BLOCK_KERNELS, ...BLOCK_FNS, q8_0, q4_0, q4_1, q5_0, q5_1, f16row, bf16row].map((k) => k());
  return assemble(parts.map((p) => p[0]), parts.map((p) => p[1]), PAGES);
}

const wrap = (inst: WebAssembly.Instance): Kernels => ({ ...(inst.exports as unknown as Kernels), memory: inst.exports.mem as WebAssembly.Memory });

/** The instance, compiled synchronously at first use (Node, workers; ~12 KB, < 1 ms). */
export function kernels(): Kernels | null {
  if (instance !== undefined) return instance;
  try {
    instance = wrap(new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), {}));
  } catch {
    instance = null;
  }
  return instance;
}

/**
 * Compile the kernels asynchronously — needed on a browser's main thread, which refuses to
 * compile modules over 4 KB synchronously. Call before the first quantization. True when ready.
 */
export async function prepareKernels(): Promise<boolean> {
  if (instance) return true;
  try {
    instance = wrap((await WebAssembly.instantiate(moduleBytes(), {})).instance);
  } catch {
    instance = null;
  }
  return instance !== null;
}
