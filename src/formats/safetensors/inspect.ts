/**
 * safetensors inspection: one file, or a whole sharded model — seen from its
 * `*.safetensors.index.json` (`{metadata: {total_size}, weight_map: {tensor: shard}}`), from a shard
 * `name-0000k-of-0000N.safetensors`, or from the folder (the driver then passes the entry file).
 * Every shard's header is read (headers only); tensors of a sharded model carry `file`. Missing
 * shards, tensors the index points to but the shard lacks, and size disagreements are diagnostics.
 */
import { ModelwiseError } from '../../errors.js';
import { isObject, type Probe } from '../../identify/probe.js';
import { readExact, type ByteSource } from '../../io/source.js';
import { LIMITS } from '../../limits.js';
import type { Diagnostic, TensorInfo } from '../../types.js';
import { shardPattern } from '../detection.js';
import type { InspectInput, Inspection } from '../types.js';
import { readSafetensorsHeader } from './header.js';
import { readHfConfig } from './hf-config.js';

const PRODUCERS: Record<string, string> = { pt: 'PyTorch (safetensors.torch)', tf: 'TensorFlow (safetensors.tensorflow)', flax: 'Flax (safetensors.flax)', np: 'NumPy (safetensors.numpy)', mlx: 'MLX', paddle: 'PaddlePaddle' };

interface Index {
  weightMap: Map<string, string>;
  shards: string[];
  totalSize?: number;
  metadata: Record<string, unknown>;
}

async function readIndex(source: ByteSource): Promise<Index> {
  if (source.size > LIMITS.jsonFile) throw new ModelwiseError('LIMIT_EXCEEDED', `index of ${source.size} bytes exceeds the ${LIMITS.jsonFile}-byte JSON limit`, { file: source.name });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(await readExact(source, 0, source.size, 'index JSON')));
  } catch (e) {
    throw new ModelwiseError('MALFORMED', `index is not valid JSON: ${(e as Error).message}`, { file: source.name, offset: 0 });
  }
  if (!isObject(json) || !isObject(json.weight_map)) throw new ModelwiseError('MALFORMED', 'index has no weight_map object', { file: source.name, expected: '{"weight_map": {tensor: shard file}}' });
  const weightMap = new Map<string, string>();
  for (const [k, v] of Object.entries(json.weight_map)) if (typeof v === 'string') weightMap.set(k, v);
  const shards = [...new Set(weightMap.values())].sort();
  const metadata = isObject(json.metadata) ? json.metadata : {};
  return { weightMap, shards, metadata, ...(typeof metadata.total_size === 'number' ? { totalSize: metadata.total_size } : {}) };
}

