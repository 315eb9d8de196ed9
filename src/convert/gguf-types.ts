/**
 * Which ggml type each tensor gets in a GGUF output: a float dtype (`--dtype`), llama-quantize's
 * per-tensor choices for a file type (`--quant Q4_K_M`, `--quant Q8_0`: ./quant/policy.ts), or one
 * k-quant type for every quantizable weight (`--quant Q4_K`, like llama-quantize --pure).
 */
import { ModelwiseError } from '../errors.js';
import { GGML_BY_NAME } from '../dtypes.js';
import type { ModelReport } from '../types.js';
import type { ConvertOptions } from './convert.js';
import { FILE_TYPES, planTensorTypes, type FileType, type ModelFacts } from './quant/policy.js';

/** Pure tensor types that are not llama-quantize file names: the file type whose default they are. */
const PURE: Record<string, FileType> = { Q3_K: 'Q3_K_M', Q4_K: 'Q4_K_M', Q5_K: 'Q5_K_M' };

export const QUANT_NAMES = [...Object.keys(FILE_TYPES), ...Object.keys(PURE)];

const FLOAT = new Set(['f32', 'f16', 'bf16', 'f64']);

/** Map source tensor name → output ggml type name. */
export function planGgufTypes(report: ModelReport, opts: ConvertOptions): Map<string, string> {
  const out = new Map<string, string>();
  const neSource = report.format.id === 'gguf' || report.format.id === 'ggml';
  const quant = opts.quant?.toUpperCase();
  if (quant !== undefined && !QUANT_NAMES.includes(quant)) {
    throw new ModelwiseError('USAGE', `unknown quantization type ${opts.quant}`, { expected: QUANT_NAMES.join(', ') });
  }
  const rename = opts.gguf?.rename ?? ((n: string) => n);
  const items = report.tensors.items.filter((t) => rename(t.name) !== undefined && t.shape?.every((d) => typeof d === 'number'));
  const isFloat = (d: string) => FLOAT.has(d) || GGML_BY_NAME.get(d)?.quantized === true;
  const source = (d: string) => (d === 'f64' || GGML_BY_NAME.get(d)?.quantized ? 'f32' : d);
  if (quant === undefined) {
    for (const t of report.tensors.items) {
      const ne = t.shape ?? [];
      if (!isFloat(t.dtype)) out.set(t.name, t.dtype);
      else out.set(t.name, ne.length >= 2 && opts.dtype ? opts.dtype : source(t.dtype) === 'f32' || ne.length < 2 ? 'f32' : t.dtype);
    }
    return out;
  }
  const fileType = (PURE[quant] ?? quant) as FileType;
  const byGguf = new Map<string, string>();
  const tensors = items.map((t) => {
    const shape = t.shape as number[];
    const ne = neSource ? shape : [...shape].reverse();
    const name = rename(t.name)!;
    byGguf.set(name, t.name);
    return { name, shape: ne, type: isFloat(t.dtype) ? (ne.length >= 2 ? source(t.dtype) : 'f32') : t.dtype };
  });
  const plan = planTensorTypes(fileType, tensors, modelFacts(report, opts, tensors.map((t) => t.name)), { pure: quant in PURE });
  for (const p of plan) out.set(byGguf.get(p.name)!, p.type);
  return out;
}

/** The facts llama-quantize's policy reads, from the GGUF metadata being written or the source report. */
function modelFacts(report: ModelReport, opts: ConvertOptions, names: string[]): ModelFacts {
  const kv = new Map(opts.gguf?.kvs ?? []);
  const arch = (kv.get('general.architecture')?.value as string | undefined) ?? report.architecture ?? (typeof report.metadata['general.architecture'] === 'string' ? (report.metadata['general.architecture'] as string) : 'unknown');
  const num = (k: string, fallback?: unknown): number | undefined => {
    const v = kv.get(`${arch}.${k}`)?.value ?? fallback;
    return typeof v === 'number' ? v : undefined;
  };
  const hp = report.hyperParameters ?? {};
  let nLayer = num('block_count', hp.layers) ?? 0;
  if (!nLayer) for (const n of names) nLayer = Math.max(nLayer, (Number(/^blk\.(\d+)\./.exec(n)?.[1] ?? -1)) + 1);
  return { arch, nLayer, nHead: num('attention.head_count', hp.heads), nHeadKv: num('attention.head_count_kv', hp.kvHeads), nExpert: num('expert_count', hp.experts) };
}
