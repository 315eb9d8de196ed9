/**
 * Scalar kernels: ggml's f32 → f16 conversion, and one block of each 32-element type Q8_0, Q4_0,
 * Q4_1, Q5_0, Q5_1 (ggml-quants.c `quantize_row_*_ref`), statement by statement in float32. The
 * SIMD row kernels (simd.ts) call these for the blocks they cannot take (NaN, infinities, signed
 * zeros at the minimum, overflowing inverse scales), so every input gets C's exact bytes.
 */
import {
  call, f32, fabs, fadd, fdiv, feq, fgt, Fn, fmul, fnearest, fne, flt, fsub, ftrunc, i32, iadd, iand, if_, igt,
  ior, ishl, ishr, ishru, isub, loadF32, ret, select, storeI32u, storeU16, storeU8, truncSat, type Code,
  fbits, ieq, ige,
} from './asm.js';

/** The index of `f16` in the module (after the 3 search and 6 block kernels). */
export const F16 = 9;

/** ggml_compute_fp32_to_fp16: round to nearest even, overflow → ±inf, NaN → 0x7E00 | sign. */
function f16(): [Fn, Code] {
  const f = new Fn('f16', [['v', 'f32']], 'i32');
  f.locals({ w: 'i32', a: 'i32', sign: 'i32', h: 'i32', rem: 'i32' });
  const { get, set } = f;
  return [f, f.body(
    set('w', fbits(get('v'))),
    set('sign', iand(ishru(get('w'), i32(16)), i32(0x8000))),
    set('a', iand(get('w'), i32(0x7fffffff))),
    if_(ige(get('a'), i32(0x38800000)), [
      if_(ige(get('a'), i32(0x477ff000)), [ret(ior(get('sign'), select(i32(0x7e00), i32(0x7c00), igt(get('a'), i32(0x7f800000)))))]),
      set('h', ior(ishl(isub(ishru(get('a'), i32(23)), i32(112)), i32(10)), iand(ishru(get('a'), i32(13)), i32(0x3ff)))),
      set('rem', iand(get('a'), i32(0x1fff))),
      set('h', iadd(get('h'), ior(igt(get('rem'), i32(0x1000)), iand(ieq(get('rem'), i32(0x1000)), iand(get('h'), i32(1)))))),
      ret(ior(get('sign'), get('h'))),
    ]),
    ior(get('sign'), truncSat(fnearest(fmul(fabs(get('v')), f32(16777216))))),
  )];
}

/** C's float → int conversion as x86 does it: truncation, 0x80000000 when out of range or NaN. */
const cvtt = (v: Code): Code => select(truncSat(v), i32(-0x80000000), flt(fabs(v), f32(2147483648)));
const int8 = (v: Code): Code => ishr(ishl(v, i32(24)), i32(24));
const minI = (v: Code, hi: number, tmp: (c: Code) => Code, get: Code): Code[] => [tmp(v), tmp(select(i32(hi), get, igt(get, i32(hi))))];
/** roundf: to nearest, ties away from zero. */
const roundf = (v: Code, t: Code): Code =>
  select(select(fsub(t, f32(1)), fadd(t, f32(1)), flt(v, f32(0))), fnearest(v), feq(fabs(fsub(v, t)), f32(0.5)));

/** One block: x at byte address xo (32 floats), its bytes to yo. */
function blockKernel(name: string, locals: Record<string, 'i32' | 'f32'>, body: (f: Fn, x: (j: Code) => Code) => Code[]): [Fn, Code] {
  const f = new Fn(name, [['xo', 'i32'], ['yo', 'i32']], undefined);
  f.locals({ j: 'i32', ...locals });
  const x = (j: Code) => loadF32(iadd(f.get('xo'), ishl(j, i32(2))));
  return [f, f.body(...body(f, x))];
}

const q8_0 = () => blockKernel('q8_0b', { amax: 'f32', a: 'f32', d: 'f32', id: 'f32', v: 'f32', t: 'f32' }, (f, x) => {
  const { get, set } = f;
  const J = get('j');
  return [
    set('amax', f32(0)),
    f.for('j', i32(0), i32(32), set('a', fabs(x(J))), set('amax', select(get('amax'), get('a'), fgt(get('amax'), get('a'))))),
    set('d', fdiv(get('amax'), f32(127))),
    set('id', select(fdiv(f32(1), get('d')), f32(0), fne(get('d'), f32(0)))),
    storeU16(get('yo'), call(F16, get('d'))),
    f.for('j', i32(0), i32(32),
      set('v', fmul(x(J), get('id'))), set('t', ftrunc(get('v'))),
      storeU8(iadd(get('yo'), J), cvtt(roundf(get('v'), get('t'))), 2)),
  ];
});

