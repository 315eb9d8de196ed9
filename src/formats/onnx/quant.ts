/**
 * Quantization of an ONNX model in words, from its operators and the dtypes of the initializers they
 * read (https://onnxruntime.ai/docs/performance/model-optimizations/quantization.html):
 * - QDQ: QuantizeLinear / DequantizeLinear pairs around float ops ("QDQ int8");
 * - QOperator: QLinearConv, QLinearMatMul, QGemm … (integer kernels with scales/zero points as inputs);
 * - dynamic: MatMulInteger / ConvInteger (+ DynamicQuantizeLinear);
 * - weight-only block quantization: com.microsoft MatMulNBits (`bits`, `block_size`), GatherBlockQuantized;
 * - low-bit storage types: INT4 / UINT4 / FLOAT4E2M1 / INT2 / UINT2 and FLOAT8 initializers.
 */
import type { OnnxModel, OnnxNode } from './model.js';
import { onnxDtype, onnxDtypeName } from './dtypes.js';

export interface OnnxQuantization {
  summary: string;
  schemes: string[];
  ops: Record<string, number>;
  weightDtypes?: Record<string, number>;
  activationDtypes?: Record<string, number>;
  bits?: number[];
  blockSizes?: number[];
}

/** Word for a stored integer dtype ("int8", "uint4", "fp8 e4m3fn"). */
function word(dtype: string): string {
  const m = /^(u|i)(\d+)$/.exec(dtype);
  if (m) return `${m[1] === 'u' ? 'uint' : 'int'}${m[2]}`;
  if (dtype.startsWith('f8')) return `fp8 ${dtype.slice(2)}`;
  if (dtype === 'f4e2m1') return 'fp4 e2m1';
  return dtype;
}

function bump(r: Record<string, number>, k: string, n = 1): void {
  r[k] = (r[k] ?? 0) + n;
}

function top(r: Record<string, number>): string | undefined {
  return Object.entries(r).sort((a, b) => b[1] - a[1])[0]?.[0];
}

function list(r: Record<string, number>): string {
  return Object.entries(r).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(', ');
}

