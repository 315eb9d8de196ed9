/**
 * One `torch.save` file, whichever layout it has (decided by content, like torch.load): the zip
 * archive (data.pkl + data/<key> records), the legacy pickle stream or the legacy tar. Gives the
 * state_dict-named tensors with their offsets, the non-tensor entries and the layout's records.
 */
import { ModelwiseError } from '../../errors.js';
import type { Probe } from '../../identify/probe.js';
import { SliceSource, type ByteSource } from '../../io/source.js';
import type { PickleEvent } from '../../codecs/pickle.js';
import type { TensorInfo } from '../../types.js';
import { decodeLatin1 } from '../../io/bytes.js';
import { torchZipLayout, type TorchZipLayout } from './archive.js';
import { pickleStart } from './pickle-peek.js';
import { readLegacyPickle, readLegacyTar, type LegacyRead } from './legacy-read.js';
import { collectStateDict, foreignGlobals, type ForeignGlobal, type StateDict, type StorageRef } from './state-dict.js';
import { Diagnostics, tensorInfos, type StorageLocation } from './tensor-info.js';
import { locateStorages, openStorageRecord, readText, walkRecord } from './zip-records.js';

export interface CheckpointRead {
  variant: 'zip' | 'legacy-pickle' | 'legacy-tar';
  version: string | null;
  stateDict: StateDict;
  tensors: TensorInfo[];
  foreign: ForeignGlobal[];
  details: Record<string, unknown>;
  /** Where a storage's bytes are, and their byte order; undefined when the file does not hold it. */
  locate: (s: StorageRef) => StorageLocation | undefined;
  /** A source over exactly a storage's bytes, for readTensor (a slice, or the inflated zip member). */
  openStorage: (s: StorageRef) => Promise<ByteSource>;
}

/** Read one checkpoint file; undefined when it is none of the three layouts. `file` labels shard tensors. */
export async function readCheckpoint(probe: Probe, diags: Diagnostics, file?: string): Promise<CheckpointRead | undefined> {
  const label = file ? `${file}: ` : '';
  const layout = await torchZipLayout(probe);
  if (layout?.records.has('data.pkl')) return readZip(probe, layout, diags, label, file);
  const head = await probe.head();
  let legacy: LegacyRead | undefined;
  let variant: CheckpointRead['variant'] = 'legacy-pickle';
  if (pickleStart(head)) legacy = await readLegacyPickle(probe.source, diags);
  if (!legacy && head.length >= 512 && decodeLatin1(head.subarray(257, 262)) === 'ustar') {
    legacy = await readLegacyTar(probe.source, diags);
    variant = 'legacy-tar';
  }
  if (!legacy) return undefined;
  const locate = legacy.locate;
  const openStorage = async (s: StorageRef): Promise<ByteSource> => {
    const loc = locate(s);
    if (!loc || loc.offset === null || loc.size === null) throw new ModelwiseError('MALFORMED', `storage ${s.key} is not located in the file`, { file: probe.path });
    return new SliceSource(probe.source, loc.offset, loc.size, `${probe.path} storage ${s.key}`);
  };
  return finish(variant, legacy.version, legacy.stateDict, legacy.events, locate, openStorage, legacy.details, diags, label, file);
}

async function readZip(probe: Probe, l: TorchZipLayout, diags: Diagnostics, label: string, file?: string): Promise<CheckpointRead> {
  const zip = (await probe.zip())!;
  const details: Record<string, unknown> = { archiveName: l.top };
  if (l.version !== undefined) details.versionRecord = l.version;
  if (l.byteorder) details.byteorder = l.byteorder;
  for (const [rec, key] of [['.format_version', 'formatVersion'], ['.storage_alignment', 'storageAlignment'], ['.data/serialization_id', 'serializationId']] as const) {
    const t = (await readText(zip, l.records.get(rec), 64))?.trim();
    if (t !== undefined && /^[\w.-]{1,64}$/.test(t)) details[key] = /^\d{1,9}$/.test(t) ? Number(t) : t;
  }
  if (l.byteorder === 'big') diags.add('BIG_ENDIAN', `${label}byteorder record says big: storages hold big-endian data`);
  if (l.outside > 0) diags.add('ZIP_EXTRA_ENTRIES', `${label}${l.outside} zip entries outside ${l.top}/ (torch ignores them)`);
  const r = await walkRecord(zip, l.records.get('data.pkl'), `${label}data.pkl`, diags);
  if (r) details.pickleProtocol = r.protocol;
  const sd = collectStateDict(r?.value);
  const keys = new Set<string>();
  for (const t of sd.tensors) if (t.tensor.storage) keys.add(t.tensor.storage.key);
  const locs = await locateStorages(zip, l.records, 'data/', keys, diags, label);
  if (l.byteorder === 'big') for (const loc of locs.values()) loc.bigEndian = true;
  const openStorage = async (s: StorageRef): Promise<ByteSource> => {
    const e = l.records.get(`data/${s.key}`);
    if (!e) throw new ModelwiseError('MALFORMED', `storage record ${l.top}/data/${s.key} is not in the archive`, { file: probe.path });
    return openStorageRecord(zip, e, locs.get(s.key)?.offset);
  };
  details.storages = l.storages;
  const unused = [...l.records.keys()].filter((k) => k.startsWith('data/') && !keys.has(k.slice(5))).length;
  if (unused > 0) details.unreferencedStorages = unused;
  return finish('zip', l.version !== undefined ? String(l.version) : null, sd, r?.events ?? [], (s) => locs.get(s.key), openStorage, details, diags, label, file);
}

function finish(
  variant: CheckpointRead['variant'],
  version: string | null,
  sd: StateDict,
  events: PickleEvent[],
  locate: (s: StorageRef) => StorageLocation | undefined,
  openStorage: (s: StorageRef) => Promise<ByteSource>,
  details: Record<string, unknown>,
  diags: Diagnostics,
  label: string,
  file?: string,
): CheckpointRead {
  const tensors = tensorInfos(sd.tensors, (s) => {
    const loc = locate(s);
    return loc && file ? { ...loc, file } : loc;
  }, diags, label);
  for (const b of sd.broken) diags.add('TENSOR_UNREADABLE', `${label}${b.name}: ${b.why}`);
  if (sd.truncated) diags.add('LIMIT_EXCEEDED', `${label}the object is too large or too deeply nested: the tensor walk stopped early`);
  const locations = new Set<string>();
  for (const t of sd.tensors) if (t.tensor.storage?.location) locations.add(t.tensor.storage.location);
  if (locations.size) details.storageLocations = [...locations].sort();
  details.root = sd.root;
  return { variant, version, stateDict: sd, tensors, foreign: foreignGlobals(events), details, locate, openStorage };
}
