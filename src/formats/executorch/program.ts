/**
 * The ExecuTorch Program flatbuffer (pytorch/executorch schema/program.fbs, scalar_type.fbs), read
 * with the generic bounded reader in codecs/flatbuffers.ts. Field numbers below are the schema's
 * field order (a union takes two: `<name>_type`, then the value). Only metadata is read: constant
 * data (segments, inline buffers, delegate blobs) is located, never loaded.
 */
import type { FlatBuffer, FbTable, FbVector } from '../../codecs/flatbuffers.js';
import type { Diagnostic } from '../../types.js';

/** ScalarType (scalar_type.fbs; c10::ScalarType numbering) → canonical dtype and bytes per element. */
export const SCALAR_TYPES: Record<number, [string, number]> = {
  0: ['u8', 1], 1: ['i8', 1], 2: ['i16', 2], 3: ['i32', 4], 4: ['i64', 8], 5: ['f16', 2], 6: ['f32', 4], 7: ['f64', 8],
  8: ['c32', 4], 9: ['c64', 8], 10: ['c128', 16], 11: ['bool', 1], 12: ['qint8', 1], 13: ['quint8', 1], 14: ['qint32', 4],
  15: ['bf16', 2], 16: ['quint4x2', 0.5], 17: ['quint2x4', 0.25], 18: ['bits1x8', 1], 19: ['bits2x4', 1], 20: ['bits4x2', 1],
  21: ['bits8', 1], 22: ['bits16', 2], 23: ['f8e5m2', 1], 24: ['f8e4m3fn', 1], 25: ['f8e5m2fnuz', 1], 26: ['f8e4m3fnuz', 1],
  27: ['u16', 2], 28: ['u32', 4], 29: ['u64', 8],
};

/** KernelTypes union members (index = union type id). */
export const KERNEL_TYPES = ['None', 'Null', 'Int', 'Bool', 'Double', 'Tensor', 'String', 'IntList', 'DoubleList', 'BoolList', 'TensorList', 'OptionalTensorList'];
const TENSOR = 5;
const KERNEL_CALL = 1;
const DELEGATE_CALL = 2;
const DYNAMISM = ['static', 'dynamic-bound', 'dynamic-unbound'];

/** Caps on what one program may make us walk (each element costs ≥ 4 bytes, so files bound them too). */
const MAX_PLANS = 10_000;
const MAX_VALUES = 20_000_000;
const MAX_INSTRUCTIONS = 20_000_000;

export interface EtTensor {
  index: number;
  scalarType: number;
  sizes: number[];
  dataBufferIdx: number;
  dynamism: string;
  /** Has allocation_info: mutable (an initial state when dataBufferIdx > 0). */
  mutable: boolean;
  mutableSegmentsIdx?: number;
  fqn?: string;
  external: boolean;
}

export interface EtValue {
  index: number;
  /** KernelTypes name ("Tensor", "Int" …). */
  kind: string;
  tensor?: EtTensor;
}

export interface EtPlan {
  name: string;
  valueCount: number;
  /** Tensor and IO values (other values are only counted). */
  values: Map<number, EtValue>;
  inputs: number[];
  outputs: number[];
  operators: string[];
  delegates: { id: string; location: 'inline' | 'segment'; index: number; compileSpecs: string[] }[];
  /** KernelCall counts by operator, DelegateCall counts as `delegate:<id>`. */
  ops: Record<string, number>;
  instructions: number;
  nonConstBufferSizes: number[];
}

export interface EtSubsegments {
  segmentIndex: number;
  offsets: number[];
}

export interface EtProgram {
  version: number;
  plans: EtPlan[];
  planCount: number;
  /** Inline constant buffers (deprecated layout): position and length of each storage vector. */
  constantBuffers: { start: number; length: number }[];
  delegateInlineData: { start: number; length: number }[];
  segments: { offset: number; size: number }[];
  constantSegment?: EtSubsegments;
  mutableDataSegments: EtSubsegments[];
  namedData: { key: string; segmentIndex: number }[];
  diagnostics: Diagnostic[];
}

