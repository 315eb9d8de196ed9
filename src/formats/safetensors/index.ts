/**
 * safetensors: https://github.com/huggingface/safetensors#format (u64 LE header length N, then N
 * bytes of JSON `{name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}`, padded with
 * spaces, then the tensor data). No magic: the header length and a JSON object are the signature.
 *
 * Variants: `safetensors` (one file, or one shard of `name-00001-of-00003.safetensors`, which lists
 * its siblings) and `sharded-index` (`*.safetensors.index.json`: `{metadata: {total_size},
 * weight_map: {tensor: file}}`). An index whose weight_map points to `.bin` files is PyTorch's.
 */
import { decodeUtf8, humanBytes, u64le, view } from '../../io/bytes.js';
import { detection, shardPattern } from '../detection.js';
import type { FormatModule } from '../types.js';
import { isObject, type Probe } from '../../identify/probe.js';
import type { Detection, ModelFile } from '../../types.js';
import { canonicalDtype } from './dtypes.js';

export { canonicalDtype };

const NAME = 'safetensors';
/** The reference reader refuses headers above 100 MB (safetensors `MAX_HEADER_SIZE`). */
const MAX_HEADER = 100_000_000;
/** Largest header parsed during detection; bigger ones are judged by their first bytes. */
const MAX_PARSED_HEADER = 1024 * 1024;

function firstNonSpace(b: Uint8Array, from: number): number {
  let i = from;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return i;
}

interface HeaderFacts {
  tensors: number;
  dtypes: string[];
  dataEnd: number;
  metadata?: Record<string, unknown>;
  bad?: string;
}

/** Check the parsed header's entries; reports the first malformed one instead of throwing. */
function examine(json: unknown): HeaderFacts | undefined {
  if (!isObject(json)) return undefined;
  const dtypes = new Set<string>();
  let tensors = 0;
  let dataEnd = 0;
  let bad: string | undefined;
  let metadata: Record<string, unknown> | undefined;
  for (const [name, v] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (isObject(v)) metadata = v;
      else bad ??= '__metadata__ is not an object';
      continue;
    }
    if (!isObject(v) || typeof v.dtype !== 'string' || !Array.isArray(v.shape) || !Array.isArray(v.data_offsets) || v.data_offsets.length !== 2) {
      bad ??= `entry "${name.slice(0, 80)}" is not {dtype, shape, data_offsets}`;
      continue;
    }
    const [a, b] = v.data_offsets as unknown[];
    if (typeof a !== 'number' || typeof b !== 'number' || !(a >= 0) || !(b >= a)) {
      bad ??= `entry "${name.slice(0, 80)}" has invalid data_offsets`;
      continue;
    }
    tensors++;
    dtypes.add(canonicalDtype(v.dtype));
    dataEnd = Math.max(dataEnd, b);
  }
  return { tensors, dtypes: [...dtypes].sort(), dataEnd, ...(metadata ? { metadata } : {}), ...(bad ? { bad } : {}) };
}

async function detectFile(probe: Probe): Promise<Detection | undefined> {
  const head = await probe.head();
  if (head.length < 10) return undefined;
  const n = u64le(view(head), 0);
  if (n === undefined || n < 2 || n > MAX_HEADER) return undefined;
  const start = firstNonSpace(head, 8);
  if (start >= head.length || head[start] !== 0x7b /* { */ || start - 8 >= n) return undefined;
  const next = firstNonSpace(head, start + 1);
  if (next < head.length && head[next] !== 0x22 /* " */ && head[next] !== 0x7d /* } */) return undefined;
  const size = probe.size;
  const lenText = `header ${n} bytes`;

  // Declared header runs past the end of the file: a truncated download (or not safetensors at all).
  if (8 + n > size) {
    const visible = decodeUtf8(head.subarray(8, Math.min(head.length, 8 + n)));
    if (!/"(dtype|data_offsets|__metadata__)"/.test(visible) && probe.ext !== '.safetensors') return undefined;
    return detection('safetensors', NAME, 'safetensors', null, 'low', [
      `safetensors-like JSON header, but truncated: the ${lenText} run past the end of the ${size}-byte file`,
    ], { details: { headerLength: n, truncated: true } });
  }

  let bytes: Uint8Array | undefined;
  if (8 + n <= head.length) bytes = head.subarray(8, 8 + n);
  else if (n <= MAX_PARSED_HEADER) {
    const b = await probe.bytes(8, n);
    if (b.length === n) bytes = b;
  }
  if (!bytes) {
    // Too big to parse here: judge by how it starts.
    const text = decodeUtf8(head.subarray(8));
    const entry = /^\s*\{\s*"(?:[^"\\]|\\.)*"\s*:\s*\{\s*"(dtype|shape|data_offsets|format)"/.test(text) || /^\s*\{\s*"__metadata__"\s*:/.test(text);
    if (!entry) return undefined;
    return detection('safetensors', NAME, 'safetensors', null, 'high', [`safetensors ${lenText} (not parsed at identify time); it starts with a tensor entry`], {
      files: await shardFiles(probe),
      details: { headerLength: n },
    });
  }

  let json: unknown;
  try {
    json = JSON.parse(decodeUtf8(bytes));
  } catch {
    return detection('safetensors', NAME, 'safetensors', null, 'low', [`u64 header length ${n} followed by "{", but the header is not valid JSON (corrupt or truncated)`], {
      details: { headerLength: n },
    });
  }
  const facts = examine(json);
  if (!facts) return undefined;
  if (facts.tensors === 0 && facts.bad) return undefined; // JSON, but nothing like a tensor entry
  const evidence = [`safetensors ${lenText} (JSON), ${facts.tensors} tensor${facts.tensors === 1 ? '' : 's'}${facts.dtypes.length ? `, dtypes ${facts.dtypes.join(', ')}` : ''}`];
  if (facts.metadata) evidence.push(`__metadata__ with ${Object.keys(facts.metadata).length} key(s)${typeof facts.metadata.format === 'string' ? ` (format ${facts.metadata.format})` : ''}`);
  if (facts.bad) evidence.push(`malformed header: ${facts.bad}`);
  const dataSize = size - 8 - n;
  const truncatedData = facts.dataEnd > dataSize;
  if (truncatedData) evidence.push(`tensor data truncated: the header needs ${facts.dataEnd} data bytes, the file holds ${dataSize}`);
  const files = await shardFiles(probe);
  const confidence = facts.bad || truncatedData ? 'medium' : facts.tensors === 0 && !facts.metadata ? 'medium' : 'high';
  return detection('safetensors', NAME, 'safetensors', null, confidence, evidence, {
    files,
    details: {
      headerLength: n,
      tensorCount: facts.tensors,
      dtypes: facts.dtypes.join(','),
      ...(typeof facts.metadata?.format === 'string' ? { metadataFormat: facts.metadata.format } : {}),
      ...(truncatedData ? { truncated: true } : {}),
    },
  });
}

