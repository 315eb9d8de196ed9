/**
 * Apache MXNet: a symbol JSON (`<prefix>-symbol.json`, the NNVM graph) and an NDArray list
 * (`<prefix>-NNNN.params`). Spec by source: src/ndarray/ndarray.cc (NDArray::Save/Load,
 * kMXAPINDArrayListMagic) and nnvm/src/pass/saveload_json.cc.
 * Variants: `symbol+params`, `symbol-json` (no params next to it), `ndarray-list` (a params file alone).
 */
import { decodeUtf8, u64le, view } from '../../io/bytes.js';
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import { isObject, type Probe } from '../../identify/probe.js';
import type { ModelFile } from '../../types.js';

const NAME = 'MXNet';

/** kMXAPINDArrayListMagic: first u64 of a .params file. */
const LIST_MAGIC = 0x112;
/** Per-array magics (NDArray::Save): V1 0xF993fac8, V2 0xF993fac9 (storage type), V3 0xF993faca (numpy shapes). */
const ARRAY_MAGIC: Record<number, string> = { 0xf993fac8: 'V1', 0xf993fac9: 'V2', 0xf993faca: 'V3' };
/** mshadow type flags. */
const TYPE_FLAG: Record<number, string> = { 0: 'f32', 1: 'f64', 2: 'f16', 3: 'u8', 4: 'i32', 5: 'i8', 6: 'i64', 7: 'bool', 8: 'i16', 9: 'u16', 10: 'u32', 11: 'u64', 12: 'bf16' };

// ---------------------------------------------------------------- .params (NDArray list)

interface ParamsFacts {
  count: number;
  layout?: string;
  firstDtype?: string;
  firstShape?: number[];
  names?: string[];
}

/** Read the list header and the first array's header from the head; undefined when it is not an NDArray list. */
function readParams(head: Uint8Array, size: number): ParamsFacts | undefined {
  if (head.length < 24) return undefined;
  const dv = view(head);
  if (u64le(dv, 0) !== LIST_MAGIC || u64le(dv, 8) !== 0) return undefined;
  const count = u64le(dv, 16);
  if (count === undefined || count > size / 8) return undefined;
  const facts: ParamsFacts = { count };
  if (count === 0 || head.length < 40) return facts;
  const p = 24;
  const magic = dv.getUint32(p, true);
  const layout = ARRAY_MAGIC[magic];
  if (layout) {
    let q = p + 4;
    if (layout !== 'V1') {
      const stype = dv.getInt32(q, true);
      q += 4;
      if (stype < -1 || stype > 2) return undefined;
      if (stype > 0) return { ...facts, layout: `${layout} (sparse storage type ${stype})` };
    }
    const ndim = dv.getInt32(q, true);
    q += 4;
    if (ndim < -1 || ndim > 32 || q + Math.max(ndim, 0) * 8 + 12 > head.length) return { ...facts, layout };
    const shape: number[] = [];
    for (let i = 0; i < ndim; i++, q += 8) shape.push(Number(dv.getBigInt64(q, true)));
    q += 8; // context: dev_type, dev_id
    const flag = dv.getInt32(q, true);
    return { ...facts, layout, firstShape: shape, ...(TYPE_FLAG[flag] ? { firstDtype: TYPE_FLAG[flag] } : {}) };
  }
  // V0 (MXNet ≤ 0.8): no magic; the legacy TShape is ndim u32 then u32 dims.
  const ndim = magic;
  if (ndim > 32 || p + 4 + ndim * 4 + 12 > head.length) return undefined;
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(dv.getUint32(p + 4 + i * 4, true));
  const q = p + 4 + ndim * 4;
  const devType = dv.getInt32(q, true);
  const flag = dv.getInt32(q + 8, true);
  if (devType < 1 || devType > 16 || TYPE_FLAG[flag] === undefined) return undefined;
  return { ...facts, layout: 'V0', firstShape: shape, firstDtype: TYPE_FLAG[flag] };
}

/**
 * Names are written after every array: u64 count, then (u64 length, bytes) each, up to the end of the
 * file. Find them in the tail: a position holding `count` from which exactly `count` strings end at EOF.
 */
function namesFromTail(tail: Uint8Array, count: number): string[] | undefined {
  if (count === 0 || tail.length < 8) return undefined;
  const dv = view(tail);
  for (let p = tail.length - 8 - 8 * count; p >= 0; p--) {
    if (dv.getUint32(p, true) !== count || dv.getUint32(p + 4, true) !== 0) continue;
    const out: string[] = [];
    let q = p + 8;
    let ok = true;
    for (let i = 0; i < count; i++) {
      if (q + 8 > tail.length) {
        ok = false;
        break;
      }
      const len = u64le(dv, q);
      if (len === undefined || len > 4096 || q + 8 + len > tail.length) {
        ok = false;
        break;
      }
      out.push(decodeUtf8(tail.subarray(q + 8, q + 8 + len)));
      q += 8 + len;
    }
    if (ok && q === tail.length) return out;
  }
  return undefined;
}

async function paramsFacts(probe: Probe): Promise<ParamsFacts | undefined> {
  const f = readParams(await probe.head(), probe.size);
  if (!f) return undefined;
  const names = namesFromTail(await probe.tail(), f.count);
  return names ? { ...f, names } : f;
}

