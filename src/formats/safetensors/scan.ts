/**
 * safetensors security rules. The format cannot run code, so what matters is a header that readers
 * disagree on or that makes them read out of bounds:
 * - ST-001 (high, malformed): header length past the file or above 100 MB, header not UTF-8 JSON,
 *   duplicate keys (serde and Python's json keep different ones), a tensor without a valid dtype /
 *   shape / data_offsets, offsets out of range, overlapping, not contiguous or not covering the data
 *   section, dtype × shape ≠ byte length, a non-string `__metadata__`.
 * - ST-002 (medium): a sharded index (`model.safetensors.index.json`) naming shard files outside
 *   the model folder.
 * - META-001 (medium): `__metadata__` values with shell / code patterns (URLs are noted as info).
 * Checks are done here independently of the inspector (the header is re-read with its own bounds).
 */
import { readExact } from '../../io/source.js';
import { isObject } from '../../identify/probe.js';
import { registerRules } from '../../scan/rules.js';
import type { ScanState } from '../../scan/scan.js';
import type { Finding } from '../../scan/types.js';
import type { InspectInput } from '../types.js';
import { metaFinding, unsafeLocation } from '../../scan/paths.js';
import { SAFETENSORS_DTYPES } from './dtypes.js';

registerRules({
  'ST-001': 'safetensors header malformed: length, JSON, duplicate keys, offsets, dtype × shape',
  'ST-002': 'safetensors sharded index names shard files outside the model folder',
});

export const ST_MAX_HEADER = 100_000_000;

/** Duplicate keys anywhere in a JSON text (after unescaping), or undefined. Assumes the text parsed. */
export function duplicateJsonKey(text: string): { key: string; path: string } | undefined {
  const stack: { keys: Set<string> | undefined; name: string }[] = [];
  let i = 0;
  let expectKey = false;
  let lastKey = '';
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < n && text[j] !== '"') {
        if (text[j] === '\\') {
          const e = text[j + 1];
          if (e === 'u') {
            s += String.fromCharCode(parseInt(text.slice(j + 2, j + 6), 16));
            j += 6;
            continue;
          }
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === 'b' ? '\b' : e === 'f' ? '\f' : (e ?? '');
          j += 2;
          continue;
        }
        s += text[j];
        j++;
      }
      i = j + 1;
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        if (top.keys.has(s)) return { key: s, path: stack.map((x) => x.name).filter(Boolean).join('.') };
        top.keys.add(s);
        lastKey = s;
        expectKey = false;
      }
      continue;
    }
    if (c === '{') {
      stack.push({ keys: new Set(), name: lastKey });
      expectKey = true;
    } else if (c === '[') {
      stack.push({ keys: undefined, name: lastKey });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack[stack.length - 1]?.keys !== undefined;
    }
    i++;
  }
  return undefined;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

function malformed(where: string, evidence: string, message = 'the safetensors header is malformed: readers disagree on it or read out of bounds'): Finding {
  return { rule: 'ST-001', severity: 'high', location: where, evidence, message, malformed: true };
}

