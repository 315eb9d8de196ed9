/**
 * WebAssembly kernels for the K-quant searches, written statement by statement after ggml-quants.c
 * (`make_qkx2_quants`, `make_qx_quants` with rmse_type 1 and no weights, `make_q3_quants` with
 * do_rmse). Same float32 operations in the same order as C, hence the same bits; the TypeScript
 * versions in kcommon.ts are the fallback when WebAssembly is unavailable.
 *
 * Memory layout: layout.ts.
 */
import {
  ieqz, loadI32, storeI32, fne,
  assemble, f32, fabs, fadd, fneg, fdiv, feq, fge, fgt, Fn, fle, flt, fmul, fsub, i32, iadd, if_, ige, igt, ilt, imul, ine, ishl,
  isub, itof, loadF32, loadU8, nearestInt, ret, select, storeF32, storeU8, type Code,
} from './asm.js';

import { LAUX, LI, RES } from './layout.js';

export const at4 = (base: Code, i: Code): Code => iadd(base, ishl(i, i32(2)));
export const at1 = (base: Code, i: Code): Code => iadd(base, i);
export const clamp = (v: Code, lo: Code, hi: Code, tmp: (c: Code) => Code, get: Code): Code[] =>
  [tmp(v), tmp(select(lo, get, ilt(get, lo))), tmp(select(hi, get, igt(get, hi)))];

/** make_qkx2_quants(n, nmax, x, w, L, &the_min, Laux, rmin, rdelta, nstep, use_mad) → scale; the_min at RES. */
function qkx2(): [Fn, Code] {
  const f = new Fn('qkx2', [['xo', 'i32'], ['wo', 'i32'], ['lo', 'i32'], ['n', 'i32'], ['nmax', 'i32'], ['rmin', 'f32'],
    ['rdelta', 'f32'], ['nstep', 'i32'], ['mad', 'i32']], 'f32');
  f.locals({ i: 'i32', is: 'i32', l: 'i32' }).locals({
    min: 'f32', max: 'f32', sumW: 'f32', sumX: 'f32', v: 'f32', iscale: 'f32', scale: 'f32', best: 'f32', diff: 'f32',
    sl: 'f32', sl2: 'f32', sxl: 'f32', wl: 'f32', D: 'f32', ts: 'f32', tm: 'f32', cur: 'f32', nmaxf: 'f32',
  });
  const { get, set } = f;
  const x = (i: Code) => loadF32(at4(get('xo'), i));
  const w = (i: Code) => loadF32(at4(get('wo'), i));
  const I = get('i');
  const level = (iscale: Code): Code[] =>
    clamp(nearestInt(fmul(iscale, fsub(x(I), get('min')))), i32(0), get('nmax'), (c) => set('l', c), get('l'));
  const err = (d: Code): Code => select(fabs(d), fmul(d, d), get('mad'));
  const body = f.body(
    set('nmaxf', itof(get('nmax'))),
    set('min', x(i32(0))), set('max', x(i32(0))), set('sumW', w(i32(0))), set('sumX', fmul(get('sumW'), x(i32(0)))),
    f.for('i', i32(1), get('n'),
      set('v', x(I)),
      if_(flt(get('v'), get('min')), [set('min', get('v'))]),
      if_(fgt(get('v'), get('max')), [set('max', get('v'))]),
      set('sumW', fadd(get('sumW'), w(I))),
      set('sumX', fadd(get('sumX'), fmul(w(I), get('v'))))),
    if_(fgt(get('min'), f32(0)), [set('min', f32(0))]),
    if_(feq(get('max'), get('min')), [
      f.for('i', i32(0), get('n'), storeU8(at1(get('lo'), I), i32(0))),
      storeF32(i32(RES), fneg(get('min'))),
      ret(f32(0)),
    ]),
    set('iscale', fdiv(get('nmaxf'), fsub(get('max'), get('min')))),
    set('scale', fdiv(f32(1), get('iscale'))),
    set('best', f32(0)),
    f.for('i', i32(0), get('n'),
      ...level(get('iscale')),
      storeU8(at1(get('lo'), I), get('l')),
      set('diff', fsub(fadd(fmul(get('scale'), itof(get('l'))), get('min')), x(I))),
      set('best', fadd(get('best'), fmul(w(I), err(get('diff')))))),
    f.for('is', i32(0), iadd(get('nstep'), i32(1)),
      set('iscale', fdiv(fadd(fadd(get('rmin'), fmul(get('rdelta'), itof(get('is')))), get('nmaxf')), fsub(get('max'), get('min')))),
      set('sl', f32(0)), set('sl2', f32(0)), set('sxl', f32(0)),
      f.for('i', i32(0), get('n'),
        ...level(get('iscale')),
        storeU8(at1(i32(LAUX), I), get('l')),
        set('wl', fmul(w(I), itof(get('l')))),
        set('sl', fadd(get('sl'), get('wl'))),
        set('sl2', fadd(get('sl2'), fmul(get('wl'), itof(get('l'))))),
        set('sxl', fadd(get('sxl'), fmul(get('wl'), x(I))))),
      set('D', fsub(fmul(get('sumW'), get('sl2')), fmul(get('sl'), get('sl')))),
      if_(fgt(get('D'), f32(0)), [
        set('ts', fdiv(fsub(fmul(get('sumW'), get('sxl')), fmul(get('sumX'), get('sl'))), get('D'))),
        set('tm', fdiv(fsub(fmul(get('sl2'), get('sumX')), fmul(get('sl'), get('sxl'))), get('D'))),
        if_(fgt(get('tm'), f32(0)), [set('tm', f32(0)), set('ts', fdiv(get('sxl'), get('sl2')))]),
        set('cur', f32(0)),
        f.for('i', i32(0), get('n'),
          set('diff', fsub(fadd(fmul(get('ts'), itof(loadU8(at1(i32(LAUX), I)))), get('tm')), x(I))),
          set('cur', fadd(get('cur'), fmul(w(I), err(get('diff')))))),
        if_(flt(get('cur'), get('best')), [
          f.for('i', i32(0), get('n'), storeU8(at1(get('lo'), I), loadU8(at1(i32(LAUX), I)))),
          set('best', get('cur')), set('scale', get('ts')), set('min', get('tm')),
        ]),
      ])),
    storeF32(i32(RES), fneg(get('min'))),
    get('scale'),
  );
  return [f, body];
}

