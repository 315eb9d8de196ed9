/**
 * Sharded PyTorch checkpoints as Hugging Face writes them (transformers `save_pretrained` with
 * `safe_serialization=False`): `pytorch_model-00001-of-00002.bin` shards plus an index
 * `pytorch_model.bin.index.json` = `{"metadata": {"total_size": N}, "weight_map": {tensor: shard}}`.
 * https://huggingface.co/docs/transformers/main/en/big_models#sharded-checkpoints
 */
import { safeRelativePath } from '../../io/tree.js';
import { isObject, type Probe } from '../../identify/probe.js';
import { shardPattern } from '../detection.js';
import type { ModelFile } from '../../types.js';

/** Shard file extensions a PyTorch index may point to (safetensors indexes belong to safetensors). */
const TORCH_SHARD = /\.(bin|pt|pth|ckpt)$/i;

export interface TorchIndex {
  /** Shard file names in first-seen order (relative to the index). */
  shards: string[];
  tensorCount: number;
  totalSize?: number;
}

/** Parse a PyTorch `*.bin.index.json`; undefined when the JSON is not one. */
export function torchIndex(json: unknown): TorchIndex | undefined {
  if (!isObject(json) || !isObject(json.weight_map)) return undefined;
  const shards: string[] = [];
  const seen = new Set<string>();
  let tensorCount = 0;
  for (const v of Object.values(json.weight_map)) {
    if (typeof v !== 'string') return undefined;
    tensorCount++;
    if (!seen.has(v)) {
      seen.add(v);
      shards.push(v);
    }
  }
  if (shards.length === 0 || !shards.every((s) => TORCH_SHARD.test(s))) return undefined;
  const meta = json.metadata;
  const total = isObject(meta) && typeof meta.total_size === 'number' && Number.isFinite(meta.total_size) ? meta.total_size : undefined;
  return { shards, tensorCount, ...(total !== undefined ? { totalSize: total } : {}) };
}

/** Index + the shards that exist next to it (only when the probe knows its folder). */
export async function indexFiles(probe: Probe, index: TorchIndex): Promise<{ files?: ModelFile[]; missing: string[]; unsafe: string[] }> {
  const unsafe = index.shards.filter((s) => safeRelativePath(s) !== s);
  if (!probe.tree) return { missing: [], unsafe };
  const all = await probe.folderFiles();
  const files: ModelFile[] = [{ path: probe.name, size: probe.size, role: 'index' }];
  const missing: string[] = [];
  for (const s of index.shards) {
    if (unsafe.includes(s)) continue;
    const e = all.find((f) => f.path === s);
    if (e) files.push({ path: s, size: e.size, role: 'shard' });
    else missing.push(s);
  }
  return { files, missing, unsafe };
}

/** Sibling shards of a `name-00001-of-00003.bin` shard (entry = the first shard), when the folder is known. */
export async function shardSiblings(probe: Probe): Promise<ModelFile[] | undefined> {
  const sp = shardPattern(probe.name);
  if (!sp || sp.total < 2 || sp.total > 100_000) return undefined;
  const siblings = await probe.siblings();
  if (siblings.length === 0) return undefined;
  const byName = new Map(siblings.map((s) => [s.path, s.size]));
  const files: ModelFile[] = [];
  for (let i = 1; i <= sp.total; i++) {
    const n = `${sp.prefix}-${String(i).padStart(sp.width, '0')}-of-${String(sp.total).padStart(sp.width, '0')}${sp.suffix}`;
    const size = byName.get(n);
    if (size !== undefined) files.push({ path: n, size, role: i === 1 ? 'entry' : 'shard' });
  }
  return files.length > 1 ? files : undefined;
}
