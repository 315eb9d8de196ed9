/**
 * ExecuTorch inspection: the file header (flatbuffer identifier, optional extended header "eh00"
 * with program_size and segment_base_offset — schema/extended_header.h), the Program tables
 * (./program.ts), mapped to the common report. Constant tensors are the Tensor values with
 * data_buffer_idx > 0 in every plan, named `<plan>/values/<index>` (ExecuTorch tensors carry no
 * names); their data offsets are resolved through constant_segment / mutable_data_segments / the
 * deprecated inline constant_buffer, and checked against the file. A bundled program (.bpte,
 * "BPnn") is inspected through the program it embeds.
 */
import { FlatBuffer } from '../../codecs/flatbuffers.js';
import { ModelwiseError } from '../../errors.js';
import { SliceSource, type ByteSource } from '../../io/source.js';
import { u64le, view } from '../../io/bytes.js';
import type { Diagnostic, GraphIO, TensorInfo } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { readProgram, SCALAR_TYPES, type EtPlan, type EtProgram, type EtTensor } from './program.js';

interface Header {
  ident: string;
  programSize?: number;
  segmentBase?: number;
  headerLength?: number;
}

async function readHeader(source: ByteSource): Promise<Header> {
  const b = await source.read(0, Math.min(source.size, 32));
  if (b.length < 8) throw new ModelwiseError('UNEXPECTED_EOF', `file of ${source.size} bytes is too short for a flatbuffer header`, { file: source.name, offset: 0 });
  const ident = String.fromCharCode(b[4]!, b[5]!, b[6]!, b[7]!);
  if (b.length >= 32 && String.fromCharCode(b[8]!, b[9]!, b[10]!, b[11]!) === 'eh00') {
    const dv = view(b);
    return { ident, headerLength: dv.getUint32(12, true), programSize: u64le(dv, 16), segmentBase: u64le(dv, 24) };
  }
  return { ident };
}

function ioEntry(plan: EtPlan, index: number): GraphIO {
  const name = `${plan.name}/values/${index}`;
  const v = plan.values.get(index);
  if (!v) return { name, dtype: null, shape: null };
  if (!v.tensor) return { name, dtype: v.kind.toLowerCase(), shape: [] };
  const t = v.tensor;
  return { name, dtype: SCALAR_TYPES[t.scalarType]?.[0] ?? String(t.scalarType), shape: [...t.sizes], ...(t.dynamism !== 'static' ? { dynamism: t.dynamism } : {}) };
}

/** Where a constant tensor's bytes are: absolute offset in the file, or why it is not known. */
function locate(p: EtProgram, t: EtTensor, h: Header, base: number): { offset: number | null; where: string; problem?: string } {
  const idx = t.dataBufferIdx;
  const segBase = h.segmentBase ?? 0;
  const inSegment = (segIndex: number, offsets: number[], what: string) => {
    const seg = p.segments[segIndex];
    if (!seg) return { offset: null, where: what, problem: `${what} refers to segment ${segIndex}, but the program has ${p.segments.length}` };
    if (idx >= offsets.length) return { offset: null, where: what, problem: `data_buffer_idx ${idx} is outside the ${offsets.length} ${what} offsets` };
    if (h.segmentBase === undefined) return { offset: null, where: what, problem: `${what} data without an extended header (no segment base offset)` };
    return { offset: base + segBase + seg.offset + offsets[idx]!, where: what };
  };
  if (t.external) return { offset: null, where: 'external' };
  if (t.mutable) {
    const si = t.mutableSegmentsIdx ?? 0;
    const sub = p.mutableDataSegments[si];
    if (!sub) return { offset: null, where: 'mutable_data_segments', problem: `mutable_data_segments[${si}] does not exist` };
    return inSegment(sub.segmentIndex, sub.offsets, 'mutable_data_segments');
  }
  if (p.constantSegment && p.constantSegment.offsets.length > 0) return inSegment(p.constantSegment.segmentIndex, p.constantSegment.offsets, 'constant_segment');
  const buf = p.constantBuffers[idx];
  if (buf) return { offset: base + buf.start, where: 'constant_buffer' };
  return { offset: null, where: 'constant_buffer', problem: `data_buffer_idx ${idx} is outside the ${p.constantBuffers.length} constant buffers` };
}