/** Q4_0 / Q5_0: scale from the signed absolute maximum, d = max / −(2^(bits−1)). */
const sym = (name: string, bits: 4 | 5) => blockKernel(name,
  { amax: 'f32', max: 'f32', v: 'f32', d: 'f32', id: 'f32', q0: 'i32', q1: 'i32', qh: 'i32' }, (f, x) => {
    const { get, set } = f;
    const J = get('j');
    const half = 1 << (bits - 1);
    const top = (1 << bits) - 1;
    const q = (v: Code, name: string) => minI(int8(cvtt(fadd(fmul(v, get('id')), f32(half + 0.5)))), top, (c) => set(name, c), get(name));
    const qs = bits === 4 ? 2 : 6;
    return [
      set('amax', f32(0)), set('max', f32(0)),
      f.for('j', i32(0), i32(32), set('v', x(J)), if_(flt(get('amax'), fabs(get('v'))), [set('amax', fabs(get('v'))), set('max', get('v'))])),
      set('d', fdiv(get('max'), f32(-half))),
      set('id', select(fdiv(f32(1), get('d')), f32(0), fne(get('d'), f32(0)))),
      storeU16(get('yo'), call(F16, get('d'))),
      set('qh', i32(0)),
      f.for('j', i32(0), i32(16),
        ...q(x(J), 'q0'), ...q(x(iadd(J, i32(16))), 'q1'),
        bits === 4
          ? storeU8(iadd(get('yo'), J), ior(iand(get('q0'), i32(0xff)), ishl(get('q1'), i32(4))), qs)
          : storeU8(iadd(get('yo'), J), ior(iand(get('q0'), i32(0xf)), ishl(iand(get('q1'), i32(0xf)), i32(4))), qs),
        ...(bits === 5 ? [
          set('qh', ior(get('qh'), ishl(ishru(iand(get('q0'), i32(0x10)), i32(4)), J))),
          set('qh', ior(get('qh'), ishl(ishru(iand(get('q1'), i32(0x10)), i32(4)), iadd(J, i32(16))))),
        ] : [])),
      ...(bits === 5 ? [storeI32u(get('yo'), get('qh'), 2)] : []),
    ];
  });

/** Q4_1 / Q5_1: d = (max − min) / (2^bits − 1), m = min. */
const asym = (name: string, bits: 4 | 5) => blockKernel(name,
  { min: 'f32', max: 'f32', v: 'f32', d: 'f32', id: 'f32', q0: 'i32', q1: 'i32', qh: 'i32' }, (f, x) => {
    const { get, set } = f;
    const J = get('j');
    const conv = (v: Code) => cvtt(fadd(fmul(fsub(v, get('min')), get('id')), f32(0.5)));
    const q = (v: Code, name: string): Code[] => bits === 4 ? minI(int8(conv(v)), 15, (c) => set(name, c), get(name)) : [set(name, iand(conv(v), i32(0xff)))];
    const qs = bits === 4 ? 4 : 8;
    return [
      set('min', f32(3.4028234663852886e38)), set('max', f32(-3.4028234663852886e38)),
      f.for('j', i32(0), i32(32), set('v', x(J)),
        if_(flt(get('v'), get('min')), [set('min', get('v'))]), if_(fgt(get('v'), get('max')), [set('max', get('v'))])),
      set('d', fdiv(fsub(get('max'), get('min')), f32((1 << bits) - 1))),
      set('id', select(fdiv(f32(1), get('d')), f32(0), fne(get('d'), f32(0)))),
      storeU16(get('yo'), call(F16, get('d'))),
      storeU16(get('yo'), call(F16, get('min')), 2),
      set('qh', i32(0)),
      f.for('j', i32(0), i32(16),
        ...q(x(J), 'q0'), ...q(x(iadd(J, i32(16))), 'q1'),
        bits === 4
          ? storeU8(iadd(get('yo'), J), ior(iand(get('q0'), i32(0xff)), ishl(get('q1'), i32(4))), qs)
          : storeU8(iadd(get('yo'), J), ior(iand(get('q0'), i32(0xf)), ishl(iand(get('q1'), i32(0xf)), i32(4))), qs),
        ...(bits === 5 ? [
          set('qh', ior(get('qh'), ishl(ishru(iand(get('q0'), i32(0x10)), i32(4)), J))),
          set('qh', ior(get('qh'), ishl(ishru(iand(get('q1'), i32(0x10)), i32(4)), iadd(J, i32(16))))),
        ] : [])),
      ...(bits === 5 ? [storeI32u(get('yo'), get('qh'), 4)] : []),
    ];
  });

/** Module indices of the single-block functions. */
export const BLOCK_FN = { q8_0: F16 + 1, q4_0: F16 + 2, q4_1: F16 + 3, q5_0: F16 + 4, q5_1: F16 + 5 };

/** f16 and the single-block functions, in module order after the block kernels (f16 first: index F16). */
export const BLOCK_FNS = [f16, q8_0, () => sym('q4_0b', 4), () => asym('q4_1b', 4), () => sym('q5_0b', 5), () => asym('q5_1b', 5)];
