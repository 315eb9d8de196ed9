/**
 * The float-heavy part of the K-quants — sub-block scale searches and re-quantization — behind one
 * interface with two implementations giving the same bits: WebAssembly kernels (wasm/, ~4× faster,
 * native float32) and the TypeScript ports (kcommon.ts, Math.fround at every step) as fallback.
 * The K-quant files (q2k … q6k) do the scale/bit packing around it.
 *
 * Protocol per super-block: stage(x, xo), one search, fill RD/RM from the packed scales, one
 * requant; the levels are then in L.
 */
import { nearestInt } from './fp.js';
import { makeQ3, makeQkx2, makeQx, qkxMin, qkxSteps, qxSteps } from './kcommon.js';
import { kernels, type Kernel } from './wasm/index.js';
import * as M from './wasm/layout.js';

const fround = Math.fround;

/** Parameters of one make_qkx2_quants configuration (rmin, rdelta, nstep as ggml passes them). */
export interface Qkx2Spec {
  nmax: number;
  rmin: number;
  rdelta: number;
  nstep: number;
  steps: Float64Array;
}

export function qkx2Spec(rmin: number, rdelta: number, nstep: number, nmax: number): Qkx2Spec {
  return { nmax, rmin, rdelta, nstep, steps: qkxSteps(rmin, rdelta, nstep, nmax) };
}

export interface Engine {
  /** Levels of the staged super-block (256). */
  readonly L: Uint8Array;
  /** Per sub-block: search scale and min (the_min), re-quantization scale and min. */
  readonly SC: Float32Array;
  readonly MN: Float32Array;
  readonly RD: Float32Array;
  readonly RM: Float32Array;
  /** Use x[xo .. xo+256] as the current super-block. */
  stage(x: Float32Array, xo: number): void;
  /** Q4_K/Q5_K sub-block searches (8 × 32, weights rms + |x|). */
  k8x32(spec: Qkx2Spec): void;
  /** Q2_K sub-block searches (16 × 16, weights |x|, MAD). */
  k16x16(spec: Qkx2Spec): void;
  /** Q6_K: make_qx_quants(16, 32) per sub-block (SC, L = l + 32). */
  qx16(): void;
  /** Q3_K: make_q3_quants(16, 4) per sub-block (SC, L = l + 4). */
  q3x16(): void;
  /** L = clamp(nearest_int((x + RM[j]) / RD[j]), 0, nmax) where RD[j] ≠ 0. */
  requantAsym(nsub: number, len: number, nmax: number): void;
  /** L = clamp(nearest_int(x / RD[j]), lmin, lmax) − lmin where RD[j] ≠ 0. */
  requantSym(nsub: number, len: number, lmin: number, lmax: number): void;
}

function wasmEngine(): Engine | null {
  const k = kernels();
  if (!k) return null;
  const buf = k.memory.buffer;
  const X = new Float32Array(buf, M.X, 256);
  return {
    L: new Uint8Array(buf, M.L, 256),
    SC: new Float32Array(buf, M.SC, 16),
    MN: new Float32Array(buf, M.MN, 16),
    RD: new Float32Array(buf, M.RD, 16),
    RM: new Float32Array(buf, M.RM, 16),
    stage: (x, xo) => X.set(xo === 0 && x.length === 256 ? x : x.subarray(xo, xo + 256)),
    k8x32: (s) => void k.k8x32(s.nmax, s.rmin, s.rdelta, s.nstep),
    k16x16: (s) => void k.k16x16(s.rmin, s.rdelta, s.nstep),
    qx16: () => void k.qx16(),
    q3x16: () => void k.q3x16(),
    requantAsym: (nsub, len, nmax) => void k.requantAsym(nsub, len, nmax),
    requantSym: (nsub, len, lmin, lmax) => void k.requantSym(nsub, len, lmin, lmax),
  };
}