/** Inspect the Program in `source` (a whole .pte, or the program embedded in a .bpte at `base`). */
async function inspectProgram(source: ByteSource, fileSize: number, base: number, diagnostics: Diagnostic[]): Promise<{ program: EtProgram; header: Header; tensors: TensorInfo[]; external: Record<string, string> }> {
  const header = await readHeader(source);
  if (!/^ET\d\d$/.test(header.ident)) throw new ModelwiseError('MALFORMED', `flatbuffer identifier "${header.ident}" is not an ExecuTorch program`, { file: source.name, offset: base + 4, expected: 'ETnn' });
  if (header.ident !== 'ET12') diagnostics.push({ code: 'EXECUTORCH_SCHEMA', message: `schema identifier ${header.ident}; this reader follows ET12 (fields may differ)` });
  let fbSize = source.size;
  if (header.programSize !== undefined) {
    if (header.headerLength !== undefined && header.headerLength < 24) diagnostics.push({ code: 'EXECUTORCH_BAD_HEADER', message: `extended header length ${header.headerLength} < 24` });
    if (header.programSize > 0 && header.programSize <= source.size) fbSize = header.programSize;
    else diagnostics.push({ code: 'EXECUTORCH_BAD_PROGRAM_SIZE', message: `extended header says the program is ${header.programSize ?? '> 2^53'} bytes; the file has ${source.size}` });
  }
  const program = await readProgram(new FlatBuffer(source, { size: fbSize }));
  diagnostics.push(...program.diagnostics);
  const segBase = header.segmentBase ?? 0;
  for (const [i, s] of program.segments.entries()) {
    const end = segBase + s.offset + s.size;
    if (header.segmentBase === undefined) {
      if (s.size === 0) continue;
      diagnostics.push({ code: 'EXECUTORCH_SEGMENT_WITHOUT_HEADER', message: `segment ${i} is listed but the file has no extended header to locate it` });
      break;
    }
    if (end > source.size) diagnostics.push({ code: 'TENSOR_OUT_OF_BOUNDS', message: `segment ${i} ends at byte ${base + end}, past the end of the ${fileSize}-byte file (truncated?)` });
  }
  const tensors: TensorInfo[] = [];
  const external: Record<string, string> = {};
  for (const plan of program.plans) {
    for (const v of plan.values.values()) {
      const t = v.tensor;
      if (!t || t.dataBufferIdx <= 0) continue;
      const name = `${plan.name}/values/${t.index}`;
      const st = SCALAR_TYPES[t.scalarType];
      let n = 1;
      for (const d of t.sizes) n *= d;
      const byteLength = st && t.sizes.every((d) => d >= 0) ? Math.ceil(n * st[1]) : null;
      if (!st) diagnostics.push({ code: 'EXECUTORCH_UNKNOWN_SCALAR_TYPE', message: `${name} has unknown scalar type ${t.scalarType}` });
      const loc = locate(program, t, header, base);
      if (loc.problem) diagnostics.push({ code: 'EXECUTORCH_BAD_BUFFER_INDEX', message: `${name}: ${loc.problem}` });
      if (t.external && t.fqn) external[name] = t.fqn;
      if (loc.offset !== null && byteLength !== null && loc.offset + byteLength > fileSize) {
        diagnostics.push({ code: 'TENSOR_OUT_OF_BOUNDS', message: `${name} ends at byte ${loc.offset + byteLength}, past the end of the ${fileSize}-byte file` });
      }
      const storage = t.external ? `external:${t.fqn ?? ''}` : `${loc.where}[${t.dataBufferIdx}]`;
      tensors.push({ name, dtype: st?.[0] ?? String(t.scalarType), shape: [...t.sizes], byteLength, offset: loc.offset, storage });
    }
  }
  tieShared(tensors);
  return { program, header, tensors, external };
}

/** Constants deduplicated by the exporter share one buffer slot: name the others in `tiedWith`. */
function tieShared(tensors: TensorInfo[]): void {
  const groups = new Map<string, TensorInfo[]>();
  for (const t of tensors) {
    if (!t.storage) continue;
    let g = groups.get(t.storage);
    if (!g) groups.set(t.storage, (g = []));
    g.push(t);
  }
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    for (const t of g) t.tiedWith = g.filter((o) => o !== t).slice(0, 16).map((o) => o.name);
  }
}

