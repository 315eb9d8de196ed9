/**
 * The scale searches shared by the K-quants (ggml-quants.c `make_qkx2_quants`, `make_qx_quants`
 * with rmse_type 1 and no weights, `make_q3_quants` with do_rmse), float32-exact.
 *
 * Speed-up that keeps the result identical: a search candidate whose quantized levels equal those
 * of the candidate evaluated just before it has the same sums, so the same error; it cannot beat
 * the best (the comparison is strict and the best only improves), so it is skipped.
 */
import { GROUP_MAX_EPS, nearestInt } from './fp.js';

const fround = Math.fround;

/** Scratch (module-level; quantizers never run re-entrantly within one thread). */
const XM = new Float32Array(32);
const LAUX = new Uint8Array(128);
const LI = new Int8Array(128);
const W2 = new Float32Array(32);
const WX = new Float32Array(32);

/** Numerators `rmin + rdelta·is + nmax` of make_qkx2_quants' iscale candidates, is = 0..nstep. */
export function qkxSteps(rmin: number, rdelta: number, nstep: number, nmax: number): Float64Array {
  const r = new Float64Array(nstep + 1);
  const fr = fround(rmin);
  const fd = fround(rdelta);
  for (let is = 0; is <= nstep; is++) r[is] = fround(fround(fr + fround(fd * is)) + nmax);
  return r;
}

/** The `the_min` output of the last makeQkx2 call (already negated, as C returns it). */
export let qkxMin = 0;

/**
 * make_qkx2_quants(n, nmax, x+xo, w, L+lo, &the_min, Laux, rmin, rdelta, nstep, useMad):
 * asymmetric (scale, min) search. `steps` = qkxSteps(...) (nstep = steps.length − 1).
 */
export function makeQkx2(
  n: number, nmax: number, x: Float32Array, xo: number, w: Float32Array,
  L: Uint8Array, lo: number, steps: Float64Array, useMad: boolean,
): number {
  let min = x[xo];
  let max = x[xo];
  let sumW = w[0];
  let sumX = fround(sumW * x[xo]);
  for (let i = 1; i < n; i++) {
    const v = x[xo + i];
    if (v < min) min = v;
    if (v > max) max = v;
    const wi = w[i];
    sumW = fround(sumW + wi);
    sumX = fround(sumX + fround(wi * v));
  }
  if (min > 0) min = 0;
  if (max === min) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    qkxMin = -min;
    return 0;
  }
  let range = fround(max - min);
  let iscale = fround(nmax / range);
  let scale = fround(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const xm = fround(x[xo + i] - min);
    XM[i] = xm;
    let l = nearestInt(fround(iscale * xm));
    l = l < 0 ? 0 : l > nmax ? nmax : l;
    L[lo + i] = l;
    let diff = fround(fround(fround(scale * l) + min) - x[xo + i]);
    diff = useMad ? Math.abs(diff) : fround(diff * diff);
    bestError = fround(bestError + fround(w[i] * diff));
  }
  const nstep = steps.length - 1;
  for (let is = 0; is <= nstep; is++) {
    // C keeps using the running best `min` here, so x − min and max − min follow it
    iscale = fround(steps[is] / range);
    let changed = is === 0;
    for (let i = 0; i < n; i++) {
      let l = nearestInt(fround(iscale * XM[i]));
      l = l < 0 ? 0 : l > nmax ? nmax : l;
      if (LAUX[i] !== l) {
        LAUX[i] = l;
        changed = true;
      }
    }
    if (!changed) continue;
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = LAUX[i];
      const wl = fround(w[i] * l);
      sumL = fround(sumL + wl);
      sumL2 = fround(sumL2 + fround(wl * l));
      sumXL = fround(sumXL + fround(wl * x[xo + i]));
    }
    const D = fround(fround(sumW * sumL2) - fround(sumL * sumL));
    if (D > 0) {
      let thisScale = fround(fround(fround(sumW * sumXL) - fround(sumX * sumL)) / D);
      let thisMin = fround(fround(fround(sumL2 * sumX) - fround(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fround(sumXL / sumL2);
      }
      let curError = 0;
      if (useMad) {
        for (let i = 0; i < n; i++) {
          const diff = fround(fround(fround(thisScale * LAUX[i]) + thisMin) - x[xo + i]);
          curError = fround(curError + fround(w[i] * Math.abs(diff)));
        }
      } else {
        for (let i = 0; i < n; i++) {
          const diff = fround(fround(fround(thisScale * LAUX[i]) + thisMin) - x[xo + i]);
          curError = fround(curError + fround(w[i] * fround(diff * diff)));
        }
      }
      if (curError < bestError) {
        for (let i = 0; i < n; i++) L[lo + i] = LAUX[i];
        bestError = curError;
        scale = thisScale;
        const moved = thisMin !== min;
        min = thisMin;
        if (moved) {
          range = fround(max - min);
          for (let i = 0; i < n; i++) XM[i] = fround(x[xo + i] - min);
        }
      }
    }
  }
  qkxMin = -min;
  return scale;
}