/** All shard names of `prefix-0000k-of-0000N.suffix` when `name` is one of them. */
function shardSet(name: string): string[] | undefined {
  const sp = shardPattern(name);
  if (!sp || sp.total < 2 || sp.total > 100_000 || sp.index < 1 || sp.index > sp.total) return undefined;
  return Array.from({ length: sp.total }, (_, i) => `${sp.prefix}-${String(i + 1).padStart(sp.width, '0')}-of-${String(sp.total).padStart(sp.width, '0')}${sp.suffix}`);
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'safetensors inspection needs the file');
  const diagnostics: Diagnostic[] = [];
  let index: Index | undefined;
  let shards: string[] | undefined;
  const isIndex = input.id.format?.variant === 'sharded-index' || /\.index\.json$/i.test(probe.name);
  if (isIndex) {
    index = await readIndex(probe.source);
    shards = index.shards;
  } else {
    shards = shardSet(probe.name);
    if (shards) {
      // A shard: use the set's index too, when the folder has one (to check the weight map).
      const indexFile = input.id.files?.find((f) => f.role === 'index')?.path;
      const src = indexFile ? await probe.sibling(indexFile) : undefined;
      if (src) {
        try {
          index = await readIndex(src);
        } catch (e) {
          diagnostics.push({ code: 'SHARD_INDEX_UNREADABLE', message: `${indexFile}: ${(e as Error).message}` });
        }
      }
    }
  }

  const tensors: TensorInfo[] = [];
  let metadata: Record<string, unknown> | undefined;
  const headerLengths: Record<string, number> = {};
  const byShard = new Map<string, Set<string>>();
  if (!shards) {
    const h = await readSafetensorsHeader(probe.source, probe.name);
    tensors.push(...h.tensors);
    metadata = h.metadata;
    diagnostics.push(...h.diagnostics);
    headerLengths[probe.name] = h.headerLength;
  } else {
    const missing: string[] = [];
    for (const name of shards) {
      const src = name === probe.name && !isIndex ? probe.source : await probe.sibling(name);
      if (!src) {
        missing.push(name);
        continue;
      }
      try {
        const h = await readSafetensorsHeader(src, name);
        for (const t of h.tensors) tensors.push({ ...t, file: name });
        byShard.set(name, new Set(h.tensors.map((t) => t.name)));
        metadata ??= h.metadata;
        diagnostics.push(...h.diagnostics);
        headerLengths[name] = h.headerLength;
      } catch (e) {
        diagnostics.push({ code: 'SHARD_UNREADABLE', message: `${name}: ${(e as Error).message}` });
      }
    }
    for (const m of missing.slice(0, 20)) diagnostics.push({ code: 'SHARD_MISSING', message: `shard ${m} of ${shards.length} is missing${probe.tree ? '' : ' (no folder to look in)'}` });
    if (missing.length > 20) diagnostics.push({ code: 'SHARD_MISSING', message: `${missing.length - 20} more shards are missing` });
    const seen = new Map<string, string>();
    let dups = 0;
    for (const t of tensors) {
      const prev = seen.get(t.name);
      if (prev !== undefined && dups++ < 10) diagnostics.push({ code: 'SHARD_DUPLICATE_TENSOR', message: `tensor ${t.name} is stored in both ${prev} and ${t.file}` });
      seen.set(t.name, t.file!);
    }
  }

  if (index) {
    let absent = 0;
    let unlisted = 0;
    for (const [name, file] of index.weightMap) {
      const have = byShard.get(file);
      if (have && !have.has(name) && absent++ < 10) diagnostics.push({ code: 'SHARD_TENSOR_MISSING', message: `the index puts ${name} in ${file}, but that shard does not hold it` });
    }
    for (const t of tensors) if (!index.weightMap.has(t.name)) unlisted++;
    if (absent > 10) diagnostics.push({ code: 'SHARD_TENSOR_MISSING', message: `${absent - 10} more tensors of the index are missing from their shards` });
    if (unlisted) diagnostics.push({ code: 'SHARD_UNLISTED_TENSOR', message: `${unlisted} tensor(s) in the shards are not in the index weight_map` });
    const bytes = tensors.reduce((s, t) => s + (t.byteLength as number), 0);
    if (index.totalSize !== undefined && byShard.size === index.shards.length && bytes !== index.totalSize) {
      diagnostics.push({ code: 'SHARD_TOTAL_SIZE_MISMATCH', message: `index metadata.total_size is ${index.totalSize}, the shards hold ${bytes} tensor bytes` });
    }
  }

  const cfg = await readHfConfig(probe).catch(() => undefined);
  const fmt = typeof metadata?.format === 'string' ? metadata.format : undefined;
  const details: Record<string, unknown> = {
    headerLength: shards ? headerLengths : headerLengths[probe.name],
    ...(shards ? { shards: shards.length } : {}),
    ...(index ? { index: { tensors: index.weightMap.size, ...(index.totalSize !== undefined ? { totalSize: index.totalSize } : {}), metadata: index.metadata } } : {}),
    ...(cfg?.modelType ? { modelType: cfg.modelType } : {}),
    ...(cfg?.torchDtype ? { configDtype: cfg.torchDtype } : {}),
  };
  return {
    producer: fmt ? (PRODUCERS[fmt] ?? fmt) : null,
    architecture: cfg?.architecture ?? null,
    tensors,
    ...(cfg && Object.keys(cfg.hyperParameters).length ? { hyperParameters: cfg.hyperParameters } : {}),
    ...(cfg?.quantization ? { quantization: cfg.quantization } : {}),
    details,
    metadata: metadata ?? {},
    diagnostics,
  };
}