/** Describe the quantization of a walked model; undefined when nothing is quantized. */
export function describeOnnxQuantization(m: OnnxModel): OnnxQuantization | undefined {
  const dtypeOf = new Map<string, string>();
  const dimsOf = new Map<string, number[]>();
  for (const t of m.tensors) {
    dtypeOf.set(t.name, onnxDtypeName(t.dataType));
    dimsOf.set(t.name, t.dims);
  }
  const ops: Record<string, number> = {};
  for (const n of m.quantNodes) bump(ops, n.opType);
  const schemes: string[] = [];
  const parts: string[] = [];
  const weights: Record<string, number> = {};
  const acts: Record<string, number> = {};
  const weightOf = (n: OnnxNode, i: number) => {
    const d = dtypeOf.get(n.inputs[i] ?? '');
    if (d) bump(weights, d);
    return d;
  };

  // QDQ
  const dq = m.quantNodes.filter((n) => n.opType === 'DequantizeLinear');
  const q = m.quantNodes.filter((n) => n.opType === 'QuantizeLinear');
  if (dq.length > 0 || q.length > 0) {
    const w: Record<string, number> = {};
    let perChannel = 0;
    let blocked = 0;
    for (const n of dq) {
      const d = dtypeOf.get(n.inputs[0] ?? '');
      if (d) bump(w, d);
      const scale = dimsOf.get(n.inputs[1] ?? '');
      if (n.ints.block_size) blocked++;
      else if (scale && scale.length > 0 && scale.reduce((a, b) => a * b, 1) > 1) perChannel++;
    }
    for (const n of q) {
      const zp = dtypeOf.get(n.inputs[2] ?? '');
      const out = n.ints.output_dtype ? onnxDtype(n.ints.output_dtype)?.name : undefined;
      bump(acts, zp ?? out ?? 'u8');
    }
    for (const [k, v] of Object.entries(w)) bump(weights, k, v);
    const main = top(w) ?? top(acts) ?? 'u8';
    schemes.push(`QDQ ${word(main)}`);
    const detail = [`${q.length} QuantizeLinear / ${dq.length} DequantizeLinear`];
    if (Object.keys(w).length) detail.push(`weights ${Object.keys(w).join('/')}${perChannel ? `, ${perChannel} per-channel` : ''}${blocked ? `, ${blocked} blockwise` : ''}`);
    if (Object.keys(acts).length) detail.push(`activations ${Object.keys(acts).join('/')}`);
    parts.push(`QDQ ${word(main)} (${detail.join('; ')})`);
  }

  // QOperator
  const qlinear = m.quantNodes.filter((n) => /^QLinear|^QGemm$|^QAttention$/.test(n.opType));
  if (qlinear.length > 0) {
    const h: Record<string, number> = {};
    for (const n of qlinear) {
      bump(h, n.opType);
      // weight operand: QLinearConv/QLinearMatMul/QGemm input 3
      if (/^(QLinearConv|QLinearMatMul|QGemm)$/.test(n.opType)) weightOf(n, 3);
    }
    const d = top(weights) ?? 'u8';
    schemes.push(`QOperator ${word(d)}`);
    parts.push(`QOperator ${word(d)} (${list(h)})`);
  }

  // dynamic integer ops
  const integer = m.quantNodes.filter((n) => /^(MatMulInteger|ConvInteger|MatMulIntegerToFloat|DynamicQuantizeMatMul|DynamicQuantizeLinear|DynamicQuantizeLSTM)$/.test(n.opType));
  if (integer.length > 0) {
    const h: Record<string, number> = {};
    const w: Record<string, number> = {};
    for (const n of integer) {
      bump(h, n.opType);
      if (n.opType !== 'DynamicQuantizeLinear') {
        const d = weightOf(n, 1);
        if (d) bump(w, d);
      }
    }
    const d = top(w) ?? 'u8';
    schemes.push(`dynamic ${word(d)}`);
    parts.push(`dynamic ${word(d)} (${list(h)})`);
  }

  // weight-only block quantization (com.microsoft)
  const nbits = m.quantNodes.filter((n) => /^(MatMulNBits|GatherBlockQuantized|MatMulBnb4|MatMulFpQ4|QMoE)$/.test(n.opType));
  const bits = new Set<number>();
  const blocks = new Set<number>();
  if (nbits.length > 0) {
    const h: Record<string, number> = {};
    for (const n of nbits) {
      bump(h, n.opType);
      bits.add(n.ints.bits ?? 4); // MatMulNBits defaults to 4 bits; Bnb4/FpQ4/GatherBlockQuantized are 4-bit
      if (n.ints.block_size) blocks.add(n.ints.block_size);
      weightOf(n, n.opType === 'GatherBlockQuantized' ? 0 : 1);
    }
    const b = [...bits].sort((x, y) => x - y);
    schemes.push(`${b.join('/')}-bit blockwise`);
    parts.push(`${b.join('/')}-bit weight-only${blocks.size ? `, block ${[...blocks].sort((x, y) => x - y).join('/')}` : ''} (${list(h)})`);
  }

  // low-bit / fp8 storage types of initializers, when no operator above explains them
  const low: Record<string, number> = {};
  for (const t of m.tensors) {
    const d = onnxDtype(t.dataType);
    if (d && d.bits > 0 && (d.bits < 8 || d.name.startsWith('f8'))) bump(low, d.name, t.dims.reduce((a, b) => a * b, 1));
  }
  if (Object.keys(low).length > 0) {
    schemes.push(...Object.keys(low).filter((d) => !schemes.some((s) => s.includes(word(d)))).map((d) => `${word(d)} storage`));
    parts.push(`${Object.keys(low).map(word).join(', ')} initializers (${Object.entries(low).map(([k, n]) => `${k}: ${n} elements`).join(', ')})`);
  }

  if (parts.length === 0) return undefined;
  return {
    summary: parts.join('; '),
    schemes,
    ops,
    ...(Object.keys(weights).length ? { weightDtypes: weights } : {}),
    ...(Object.keys(acts).length ? { activationDtypes: acts } : {}),
    ...(bits.size ? { bits: [...bits] } : {}),
    ...(blocks.size ? { blockSizes: [...blocks] } : {}),
  };
}
