/**
 * TFLite inspection: the Model tables (./model.ts, flatc-generated accessors over a lazy buffer)
 * and the metadata (./metadata.ts) mapped to the common report. Stored weights = tensors of
 * subgraph 0 whose buffer index is > 0 and whose buffer holds data, inline in the flatbuffer or
 * external (offset/size past the flatbuffer); graph inputs/outputs and the operator histogram are
 * subgraph 0's, operators named by BuiltinOperator (max of builtin_code and
 * deprecated_builtin_code), custom ops by custom_code. Other subgraphs are summarised in details.
 */
import { ModelwiseError } from '../../errors.js';
import { DTYPE_BYTES } from '../../dtypes.js';
import { readExact } from '../../io/source.js';
import { shortestF32 } from '../../io/reader.js';
import { elementCount } from '../../inspect/summary.js';
import type { Diagnostic, GraphIO, TensorInfo, TensorQuantization } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { BuiltinOperator } from './generated/schema_generated.js';
import { readMetadata } from './metadata.js';
import { bufferRange, builtinName, dtypeOf, isExternal, readTfliteModel, type TfliteModel, type TfliteQuantization, type TfliteTensor } from './model.js';

function quantization(q: TfliteQuantization | undefined): TensorQuantization | undefined {
  if (!q || (q.scaleCount === 0 && !q.details)) return undefined;
  const scale = q.scale.map(shortestF32);
  const perAxis = q.scaleCount > 1;
  const out: TensorQuantization = {
    scheme: q.details ? q.details.replace(/Quantization$/, '').toLowerCase() : perAxis ? 'affine-per-axis' : 'affine',
    scale: perAxis ? scale : scale[0]!,
    zeroPoint: perAxis ? q.zeroPoint : (q.zeroPoint[0] ?? 0),
  };
  if (perAxis) out.axis = q.quantizedDimension;
  if (q.scaleCount > q.scale.length) out.scaleCount = q.scaleCount;
  if (q.min.length === 1 && q.max.length === 1) {
    out.min = shortestF32(q.min[0]!);
    out.max = shortestF32(q.max[0]!);
  }
  return out;
}

function io(t: TfliteTensor | undefined, index: number): GraphIO {
  if (!t) return { name: `tensor_${index}`, dtype: null, shape: null, missing: true };
  const e: GraphIO = { name: t.name, dtype: dtypeOf(t.type), shape: [...t.shape] };
  if (t.shapeSignature && JSON.stringify(t.shapeSignature) !== JSON.stringify(t.shape)) e.shapeSignature = t.shapeSignature.map((d) => (d < 0 ? '?' : d));
  const q = quantization(t.quantization);
  if (q) e.quantization = q;
  return e;
}

function opName(m: TfliteModel, opcodeIndex: number): string {
  const oc = m.operatorCodes[opcodeIndex];
  if (!oc || oc.code < 0) return `invalid_opcode_${opcodeIndex}`;
  return oc.code === BuiltinOperator.CUSTOM ? (oc.custom ?? '') : builtinName(oc.code);
}

function histogram(m: TfliteModel, ops: number[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const i of ops) {
    const n = opName(m, i);
    h[n] = (h[n] ?? 0) + 1;
  }
  return h;
}