const GROUP_MAX_EPS = 1e-15;

/** Largest |x| with its sign (first wins), or returns 0 with L zeroed when all are below EPS. */
function signedMaxOrZero(f: Fn, x: (i: Code) => Code): Code[] {
  const { get, set } = f;
  const I = get('i');
  return [
    set('max', f32(0)), set('amax', f32(0)),
    f.for('i', i32(0), get('n'),
      set('v', x(I)),
      if_(fgt(fabs(get('v')), get('amax')), [set('amax', fabs(get('v'))), set('max', get('v'))])),
    if_(flt(get('amax'), f32(GROUP_MAX_EPS)), [
      f.for('i', i32(0), get('n'), storeU8(at1(get('lo'), I), i32(0))),
      ret(f32(0)),
    ]),
  ];
}

/** make_qx_quants(n, nmax, x, L, rmse_type = 1, qw = NULL) → scale; L gets l + nmax. */
function qx(): [Fn, Code] {
  const f = new Fn('qx', [['xo', 'i32'], ['lo', 'i32'], ['n', 'i32'], ['nmax', 'i32']], 'f32');
  f.locals({ i: 'i32', is: 'i32', l: 'i32' }).locals({
    max: 'f32', amax: 'f32', v: 'f32', iscale: 'f32', sumlx: 'f32', suml2: 'f32', w: 'f32', scale: 'f32', best: 'f32',
  });
  const { get, set } = f;
  const x = (i: Code) => loadF32(at4(get('xo'), i));
  const I = get('i');
  const level = (): Code[] => clamp(nearestInt(fmul(get('iscale'), x(I))), isub(i32(0), get('nmax')), isub(get('nmax'), i32(1)),
    (c) => set('l', c), get('l'));
  const sums = (): Code[] => [
    set('w', fmul(x(I), x(I))),
    set('sumlx', fadd(get('sumlx'), fmul(fmul(get('w'), x(I)), itof(get('l'))))),
    set('suml2', fadd(get('suml2'), fmul(fmul(get('w'), itof(get('l'))), itof(get('l'))))),
  ];
  const body = f.body(
    ...signedMaxOrZero(f, x),
    set('iscale', fdiv(itof(isub(i32(0), get('nmax'))), get('max'))),
    set('sumlx', f32(0)), set('suml2', f32(0)),
    f.for('i', i32(0), get('n'), ...level(), storeU8(at1(get('lo'), I), iadd(get('l'), get('nmax'))), ...sums()),
    set('scale', select(fdiv(get('sumlx'), get('suml2')), f32(0), fne(get('suml2'), f32(0)))),
    set('best', fmul(get('scale'), get('sumlx'))),
    f.for('is', i32(-9), i32(10),
      if_(ine(get('is'), i32(0)), [
        set('iscale', fdiv(fneg(fadd(itof(get('nmax')), fmul(f32(0.1), itof(get('is'))))), get('max'))),
        set('sumlx', f32(0)), set('suml2', f32(0)),
        f.for('i', i32(0), get('n'), ...level(), ...sums()),
        if_(fgt(get('suml2'), f32(0)), [
          if_(fgt(fmul(get('sumlx'), get('sumlx')), fmul(get('best'), get('suml2'))), [
            f.for('i', i32(0), get('n'), ...level(), storeU8(at1(get('lo'), I), iadd(get('l'), get('nmax')))),
            set('scale', fdiv(get('sumlx'), get('suml2'))),
            set('best', fmul(get('scale'), get('sumlx'))),
          ]),
        ]),
      ])),
    get('scale'),
  );
  return [f, body];
}

