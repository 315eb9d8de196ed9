/**
 * Node side of convert: open the input (file or folder), plan, write atomically next to or into
 * the output location, and optionally verify by reading the output back.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { ModelwiseError } from '../errors.js';
import { openModel, locateSource, locateTree, finalize, type OpenedModel } from '../inspect/inspect.js';
import { planConversion, runConversion, type ConvertOptions, type ConvertPlan } from '../convert/convert.js';
import { hfGgufOptions } from '../convert/hf/index.js';
import { ggufSourceOptions } from '../convert/gguf-source.js';
import { toF32 } from '../convert/dtype-codec.js';
import type { ModelReport } from '../types.js';
import { DirTree } from './dir-tree.js';
import { FileSource } from './file-source.js';
import { FileSinkFactory } from './file-sink.js';
import { QuantPool } from './quant-pool.js';

/** Dtypes whose values compare as floats in --verify (others compare byte for byte). */
const FLOATABLE = /^(f64|f32|f16|bf16|i8|i16|i32|i64|u8|u16|u32|u64|qint8|quint8|qint32|q\d|q\d_k|iq|tq|mxfp|nvfp)/;

export interface ConvertRequest {
  to: 'safetensors' | 'gguf';
  /** Output file (or base path for shards); default: next to the input. */
  output?: string;
  dtype?: 'f32' | 'f16' | 'bf16';
  quant?: string;
  maxShardSize?: number;
  dryRun?: boolean;
  verify?: boolean;
  onProgress?: ConvertOptions['onProgress'];
  /** Quantization threads (default: all cores). */
  threads?: number;
}

export interface VerifyRow {
  name: string;
  maxAbs: number;
  rms: number;
}

export interface ConvertResult {
  input: string;
  plan: ConvertPlan;
  outputs: string[];
  written: boolean;
  verify?: VerifyRow[];
}

async function open(path: string): Promise<{ model: OpenedModel; report: ModelReport; close: () => Promise<void> }> {
  const st = await stat(path).catch(() => {
    throw new ModelwiseError('NOT_FOUND', 'no such file or folder', { file: path });
  });
  let loc;
  let source: FileSource | undefined;
  if (st.isDirectory()) loc = await locateTree(new DirTree(path), path.replace(/\/+$/, ''));
  else {
    source = await FileSource.open(path);
    loc = await locateSource(source, { path, kind: 'file', tree: new DirTree(dirname(path)), treePath: basename(path) });
  }
  const model = await openModel(loc.id, loc.probe, loc.tree, {});
  if (!model.impl.inspect) throw new ModelwiseError('UNSUPPORTED', `${path}: reading ${loc.id.format?.name} is not implemented yet`);
  const report = finalize(loc.id, await model.impl.inspect(model.input));
  return { model, report, close: async () => source?.close() };
}

/** Convert a local model file or folder. */
export async function convertPath(input: string, req: ConvertRequest): Promise<ConvertResult> {
  const { model, report, close } = await open(input);
  try {
    const outPath = resolve(req.output ?? defaultOutput(input, req.to, req.quant));
    const outDir = dirname(outPath);
    const baseName = basename(outPath).replace(/\.(safetensors|gguf)$/i, '');
    const opts: ConvertOptions = { to: req.to, dtype: req.dtype, quant: req.quant, maxShardSize: req.maxShardSize, baseName, onProgress: req.onProgress };
    if (req.to === 'gguf') {
      const g = report.format.id === 'gguf' ? await ggufSourceOptions(model) : await hfGgufOptions(model, report);
      if (g) opts.gguf = g;
    }
    const plan = planConversion(report, opts);
    const outputs = plan.files.map((f) => resolve(outDir, f.name));
    if (req.dryRun) return { input, plan, outputs, written: false };
    const inputs = [resolve(input), ...(report.files ?? []).map((f) => resolve(f.path))];
    const pool = new QuantPool(req.threads);
    try {
      await runConversion(model, report, plan, { ...opts, quantize: (t, v, r) => pool.quantize(t, v, r) }, new FileSinkFactory(outDir, inputs));
    } finally {
      await pool.close();
    }
    const result: ConvertResult = { input, plan, outputs, written: true };
    if (req.verify) result.verify = await verify(model, report, plan, outputs);
    return result;
  } finally {
    await close();
  }
}

function defaultOutput(input: string, to: string, quant?: string): string {
  const base = basename(input.replace(/\/+$/, ''));
  const stem = base.slice(0, base.length - extname(base).length) || base;
  const suffix = to === 'gguf' && quant ? `-${quant.toUpperCase()}` : '';
  return resolve(dirname(resolve(input)), `${stem}${suffix}.${to}`);
}

/** Read the output back and compare each tensor with the source values. */
async function verify(model: OpenedModel, report: ModelReport, plan: ConvertPlan, outputs: string[]): Promise<VerifyRow[]> {
  const rows: VerifyRow[] = [];
  const srcByName = new Map(report.tensors.items.map((t) => [t.name, t]));
  const entry = outputs.find((o) => o.endsWith('.index.json')) ?? outputs[0]!;
  const out = await open(entry);
  try {
    const outByName = new Map(out.report.tensors.items.map((t) => [t.name, t]));
    for (const t of plan.tensors) {
      const s = srcByName.get(t.source)!;
      const o = outByName.get(t.name);
      if (!o) throw new ModelwiseError('MALFORMED', `verify: tensor ${t.name} is missing from the output`);
      const n = t.shape.reduce((a, b) => a * b, 1);
      const rawA = await model.impl.readTensor!(model.input, s);
      const rawB = await out.model.impl.readTensor!(out.model.input, o);
      if (!FLOATABLE.test(s.dtype) || !FLOATABLE.test(o.dtype)) {
        // Complex, boolean and other non-float data: compare the bytes.
        const same = rawA.length === rawB.length && rawA.every((x, i) => x === rawB[i]);
        rows.push({ name: t.name, maxAbs: same ? 0 : Infinity, rms: same ? 0 : Infinity });
        continue;
      }
      const a = toF32(s.dtype, rawA, n);
      const b = toF32(o.dtype, rawB, n);
      let maxAbs = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        const d = Math.abs(a[i]! - b[i]!);
        if (d > maxAbs || Number.isNaN(d)) maxAbs = Number.isNaN(d) ? (Number.isNaN(a[i]!) && Number.isNaN(b[i]!) ? maxAbs : Infinity) : d;
        if (!Number.isNaN(d)) sq += d * d;
      }
      rows.push({ name: t.name, maxAbs, rms: Math.sqrt(sq / Math.max(1, n)) });
    }
  } finally {
    await out.close();
  }
  return rows;
}