/** Words for the quantization of the stored weights. */
function quantizationSummary(tensors: TensorInfo[]): Inspection['quantization'] {
  const q = tensors.filter((t) => t.quantization);
  if (!q.length) return undefined;
  const perAxis = q.filter((t) => t.quantization!.axis !== undefined).length;
  const dtypes = [...new Set(q.map((t) => t.dtype))].sort();
  const parts = [perAxis ? `${perAxis} per-axis` : '', q.length - perAxis ? `${q.length - perAxis} per-tensor` : ''].filter(Boolean);
  return {
    summary: `affine quantization (scale, zero point) of ${q.length} of ${tensors.length} weight tensors (${dtypes.join(', ')}): ${parts.join(', ')}`,
    scheme: 'affine',
    quantizedTensors: q.length,
    perAxis,
  };
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'TFLite inspection needs the file');
  const source = probe.source;
  const m = await readTfliteModel(source);
  const diagnostics: Diagnostic[] = [...m.diagnostics];
  if (m.identifier !== 'TFL3') diagnostics.push({ code: 'NO_IDENTIFIER', message: `file identifier is '${m.identifier.replace(/[^\x20-\x7e]/g, '.')}', not TFL3 (written before the identifier existed?)` });
  if (m.version !== 3) diagnostics.push({ code: 'SCHEMA_VERSION', message: `schema version ${m.version}; current readers expect 3` });
  const md = await readMetadata(probe, m);
  diagnostics.push(...md.diagnostics);
  const sg0 = m.subgraphs[0];
  if (!sg0) diagnostics.push({ code: 'NO_SUBGRAPH', message: 'the model has no subgraph: nothing to run' });

  const tensors: TensorInfo[] = [];
  let sizeMismatch = 0;
  for (const t of sg0?.tensors ?? []) {
    if (t.buffer <= 0 || t.buffer >= m.buffers.length) continue;
    const r = bufferRange(m.buffers[t.buffer]!);
    if (!r) continue;
    const dtype = dtypeOf(t.type);
    const info: TensorInfo = { name: t.name, dtype, shape: [...t.shape], byteLength: r.length, offset: r.offset };
    const q = quantization(t.quantization);
    if (q) info.quantization = q;
    tensors.push(info);
    if (r.offset + r.length > source.size) {
      diagnostics.push({ code: 'TENSOR_OUT_OF_BOUNDS', message: `tensor ${t.name}: buffer ${t.buffer} (${r.length} bytes at ${r.offset}) runs past the end of the ${source.size}-byte file` });
    }
    const n = elementCount(t.shape);
    const size = DTYPE_BYTES[dtype];
    if (!t.sparse && n !== undefined && size !== undefined && n * size !== r.length && sizeMismatch++ < 20) {
      diagnostics.push({ code: 'TENSOR_SIZE_MISMATCH', message: `tensor ${t.name}: buffer holds ${r.length} bytes, ${dtype} ${JSON.stringify(t.shape)} needs ${n * size}` });
    }
  }

  const buffers = { count: m.buffers.length, inline: 0, inlineBytes: 0, external: 0, externalBytes: 0, empty: 0, damaged: 0 };
  for (const b of m.buffers) {
    if (b.damaged) buffers.damaged++;
    else if (isExternal(b)) (buffers.external++, (buffers.externalBytes += b.size!));
    else if (b.dataLength > 0) (buffers.inline++, (buffers.inlineBytes += b.dataLength));
    else buffers.empty++;
  }
  const customOps = [...new Set(m.operatorCodes.filter((c) => c.code === BuiltinOperator.CUSTOM).map((c) => c.custom ?? ''))];
  const flexOps = customOps.filter((c) => c.startsWith('Flex'));
  const mm = md.modelMetadata;
  const metadata: Record<string, unknown> = { ...md.entries };
  return {
    format: { version: String(m.version) },
    producer: m.description ?? null,
    architecture: mm?.name ?? null,
    tensors,
    ...(sg0
      ? {
          graph: {
            inputs: sg0.inputs.map((i) => io(sg0.tensors[i], i)),
            outputs: sg0.outputs.map((i) => io(sg0.tensors[i], i)),
            ops: histogram(m, sg0.operators),
          },
        }
      : {}),
    ...(quantizationSummary(tensors) ? { quantization: quantizationSummary(tensors) } : {}),
    details: {
      schemaVersion: m.version,
      ...(m.description !== undefined ? { description: m.description } : {}),
      subgraphs: m.subgraphs.map((g) => ({
        index: g.index,
        name: g.name,
        tensors: g.tensorCount,
        operators: g.operators.length,
        inputs: g.inputs.length,
        outputs: g.outputs.length,
        ...(g.index > 0 ? { ops: histogram(m, g.operators) } : {}),
      })),
      operatorCodes: m.operatorCodes.map((c, i) => ({ name: opName(m, i), version: c.version, ...(c.code === BuiltinOperator.CUSTOM ? { custom: true } : {}) })),
      ...(customOps.length ? { customOps } : {}),
      ...(flexOps.length ? { flexOps } : {}),
      signatureDefs: m.signatureDefs.map((s) => ({ key: s.key, subgraphIndex: s.subgraphIndex, inputs: s.inputs.map((x) => x.name), outputs: s.outputs.map((x) => x.name) })),
      buffers,
      ...(md.minRuntimeVersion !== undefined ? { minRuntimeVersion: md.minRuntimeVersion } : {}),
      ...(mm ? { modelMetadata: mm } : {}),
      ...(md.associatedFiles ? { associatedFiles: md.associatedFiles, associatedZipOffset: md.associatedZipOffset } : {}),
      ...(m.metadataBuffer.length ? { metadataBuffer: m.metadataBuffer.length } : {}),
      tableBytesRead: m.bytesLoaded,
    },
    metadata,
    diagnostics,
  };
}

/** The stored bytes of one weight tensor (TFLite data is little-endian and contiguous). */
export async function readTensor(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'TFLite tensors need the file');
  const { offset, byteLength } = tensor;
  if (typeof offset !== 'number' || typeof byteLength !== 'number') {
    throw new ModelwiseError('UNSUPPORTED', `tensor ${tensor.name} has no readable data range`, { file: probe.path });
  }
  const size = DTYPE_BYTES[tensor.dtype];
  const n = elementCount(tensor.shape);
  if (size === undefined || n === undefined || n * size !== byteLength) {
    throw new ModelwiseError('UNSUPPORTED', `tensor ${tensor.name}: ${byteLength} stored bytes are not a dense ${tensor.dtype} ${JSON.stringify(tensor.shape)} array (sparse, packed or variable-size data)`, { file: probe.path, offset });
  }
  if (offset < 0 || offset + byteLength > probe.source.size) {
    throw new ModelwiseError('UNEXPECTED_EOF', `data of tensor ${tensor.name} (${byteLength} bytes) runs past the end of the file`, { file: probe.path, offset });
  }
  return readExact(probe.source, offset, byteLength, `data of tensor ${tensor.name}`);
}
