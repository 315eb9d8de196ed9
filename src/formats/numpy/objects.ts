/**
 * Object arrays (`descr '|O'`): their data is a pickle of the array. The oracle loads it with a
 * restricted unpickler (numpy reconstruct / ndarray / dtype / scalar, _codecs.encode,
 * collections.OrderedDict, range/xrange — anything else makes the load fail) and reports the
 * ndarrays found inside (dotted key paths through dicts and object arrays). The same is done here
 * on the symbolic tree of codecs/pickle.ts: nothing is imported or called, the allow-list is only
 * used to decide what the real loader would have accepted.
 */
import { walkPickle, type PValue } from '../../codecs/pickle.js';
import { kindName, type NpDtype } from './npy.js';

/** (module, name) pairs the oracle's `_NumpyOnlyUnpickler` accepts. */
const ALLOWED = new Set([
  'numpy.core.multiarray _reconstruct', 'numpy ndarray', 'numpy dtype', '_codecs encode', 'collections OrderedDict',
  '__builtin__ xrange', 'builtins range', 'numpy.core.multiarray scalar',
]);

export interface FoundArray {
  name: string;
  dtype: string;
  shape: number[];
  /** Elements × item size. */
  byteLength: number;
  /** Offset of the array's raw bytes inside the pickle, when stored as a bytes object. */
  dataAt?: number;
}

export interface ObjectArrayResult {
  /** The ndarrays inside, or undefined when the real loader would refuse the pickle or none are found. */
  arrays?: FoundArray[];
  /** Why the object array is reported as itself. */
  reason?: string;
  /** Globals the pickle imports (for the report). */
  imports: string[];
}

interface NdArray {
  shape: number[];
  dtype: NpDtype;
  data: PValue;
}

const isG = (v: PValue | undefined, module: string, name: string) => typeof v === 'object' && v !== null && v.kind === 'global' && v.module === module && v.name === name;

function tupleItems(v: PValue | undefined): PValue[] | undefined {
  return typeof v === 'object' && v !== null && v.kind === 'tuple' ? v.items : undefined;
}

/**
 * An object made by a call and then BUILD: the `build` node, or — when the object is reached again
 * through the memo — the `call` node, which carries the state BUILD gave it.
 */
function built(v: PValue | undefined, module: string, name: string): { args: PValue[]; state: PValue } | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const call = v.kind === 'build' ? v.obj : v;
  if (typeof call !== 'object' || call === null || call.kind !== 'call' || !isG(call.func, module, name)) return undefined;
  const state = v.kind === 'build' ? v.state : call.state;
  return state === undefined ? undefined : { args: tupleItems(call.args) ?? [], state };
}

/** A bytes value: a bytes object, or `_codecs.encode(str, 'latin1')` (Python 2 str in a protocol-2 pickle). */
function asBytes(v: PValue | undefined): Uint8Array | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  if (v.kind === 'bytes') return v.bytes;
  if (v.kind === 'call' && isG(v.func, '_codecs', 'encode')) {
    const s = tupleItems(v.args)?.[0];
    if (typeof s === 'string') return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
  }
  return undefined;
}

/** `numpy.dtype(typestr, align, copy)` + BUILD(state) → dtype. */
function asDtype(v: PValue | undefined): NpDtype | undefined {
  const b = built(v, 'numpy', 'dtype');
  if (!b) return undefined;
  const ts = b.args[0];
  if (typeof ts !== 'string') return undefined;
  const m = /^([a-zA-Z?])(\d*)$/.exec(ts);
  if (!m) return undefined;
  const kind = m[1] === '?' ? 'b' : m[1]!;
  let n = m[2] ? Number(m[2]) : 0;
  const st = tupleItems(b.state) ?? [];
  const names = st[3];
  const elsize = typeof st[5] === 'number' ? st[5] : -1;
  if (names !== null && names !== undefined) {
    const size = elsize >= 0 ? elsize : n;
    const fields = typeof st[4] === 'object' && st[4] !== null && st[4].kind === 'dict' ? st[4].entries : [];
    const hasObject = fields.some(([, f]) => asDtype(tupleItems(f)?.[0])?.hasObject === true);
    return { name: `void${size}`, itemsize: size, hasObject };
  }
  let unit = '';
  if (kind === 'M' || kind === 'm') {
    const meta = tupleItems(tupleItems(st[8])?.[1]);
    const u = meta?.[0];
    const ub = asBytes(u);
    const text = typeof u === 'string' ? u : ub ? new TextDecoder('latin1').decode(ub) : undefined;
    if (text && text !== 'generic') unit = `[${text}]`;
  }
  let itemsize = n;
  if (kind === 'U') {
    if (elsize > 0) n = elsize / 4;
    itemsize = n * 4;
  } else if ((kind === 'S' || kind === 'V') && elsize > 0) {
    n = elsize;
    itemsize = n;
  }
  return { name: kindName(kind, n, unit), itemsize, hasObject: kind === 'O' };
}