function paramsEvidence(f: ParamsFacts, file?: string): string {
  const first = f.firstDtype || f.firstShape ? `; first array ${f.firstDtype ?? '?'} [${(f.firstShape ?? []).join(', ')}]` : '';
  const names = f.names
    ? `; names ${f.names.slice(0, 3).join(', ')}${f.names.length > 3 ? ', …' : ''}`
    : f.count > 0
      ? '; names not in the tail window'
      : '';
  return `${file ? `${file}: ` : ''}NDArray list (magic 0x112), ${f.count} arrays${f.layout ? `, ${f.layout} array layout` : ''}${first}${names}`;
}

// ---------------------------------------------------------------- symbol JSON

interface SymbolFacts {
  nodes: number;
  ops: number;
  argNodes: number;
  heads: number;
  version?: number;
  preNnvm: boolean;
}

function readSymbol(json: unknown): SymbolFacts | undefined {
  if (!isObject(json) || !Array.isArray(json.nodes) || !Array.isArray(json.heads) || !Array.isArray(json.arg_nodes)) return undefined;
  if (isObject(json.attrs) && ('dltype' in json.attrs || 'storage_id' in json.attrs)) return undefined; // a TVM graph runtime JSON
  let preNnvm = false;
  let ops = 0;
  for (const n of json.nodes) {
    if (!isObject(n) || typeof n.op !== 'string' || typeof n.name !== 'string' || !Array.isArray(n.inputs)) return undefined;
    if (n.op === 'tvm_op') return undefined;
    if ('param' in n || 'backward_source_id' in n) preNnvm = true;
    if (n.op !== 'null') ops++;
  }
  const f: SymbolFacts = { nodes: json.nodes.length, ops, argNodes: json.arg_nodes.length, heads: json.heads.length, preNnvm };
  const mv = isObject(json.attrs) ? json.attrs.mxnet_version : undefined;
  if (Array.isArray(mv) && typeof mv[1] === 'number') f.version = mv[1];
  return f;
}

/** 10300 → "1.3.0" */
function versionName(v: number): string {
  return `${Math.floor(v / 10000)}.${Math.floor(v / 100) % 100}.${v % 100}`;
}

/** The params file of a symbol: `<prefix>-NNNN.params` (latest epoch) or `<prefix>.params`. */
async function findParams(probe: Probe): Promise<{ path: string; size: number; facts: ParamsFacts; others: number } | undefined> {
  const prefix = probe.name.replace(/(-symbol)?\.json$/i, '');
  if (!prefix) return undefined;
  const esc = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${esc}(-(\\d+))?\\.params$`);
  const cands = (await probe.siblings())
    .map((s) => ({ ...s, m: re.exec(s.path) }))
    .filter((s) => s.m)
    .sort((a, b) => Number(b.m![2] ?? -1) - Number(a.m![2] ?? -1));
  for (const c of cands.slice(0, 4)) {
    const sp = await probe.siblingProbe(c.path);
    const facts = sp ? await paramsFacts(sp) : undefined;
    if (facts) return { path: c.path, size: c.size, facts, others: cands.length - 1 };
  }
  return undefined;
}

export const mxnet: FormatModule = {
  id: 'mxnet',
  name: NAME,
  extensions: ['.json', '.params'],
  async detect(probe: Probe) {
    const head = await probe.head();
    if (head.length >= 24 && head[0] === 0x12 && head[1] === 0x01) {
      const f = await paramsFacts(probe);
      if (!f) return undefined;
      return detection('mxnet', NAME, 'ndarray-list', null, f.layout ? 'high' : 'medium', [paramsEvidence(f)], {
        details: { arrayCount: f.count, ...(f.layout ? { arrayLayout: f.layout } : {}) },
      });
    }
    const json = await probe.json();
    const s = json === undefined ? undefined : readSymbol(json);
    if (!s) return undefined;
    const evidence = [
      `MXNet symbol JSON${s.preNnvm ? ' (pre-NNVM layout: param/backward_source_id keys)' : ''}: ${s.nodes} nodes (${s.ops} operators), ${s.argNodes} arg_nodes, ${s.heads} heads`,
      s.version !== undefined ? `attrs.mxnet_version ${s.version} (MXNet ${versionName(s.version)})` : 'no attrs.mxnet_version',
    ];
    const version = s.version !== undefined ? versionName(s.version) : null;
    const details = { nodes: s.nodes, ...(s.version !== undefined ? { mxnetVersion: s.version } : {}) };
    const params = await findParams(probe);
    if (params) {
      evidence.push(paramsEvidence(params.facts, params.path));
      if (params.others > 0) evidence.push(`${params.others} other epoch(s) of params next to it; the latest is used`);
      const files: ModelFile[] = [
        { path: probe.name, size: probe.size, role: 'symbol' },
        { path: params.path, size: params.size, role: 'weights' },
      ];
      return detection('mxnet', NAME, 'symbol+params', version, 'high', evidence, { files, details: { ...details, arrayCount: params.facts.count } });
    }
    evidence.push(probe.tree ? 'no <prefix>-NNNN.params next to it: graph only, no weights' : 'graph only (no folder to look for the params in)');
    return detection('mxnet', NAME, 'symbol-json', version, s.nodes > 0 ? 'high' : 'medium', evidence, { details });
  },
  load: async () => ({ ...(await import('./inspect.js')), scan: (await import('./scan.js')).scan }),
};
