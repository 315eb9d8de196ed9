/**
 * 128-bit SIMD row kernels (4 floats per instruction): Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, and the
 * F16 / BF16 conversions. Input at IN, output at OUT (layout.ts), `nb` blocks or `n` floats.
 *
 * Exactness: C walks a block sequentially; here lanes compute maxima/minima in parallel, which is
 * the same result whenever the values are ordinary. Each block is checked first — a NaN, an
 * inverse scale that overflows (subnormal blocks), infinities making the scale NaN, or a zero at
 * the min/max of a Q4_1/Q5_1 block (C keeps whichever of +0/−0 comes first) — and such a block
 * is handed to the scalar kernel (legacy.ts), which follows C step by step. Otherwise every value
 * stays in range and the vector conversions give C's bytes.
 */
import {
  call, cat, f32, f4abs, f4add, f4eq, f4lane, f4mul, f4ne, f4nearest, f4pmax, f4pmin, f4splat, f4splatC, f4sub, f4trunc,
  fdiv, fgt, flt, Fn, fne, fsub, i16narrow32, i16narrow32u, i32, i4add, i4bitmask, i4eq, i4geS, i4gtS, i4min, i4shl, i4shrU,
  i4splat, i4splatC, i4sub, i4truncSat, i8bitmask, i8narrow16, i8shl, iadd, iand, ictz, if_, igt, imul, ine, ior, ishl, ishru,
  loadF32, loadI32, select, storeI32u, storeU16, vand, vanyTrue, vbitselect, vconst, vload, vor, vstore, type Code,
} from './asm.js';
import { IN, OUT } from './layout.js';
import { BLOCK_FN, F16 } from './legacy.js';

const SIGN = vconst(Array.from({ length: 16 }, (_, i) => (i % 4 === 3 ? 0x80 : 0)));

/** The block skeleton: vectors v0..v7 loaded, per-lane |x| maximum in `amax`, NaN → scalar block. */
function kernel(name: string, size: number, scalar: number, body: (f: Fn, v: (k: number) => Code) => Code[]): [Fn, Code] {
  const f = new Fn(name, [['nb', 'i32']], undefined);
  f.locals({ i: 'i32', xo: 'i32', yo: 'i32', m: 'i32', k: 'i32' }).locals({ amax: 'f32', d: 'f32', id: 'f32', max: 'f32' })
    .locals({ v0: 'v128', v1: 'v128', v2: 'v128', v3: 'v128', v4: 'v128', v5: 'v128', v6: 'v128', v7: 'v128', va: 'v128', nan: 'v128' });
  const { get, set } = f;
  const v = (k: number) => get(`v${k}`);
  const loads: Code[] = [];
  for (let k = 0; k < 8; k++) {
    loads.push(set(`v${k}`, vload(get('xo'), 16 * k)));
    loads.push(set('va', k === 0 ? f4abs(v(0)) : f4pmax(f4abs(v(k)), get('va'))));
    loads.push(set('nan', k === 0 ? f4ne(v(0), v(0)) : vor(get('nan'), f4ne(v(k), v(k)))));
  }
  const lane = (l: number) => f4lane(get('va'), l);
  return [f, f.body(f.for('i', i32(0), get('nb'),
    set('xo', iadd(i32(IN), imul(get('i'), i32(128)))),
    set('yo', iadd(i32(OUT), imul(get('i'), i32(size)))),
    ...loads,
    set('amax', lane(0)),
    ...[1, 2, 3].map((l) => set('amax', select(get('amax'), lane(l), fgt(get('amax'), lane(l))))),
    if_(vanyTrue(get('nan')), [call(scalar, get('xo'), get('yo'))], body(f, v)),
  ))];
}

/** Bytes of 4 i32x4 vectors narrowed to one i8x16 vector (values already in range). */
const narrow = (a: Code, b: Code, c: Code, d: Code): Code => i8narrow16(i16narrow32(a, b), i16narrow32(c, d));

/** Q8_0: d = amax / 127, q = roundf(x / d). */
export const q8_0 = (): [Fn, Code] => kernel('q8_0', 34, BLOCK_FN.q8_0, (f, v) => {
  const { get, set } = f;
  const round = (k: number): Code => {
    const x = f4mul(v(k), f4splat(get('id')));
    // roundf: nearest, but ties go away from zero (trunc ± 1)
    const t = f4trunc(x);
    const away = f4add(t, vor(vand(x, SIGN), f4splat(f32(1))));
    return i4truncSat(vbitselect(away, f4nearest(x), f4eq(f4abs(f4sub(x, t)), f4splat(f32(0.5)))));
  };
  return [
    set('d', fdiv(get('amax'), f32(127))),
    set('id', select(fdiv(f32(1), get('d')), f32(0), fne(get('d'), f32(0)))),
    if_(flt(get('id'), f32(Infinity)), [
      storeU16(get('yo'), call(F16, get('d'))),
      vstore(get('yo'), narrow(round(0), round(1), round(2), round(3)), 2),
      vstore(get('yo'), narrow(round(4), round(5), round(6), round(7)), 18),
    ], [call(BLOCK_FN.q8_0, get('xo'), get('yo'))]),
  ];
});

