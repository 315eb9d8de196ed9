/**
 * Deterministic float32 test rows for the quantizer bit-exactness tests: zeros, tiny values and
 * subnormals, exact ties, f16-overflowing values, heavy tails, constant rows, mixed scales.
 */

import { rng } from '../helpers/random.js';

export { rng };

/** Standard normal sampler (Box–Muller) on a seeded PRNG. */
export function normal(seed: number): () => number {
  const u = rng(seed);
  return () => {
    let a = u();
    while (a === 0) a = u();
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
  };
}

export interface RowCase {
  name: string;
  rows: Float32Array;
  rowLength: number;
}

function fill(n: number, f: (i: number) => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}

/** The standard set of cases for one row length (several rows each). */
export function rowCases(rowLength: number, nrows: number, seed: number): RowCase[] {
  const n = rowLength * nrows;
  const g = normal(seed);
  const u = rng(seed ^ 0x9e3779b9);
  const cases: RowCase[] = [];
  const add = (name: string, rows: Float32Array) => cases.push({ name: `${name} (${nrows}×${rowLength})`, rows, rowLength });

  add('normal', fill(n, () => g()));
  add('normal σ=0.02', fill(n, () => 0.02 * g()));
  add('zeros mixed in', fill(n, (i) => (i % 3 === 0 || u() < 0.2 ? 0 : g())));
  add('zero sub-blocks', fill(n, (i) => ((i >> 4) % 3 === 1 || (i >> 5) % 5 === 2 ? 0 : g())));
  add('all zero', new Float32Array(n));
  add('negative zero', fill(n, () => -0));
  add('tiny 1e-30', fill(n, () => 1e-30 * g()));
  add('subnormal', fill(n, (i) => (i % 7 === 0 ? 0 : (u() < 0.5 ? -1 : 1) * Math.floor(u() * 2000) * 1.401298464324817e-45)));
  add('subnormal + normal', fill(n, (i) => (i % 64 === 0 ? g() : 1e-41 * g())));
  add('ties: halves', fill(n, () => Math.round(u() * 40 - 20) / 2));
  add('ties: quarters', fill(n, () => Math.round(u() * 64 - 32) / 4));
  add('ties: 127 grid', fill(n, (i) => (i % 32 === 0 ? 127 : Math.round(u() * 254 - 127) + 0.5)));
  add('ties: 8 grid', fill(n, (i) => (i % 32 === 0 ? -8 : Math.round(u() * 16 - 8) + (u() < 0.5 ? 0.5 : 0))));
  add('small integers', fill(n, () => Math.round(u() * 6 - 3)));
  add('f16 overflow ±1e5', fill(n, (i) => (i % 17 === 0 ? (u() < 0.5 ? -1e5 : 1e5) : g())));
  add('f16 overflow ±7e4', fill(n, (i) => (i % 29 === 3 ? (u() < 0.5 ? -7e4 : 7e4) : 100 * g())));
  add('near f16 max', fill(n, (i) => [65504, -65504, 65520, -65519.99, 6e4, 65535][i % 6] * (u() < 0.9 ? 1 : u())));
  add('large 1e30', fill(n, () => 1e30 * g()));
  add('heavy tails', fill(n, () => (u() < 0.004 ? (u() < 0.5 ? -1e3 : 1e3) : g())));
  add('cauchy', fill(n, () => Math.tan(Math.PI * (u() - 0.5))));
  add('constant 0.5', fill(n, () => 0.5));
  add('constant -3', fill(n, () => -3));
  add('all positive', fill(n, () => Math.abs(g()) + 0.1));
  add('all negative', fill(n, () => -Math.abs(g()) - 0.1));
  add('mixed scales', fill(n, (i) => 10 ** (((i >> 4) % 13) - 6) * g()));
  add('uniform', fill(n, () => u() * 2 - 1));
  add('sparse', fill(n, () => (u() < 0.05 ? g() : 0)));
  add('one spike per block', fill(n, (i) => (i % 32 === 5 ? 50 : 0.01 * g())));
  return cases;
}
