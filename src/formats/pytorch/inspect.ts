/**
 * inspect for `torch.save` checkpoints: one file (zip, legacy pickle, legacy tar) or a sharded set
 * (a `pytorch_model.bin.index.json` or a `name-00001-of-0000N.bin` shard), reported as one model.
 * Tensors are named as `state_dict()` names them (./state-dict.ts); nothing is unpickled, and only
 * the pickles, the small records and one local header per storage are read.
 */
import { ModelwiseError } from '../../errors.js';
import type { Probe } from '../../identify/probe.js';
import type { InspectInput, Inspection } from '../types.js';
import type { Diagnostic, TensorInfo } from '../../types.js';
import { basename } from '../../io/tree.js';
import { describeQuantization, elementCount } from '../../inspect/summary.js';
import { torchZipLayout } from './archive.js';
import { readCheckpoint, type CheckpointRead } from './checkpoint.js';
import { torchIndex } from './sharded.js';
import { unsafePickle, type StateDictEntry } from './state-dict.js';
import { Diagnostics, markTies } from './tensor-info.js';

interface Part {
  file?: string;
  read: CheckpointRead;
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'PyTorch inspection needs the checkpoint file');
  const variant = input.id.format?.variant;
  const diags = new Diagnostics();
  if (variant === 'pt2' || variant === 'torch-package') return unsupportedArchive(probe, variant);

  const parts: Part[] = [];
  let weightMap: Map<string, string> | undefined;
  const index = variant === 'sharded-index' ? torchIndex(await probe.json()) : undefined;
  if (index) {
    const json = (await probe.json()) as { weight_map: Record<string, string> };
    weightMap = new Map(Object.entries(json.weight_map));
    for (const shard of index.shards) {
      const sp = await probe.siblingProbe(shard);
      if (!sp) {
        diags.add('SHARD_MISSING', `shard ${shard} named by ${probe.name} is missing`);
        continue;
      }
      await readPart(sp, shard, parts, diags);
    }
  } else {
    const set = input.id.files && input.id.files.length > 1 ? input.id.files : undefined;
    await readPart(probe, undefined, parts, diags, true);
    for (const f of set?.slice(1) ?? []) {
      const name = basename(f.path);
      const sp = await probe.siblingProbe(name);
      if (!sp) diags.add('SHARD_MISSING', `shard ${name} is missing`);
      else await readPart(sp, name, parts, diags);
    }
  }

  // Merge: names must be unique across shards; the index must agree with the shards.
  const tensors: TensorInfo[] = [];
  const entries: StateDictEntry[] = [];
  const where = new Map<string, string>();
  for (const { file, read } of parts) {
    read.tensors.forEach((t, i) => {
      if (where.has(t.name)) diags.add('DUPLICATE_TENSOR', `tensor ${t.name} is in ${where.get(t.name) || probe.name} and again in ${file ?? probe.name}`);
      where.set(t.name, file ?? '');
      tensors.push(t);
      entries.push(read.stateDict.tensors[i]!);
    });
  }
  if (weightMap) checkIndex(weightMap, where, diags);
  const ties = markTies(entries, tensors);

  const first = parts[0]?.read;
  if (!first) {
    if (!index) throw new ModelwiseError('MALFORMED', `${probe.name}: not a readable torch.save checkpoint (zip with data.pkl, legacy pickle or legacy tar)`);
  }
  const foreign = parts.flatMap((p) => p.read.foreign.map((g) => ({ ...g, file: p.file })));
  const diagnostics: Diagnostic[] = [...unsafePickle(foreign), ...diags.done()];
  const details: Record<string, unknown> = { ...(first?.details ?? {}) };
  if (parts.length > 1 || index) {
    details.shards = parts.map((p) => ({ file: p.file ?? probe.name, variant: p.read.variant, tensors: p.read.tensors.length }));
    if (index?.totalSize !== undefined) details.indexTotalSize = index.totalSize;
  }
  const leaves = parts.flatMap((p) => p.read.stateDict.entries.map((e) => [parts.length > 1 ? `${p.file ?? probe.name}:${e.name}` : e.name, e.description] as const));
  if (leaves.length) details.entries = Object.fromEntries(leaves);
  const omitted = parts.reduce((s, p) => s + p.read.stateDict.entriesOmitted, 0);
  if (omitted) details.entriesOmitted = omitted;
  if (ties.groups.length) details.tiedWeights = ties.groups;
  if (ties.sharedStorages) details.sharedStorages = ties.sharedStorages;
  const classes = parts.flatMap((p) => p.read.stateDict.moduleClasses);
  if (classes.length) details.moduleClasses = [...new Set(classes)].slice(0, 64);

  const realVariant = first && !index && first.variant !== variant ? first.variant : undefined;
  return {
    ...(realVariant ? { format: { variant: realVariant, version: first!.version } } : {}),
    producer: null,
    architecture: classes.length ? classes[0]!.split('.').pop()! : null,
    tensors,
    ...(quantization(tensors) ? { quantization: quantization(tensors)! } : {}),
    details,
    diagnostics,
  };
}