async function ints(v: FbVector | undefined, kind: 'i32' | 'u64' | 'i64', max: number): Promise<number[]> {
  return v ? v.numbers(kind, max) : [];
}

async function subsegments(t: FbTable): Promise<EtSubsegments> {
  return { segmentIndex: await t.num(0, 'u32'), offsets: await ints(await t.vector(1, 8), 'u64', MAX_VALUES) };
}

async function readTensor(t: FbTable, index: number): Promise<EtTensor> {
  const extra = await t.table(9);
  const location = extra ? await extra.num(2, 'i8') : 0;
  const out: EtTensor = {
    index,
    scalarType: await t.num(0, 'i8'),
    sizes: await ints(await t.vector(2, 4), 'i32', 64),
    dataBufferIdx: await t.num(5, 'u32'),
    dynamism: DYNAMISM[await t.num(8, 'i8')] ?? 'unknown',
    mutable: t.has(6),
    external: location === 1,
  };
  if (extra) {
    if (extra.has(0)) out.mutableSegmentsIdx = await extra.num(0, 'u64');
    const fqn = await extra.string(1, 64 * 1024);
    if (fqn) out.fqn = fqn;
  }
  return out;
}

async function readPlan(p: FbTable, diagnostics: Diagnostic[]): Promise<EtPlan> {
  const name = (await p.string(0, 64 * 1024)) ?? '';
  const valuesVec = await p.vector(2, 4);
  const inputs = await ints(await p.vector(3, 4), 'i32', MAX_VALUES);
  const outputs = await ints(await p.vector(4, 4), 'i32', MAX_VALUES);
  const values = new Map<number, EtValue>();
  const valueCount = valuesVec?.length ?? 0;
  if (valueCount > MAX_VALUES) throw new Error(`plan ${name} has ${valueCount} values, above the ${MAX_VALUES} limit`);
  const io = new Set([...inputs, ...outputs]);
  for (let i = 0; i < valueCount; i++) {
    const ev = await valuesVec!.table(i);
    const u = await ev.union(0);
    const kind = KERNEL_TYPES[u.type] ?? `type${u.type}`;
    if (u.type === TENSOR && u.table) values.set(i, { index: i, kind, tensor: await readTensor(u.table, i) });
    else if (io.has(i)) values.set(i, { index: i, kind });
  }
  const operators: string[] = [];
  const opsVec = await p.vector(6, 4);
  for (let i = 0; i < (opsVec?.length ?? 0); i++) {
    const o = await opsVec!.table(i);
    const n = (await o.string(0, 64 * 1024)) ?? '';
    const ov = (await o.string(1, 64 * 1024)) ?? '';
    operators.push(ov ? `${n}.${ov}` : n);
  }
  const delegates: EtPlan['delegates'] = [];
  const delVec = await p.vector(7, 4);
  for (let i = 0; i < (delVec?.length ?? 0); i++) {
    const d = await delVec!.table(i);
    const processed = await d.table(1);
    const specs: string[] = [];
    const specVec = await d.vector(2, 4);
    for (let k = 0; k < Math.min(specVec?.length ?? 0, 256); k++) specs.push((await (await specVec!.table(k)).string(0, 4096)) ?? '');
    delegates.push({
      id: (await d.string(0, 64 * 1024)) ?? '',
      location: processed && (await processed.num(0, 'i8')) === 1 ? 'segment' : 'inline',
      index: processed ? await processed.num(1, 'u32') : 0,
      compileSpecs: specs,
    });
  }
  const ops: Record<string, number> = {};
  let instructions = 0;
  const chains = await p.vector(5, 4);
  for (let c = 0; c < (chains?.length ?? 0); c++) {
    const chain = await chains!.table(c);
    const ins = await chain.vector(2, 4);
    const n = ins?.length ?? 0;
    if (instructions + n > MAX_INSTRUCTIONS) throw new Error(`plan ${name} has more than ${MAX_INSTRUCTIONS} instructions`);
    instructions += n;
    for (let k = 0; k < n; k++) {
      const u = await (await ins!.table(k)).union(0);
      if (!u.table) continue;
      if (u.type === KERNEL_CALL) {
        const idx = await u.table.num(0, 'i32');
        const op = operators[idx];
        if (op === undefined) {
          diagnostics.push({ code: 'EXECUTORCH_BAD_OPERATOR_INDEX', message: `plan ${name}, chain ${c}, instruction ${k}: operator index ${idx} outside the ${operators.length} operators` });
          continue;
        }
        ops[op] = (ops[op] ?? 0) + 1;
      } else if (u.type === DELEGATE_CALL) {
        const idx = await u.table.num(0, 'i32');
        const d = delegates[idx];
        if (d === undefined) {
          diagnostics.push({ code: 'EXECUTORCH_BAD_DELEGATE_INDEX', message: `plan ${name}, chain ${c}, instruction ${k}: delegate index ${idx} outside the ${delegates.length} delegates` });
          continue;
        }
        ops[`delegate:${d.id}`] = (ops[`delegate:${d.id}`] ?? 0) + 1;
      }
    }
  }
  const nonConstBufferSizes = await ints(await p.vector(8, 8), 'i64', 1_000_000);
  return { name, valueCount, values, inputs, outputs, operators, delegates, ops, instructions, nonConstBufferSizes };
}