/** make_q3_quants(n, nmax, x, L, do_rmse = true) → scale; L gets l + nmax. Levels in LI (i32). */
function q3(): [Fn, Code] {
  const f = new Fn('q3', [['xo', 'i32'], ['lo', 'i32'], ['n', 'i32'], ['nmax', 'i32']], 'f32');
  f.locals({ i: 'i32', itry: 'i32', l: 'i32', li: 'i32', changed: 'i32' }).locals({
    max: 'f32', amax: 'f32', v: 'f32', iscale: 'f32', sumlx: 'f32', suml2: 'f32', w: 'f32', slx: 'f32', sl2: 'f32',
  });
  const { get, set } = f;
  const x = (i: Code) => loadF32(at4(get('xo'), i));
  const I = get('i');
  const li = (i: Code) => loadI32(at4(i32(LI), i));
  const lo = isub(i32(0), get('nmax'));
  const hi = isub(get('nmax'), i32(1));
  const body = f.body(
    ...signedMaxOrZero(f, x),
    set('iscale', fdiv(itof(isub(i32(0), get('nmax'))), get('max'))),
    set('sumlx', f32(0)), set('suml2', f32(0)),
    f.for('i', i32(0), get('n'),
      ...clamp(nearestInt(fmul(get('iscale'), x(I))), lo, hi, (c) => set('l', c), get('l')),
      storeI32(at4(i32(LI), I), get('l')),
      set('w', fmul(x(I), x(I))),
      set('sumlx', fadd(get('sumlx'), fmul(fmul(get('w'), x(I)), itof(get('l'))))),
      set('suml2', fadd(get('suml2'), fmul(fmul(get('w'), itof(get('l'))), itof(get('l')))))),
    f.for('itry', i32(0), i32(5),
      set('changed', i32(0)),
      f.for('i', i32(0), get('n'),
        set('w', fmul(x(I), x(I))),
        set('li', li(I)),
        set('slx', fsub(get('sumlx'), fmul(fmul(get('w'), x(I)), itof(get('li'))))),
        if_(fgt(get('slx'), f32(0)), [
          set('sl2', fsub(get('suml2'), fmul(fmul(get('w'), itof(get('li'))), itof(get('li'))))),
          ...clamp(nearestInt(fdiv(fmul(x(I), get('sl2')), get('slx'))), lo, hi, (c) => set('l', c), get('l')),
          if_(ine(get('l'), get('li')), [
            set('slx', fadd(get('slx'), fmul(fmul(get('w'), x(I)), itof(get('l'))))),
            set('sl2', fadd(get('sl2'), fmul(fmul(get('w'), itof(get('l'))), itof(get('l'))))),
            if_(fgt(get('sl2'), f32(0)), [
              if_(fgt(fmul(fmul(get('slx'), get('slx')), get('suml2')), fmul(fmul(get('sumlx'), get('sumlx')), get('sl2'))), [
                storeI32(at4(i32(LI), I), get('l')),
                set('sumlx', get('slx')), set('suml2', get('sl2')),
                set('changed', i32(1)),
              ]),
            ]),
          ]),
        ])),
      // if (!n_changed) break: jump past the remaining tries
      if_(ieqz(get('changed')), [set('itry', i32(5))])),
    f.for('i', i32(0), get('n'), storeU8(at1(get('lo'), I), iadd(li(I), get('nmax')))),
    select(fdiv(get('sumlx'), get('suml2')), f32(0), fgt(get('suml2'), f32(0))),
  );
  return [f, body];
}

/** The search kernels, in module order (their call indices). */
export const SEARCH_KERNELS = [qkx2, qx, q3];
