/**
 * readTensor for TorchScript archives: a parameter or buffer that inspect listed, contiguous and
 * little-endian in its own dtype. The module tree is walked once per archive (./inspect.ts
 * `moduleTensors`, memoized per probe): storages, offsets, shapes and strides come from data.pkl's
 * tensor-rebuilding calls (or model.json's TensorDefs), never from running the archive's code.
 */
import { ModelwiseError } from '../../errors.js';
import type { Probe } from '../../identify/probe.js';
import type { ByteSource } from '../../io/source.js';
import type { TensorInfo } from '../../types.js';
import type { InspectInput } from '../types.js';
import { torchZipLayout } from '../pytorch/archive.js';
import type { StorageRef, TensorRef } from '../pytorch/rebuild.js';
import type { ForeignGlobal } from '../pytorch/state-dict.js';
import { Diagnostics, type StorageLocation } from '../pytorch/tensor-info.js';
import { notRebuilt, readRef } from '../pytorch/tensors.js';
import { locateStorages, openStorageRecord } from '../pytorch/zip-records.js';
import { moduleTensors } from './inspect.js';

interface Archive {
  byName: Map<string, TensorRef>;
  foreign: ForeignGlobal[];
  locate: (s: StorageRef) => StorageLocation | undefined;
  openStorage: (s: StorageRef) => Promise<ByteSource>;
}

const cache = new WeakMap<Probe, Promise<Archive>>();

function archive(probe: Probe): Promise<Archive> {
  let p = cache.get(probe);
  if (!p) {
    p = load(probe);
    cache.set(probe, p);
    p.catch(() => cache.delete(probe));
  }
  return p;
}

async function load(probe: Probe): Promise<Archive> {
  const l = await torchZipLayout(probe);
  const zip = await probe.zip();
  if (!l || !zip) throw new ModelwiseError('UNSUPPORTED', `${probe.name}: only TorchScript zip archives have readable tensors (not the FlatBuffers lite format)`, { file: probe.path });
  const diags = new Diagnostics();
  const tree = await moduleTensors(zip, l, diags, {});
  const byName = new Map<string, TensorRef>();
  for (const e of tree.entries) if (!byName.has(e.name)) byName.set(e.name, e.tensor);
  const keys = tree.entries.flatMap((e) => (e.tensor.storage ? [e.tensor.storage.key] : []));
  const locs = await locateStorages(zip, l.records, tree.storageDir, keys, diags);
  if (l.byteorder === 'big') for (const loc of locs.values()) loc.bigEndian = true;
  return {
    byName,
    foreign: tree.foreign,
    locate: (s) => locs.get(s.key),
    openStorage: async (s) => {
      const e = l.records.get(tree.storageDir + s.key);
      if (!e) throw new ModelwiseError('MALFORMED', `storage record ${l.top}/${tree.storageDir}${s.key} is not in the archive`, { file: probe.path });
      return openStorageRecord(zip, e, locs.get(s.key)?.offset);
    },
  };
}

export async function readTensor(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', `tensor ${tensor.name}: the archive is not open`);
  const a = await archive(probe);
  const ref = a.byName.get(tensor.name);
  if (!ref) throw notRebuilt(tensor.name, probe.path, a.foreign);
  return readRef(ref, tensor, probe.path, a);
}
