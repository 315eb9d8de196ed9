/**
 * readTensor for `torch.save` checkpoints (zip, legacy pickle, legacy tar, sharded sets): the
 * tensor's bytes contiguous, little-endian, in its own dtype (./strided.ts).
 *
 * Which storage, offset, shape and stride a tensor has comes from the walked pickle alone: the
 * checkpoint is re-read once per file (./checkpoint.ts, memoized per entry probe) and only the
 * tensor-rebuilding globals are honoured (./rebuild.ts). Nothing is imported or called; a name the
 * walk does not rebuild as a tensor is refused, with what else the pickle imports.
 */
import { ModelwiseError } from '../../errors.js';
import type { Probe } from '../../identify/probe.js';
import type { TensorInfo } from '../../types.js';
import type { InspectInput } from '../types.js';
import { readCheckpoint, type CheckpointRead } from './checkpoint.js';
import { readStrided } from './strided.js';
import type { ForeignGlobal, TensorRef } from './state-dict.js';
import { Diagnostics } from './tensor-info.js';

interface FileTensors {
  label: string;
  read: CheckpointRead;
  byName: Map<string, TensorRef>;
}

const cache = new WeakMap<Probe, Map<string, Promise<FileTensors>>>();

/** The walked checkpoint `file` (a shard, or '' for the entry file), once per entry probe. */
function fileTensors(probe: Probe, file: string | undefined): Promise<FileTensors> {
  let files = cache.get(probe);
  if (!files) cache.set(probe, (files = new Map()));
  const key = file ?? '';
  let p = files.get(key);
  if (!p) {
    p = load(probe, file);
    files.set(key, p);
    p.catch(() => files!.delete(key));
  }
  return p;
}

async function load(probe: Probe, file: string | undefined): Promise<FileTensors> {
  const label = file ?? probe.path;
  const p = file ? await probe.siblingProbe(file) : probe;
  if (!p) throw new ModelwiseError('NOT_FOUND', `shard ${file} is missing next to ${probe.name}`, { file: probe.path });
  const read = await readCheckpoint(p, new Diagnostics(), file);
  if (!read) throw new ModelwiseError('MALFORMED', `${label}: not a torch.save checkpoint (zip with data.pkl, legacy pickle or legacy tar)`, { file: p.path });
  const byName = new Map<string, TensorRef>();
  for (const e of read.stateDict.tensors) if (!byName.has(e.name)) byName.set(e.name, e.tensor);
  return { label, read, byName };
}

export async function readTensor(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', `tensor ${tensor.name}: the checkpoint file is not open`);
  const f = await fileTensors(probe, tensor.file);
  const ref = f.byName.get(tensor.name);
  if (!ref) throw notRebuilt(tensor.name, f.label, f.read.foreign);
  return readRef(ref, tensor, f.label, f.read);
}

/** Read one rebuilt tensor through a checkpoint's storages (shared with TorchScript). */
export async function readRef(
  ref: TensorRef,
  tensor: TensorInfo,
  fileLabel: string,
  storages: Pick<CheckpointRead, 'locate' | 'openStorage'>,
): Promise<Uint8Array> {
  checkAgrees(ref, tensor, fileLabel);
  const st = ref.storage;
  if (!st) throw new ModelwiseError('UNSUPPORTED', `tensor ${tensor.name} of ${fileLabel} has no data (a meta tensor, saved without storage)`);
  const loc = storages.locate(st);
  const source = await storages.openStorage(st);
  const out = await readStrided(source, ref, { bigEndian: !!loc?.bigEndian, label: `tensor ${tensor.name} of ${fileLabel} (storage ${st.key})` });
  if (typeof tensor.byteLength === 'number' && out.length !== tensor.byteLength) {
    throw new ModelwiseError('MALFORMED', `tensor ${tensor.name} of ${fileLabel}: read ${out.length} bytes, the listing says ${tensor.byteLength}`);
  }
  return out;
}

/** The listed tensor must be the one the walk rebuilt (a stale or forged TensorInfo is refused). */
function checkAgrees(ref: TensorRef, t: TensorInfo, fileLabel: string): void {
  const shape = t.shape ?? [];
  if (ref.dtype !== t.dtype || ref.shape.length !== shape.length || ref.shape.some((d, i) => d !== shape[i])) {
    throw new ModelwiseError('MALFORMED', `tensor ${t.name} of ${fileLabel} is ${ref.dtype} [${ref.shape.join(', ')}] in the pickle, not ${t.dtype} [${shape.join(', ')}] as asked`);
  }
}

/** The refusal for a name the walk did not rebuild as a tensor. */
export function notRebuilt(name: string, fileLabel: string, foreign: ForeignGlobal[]): ModelwiseError {
  const dangerous = foreign.filter((g) => g.dangerous).map((g) => g.name);
  const imports = dangerous.length
    ? `; the pickle also imports ${dangerous.slice(0, 5).join(', ')}${dangerous.length > 5 ? ', …' : ''} (never imported or run here — see \`modelwise scan\`)`
    : foreign.length
      ? `; the pickle also imports ${foreign.slice(0, 5).map((g) => g.name).join(', ')}`
      : '';
  return new ModelwiseError('UNSUPPORTED', `tensor ${name} is not rebuilt by torch's tensor-rebuilding globals in ${fileLabel}, so its data cannot be read safely${imports}`);
}