/** Read the Program tables of the flatbuffer `fb` (throws ModelwiseError when the root is unreadable). */
export async function readProgram(fb: FlatBuffer): Promise<EtProgram> {
  const root = await fb.root();
  const diagnostics: Diagnostic[] = [];
  const version = await root.num(0, 'u32');
  const planVec = await root.vector(1, 4);
  const planCount = planVec?.length ?? 0;
  const plans: EtPlan[] = [];
  for (let i = 0; i < Math.min(planCount, MAX_PLANS); i++) {
    try {
      plans.push(await readPlan(await planVec!.table(i), diagnostics));
    } catch (e) {
      diagnostics.push({ code: 'EXECUTORCH_BAD_PLAN', message: `execution plan #${i} could not be read: ${(e as Error).message}` });
    }
  }
  if (planCount > MAX_PLANS) diagnostics.push({ code: 'LIMIT_EXCEEDED', message: `${planCount} execution plans; the first ${MAX_PLANS} were read` });
  const blobs = async (field: number): Promise<{ start: number; length: number }[]> => {
    const v = await root.vector(field, 4);
    const out: { start: number; length: number }[] = [];
    for (let i = 0; i < Math.min(v?.length ?? 0, MAX_VALUES); i++) {
      const data = await (await v!.table(i)).vector(0, 1);
      out.push(data ? { start: data.start, length: data.length } : { start: 0, length: 0 });
    }
    return out;
  };
  const constantBuffers = await blobs(2);
  const delegateInlineData = await blobs(3);
  const segVec = await root.vector(4, 4);
  const segments: EtProgram['segments'] = [];
  for (let i = 0; i < Math.min(segVec?.length ?? 0, MAX_VALUES); i++) {
    const s = await segVec!.table(i);
    segments.push({ offset: await s.num(0, 'u64'), size: await s.num(1, 'u64') });
  }
  const cs = await root.table(5);
  const mutVec = await root.vector(6, 4);
  const mutableDataSegments: EtSubsegments[] = [];
  for (let i = 0; i < Math.min(mutVec?.length ?? 0, MAX_PLANS); i++) mutableDataSegments.push(await subsegments(await mutVec!.table(i)));
  const namedVec = await root.vector(7, 4);
  const namedData: EtProgram['namedData'] = [];
  for (let i = 0; i < Math.min(namedVec?.length ?? 0, MAX_VALUES); i++) {
    const n = await namedVec!.table(i);
    namedData.push({ key: (await n.string(0, 64 * 1024)) ?? '', segmentIndex: await n.num(1, 'u32') });
  }
  return {
    version,
    plans,
    planCount,
    constantBuffers,
    delegateInlineData,
    segments,
    ...(cs ? { constantSegment: await subsegments(cs) } : {}),
    mutableDataSegments,
    namedData,
    diagnostics,
  };
}