async function readPart(p: Probe, file: string | undefined, parts: Part[], diags: Diagnostics, entry = false): Promise<void> {
  try {
    const read = await readCheckpoint(p, diags, file);
    if (read) parts.push({ file, read });
    else if (!entry) diags.add('SHARD_UNREADABLE', `${file ?? p.name} is not a torch.save checkpoint`);
  } catch (e) {
    if (entry) throw e;
    diags.add(e instanceof ModelwiseError ? e.code : 'IO', `${file ?? p.name}: ${(e as Error).message}`);
  }
}

/** The index's weight_map against what the shards hold. */
function checkIndex(weightMap: Map<string, string>, where: Map<string, string>, diags: Diagnostics): void {
  let missing = 0;
  for (const [name, shard] of weightMap) {
    const got = where.get(name);
    if (got === undefined) {
      if (++missing <= 5) diags.add('TENSOR_MISSING', `${name} is listed in the index (shard ${shard}) but found in no shard read`);
    } else if (got !== shard) diags.add('SHARD_MISMATCH', `${name} is in ${got}, the index says ${shard}`);
  }
  if (missing > 5) diags.add('TENSOR_MISSING', `${missing} tensors of the index were not found in the shards read`);
  const extra = [...where.keys()].filter((n) => !weightMap.has(n));
  if (extra.length) diags.add('TENSOR_NOT_INDEXED', `${extra.length} tensors are in the shards but not in the index (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''})`);
}

function quantization(tensors: TensorInfo[]): Inspection['quantization'] | undefined {
  const q = tensors.filter((t) => t.quantization);
  if (q.length === 0) return undefined;
  const byDtype: Record<string, number> = {};
  for (const t of tensors) byDtype[t.dtype] = (byDtype[t.dtype] ?? 0) + (elementCount(t.shape) ?? 0);
  const schemes = new Map<string, number>();
  for (const t of q) {
    const k = `${t.dtype} ${String(t.quantization!.scheme)}`;
    schemes.set(k, (schemes.get(k) ?? 0) + 1);
  }
  const words = [...schemes].map(([k, n]) => `${n} ${k}`).join(', ');
  const d = describeQuantization(byDtype);
  return { summary: `${d?.summary ?? ''}; quantized tensors: ${words}`, ...(d?.bitsPerWeight !== undefined ? { bitsPerWeight: d.bitsPerWeight } : {}), schemes: Object.fromEntries(schemes) };
}

/** torch.export / torch.package archives: identified, their tensors not read yet. */
async function unsupportedArchive(probe: Probe, variant: string): Promise<Inspection> {
  const l = await torchZipLayout(probe);
  return {
    producer: null,
    architecture: null,
    tensors: [],
    details: { archiveName: l?.top ?? null, records: l ? l.records.size : 0 },
    diagnostics: [{ code: 'UNSUPPORTED_VARIANT', message: `${variant} archives are identified but their weights are not listed yet` }],
  };
}