/** Check one safetensors file; `head` must hold at least its first 8 bytes. */
export async function scanSafetensorsFile(source: { size: number; name: string; read(o: number, l: number): Promise<Uint8Array> }, where: string): Promise<Finding[]> {
  const out: Finding[] = [];
  if (source.size < 8) return [malformed(where, `${source.size} bytes: no 8-byte header length`)];
  const lenBytes = await readExact(source, 0, 8, 'header length');
  const n64 = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(ST_MAX_HEADER)) return [malformed(where, `header length ${n64} is above the 100 MB limit of the reference reader`)];
  const n = Number(n64);
  if (8 + n > source.size) return [malformed(where, `header length ${n} runs past the end of the ${source.size}-byte file`)];
  if (n < 2) return [malformed(where, `header length ${n} is too short for a JSON object`)];
  const raw = await readExact(source, 8, n, 'JSON header');
  let text: string;
  try {
    text = fatalUtf8.decode(raw);
  } catch {
    return [malformed(where, 'header is not valid UTF-8')];
  }
  if (!text.startsWith('{')) out.push(malformed(where, `header starts with ${JSON.stringify(text.slice(0, 8))}, not "{"`));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return [...out, malformed(where, `header is not valid JSON: ${(e as Error).message}`)];
  }
  if (!isObject(json)) return [...out, malformed(where, 'header JSON is not an object')];
  const dup = duplicateJsonKey(text);
  if (dup) out.push(malformed(where, `duplicate key ${JSON.stringify(dup.key)}${dup.path ? ` in ${dup.path}` : ''}`, 'duplicate keys: the Rust reader and Python json keep different values, so a scanner and a loader can see different tensors'));
  const dataSize = source.size - 8 - n;
  const ranges: { name: string; begin: number; end: number }[] = [];
  let problems = 0;
  const problem = (f: Finding) => {
    if (++problems <= 20) out.push(f);
  };
  for (const [name, v] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isObject(v)) {
        problem(malformed(`${where} > __metadata__`, '__metadata__ is not an object of strings'));
        continue;
      }
      for (const [k, x] of Object.entries(v)) {
        if (typeof x !== 'string') {
          problem(malformed(`${where} > __metadata__`, `__metadata__.${k} is a ${Array.isArray(x) ? 'list' : typeof x}, not a string (the reference reader refuses it)`));
          continue;
        }
        const f = metaFinding(k, x, `${where} > __metadata__`);
        if (f) out.push(f);
      }
      continue;
    }
    const loc = `${where} > ${name}`;
    if (!isObject(v)) {
      problem(malformed(loc, 'tensor entry is not an object'));
      continue;
    }
    const dt = typeof v.dtype === 'string' ? SAFETENSORS_DTYPES[v.dtype] : undefined;
    if (!dt) {
      problem(malformed(loc, `unknown dtype ${JSON.stringify(v.dtype)}`));
      continue;
    }
    const shape = v.shape;
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
      problem(malformed(loc, `shape ${JSON.stringify(shape)} is not a list of non-negative integers`));
      continue;
    }
    const off = v.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
      problem(malformed(loc, `data_offsets ${JSON.stringify(off)} is not [begin, end]`));
      continue;
    }
    const [begin, end] = off as [number, number];
    if (begin > end) {
      problem(malformed(loc, `data_offsets [${begin}, ${end}] end before they begin`));
      continue;
    }
    if (end > dataSize) {
      problem(malformed(loc, `data_offsets [${begin}, ${end}] run past the ${dataSize}-byte data section`, 'offsets outside the file: readers that trust them read out of bounds'));
      continue;
    }
    let elements = 1n;
    for (const d of shape as number[]) elements *= BigInt(d);
    const bits = elements * BigInt(dt[1]);
    const want = bits % 8n === 0n ? bits / 8n : -1n;
    if (want !== BigInt(end - begin)) {
      problem(malformed(loc, `${v.dtype} × [${(shape as number[]).join(', ')}] is ${want < 0n ? `${bits} bits (not whole bytes)` : `${want} bytes`}, data_offsets span ${end - begin}`));
    }
    ranges.push({ name, begin, end });
  }
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const r of ranges) {
    if (r.begin < at) problem(malformed(`${where} > ${r.name}`, `data_offsets [${r.begin}, ${r.end}] overlap the previous tensor (ends at ${at})`, 'overlapping tensors: one write changes another, readers disagree'));
    else if (r.begin > at) problem(malformed(`${where} > ${r.name}`, `${r.begin - at} unused bytes before data_offsets [${r.begin}, ${r.end}]`, 'a gap in the data section: bytes no tensor owns (the reference reader refuses it), room to hide a payload'));
    at = Math.max(at, r.end);
  }
  if (at !== dataSize && (ranges.length > 0 || dataSize > 0)) {
    problem(malformed(where, `tensors cover ${at} of the ${dataSize} data bytes`, 'bytes after the last tensor (or a truncated file): the reference reader refuses it; a payload can hide there'));
  }
  if (problems > 20) out.push(malformed(where, `${problems - 20} more header problems`));
  return out;
}

async function scanIndex(input: InspectInput, state: ScanState): Promise<Finding[]> {
  const probe = input.probe!;
  const json = await probe.json();
  if (!isObject(json) || !isObject(json.weight_map)) return [];
  const out: Finding[] = [];
  const files = new Set<string>();
  for (const v of Object.values(json.weight_map)) if (typeof v === 'string') files.add(v);
  for (const f of files) {
    const bad = unsafeLocation(f);
    if (bad) out.push({ rule: 'ST-002', severity: 'medium', location: `${probe.path} > weight_map`, evidence: `shard ${JSON.stringify(f)} is ${bad}`, message: 'loaders join shard names to the model folder: this one points elsewhere on the host or the network' });
  }
  if (isObject(json.metadata)) {
    for (const [k, v] of Object.entries(json.metadata)) {
      if (typeof v !== 'string') continue;
      const f = metaFinding(k, v, `${probe.path} > metadata`);
      if (f) out.push(f);
    }
  }
  state.scanned.push(`${probe.path} (safetensors index, ${files.size} shards)`);
  // Shards next to the index are checked too (each is also a model of its own).
  let checked = 0;
  for (const f of files) {
    if (unsafeLocation(f) || ++checked > 1000) continue;
    const s = await probe.sibling(f);
    if (!s) continue;
    out.push(...(await scanSafetensorsFile(s, `${probe.path.slice(0, probe.path.length - probe.name.length)}${f}`)));
  }
  return out;
}

export async function scan(input: InspectInput, state: ScanState): Promise<Finding[]> {
  const probe = input.probe;
  if (!probe) return [];
  if (input.id.format?.variant === 'sharded-index') return scanIndex(input, state);
  state.scanned.push(`${probe.path} (safetensors header)`);
  return scanSafetensorsFile(probe.source, probe.path);
}