async function bundled(source: ByteSource, diagnostics: Diagnostic[]): Promise<{ version: number; suites: { method: string; testCases: number }[]; start: number; length: number }> {
  const fb = new FlatBuffer(source);
  const root = await fb.root();
  const version = await root.num(0, 'u32');
  const suites: { method: string; testCases: number }[] = [];
  const sv = await root.vector(1, 4);
  for (let i = 0; i < Math.min(sv?.length ?? 0, 10_000); i++) {
    try {
      const s = await sv!.table(i);
      suites.push({ method: (await s.string(0, 64 * 1024)) ?? '', testCases: (await s.vector(1, 4))?.length ?? 0 });
    } catch (e) {
      diagnostics.push({ code: 'EXECUTORCH_BAD_TEST_SUITE', message: `method test suite #${i}: ${(e as Error).message}` });
    }
  }
  const prog = await root.vector(2, 1);
  if (!prog || prog.length < 8) throw new ModelwiseError('MALFORMED', 'bundled program has no embedded program', { file: source.name });
  return { version, suites, start: prog.start, length: prog.length };
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'ExecuTorch inspection needs the file');
  const source = probe.source;
  const diagnostics: Diagnostic[] = [];
  const head = await readHeader(source);
  let base = 0;
  let programSource: ByteSource = source;
  let bundle: Awaited<ReturnType<typeof bundled>> | undefined;
  if (/^BP\d\d$/.test(head.ident)) {
    bundle = await bundled(source, diagnostics);
    base = bundle.start;
    programSource = new SliceSource(source, bundle.start, bundle.length, `${source.name} > program`);
  }
  const { program, header, tensors, external } = await inspectProgram(programSource, source.size, base, diagnostics);
  const main = program.plans.find((p) => p.name === 'forward') ?? program.plans[0];
  const ops: Record<string, number> = {};
  for (const p of program.plans) for (const [k, v] of Object.entries(p.ops)) ops[k] = (ops[k] ?? 0) + v;
  const backends = [...new Set(program.plans.flatMap((p) => p.delegates.map((d) => d.id)))].sort();
  if (backends.length) diagnostics.push({ code: 'EXECUTORCH_DELEGATED', message: `delegated to ${backends.join(', ')}: weights inside delegate blobs are not listed as tensors` });
  const details: Record<string, unknown> = {
    fileIdentifier: header.ident,
    programVersion: program.version,
    ...(header.programSize !== undefined ? { extendedHeader: { programSize: header.programSize, segmentBaseOffset: header.segmentBase ?? null, length: header.headerLength } } : {}),
    executionPlans: program.plans.map((p) => ({
      name: p.name,
      values: p.valueCount,
      inputs: p.inputs.length,
      outputs: p.outputs.length,
      instructions: p.instructions,
      operators: p.operators.length,
      ...(p.delegates.length ? { delegates: p.delegates.map((d) => ({ id: d.id, data: `${d.location}[${d.index}]`, ...(d.compileSpecs.length ? { compileSpecs: d.compileSpecs } : {}) })) } : {}),
      ...(p.nonConstBufferSizes.length ? { nonConstBufferSizes: p.nonConstBufferSizes } : {}),
    })),
    ...(program.planCount > program.plans.length ? { executionPlanCount: program.planCount } : {}),
    backends,
    segments: program.segments,
    constantBuffers: program.constantBuffers.length,
    constantSegmentOffsets: program.constantSegment?.offsets.length ?? 0,
    ...(program.mutableDataSegments.length ? { mutableDataSegments: program.mutableDataSegments.length } : {}),
    ...(program.namedData.length ? { namedData: program.namedData.slice(0, 1000).map((n) => n.key) } : {}),
    ...(program.delegateInlineData.length ? { backendDelegateData: program.delegateInlineData.length } : {}),
    ...(Object.keys(external).length ? { externalTensors: external } : {}),
    ...(bundle ? { bundledProgram: { identifier: head.ident, version: bundle.version, programOffset: bundle.start, programSize: bundle.length, methodTestSuites: bundle.suites } } : {}),
  };
  return {
    producer: null,
    architecture: null,
    tensors,
    ...(main ? { graph: { inputs: main.inputs.map((i) => ioEntry(main, i)), outputs: main.outputs.map((i) => ioEntry(main, i)), ops } } : {}),
    details,
    metadata: {},
    diagnostics,
  };
}
