/**
 * convert: weights to safetensors or GGUF, streaming tensor by tensor. The plan (names, dtypes,
 * shapes, sizes) is made from `inspect`'s report before anything is written, so each output header
 * is written first and then each tensor once: memory stays within about twice the largest tensor.
 * Nothing in the model is executed; PyTorch pickles are read by the symbolic walker, and only
 * tensor-rebuilding globals are honoured (the format's readTensor refuses anything else).
 */
import { ModelwiseError } from '../errors.js';
import { GGML_BY_NAME, LLAMA_FTYPES } from '../dtypes.js';
import type { OpenedModel } from '../inspect/inspect.js';
import { elementCount } from '../inspect/summary.js';
import type { ModelReport, TensorInfo } from '../types.js';
import { readExact } from '../io/source.js';
import { fromF32, storedBytes, toF32 } from './dtype-codec.js';
import type { Sink, SinkFactory } from './sink.js';
import { SAFETENSORS_DTYPE, safetensorsHeader, type SafetensorsEntry } from './writers/safetensors.js';
import { ggufHeader, type GgufKv, type GgufTensorEntry } from './writers/gguf.js';
import { planGgufTypes } from './gguf-types.js';

export type ConvertTarget = 'safetensors' | 'gguf';

export interface ConvertOptions {
  to: ConvertTarget;
  /** Float dtype of the output (safetensors; GGUF without --quant). */
  dtype?: 'f32' | 'f16' | 'bf16';
  /** GGUF tensor type (Q4_K) or llama-quantize file type (Q4_K_M). */
  quant?: string;
  /** safetensors: split the output above this many bytes (default 5 GB, like transformers). */
  maxShardSize?: number;
  /** Output base name (without extension). */
  baseName: string;
  /** Extra GGUF metadata (architecture, tokenizer …) and a tensor-name mapping (HF → GGUF). */
  gguf?: { kvs: [string, GgufKv][]; rename?: (name: string) => string | undefined; order?: (a: string, b: string) => number; transform?: TensorTransform };
  onProgress?: (p: ConvertProgress) => void;
  /** Parallel quantizer (the Node worker pool); default: quantize on this thread. */
  quantize?: (type: string, values: Float32Array, rowLength: number) => Promise<Uint8Array>;
}

/**
 * Changes a tensor's values on the way (e.g. undoing HF's rotary permutation of q/k). It sees the
 * whole tensor; `applies` (when given) names the tensors it changes, so the others stream in chunks.
 */
export type TensorTransform = ((name: string, values: Float32Array, shape: number[]) => Float32Array) & { applies?: (name: string) => boolean };