/** 4 i32x4 vectors of 5-bit values → 16 bytes, and their bit 4 as a 16-bit mask. */
const bit4mask = (bytes: Code): Code => i8bitmask(i8shl(bytes, i32(3)));

/**
 * Stores for 32 quants q(0..7) (lanes of 8 i32x4 vectors, elements 0..15 then 16..31):
 * Q4: qs[j] = q[j] | q[j+16] << 4 at yo+qs; Q5: the same nibbles plus bit 4 of each into the
 * little-endian u32 qh at yo+qhAt.
 */
function packQuants(f: Fn, q: (k: number) => Code, bits: 4 | 5, qs: number, qhAt: number): Code[] {
  const { get, set } = f;
  const lo = narrow(q(0), q(1), q(2), q(3));
  const hi = narrow(q(4), q(5), q(6), q(7));
  if (bits === 4) return [vstore(get('yo'), vor(lo, i8shl(hi, i32(4))), qs)];
  const m15 = vconst(Array(16).fill(15));
  return [
    set('v0', lo), set('v1', hi),
    vstore(get('yo'), vor(vand(get('v0'), m15), i8shl(vand(get('v1'), m15), i32(4))), qs),
    storeI32u(get('yo'), ior(bit4mask(get('v0')), ishl(bit4mask(get('v1')), i32(16))), qhAt),
  ];
}

/** Q4_0 / Q5_0: the first element of largest |x| sets d = max / −2^(bits−1); q = min(top, trunc(x/d + half + ½)). */
export const symK = (name: string, size: number, bits: 4 | 5, block: number) => (): [Fn, Code] => kernel(name, size, block, (f, v) => {
  const { get, set } = f;
  const half = 1 << (bits - 1);
  const top = (1 << bits) - 1;
  const q = (k: number): Code => i4min(i4truncSat(f4add(f4mul(v(k), f4splat(get('id'))), f4splat(f32(half + 0.5)))), i4splat(i32(top)));
  const find: Code[] = [];
  // first index whose |x| equals the maximum, vector by vector
  for (let k = 7; k >= 0; k--) {
    find.push(set('m', i4bitmask(f4eq(f4abs(v(k)), f4splat(get('amax'))))));
    find.push(if_(ine(get('m'), i32(0)), [set('k', iadd(i32(4 * k), ictz(get('m'))))]));
  }
  return [
    ...find,
    // C only takes an element when |x| exceeds the running maximum: all-zero blocks keep +0
    set('max', select(loadF32(iadd(get('xo'), ishl(get('k'), i32(2)))), f32(0), fgt(get('amax'), f32(0)))),
    set('d', fdiv(get('max'), f32(-half))),
    set('id', select(fdiv(f32(1), get('d')), f32(0), fne(get('d'), f32(0)))),
    if_(flt(fabsF(get('id')), f32(Infinity)), [
      storeU16(get('yo'), call(F16, get('d'))),
      ...packQuants(f, q, bits, bits === 4 ? 2 : 6, 2),
    ], [call(block, get('xo'), get('yo'))]),
  ];
});

/**
 * Q4_1 / Q5_1: d = (max − min) / (2^bits − 1), m = min. A block whose min or max is zero goes to
 * the scalar kernel (which of +0 and −0 C keeps depends on the element order).
 */
export const asymK = (name: string, size: number, bits: 4 | 5, block: number) => (): [Fn, Code] => kernel(name, size, block, (f, v) => {
  const { get, set } = f;
  const top = (1 << bits) - 1;
  const conv = (k: number): Code => i4truncSat(f4add(f4mul(f4sub(v(k), f4splat(get('max'))), f4splat(get('id'))), f4splat(f32(0.5))));
  // (int8_t) then MIN(15) for Q4_1; (uint8_t) for Q5_1 — both the identity on the in-range values
  const q = (k: number): Code => (bits === 4 ? i4min(conv(k), i4splat(i32(15))) : conv(k));
  const lanes = (v: string, op: (a: Code, b: Code) => Code): Code[] => [set('d', f4lane(get(v), 0)),
    ...[1, 2, 3].map((l) => set('d', select(f4lane(get(v), l), get('d'), op(f4lane(get(v), l), get('d')))))];
  const mins: Code[] = [set('va', v(0)), ...[1, 2, 3, 4, 5, 6, 7].map((k) => set('va', f4pmin(v(k), get('va'))))];
  const maxs: Code[] = [set('nan', v(0)), ...[1, 2, 3, 4, 5, 6, 7].map((k) => set('nan', f4pmax(v(k), get('nan'))))];
  return [
    // here `max` holds the block minimum and `amax` the maximum (locals reused)
    ...mins, ...lanes('va', flt), set('max', get('d')),
    ...maxs, ...lanes('nan', fgt), set('amax', get('d')),
    set('d', fdiv(fsub(get('amax'), get('max')), f32(top))),
    set('id', select(fdiv(f32(1), get('d')), f32(0), fne(get('d'), f32(0)))),
    if_(iand(iand(fne(get('max'), f32(0)), fne(get('amax'), f32(0))), flt(fabsF(get('id')), f32(Infinity))), [
      storeU16(get('yo'), call(F16, get('d'))),
      storeU16(get('yo'), call(F16, get('max')), 2),
      ...packQuants(f, q, bits, bits === 4 ? 4 : 8, 4),
    ], [call(block, get('xo'), get('yo'))]),
  ];
});