/** Names of the shard set `prefix-00001-of-0000N.safetensors`. */
function shardNames(name: string): string[] | undefined {
  const sp = shardPattern(name);
  if (!sp || sp.total < 2 || sp.total > 100_000 || sp.index < 1 || sp.index > sp.total) return undefined;
  const out: string[] = [];
  for (let i = 1; i <= sp.total; i++) out.push(`${sp.prefix}-${String(i).padStart(sp.width, '0')}-of-${String(sp.total).padStart(sp.width, '0')}${sp.suffix}`);
  return out;
}

/**
 * Files of a sharded model, seen from one shard: the index (entry) when present, then the shards
 * that exist. Undefined when the file is not a shard or the folder is unknown.
 */
async function shardFiles(probe: Probe): Promise<ModelFile[] | undefined> {
  const names = shardNames(probe.name);
  if (!names) return undefined;
  const siblings = await probe.siblings();
  if (siblings.length === 0) return undefined;
  const sp = shardPattern(probe.name)!;
  const files: ModelFile[] = [];
  const indexes = siblings.filter((s) => s.path.endsWith('.safetensors.index.json'));
  const index = siblings.find((s) => s.path === `${sp.prefix}${sp.suffix}.index.json`) ?? (indexes.length === 1 ? indexes[0] : undefined);
  if (index) files.push({ path: index.path, size: index.size, role: 'index' });
  for (const [i, n] of names.entries()) {
    const e = siblings.find((s) => s.path === n);
    if (e) files.push({ path: n, size: e.size, role: !index && i === 0 ? 'entry' : 'shard' });
  }
  return files.length > 1 ? files : undefined;
}

async function detectIndex(probe: Probe): Promise<Detection | undefined> {
  const head = await probe.head();
  if (head.length < 2 || !/^\s*\{/.test(decodeUtf8(head.subarray(0, 16)))) return undefined;
  const json = await probe.json();
  if (!isObject(json) || !isObject(json.weight_map)) return undefined;
  const targets = Object.values(json.weight_map);
  if (targets.length === 0 || !targets.every((t) => typeof t === 'string')) return undefined;
  const shards = [...new Set(targets as string[])];
  const st = shards.filter((s) => /\.safetensors$/i.test(s));
  if (st.length === 0 || st.length * 2 < shards.length) return undefined; // .bin shards: PyTorch's index
  const tensorCount = targets.length;
  const totalSize = isObject(json.metadata) && typeof json.metadata.total_size === 'number' ? json.metadata.total_size : undefined;
  const evidence = [
    `safetensors index: weight_map maps ${tensorCount} tensor${tensorCount === 1 ? '' : 's'} to ${shards.length} shard file${shards.length === 1 ? '' : 's'}${totalSize !== undefined ? `, metadata.total_size ${totalSize} (${humanBytes(totalSize)})` : ''}`,
  ];
  if (st.length < shards.length) evidence.push(`${shards.length - st.length} shard(s) are not .safetensors files`);
  const files: ModelFile[] = [{ path: probe.name, size: probe.size, role: 'index' }];
  let missing: string[] = [];
  const listing = shards.some((s) => s.includes('/')) ? await probe.folderFiles() : await probe.siblings();
  if (listing.length > 0) {
    for (const s of shards) {
      const e = listing.find((x) => x.path === s);
      if (e) files.push({ path: s, size: e.size, role: 'shard' });
      else missing.push(s);
    }
    if (missing.length === 0) evidence.push(`all ${shards.length} shard files present`);
    else evidence.push(`missing shard${missing.length === 1 ? '' : 's'}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  } else {
    evidence.push('shard files not checked (no folder listing)');
    missing = [];
  }
  return detection('safetensors', NAME, 'sharded-index', null, 'high', evidence, {
    files,
    details: {
      tensorCount,
      shardCount: shards.length,
      ...(totalSize !== undefined ? { totalSize } : {}),
      ...(listing.length > 0 ? { missingShards: missing.length } : {}),
    },
  });
}

export const safetensors: FormatModule = {
  id: 'safetensors',
  name: NAME,
  extensions: ['.safetensors', '.safetensors.index.json'],
  load: async () => ({ ...(await import('./inspect.js')), readTensor: (await import('../read-range.js')).readRange, scan: (await import('./scan.js')).scan }),
  async detect(probe: Probe) {
    try {
      return (await detectFile(probe)) ?? (await detectIndex(probe));
    } catch {
      return undefined;
    }
  },
};