export interface ConvertProgress {
  tensor: string;
  index: number;
  count: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface PlannedTensor {
  /** Name in the source. */
  source: string;
  /** Name in the output. */
  name: string;
  from: string;
  to: string;
  /** Output shape: numpy order for safetensors, ggml ne order for GGUF. */
  shape: number[];
  bytes: number;
  file: string;
}

export interface ConvertPlan {
  to: ConvertTarget;
  files: { name: string; size: number }[];
  tensors: PlannedTensor[];
  /** Tied names not written again (Hugging Face convention): name → the name that is written. */
  dropped: { name: string; tiedTo: string }[];
  /** Tensors that cannot be converted (object arrays, strings) with why. */
  skipped: { name: string; reason: string }[];
  outputBytes: number;
}

const GGML_NATIVE = new Set(['f32', 'f16', 'bf16', 'f64', 'i8', 'i16', 'i32', 'i64']);

/** Is the source shape stored in ggml `ne` order (innermost first)? */
function neOrder(report: ModelReport): boolean {
  return report.format.id === 'gguf' || report.format.id === 'ggml';
}

function numericShape(t: TensorInfo): number[] | undefined {
  if (!t.shape || t.shape.some((d) => typeof d !== 'number')) return undefined;
  return t.shape as number[];
}

/** Decide names, dtypes, shapes and files of the output, without writing. */
export function planConversion(report: ModelReport, opts: ConvertOptions): ConvertPlan {
  const tensors: PlannedTensor[] = [];
  const dropped: ConvertPlan['dropped'] = [];
  const skipped: ConvertPlan['skipped'] = [];
  const written = new Set<string>();
  const srcNe = neOrder(report);
  const source = report.tensors.items;
  if (report.tensors.truncated) throw new ModelwiseError('LIMIT_EXCEEDED', `${report.path}: more tensors than the report keeps (${report.tensors.count})`);
  const ggufTypes = opts.to === 'gguf' ? planGgufTypes(report, opts) : undefined;
  for (const t of source) {
    const shape = numericShape(t);
    if (!shape) {
      skipped.push({ name: t.name, reason: `shape ${JSON.stringify(t.shape)} is not concrete` });
      continue;
    }
    const tied = t.tiedWith?.find((n) => written.has(n));
    if (tied) {
      dropped.push({ name: t.name, tiedTo: tied });
      continue;
    }
    const n = elementCount(shape) ?? 0;
    if (opts.to === 'safetensors') {
      const isFloat = /^(f|bf)\d/.test(t.dtype) || GGML_BY_NAME.get(t.dtype)?.quantized === true || t.dtype.startsWith('f8');
      let to = t.dtype;
      if (GGML_BY_NAME.get(t.dtype)?.quantized) to = opts.dtype ?? 'f32';
      else if (opts.dtype && isFloat) to = opts.dtype;
      if (!SAFETENSORS_DTYPE[to]) {
        if (t.dtype === 'qint8' || t.dtype === 'quint8' || t.dtype === 'qint32') to = t.dtype === 'quint8' ? 'u8' : t.dtype === 'qint8' ? 'i8' : 'i32';
        else {
          skipped.push({ name: t.name, reason: `dtype ${t.dtype} has no safetensors equivalent` });
          continue;
        }
      }
      const out = srcNe ? [...shape].reverse() : shape;
      tensors.push({ source: t.name, name: t.name, from: t.dtype, to, shape: out, bytes: storedBytes(to, n)!, file: '' });
    } else {
      const name = opts.gguf?.rename ? opts.gguf.rename(t.name) : t.name;
      if (name === undefined) {
        skipped.push({ name: t.name, reason: 'no GGUF name for this tensor' });
        continue;
      }
      const ne = srcNe ? shape : [...shape].reverse();
      if (ne.length === 0) ne.push(1);
      if (ne.length > 4) {
        skipped.push({ name: t.name, reason: `${ne.length} dimensions (GGUF allows 4)` });
        continue;
      }
      let to = ggufTypes!.get(t.name) ?? t.dtype;
      if (!GGML_BY_NAME.has(to) || (!GGML_BY_NAME.get(to)!.quantized && !GGML_NATIVE.has(to))) to = 'f32';
      const bytes = storedBytes(to, n);
      if (bytes === undefined) throw new ModelwiseError('USAGE', `${t.name}: ${n} elements do not fill ${to} blocks`);
      tensors.push({ source: t.name, name, from: t.dtype, to, shape: ne, bytes, file: '' });
    }
    written.add(t.name);
  }
  if (tensors.length === 0) {
    throw new ModelwiseError('UNSUPPORTED', `${report.path}: the model holds no tensors to convert${skipped.length ? ` (${skipped.length} skipped: ${skipped.slice(0, 3).map((s) => `${s.name}: ${s.reason}`).join('; ')})` : ''}`);
  }
  if (opts.to === 'gguf' && opts.gguf?.order) tensors.sort((a, b) => opts.gguf!.order!(a.name, b.name));
  // Files: one, or shards of at most maxShardSize bytes (safetensors).
  const files: ConvertPlan['files'] = [];
  if (opts.to === 'safetensors') {
    const max = opts.maxShardSize ?? 5e9;
    const groups: PlannedTensor[][] = [[]];
    let size = 0;
    for (const t of tensors) {
      if (size > 0 && size + t.bytes > max) {
        groups.push([]);
        size = 0;
      }
      groups[groups.length - 1]!.push(t);
      size += t.bytes;
    }
    const nfile = groups.length;
    groups.forEach((g, i) => {
      const name = nfile === 1 ? `${opts.baseName}.safetensors` : `${opts.baseName}-${String(i + 1).padStart(5, '0')}-of-${String(nfile).padStart(5, '0')}.safetensors`;
      for (const t of g) t.file = name;
      const header = safetensorsHeader(g.map(toEntry), metadataFor(report));
      files.push({ name, size: header.length + g.reduce((s, t) => s + t.bytes, 0) });
    });
    if (nfile > 1) files.push({ name: `${opts.baseName}.safetensors.index.json`, size: 0 });
  } else {
    const name = `${opts.baseName}.gguf`;
    for (const t of tensors) t.file = name;
    const { header, padding } = ggufHeader(ggufKvs(report, opts, tensors), tensors.map(toGguf));
    files.push({ name, size: header.length + tensors.reduce((s, t, i) => s + t.bytes + padding[i]!, 0) });
  }
  return { to: opts.to, files, tensors, dropped, skipped, outputBytes: files.reduce((s, f) => s + f.size, 0) };
}

const toEntry = (t: PlannedTensor): SafetensorsEntry => ({ name: t.name, dtype: t.to, shape: t.shape, byteLength: t.bytes });
const toGguf = (t: PlannedTensor): GgufTensorEntry => ({ name: t.name, dtype: t.to, ne: t.shape, byteLength: t.bytes });

function metadataFor(report: ModelReport): Record<string, string> {
  return { format: 'pt', 'modelwise.source_format': `${report.format.id}/${report.format.variant}`, 'modelwise.source_file': report.path.split(/[\\/]/).pop() ?? report.path };
}

function ggufKvs(report: ModelReport, opts: ConvertOptions, tensors: PlannedTensor[]): [string, GgufKv][] {
  const kvs: [string, GgufKv][] = opts.gguf?.kvs ? [...opts.gguf.kvs] : [['general.name', { type: 'string', value: opts.baseName }]];
  const have = new Set(kvs.map(([k]) => k));
  if (!have.has('general.quantization_version') && tensors.some((t) => GGML_BY_NAME.get(t.to)?.quantized)) kvs.push(['general.quantization_version', { type: 'u32', value: 2 }]);
  if (!have.has('general.file_type')) {
    const ft = fileTypeId(opts, tensors);
    if (ft !== undefined) kvs.push(['general.file_type', { type: 'u32', value: ft }]);
  }
  if (!have.has('general.source.format')) kvs.push(['general.source.format', { type: 'string', value: `${report.format.id}/${report.format.variant}` }]);
  return kvs;
}

/** Run a plan: write every output file through `sinks`. */
export async function runConversion(model: OpenedModel, report: ModelReport, plan: ConvertPlan, opts: ConvertOptions, sinks: SinkFactory): Promise<void> {
  const readTensor = model.impl.readTensor;
  if (!readTensor) throw new ModelwiseError('UNSUPPORTED', `${report.path}: reading ${report.format.name} tensor data is not implemented yet`);
  const byName = new Map(report.tensors.items.map((t) => [t.name, t]));
  const total = plan.tensors.reduce((s, t) => s + t.bytes, 0);
  let done = 0;
  let index = 0;
  const open: Sink[] = [];
  const scratch = new Scratch();
  try {
    const fileNames = [...new Set(plan.tensors.map((t) => t.file))];
    if (fileNames.length === 0) fileNames.push(plan.files[0]!.name);
    for (const file of fileNames) {
      const group = plan.tensors.filter((t) => t.file === file);
      const sink = await sinks.create(file);
      open.push(sink);
      let padding: number[] = [];
      if (opts.to === 'safetensors') await sink.write(safetensorsHeader(group.map(toEntry), metadataFor(report)));
      else {
        const h = ggufHeader(ggufKvs(report, opts, group), group.map(toGguf));
        padding = h.padding;
        await sink.write(h.header);
      }
      for (let i = 0; i < group.length; i++) {
        const t = group[i]!;
        const src = byName.get(t.source)!;
        const data: TensorData = { whole: () => readTensor(model.input, src), range: await byteRange(model, report, src) };
        const written = await writeTensor(src, data, t, opts, (b) => sink.write(b), scratch);
        if (written !== t.bytes) throw new ModelwiseError('MALFORMED', `tensor ${t.source}: produced ${written} bytes, planned ${t.bytes}`);
        if (padding[i]) await sink.write(new Uint8Array(padding[i]!));
        done += t.bytes;
        opts.onProgress?.({ tensor: t.name, index: ++index, count: plan.tensors.length, bytesDone: done, bytesTotal: total });
      }
    }
    if (opts.to === 'safetensors' && fileNames.length > 1) {
      const index = { metadata: { total_size: total }, weight_map: Object.fromEntries(plan.tensors.map((t) => [t.name, t.file])) };
      const sink = await sinks.create(`${opts.baseName}.safetensors.index.json`);
      open.push(sink);
      await sink.write(new TextEncoder().encode(JSON.stringify(index, null, 2) + '\n'));
    }
    for (const s of open) await s.commit();
  } catch (e) {
    for (const s of open) await s.abort();
    throw e;
  }
}

/**
 * Float32 working set per step (elements): a tensor is converted a slice of whole rows at a time,
 * so beyond its stored bytes only a few slices are in memory, whatever the tensor's size.
 */
const CHUNK_ELEMENTS = 1 << 21;

const INTEGER = new Set(['i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'bool']);

/**
 * Two float32 slice buffers reused from slice to slice and tensor to tensor: fresh ones per slice
 * would be garbage the GC reclaims late, and peak memory would grow with the tensor's size.
 * Slice k uses buffer k % 2, whose previous user (slice k − 2) has been awaited by then.
 */
class Scratch {
  private bufs: Float32Array[] = [];
  get(k: number, n: number): Float32Array {
    const i = k % 2;
    if (!this.bufs[i] || this.bufs[i]!.length < n) this.bufs[i] = new Float32Array(n);
    return this.bufs[i]!;
  }
}

/** A tensor's stored bytes: all at once (the format's readTensor), or by range when they are one plain byte range. */
interface TensorData {
  whole: () => Promise<Uint8Array>;
  range?: (offset: number, length: number) => Promise<Uint8Array>;
}

/** Formats whose readTensor is one byte range of the file (src/formats/read-range.ts, gguf readTensor). */
const BYTE_RANGE_FORMATS = new Set(['safetensors', 'gguf']);
/** Bytes per read when a tensor is copied unchanged by range. */
const COPY_BYTES = 1 << 24;

/** Read the tensor by slices (no whole-tensor buffer) when its data is a plain byte range. */
async function byteRange(model: OpenedModel, report: ModelReport, t: TensorInfo): Promise<TensorData['range']> {
  const probe = model.input.probe;
  if (!probe || !BYTE_RANGE_FORMATS.has(report.format.id) || typeof t.offset !== 'number' || typeof t.byteLength !== 'number') return undefined;
  const source = t.file ? await probe.sibling(t.file) : probe.source;
  if (!source) return undefined; // readTensor names the missing file
  const base = t.offset;
  const size = t.byteLength;
  return (offset, length) => {
    if (offset < 0 || offset + length > size) throw new ModelwiseError('MALFORMED', `read of ${length} bytes at ${offset} outside tensor ${t.name} (${size} bytes)`);
    return readExact(source, base + offset, length, `data of tensor ${t.name}`);
  };
}

/**
 * One tensor from its stored bytes to the planned output dtype, written through `write` in slices
 * of whole rows (block-aligned on both sides) read one at a time when the data is a byte range;
 * the next slice is converted while the previous one is being quantized. Returns the bytes written.
 */
async function writeTensor(src: TensorInfo, data: TensorData, t: PlannedTensor, opts: ConvertOptions, write: (b: Uint8Array) => Promise<void>, scratch: Scratch): Promise<number> {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const transform = opts.gguf?.transform;
  const whole = transform !== undefined && (transform.applies?.(t.source) ?? true);
  if ((t.from === t.to && !whole) || INTEGER.has(t.to)) {
    if (!data.range || typeof src.byteLength !== 'number') {
      const raw = await data.whole();
      await write(raw);
      return raw.length;
    }
    for (let a = 0; a < src.byteLength; a += COPY_BYTES) await write(await data.range(a, Math.min(COPY_BYTES, src.byteLength - a)));
    return src.byteLength;
  }
  // Row = the innermost dimension (ggml ne[0]; the last numpy dimension): block types never straddle it.
  const row = Math.max(1, (opts.to === 'gguf' ? t.shape[0] : t.shape[t.shape.length - 1]) ?? 1);
  const rows = n / row;
  const srcRow = storedBytes(src.dtype, row);
  const sliceable = Number.isInteger(rows) && srcRow !== undefined && storedBytes(src.dtype, n) === srcRow * rows;
  const raw = whole || !sliceable || !data.range ? await data.whole() : undefined;
  const all = whole || !sliceable ? toF32(src.dtype, raw!, n) : undefined;
  const values = all && whole ? transform!(t.source, all, t.shape) : all;
  const per = values && !sliceable ? rows : Math.max(1, Math.floor(CHUNK_ELEMENTS / row));
  const encode = (v: Float32Array): Promise<Uint8Array> => {
    // safetensors outputs are float dtypes: any slice length is a row for them
    const rowLength = opts.to === 'gguf' ? row : v.length;
    if (opts.quantize && t.to !== 'f32') return opts.quantize(t.to, v, rowLength);
    return Promise.resolve(fromF32(t.to, v, rowLength));
  };
  let written = 0;
  let pending: Promise<Uint8Array> | undefined;
  for (let r = 0, slice = 0; r < rows; r += per, slice++) {
    const k = Math.min(per, rows - r);
    const bytes = values ? undefined : raw ? raw.subarray(r * srcRow!, (r + k) * srcRow!) : await data.range!(r * srcRow!, k * srcRow!);
    const v = values ? values.subarray(r * row, (r + k) * row) : toF32(src.dtype, bytes!, k * row, scratch.get(slice, per * row));
    const next = encode(v);
    if (pending) {
      const out = await pending;
      await write(out);
      written += out.length;
    }
    pending = next;
  }
  if (pending) {
    const out = await pending;
    await write(out);
    written += out.length;
  }
  return written;
}

/** general.file_type (llama_ftype) for the output: the file type asked for, or the dominant tensor type. */
function fileTypeId(opts: ConvertOptions, tensors: PlannedTensor[]): number | undefined {
  const alias: Record<string, string> = { Q4_K: 'Q4_K_M', Q3_K: 'Q3_K_M', Q5_K: 'Q5_K_M' };
  let name = opts.quant?.toUpperCase();
  if (!name) {
    const counts = new Map<string, number>();
    for (const t of tensors) if (t.shape.length >= 2) counts.set(t.to, (counts.get(t.to) ?? 0) + t.bytes);
    name = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0]?.toUpperCase();
    if (!name) return undefined;
  }
  name = alias[name] ?? name;
  for (const [id, n] of Object.entries(LLAMA_FTYPES)) {
    if (n === `MOSTLY_${name}` || n === `ALL_${name}`) return Number(id);
  }
  return undefined;
}
