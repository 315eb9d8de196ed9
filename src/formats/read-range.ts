/**
 * readTensor for formats whose tensors are plain byte ranges (`offset`, `byteLength`, optional
 * `file` relative to the entry file's folder): GGUF, safetensors, GGML, ExecuTorch constants.
 */
import { ModelwiseError } from '../errors.js';
import { GGML_BY_NAME, ggmlBytes } from '../dtypes.js';
import { readExact } from '../io/source.js';
import { elementCount } from '../inspect/summary.js';
import type { TensorInfo } from '../types.js';
import type { InspectInput } from './types.js';

export async function readRange(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', `tensor ${tensor.name}: the model file is not open`);
  if (typeof tensor.offset !== 'number' || typeof tensor.byteLength !== 'number') {
    throw new ModelwiseError('UNSUPPORTED', `tensor ${tensor.name} has no readable byte range`, { file: probe.path });
  }
  const source = tensor.file ? await probe.sibling(tensor.file) : probe.source;
  if (!source) throw new ModelwiseError('NOT_FOUND', `file ${tensor.file} of tensor ${tensor.name} is missing`, { file: probe.path });
  return readExact(source, tensor.offset, tensor.byteLength, `data of tensor ${tensor.name}`);
}

/** readRange, refusing block types whose stored size is not today's ggml layout (pre-GGJTv3 quants). */
export async function readGgmlRange(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const g = GGML_BY_NAME.get(tensor.dtype);
  const n = elementCount(tensor.shape);
  if (g && n !== undefined && ggmlBytes(g, n) !== tensor.byteLength) {
    throw new ModelwiseError('UNSUPPORTED', `tensor ${tensor.name}: ${tensor.dtype} in an obsolete block layout (${tensor.byteLength} bytes for ${n} elements) cannot be decoded`, { file: input.probe?.path });
  }
  return readRange(input, tensor);
}