export const q4_0 = symK('q4_0', 18, 4, BLOCK_FN.q4_0);
export const q5_0 = symK('q5_0', 22, 5, BLOCK_FN.q5_0);
export const q4_1 = asymK('q4_1', 20, 4, BLOCK_FN.q4_1);
export const q5_1 = asymK('q5_1', 24, 5, BLOCK_FN.q5_1);

const fabsF = (c: Code): Code => [...c, 0x8b];

/**
 * A conversion row kernel: n floats at IN → n u16 at OUT. Eight per step (locals u → r for each
 * half), then the remaining ones with the scalar statement `tail` (element index in local i).
 */
function convRow(name: string, vec: (f: Fn) => Code[], tail: (f: Fn) => Code): [Fn, Code] {
  const f = new Fn(name, [['n', 'i32']], undefined);
  f.locals({ i: 'i32', w: 'i32' }).locals({ u: 'v128', r: 'v128', r0: 'v128', a: 'v128', h: 'v128', rem: 'v128' });
  const { get, set } = f;
  const I = get('i');
  const half = (off: number, out: string): Code[] => [set('u', vload(iadd(i32(IN), ishl(I, i32(2))), off)), ...vec(f), set(out, get('r'))];
  return [f, f.body(
    set('i', i32(0)),
    // while (i + 8 <= n)
    [0x02, 0x40, 0x03, 0x40], iadd(I, i32(8)), get('n'), [0x4a, 0x0d, 1],
    ...half(0, 'r0'), ...half(16, 'r'),
    vstore(iadd(i32(OUT), ishl(I, i32(1))), i16narrow32u(get('r0'), get('r'))),
    set('i', iadd(I, i32(8))), [0x0c, 0, 0x0b, 0x0b],
    f.for('i', I, get('n'), tail(f)),
  )];
}

const outAt = (f: Fn): Code => iadd(i32(OUT), ishl(f.get('i'), i32(1)));
const inAt = (f: Fn): Code => iadd(i32(IN), ishl(f.get('i'), i32(2)));

/** ggml_fp32_to_bf16_row_ref: round to nearest even, NaN → quiet NaN. */
export const bf16row = (): [Fn, Code] => convRow('bf16row', (f) => {
  const { get, set } = f;
  const u = get('u');
  return [set('r', vbitselect(
    vor(i4shrU(u, i32(16)), i4splatC(64)),
    i4shrU(i4add(i4add(u, i4splatC(0x7fff)), vand(i4shrU(u, i32(16)), i4splatC(1))), i32(16)),
    i4gtS(vand(u, i4splatC(0x7fffffff)), i4splatC(0x7f800000))))];
}, (f) => {
  const { get, set } = f;
  const w = get('w');
  return cat(set('w', loadI32(inAt(f))), storeU16(outAt(f), select(ior(ishru(w, i32(16)), i32(64)),
    ishru(iadd(iadd(w, i32(0x7fff)), iand(ishru(w, i32(16)), i32(1))), i32(16)), igt(iand(w, i32(0x7fffffff)), i32(0x7f800000)))));
});

/** ggml_fp32_to_fp16 on four lanes (see the scalar f16 in legacy.ts). */
export const f16row = (): [Fn, Code] => convRow('f16row', (f) => {
  const { get, set } = f;
  const a = get('a');
  const h = get('h');
  const rem = get('rem');
  return [
    set('a', vand(get('u'), i4splatC(0x7fffffff))),
    set('h', vor(i4shl(i4sub(i4shrU(a, i32(23)), i4splatC(112)), i32(10)), vand(i4shrU(a, i32(13)), i4splatC(0x3ff)))),
    set('rem', vand(a, i4splatC(0x1fff))),
    // round to nearest even: +1 above the half, or at the half when odd (masks are −1)
    set('h', i4sub(h, vor(i4gtS(rem, i4splatC(0x1000)), vand(i4eq(rem, i4splatC(0x1000)), i4eq(vand(h, i4splatC(1)), i4splatC(1)))))),
    set('h', vbitselect(vbitselect(i4splatC(0x7e00), i4splatC(0x7c00), i4gtS(a, i4splatC(0x7f800000))), h, i4geS(a, i4splatC(0x477ff000)))),
    set('h', vbitselect(i4truncSat(f4nearest(f4mul(f4abs(get('u')), f4splatC(16777216)))), h, i4gtS(i4splatC(0x38800000), a))),
    set('r', vor(h, vand(i4shrU(get('u'), i32(16)), i4splatC(0x8000)))),
  ];
}, (f) => storeU16(outAt(f), call(F16, loadF32(inAt(f)))));
