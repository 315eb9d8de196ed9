/**
 * The torch 1.0–1.2 TorchScript layout: `<top>/model.json` (the `ModelDef` message of
 * caffe2/proto/torch.proto in JSON form), `tensors/<n>` storages and `code/`. `mainModule` is a tree
 * of `ModuleDef {name, submodules[], parameters[{name, tensorId, isBuffer}]}`; `tensors[]` are
 * `TensorDef {dims[], offset, strides[], dataType, data: {key}}` (int64 fields are JSON strings).
 * Storage keys are record paths (`tensors/0`).
 */
import { isObject } from '../../identify/probe.js';
import type { StateDictEntry } from '../pytorch/state-dict.js';
import type { StorageRef } from '../pytorch/rebuild.js';

/** caffe2 TensorProto.DataType names → canonical dtype and element size. */
const TYPES: Record<string, [string, number]> = {
  FLOAT: ['f32', 4], DOUBLE: ['f64', 8], FLOAT16: ['f16', 2], HALF: ['f16', 2], BFLOAT16: ['bf16', 2], INT8: ['i8', 1],
  UINT8: ['u8', 1], INT16: ['i16', 2], UINT16: ['u16', 2], INT32: ['i32', 4], INT64: ['i64', 8], BOOL: ['bool', 1],
};

export interface ModelJson {
  tensors: StateDictEntry[];
  producer: string | null;
  protoVersion: string | null;
  rootName: string | null;
  problems: string[];
}

const int = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && /^-?\d{1,16}$/.test(v) ? Number(v) : typeof v === 'number' ? v : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
};

/** Name the parameters and buffers of a parsed model.json like state_dict(). */
export function readModelJson(json: unknown): ModelJson {
  const out: ModelJson = { tensors: [], producer: null, protoVersion: null, rootName: null, problems: [] };
  if (!isObject(json)) {
    out.problems.push('model.json is not a JSON object');
    return out;
  }
  const name = typeof json.producerName === 'string' ? json.producerName : '';
  const ver = typeof json.producerVersion === 'string' ? json.producerVersion : '';
  out.producer = `${name} ${ver}`.trim() || null;
  out.protoVersion = typeof json.protoVersion === 'string' || typeof json.protoVersion === 'number' ? String(json.protoVersion) : null;
  const defs = Array.isArray(json.tensors) ? json.tensors : [];
  const main = json.mainModule;
  if (isObject(main) && typeof main.name === 'string') out.rootName = main.name;
  let visited = 0;
  const walk = (m: unknown, prefix: string, depth: number) => {
    if (!isObject(m) || depth > 200 || ++visited > 1_000_000) return;
    for (const p of Array.isArray(m.parameters) ? m.parameters : []) {
      if (!isObject(p) || typeof p.name !== 'string') continue;
      const id = int(p.tensorId);
      const d = id !== undefined ? defs[id] : undefined;
      const t = isObject(d) ? tensorOf(d) : undefined;
      if (!t) {
        out.problems.push(`parameter ${prefix}${p.name} has no readable tensor (tensorId ${String(p.tensorId)})`);
        continue;
      }
      out.tensors.push({ name: prefix + p.name, tensor: t });
    }
    for (const s of Array.isArray(m.submodules) ? m.submodules : []) {
      if (isObject(s) && typeof s.name === 'string') walk(s, `${prefix}${s.name}.`, depth + 1);
    }
  };
  walk(main, '', 0);
  return out;
}

function tensorOf(d: Record<string, unknown>): StateDictEntry['tensor'] | undefined {
  const type = TYPES[String(d.dataType ?? 'FLOAT')];
  const dims = Array.isArray(d.dims) ? d.dims.map(int) : [];
  const strides = Array.isArray(d.strides) ? d.strides.map(int) : undefined;
  const key = isObject(d.data) && typeof d.data.key === 'string' ? d.data.key : undefined;
  if (!type || dims.some((x) => x === undefined || x < 0) || !key) return undefined;
  const storage: StorageRef = {
    key,
    storageType: String(d.dataType ?? 'FLOAT'),
    dtype: type[0],
    elementSize: type[1],
    location: typeof d.device === 'string' ? d.device : null,
    numel: null,
  };
  return {
    kind: 'tensor',
    storage,
    dtype: type[0],
    shape: dims as number[],
    stride: strides && strides.every((x) => x !== undefined) ? (strides as number[]) : null,
    storageOffset: int(d.offset) ?? 0,
    rebuild: 'model.json TensorDef',
    parameter: true,
    ...(typeof d.requiresGrad === 'boolean' ? { requiresGrad: d.requiresGrad } : {}),
  };
}