function tsEngine(): Engine {
  // typed arrays over 64 bytes live off the V8 heap: faster to index
  const L = new Uint8Array(256);
  const SC = new Float32Array(32);
  const MN = new Float32Array(32);
  const RD = new Float32Array(32);
  const RM = new Float32Array(32);
  const W = new Float32Array(32);
  const QX32 = qxSteps(32);
  let x: Float32Array = new Float32Array(256);
  let xo = 0;
  return {
    L, SC, MN, RD, RM,
    stage(a, o) {
      x = a;
      xo = o;
    },
    k8x32(s) {
      for (let j = 0; j < 8; j++) {
        const o = xo + 32 * j;
        let sumX2 = 0;
        for (let l = 0; l < 32; l++) sumX2 = fround(sumX2 + fround(x[o + l] * x[o + l]));
        const avX = fround(Math.sqrt(fround(sumX2 / 32)));
        for (let l = 0; l < 32; l++) W[l] = fround(avX + Math.abs(x[o + l]));
        SC[j] = makeQkx2(32, s.nmax, x, o, W, L, 32 * j, s.steps, false);
        MN[j] = qkxMin;
      }
    },
    k16x16(s) {
      for (let j = 0; j < 16; j++) {
        const o = xo + 16 * j;
        for (let l = 0; l < 16; l++) W[l] = Math.abs(x[o + l]);
        SC[j] = makeQkx2(16, 3, x, o, W, L, 16 * j, s.steps, true);
        MN[j] = qkxMin;
      }
    },
    qx16() {
      for (let j = 0; j < 16; j++) SC[j] = makeQx(16, 32, x, xo + 16 * j, L, 16 * j, QX32);
    },
    q3x16() {
      for (let j = 0; j < 16; j++) SC[j] = makeQ3(16, 4, x, xo + 16 * j, L, 16 * j);
    },
    requantAsym(nsub, len, nmax) {
      for (let j = 0; j < nsub; j++) {
        const d = RD[j];
        if (d === 0) continue;
        const dm = RM[j];
        for (let i = j * len; i < (j + 1) * len; i++) {
          const l = nearestInt(fround(fround(x[xo + i] + dm) / d));
          L[i] = l < 0 ? 0 : l > nmax ? nmax : l;
        }
      }
    },
    requantSym(nsub, len, lmin, lmax) {
      for (let j = 0; j < nsub; j++) {
        const d = RD[j];
        if (d === 0) continue;
        for (let i = j * len; i < (j + 1) * len; i++) {
          const l = nearestInt(fround(x[xo + i] / d));
          L[i] = (l < lmin ? lmin : l > lmax ? lmax : l) - lmin;
        }
      }
    },
  };
}

let engine: Engine | undefined;
let kind: 'wasm' | 'ts' = 'ts';
let forceTs = false;

/** The engine in use: WebAssembly when available, TypeScript otherwise. */
export function getEngine(): Engine {
  // (re)build when first used, or when the kernels became ready later (prepareQuantKernels)
  if (!engine || (kind === 'ts' && !forceTs && kernels())) {
    const w = forceTs ? null : wasmEngine();
    engine = w ?? tsEngine();
    kind = w ? 'wasm' : 'ts';
  }
  return engine;
}

/** Which implementation runs; `use` switches it (tests and benchmarks compare both). */
export function engineKind(use?: 'wasm' | 'ts'): 'wasm' | 'ts' {
  if (use) {
    forceTs = use === 'ts';
    engine = undefined;
  }
  getEngine();
  return kind;
}

/**
 * A row quantizer running the WebAssembly row kernel `name` (F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0,
 * Q5_1) chunk by chunk through the instance memory, or the TypeScript `fallback` when the
 * TypeScript engine is in use. Same signature as the TypeScript quantizers.
 */
export function rowQuantizer(name: 'f16row' | 'bf16row' | 'q8_0' | 'q4_0' | 'q4_1' | 'q5_0' | 'q5_1', blockSize: number, typeSize: number,
  fallback: (x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number) => void) {
  return (x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number): void => {
    getEngine();
    const k = kind === 'wasm' ? kernels() : null;
    if (!k) return fallback(x, xo, nb, y, yo);
    const fn = k[name] as Kernel;
    const buf = k.memory.buffer;
    const inp = new Float32Array(buf, M.IN, M.CHUNK);
    const out = new Uint8Array(buf, M.OUT, (M.CHUNK / blockSize) * typeSize);
    const per = M.CHUNK / blockSize;
    for (let done = 0; done < nb;) {
      const c = Math.min(per, nb - done);
      inp.set(x.subarray(xo + done * blockSize, xo + (done + c) * blockSize));
      fn(c);
      y.set(out.subarray(0, c * typeSize), yo + done * typeSize);
      done += c;
    }
  };
}