/** `-(nmax + 0.1f·is)` for is = −9..9 (index is+9), the make_qx_quants candidates. */
export function qxSteps(nmax: number): Float64Array {
  const r = new Float64Array(19);
  const f01 = fround(0.1);
  for (let is = -9; is <= 9; is++) r[is + 9] = -fround(nmax + fround(f01 * is));
  return r;
}

/**
 * make_qx_quants(n, nmax, x+xo, L+lo, rmse_type = 1, qw = NULL): symmetric scale search with
 * weights x². L receives l + nmax. `steps` = qxSteps(nmax).
 */
export function makeQx(n: number, nmax: number, x: Float32Array, xo: number, L: Uint8Array, lo: number, steps: Float64Array): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    const a = Math.abs(v);
    if (a > amax) {
      amax = a;
      max = v;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    return 0;
  }
  let iscale = fround(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    let l = nearestInt(fround(iscale * v));
    l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
    L[lo + i] = l + nmax;
    LI[i] = l;
    const w = fround(v * v);
    const wx = fround(w * v);
    W2[i] = w;
    WX[i] = wx;
    sumlx = fround(sumlx + fround(wx * l));
    suml2 = fround(suml2 + fround(fround(w * l) * l));
  }
  let scale = suml2 !== 0 ? fround(sumlx / suml2) : 0;
  let best = fround(scale * sumlx);
  for (let k = 0; k < 19; k++) {
    if (k === 9) continue;
    iscale = fround(steps[k] / max);
    let changed = false;
    for (let i = 0; i < n; i++) {
      let l = nearestInt(fround(iscale * x[xo + i]));
      l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
      if (LI[i] !== l) {
        LI[i] = l;
        changed = true;
      }
    }
    if (!changed) continue;
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const l = LI[i];
      sumlx = fround(sumlx + fround(WX[i] * l));
      suml2 = fround(suml2 + fround(fround(W2[i] * l) * l));
    }
    if (suml2 > 0 && fround(sumlx * sumlx) > fround(best * suml2)) {
      for (let i = 0; i < n; i++) L[lo + i] = LI[i] + nmax;
      scale = fround(sumlx / suml2);
      best = fround(scale * sumlx);
    }
  }
  return scale;
}

/**
 * make_q3_quants(n, nmax, x+xo, L+lo, do_rmse = true): symmetric search refined by up to five
 * passes of coordinate descent. L receives l + nmax.
 */
export function makeQ3(n: number, nmax: number, x: Float32Array, xo: number, L: Uint8Array, lo: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    const a = Math.abs(v);
    if (a > amax) {
      amax = a;
      max = v;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    return 0;
  }
  const iscale = fround(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    let l = nearestInt(fround(iscale * v));
    l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
    LI[i] = l;
    const w = fround(v * v);
    W2[i] = w;
    WX[i] = fround(w * v);
    sumlx = fround(sumlx + fround(WX[i] * l));
    suml2 = fround(suml2 + fround(fround(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let nChanged = 0;
    for (let i = 0; i < n; i++) {
      const w = W2[i];
      const wx = WX[i];
      const li = LI[i];
      let slx = fround(sumlx - fround(wx * li));
      if (slx > 0) {
        let sl2 = fround(suml2 - fround(fround(w * li) * li));
        let nl = nearestInt(fround(fround(x[xo + i] * sl2) / slx));
        nl = nl < -nmax ? -nmax : nl > nmax - 1 ? nmax - 1 : nl;
        if (nl !== li) {
          slx = fround(slx + fround(wx * nl));
          sl2 = fround(sl2 + fround(fround(w * nl) * nl));
          if (sl2 > 0 && fround(fround(slx * slx) * suml2) > fround(fround(sumlx * sumlx) * sl2)) {
            LI[i] = nl;
            sumlx = slx;
            suml2 = sl2;
            nChanged++;
          }
        }
      }
    }
    if (nChanged === 0) break;
  }
  for (let i = 0; i < n; i++) L[lo + i] = LI[i] + nmax;
  return suml2 > 0 ? fround(sumlx / suml2) : 0;
}