/** `_reconstruct(ndarray, (0,), b'b')` + BUILD((version,) shape, dtype, fortran, data) → ndarray. */
function asArray(v: PValue): NdArray | undefined {
  const b = built(v, 'numpy.core.multiarray', '_reconstruct');
  if (!b || !isG(b.args[0], 'numpy', 'ndarray')) return undefined;
  const st = tupleItems(b.state);
  if (!st || (st.length !== 5 && st.length !== 4)) return undefined;
  const [shapeV, dtypeV, , data] = st.length === 5 ? st.slice(1) : st;
  const shape = tupleItems(shapeV);
  const dtype = asDtype(dtypeV);
  if (!shape || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0) || !dtype) return undefined;
  return { shape: shape as number[], dtype, data: data ?? null };
}

/** Python's str() of a dict key. */
function pyStr(k: PValue): string {
  if (k === null) return 'None';
  if (typeof k === 'boolean') return k ? 'True' : 'False';
  if (typeof k === 'number') return String(k);
  if (typeof k === 'string') return k;
  if (k.kind === 'long') return k.value;
  const bytes = asBytes(k);
  if (bytes) {
    let s = "b'";
    for (const c of bytes) s += c === 0x27 ? "\\'" : c === 0x5c ? '\\\\' : c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : c === 10 ? '\\n' : c === 13 ? '\\r' : c === 9 ? '\\t' : `\\x${c.toString(16).padStart(2, '0')}`;
    return s + "'";
  }
  if (k.kind === 'tuple') return `(${k.items.map(pyStr).join(', ')}${k.items.length === 1 ? ',' : ''})`;
  return '?';
}

/** Entries of a dict or an OrderedDict (built by SETITEMS on the call, or from a list of pairs). */
function dictEntries(v: PValue): [PValue, PValue][] | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  if (v.kind === 'dict') return v.entries;
  if (v.kind === 'call' && isG(v.func, 'collections', 'OrderedDict')) {
    const out: [PValue, PValue][] = [];
    const first = tupleItems(v.args)?.[0];
    if (typeof first === 'object' && first !== null && first.kind === 'list') {
      for (const p of first.items) {
        const kv = typeof p === 'object' && p !== null && (p.kind === 'list' || p.kind === 'tuple') ? p.items : undefined;
        if (kv && kv.length === 2) out.push([kv[0]!, kv[1]!]);
      }
    }
    out.push(...(v.setitems ?? []));
    return out;
  }
  return undefined;
}

const MAX_DEPTH = 200;
const MAX_FOUND = 1_000_000;

/** Decode an object array's pickle (`data`, starting at `start`) the way the oracle does. */
export function objectArrays(data: Uint8Array, name: string, headerShape: number[], start = 0): ObjectArrayResult {
  const r = walkPickle(data, start);
  const imports = [...new Set(r.events.filter((e) => e.type === 'import').map((e) => `${e.module}.${e.name}`))];
  const refused = r.events.find((e) => (e.type === 'import' && !ALLOWED.has(`${e.module} ${e.name}`)) || e.type === 'ext' || e.type === 'persid');
  if (refused) return { imports, reason: `the pickle uses ${refused.type === 'import' ? `${refused.module}.${refused.name}` : refused.op}, which a numpy-only unpickler refuses` };
  if (r.error || r.value === undefined) return { imports, reason: `the pickle is damaged: ${r.error?.message ?? 'no value'} (offset ${r.error?.offset ?? '?'})` };
  const found: FoundArray[] = [];
  let visits = 0;
  const walk = (o: PValue, p: string, depth: number): void => {
    if (depth > MAX_DEPTH || ++visits > 10 * MAX_FOUND) throw new Error('object graph too deep or too large');
    const arr = asArray(o);
    if (arr && !(arr.dtype.name === 'object')) {
      const f: FoundArray = { name: p, dtype: arr.dtype.name, shape: arr.shape, byteLength: arr.shape.reduce((a, d) => a * d, 1) * arr.dtype.itemsize };
      if (typeof arr.data === 'object' && arr.data !== null && arr.data.kind === 'bytes' && arr.data.bytes.length === f.byteLength) f.dataAt = arr.data.offset;
      if (found.push(f) > MAX_FOUND) throw new Error('too many arrays');
    } else if (arr) {
      const items = typeof arr.data === 'object' && arr.data !== null && arr.data.kind === 'list' ? arr.data.items : [];
      if (arr.shape.length === 0) {
        if (items[0] !== undefined) walk(items[0], p, depth + 1);
      } else items.forEach((x, i) => walk(x, `${p}.${i}`, depth + 1));
    } else {
      const entries = dictEntries(o);
      if (entries) for (const [k, v] of entries) walk(v, p ? `${p}.${pyStr(k)}` : pyStr(k), depth + 1);
    }
  };
  try {
    walk(r.value, headerShape.length === 0 ? '' : name, 0);
  } catch (e) {
    return { imports, reason: (e as Error).message };
  }
  if (found.length === 0) return { imports, reason: 'the object array holds no ndarrays' };
  return { arrays: found, imports };
}
