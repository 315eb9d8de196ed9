/** Summaries shared by inspectors and the report driver: element counts, dtype mix in words. */
import { bitsPerElement, GGML_BY_NAME } from '../dtypes.js';
import type { BigNum, TensorInfo } from '../types.js';

/** Number of elements of a shape; undefined when symbolic or unknown. */
export function elementCount(shape: TensorInfo['shape']): number | undefined {
  if (shape === null) return undefined;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || d < 0) return undefined;
    n *= d;
  }
  return n;
}

/** A count as a JSON-safe number, or a decimal string beyond 2^53. */
export function big(n: number): BigNum {
  return Number.isSafeInteger(n) ? n : BigInt(Math.round(n)).toString();
}

/** Words for a dtype mix: "mostly q4_k, some q6_k, 4.89 bits/weight". */
export function describeQuantization(byDtype: Record<string, number>): { summary: string; bitsPerWeight?: number } | undefined {
  const total = Object.values(byDtype).reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  let bits = 0;
  let known = true;
  for (const [d, n] of Object.entries(byDtype)) {
    const b = bitsPerElement(d);
    if (b === undefined) known = false;
    else bits += b * n;
  }
  const sorted = Object.entries(byDtype).sort((a, b) => b[1] - a[1]);
  const parts = sorted.map(([d, n], i) => {
    const share = n / total;
    const word = sorted.length === 1 ? 'all' : i === 0 && share >= 0.5 ? 'mostly' : share >= 0.1 ? 'some' : 'a little';
    return `${word} ${d}`;
  });
  const bpw = known ? Math.round((bits / total) * 100) / 100 : undefined;
  return { summary: parts.join(', ') + (bpw !== undefined ? `, ${bpw} bits/weight` : ''), ...(bpw !== undefined ? { bitsPerWeight: bpw } : {}) };
}

/** Whether a canonical dtype is a quantized storage type. */
export const isQuantizedDtype = (d: string): boolean => (GGML_BY_NAME.get(d)?.quantized ?? false) || /^(q|iq|tq|mxfp|nvfp|qint|quint|int4|uint4|u4|i4)/.test(d);

