/**
 * Super-block kernels around the searches (ggml-quants.c quantize_row_q2_K/q3_K/q4_K/q5_K/q6_K_ref):
 * the sub-block loops with their weights, and the re-quantization with the final scales. The
 * scale packing and bit packing stay in TypeScript (integer work). Memory layout: layout.ts.
 */
import {
  call, f32, fabs, fadd, fdiv, fmul, fne, Fn, fsqrt, i32, iadd, if_, imul, isub, loadF32, nearestInt, storeF32,
  storeU8, type Code,
} from './asm.js';
import { L, MN, RD, RES, RM, SC, W, X } from './layout.js';
import { at1, at4, clamp } from './search.js';

const QKX2 = 0;
const QX = 1;
const Q3 = 2;

/** Q4_K/Q5_K: eight 32-element sub-blocks, weights rms + |x|, make_qkx2_quants each → SC, MN, L. */
function k8x32(): [Fn, Code] {
  const f = new Fn('k8x32', [['nmax', 'i32'], ['rmin', 'f32'], ['rdelta', 'f32'], ['nstep', 'i32']], undefined);
  f.locals({ j: 'i32', l: 'i32', base: 'i32' }).locals({ sumx2: 'f32', avx: 'f32', v: 'f32' });
  const { get, set } = f;
  const x = (i: Code) => loadF32(at4(get('base'), i));
  const J = get('j');
  const Li = get('l');
  return [f, f.body(f.for('j', i32(0), i32(8),
    set('base', iadd(i32(X), imul(J, i32(128)))),
    set('sumx2', f32(0)),
    f.for('l', i32(0), i32(32), set('v', x(Li)), set('sumx2', fadd(get('sumx2'), fmul(get('v'), get('v'))))),
    set('avx', fsqrt(fdiv(get('sumx2'), f32(32)))),
    f.for('l', i32(0), i32(32), storeF32(at4(i32(W), Li), fadd(get('avx'), fabs(x(Li))))),
    storeF32(at4(i32(SC), J), call(QKX2, get('base'), i32(W), iadd(i32(L), imul(J, i32(32))), i32(32), get('nmax'),
      get('rmin'), get('rdelta'), get('nstep'), i32(0))),
    storeF32(at4(i32(MN), J), loadF32(i32(RES)))))];
}

/** Q2_K: sixteen 16-element sub-blocks, weights |x|, make_qkx2_quants(nmax 3, MAD) each → SC, MN, L. */
function k16x16(): [Fn, Code] {
  const f = new Fn('k16x16', [['rmin', 'f32'], ['rdelta', 'f32'], ['nstep', 'i32']], undefined);
  f.locals({ j: 'i32', l: 'i32', base: 'i32' });
  const { get, set } = f;
  const J = get('j');
  const Li = get('l');
  return [f, f.body(f.for('j', i32(0), i32(16),
    set('base', iadd(i32(X), imul(J, i32(64)))),
    f.for('l', i32(0), i32(16), storeF32(at4(i32(W), Li), fabs(loadF32(at4(get('base'), Li))))),
    storeF32(at4(i32(SC), J), call(QKX2, get('base'), i32(W), iadd(i32(L), imul(J, i32(16))), i32(16), i32(3),
      get('rmin'), get('rdelta'), get('nstep'), i32(1))),
    storeF32(at4(i32(MN), J), loadF32(i32(RES)))))];
}

/** Q6_K (make_qx_quants, nmax 32) or Q3_K (make_q3_quants, nmax 4) on sixteen 16-element sub-blocks → SC, L. */
function sym16(name: string, kernel: number, nmax: number): [Fn, Code] {
  const f = new Fn(name, [], undefined);
  f.locals({ j: 'i32' });
  const J = f.get('j');
  return [f, f.body(f.for('j', i32(0), i32(16),
    storeF32(at4(i32(SC), J), call(kernel, iadd(i32(X), imul(J, i32(64))), iadd(i32(L), imul(J, i32(16))), i32(16), i32(nmax)))))];
}

/** L[j·len + i] = clamp(nearest_int((x + RM[j]) / RD[j]), 0, nmax) for sub-blocks whose RD[j] ≠ 0. */
function requantAsym(): [Fn, Code] {
  const f = new Fn('requantAsym', [['nsub', 'i32'], ['len', 'i32'], ['nmax', 'i32']], undefined);
  f.locals({ j: 'i32', i: 'i32', k: 'i32', l: 'i32' }).locals({ d: 'f32', dm: 'f32' });
  const { get, set } = f;
  const K = get('k');
  return [f, f.body(f.for('j', i32(0), get('nsub'),
    set('d', loadF32(at4(i32(RD), get('j')))),
    if_(fne(get('d'), f32(0)), [
      set('dm', loadF32(at4(i32(RM), get('j')))),
      f.for('i', i32(0), get('len'),
        set('k', iadd(imul(get('j'), get('len')), get('i'))),
        ...clamp(nearestInt(fdiv(fadd(loadF32(at4(i32(X), K)), get('dm')), get('d'))), i32(0), get('nmax'), (c) => set('l', c), get('l')),
        storeU8(at1(i32(L), K), get('l'))),
    ])))];
}

/** L[j·len + i] = clamp(nearest_int(x / RD[j]), lmin, lmax) − lmin for sub-blocks whose RD[j] ≠ 0. */
function requantSym(): [Fn, Code] {
  const f = new Fn('requantSym', [['nsub', 'i32'], ['len', 'i32'], ['lmin', 'i32'], ['lmax', 'i32']], undefined);
  f.locals({ j: 'i32', i: 'i32', k: 'i32', l: 'i32' }).locals({ d: 'f32' });
  const { get, set } = f;
  const K = get('k');
  return [f, f.body(f.for('j', i32(0), get('nsub'),
    set('d', loadF32(at4(i32(RD), get('j')))),
    if_(fne(get('d'), f32(0)), [
      f.for('i', i32(0), get('len'),
        set('k', iadd(imul(get('j'), get('len')), get('i'))),
        ...clamp(nearestInt(fdiv(loadF32(at4(i32(X), K)), get('d'))), get('lmin'), get('lmax'), (c) => set('l', c), get('l')),
        storeU8(at1(i32(L), K), isub(get('l'), get('lmin')))),
    ])))];
}

/** Block kernels, in module order after the search kernels. */
export const BLOCK_KERNELS = [k8x32, k16x16, () => sym16('qx16', QX, 32), () => sym16('q3x16', Q3, 4), requantAsym, requantSym];
