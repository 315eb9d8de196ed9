/**
 * GGUF → GGUF (requantization): carry every metadata key over with its type (vocabulary arrays
 * included), except the keys the new file states itself (file type, quantization version,
 * alignment, split info), and order tensors the way llama-quantize does.
 */
import { ModelwiseError } from '../errors.js';
import type { OpenedModel } from '../inspect/inspect.js';
import { readGgufHeader, type GgufValue } from '../formats/gguf/inspect.js';
import type { ConvertOptions } from './convert.js';
import type { GgufKv } from './writers/gguf.js';
import { compareTensorNames } from './quant/policy.js';

const RESTATED = /^(general\.file_type|general\.quantization_version|general\.alignment|split\.(no|count|tensors\.count))$/;
type Scalar = Exclude<GgufKv['type'], 'string' | 'array' | 'bool'>;

function toKv(key: string, type: string, value: GgufValue): GgufKv {
  if (type === 'string') return { type: 'string', value: value as string };
  if (type === 'bool') return { type: 'bool', value: value as boolean };
  const arr = /^array<(\w+)>/.exec(type);
  if (arr) {
    const elem = arr[1]!;
    if (!Array.isArray(value) || elem === 'array') throw new ModelwiseError('UNSUPPORTED', `metadata ${key} (${type}) cannot be carried over`);
    const v = value.map((x) => (typeof x === 'string' && elem !== 'string' ? Number(x) : x)) as (number | string | boolean)[];
    return { type: 'array', elementType: elem as Scalar | 'string' | 'bool', value: v };
  }
  return { type: type as Scalar, value: typeof value === 'string' ? Number(value) : (value as number) };
}

export async function ggufSourceOptions(model: OpenedModel): Promise<ConvertOptions['gguf']> {
  const probe = model.input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'GGUF requantization needs the source file');
  const h = await readGgufHeader(probe.source, { fullArrays: 10_000_000 });
  if (!h.littleEndian) throw new ModelwiseError('UNSUPPORTED', 'converting a big-endian GGUF is not supported', { file: probe.path });
  const kvs: [string, GgufKv][] = [];
  for (const [k, v] of Object.entries(h.metadata)) {
    if (RESTATED.test(k)) continue;
    kvs.push([k, toKv(k, h.types[k]!, v)]);
  }
  return { kvs, order: compareTensorNames };
}
