/**
 * MXNet inspection (see README.md): the `.params` NDArray list (array headers only, every layout
 * V0–V3) and the symbol JSON graph. Entry = the symbol (symbol+params, symbol-json) or the params
 * file (ndarray-list). `readTensor` reads one dense array's data.
 */
import { ModelwiseError } from '../../errors.js';
import type { Probe } from '../../identify/probe.js';
import { decodeUtf8 } from '../../io/bytes.js';
import { readExact } from '../../io/source.js';
import { dirname } from '../../io/tree.js';
import { LIMITS } from '../../limits.js';
import type { Diagnostic, TensorInfo } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { readParams, type ParamsList } from './params.js';
import { readSymbol } from './symbol.js';

/** A file of the identification relative to the entry file's folder (folder identifications list full paths). */
function relToProbe(probe: Probe, p: string | undefined): string | undefined {
  if (p === undefined) return undefined;
  const dir = dirname(probe.path);
  return dir && p.startsWith(dir + '/') ? p.slice(dir.length + 1) : p;
}

async function symbolJson(probe: Probe): Promise<unknown> {
  const j = await probe.json();
  if (j !== undefined) return j;
  if (probe.size > LIMITS.jsonFile) throw new ModelwiseError('LIMIT_EXCEEDED', `symbol JSON of ${probe.size} bytes exceeds the ${LIMITS.jsonFile}-byte limit`, { file: probe.path });
  try {
    return JSON.parse(decodeUtf8(await readExact(probe.source, 0, probe.size, 'symbol JSON')));
  } catch (e) {
    if (e instanceof ModelwiseError) throw e;
    throw new ModelwiseError('MALFORMED', `symbol is not valid JSON: ${(e as Error).message}`, { file: probe.path });
  }
}

const strip = (n: string): string => (n.startsWith('arg:') || n.startsWith('aux:') ? n.slice(4) : n);

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'MXNet inspection needs the symbol or params file');
  const variant = input.id.format?.variant;
  const diagnostics: Diagnostic[] = [];
  const details: Record<string, unknown> = {};
  let params: ParamsList | undefined;
  if (variant === 'ndarray-list') {
    params = await readParams(probe.source);
  } else if (variant === 'symbol+params') {
    const rel = relToProbe(probe, input.id.files?.find((f) => f.role === 'weights')?.path);
    const src = rel ? await probe.sibling(rel) : undefined;
    if (!src) diagnostics.push({ code: 'SHARD_MISSING', message: `params file ${rel ?? '?'} is missing` });
    else {
      try {
        params = await readParams(src, rel);
        details.paramsFile = rel;
      } catch (e) {
        if (!(e instanceof ModelwiseError)) throw e;
        diagnostics.push({ code: 'MXNET_PARAMS_UNREADABLE', message: `${rel}: ${e.message}` });
      }
    }
  }
  if (params) {
    diagnostics.push(...params.diagnostics);
    details.arrays = params.arrays;
    details.arrayLayouts = params.layouts;
    if (!params.names.length && params.tensors.length) details.unnamed = 'the list stores no names: arrays are named by index';
    const sparse = params.tensors.filter((t) => t.storage).length;
    if (sparse) details.sparseArrays = sparse;
  }
  const out: Inspection = { producer: null, architecture: null, tensors: params?.tensors ?? [], details, diagnostics };
  if (variant === 'ndarray-list') return out;

  const sym = readSymbol(await symbolJson(probe), params ? new Set(params.names.map(strip)) : undefined);
  if (!sym) throw new ModelwiseError('MALFORMED', 'not an MXNet symbol JSON (no nodes array)', { file: probe.path });
  out.graph = sym.graph;
  details.nodes = sym.nodes;
  details.argNodes = sym.argNodes;
  details.heads = sym.heads;
  if (sym.preNnvm) details.layout = 'pre-NNVM (MXNet 0.x: param/attr keys)';
  if (sym.inputsGuessed) details.inputs = 'guessed by variable name: without a params file, data variables cannot be told from weights';
  if (sym.unboundWeights.length) {
    diagnostics.push({ code: 'MXNET_UNBOUND_WEIGHTS', message: `${sym.unboundWeights.length} weight-like variable(s) are not in the params file: ${sym.unboundWeights.slice(0, 5).join(', ')}` });
  }
  if (sym.version) {
    out.format = { version: sym.version.name };
    out.producer = `MXNet ${sym.version.name}`;
    details.mxnetVersion = sym.version.code;
  }
  return out;
}

/** One dense array's data (little-endian as MXNet writes it). Sparse arrays are UNSUPPORTED. */
export async function readTensor(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'MXNet arrays need the params file');
  if (tensor.storage) throw new ModelwiseError('UNSUPPORTED', `array ${tensor.name} uses ${tensor.storage} storage`, { file: probe.path });
  if (typeof tensor.offset !== 'number' || typeof tensor.byteLength !== 'number') throw new ModelwiseError('UNSUPPORTED', `array ${tensor.name} has no data range`, { file: probe.path });
  const src = tensor.file ? await probe.sibling(tensor.file) : probe.source;
  if (!src) throw new ModelwiseError('NOT_FOUND', `params file ${tensor.file} is missing`, { file: probe.path });
  return readExact(src, tensor.offset, tensor.byteLength, `data of array ${tensor.name}`);
}
