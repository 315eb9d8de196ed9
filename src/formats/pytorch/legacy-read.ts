/**
 * Legacy `torch.save` layouts, read for inspection (torch/serialization.py `_legacy_save` and
 * `legacy_load`):
 *
 * - legacy pickle (torch < 1.6, or `_use_new_zipfile_serialization=False`): five pickles in a row —
 *   the magic number, the protocol version (1001), `sys_info`, the object, the sorted storage keys —
 *   then each storage as `<u64 element count><data>` in key order. Offsets come from walking the
 *   counts (8-byte reads), the element size of each storage from its type in the object pickle.
 * - legacy tar (torch ≤ 0.1.x): members `sys_info`, `storages` (count pickle, then per storage a
 *   `(key, location, type)` pickle + `<u64 count><data>`, then the views pickle), `tensors` (count
 *   pickle, then per tensor a `(key, storage_id, type)` pickle + ndim, sizes, strides, offset) and
 *   `pickle` (the object; persistent ids are tensor keys).
 *
 * Pickles are read with growing windows (never the whole file); payloads are never read.
 */
import { INSPECT_LIMITS } from '../../limits.js';
import { describe, walkPickle, type PickleEvent, type PickleResult, type PValue } from '../../codecs/pickle.js';
import { listTar, type TarEntry } from '../../codecs/tar.js';
import { readExact, type ByteSource } from '../../io/source.js';
import { view } from '../../io/bytes.js';
import { TORCH_MAGIC_HEX } from './pickle-peek.js';
import { seq, storageClass, type StorageRef, type TensorRef } from './rebuild.js';
import { collectStateDict, dictPairs, type StateDict } from './state-dict.js';
import type { Diagnostics, StorageLocation } from './tensor-info.js';

/** Storages walked at most in a legacy file. */
const MAX_STORAGES = 1_000_000;
const MAGIC_DECIMAL = '119547037146038801333356';

export interface LegacyRead {
  stateDict: StateDict;
  events: PickleEvent[];
  locate: (s: StorageRef) => StorageLocation | undefined;
  details: Record<string, unknown>;
  version: string | null;
}

/** One pickle at `offset` (bounded by `end`), read through growing windows. */
export async function pickleAt(source: ByteSource, offset: number, end: number = source.size): Promise<PickleResult & { start: number }> {
  const limit = Math.min(end - offset, INSPECT_LIMITS.pickleBytes);
  let n = Math.min(limit, 64 * 1024);
  for (;;) {
    const buf = await readExact(source, offset, Math.max(0, n), 'pickle');
    const r = walkPickle(buf);
    const short = r.error && (r.error.code === 'UNEXPECTED_EOF' || /past the end/.test(r.error.message));
    if (!short || n >= limit) return { ...r, end: offset + r.end, start: offset, ...(r.error ? { error: { ...r.error, offset: offset + r.error.offset } } : {}) };
    n = Math.min(limit, n * 8);
  }
}

/** A legacy pickle stream; undefined when its first pickle is not the torch magic. */
export async function readLegacyPickle(source: ByteSource, diags: Diagnostics): Promise<LegacyRead | undefined> {
  const magic = await pickleAt(source, 0);
  const mv = magic.value;
  const literal = !!mv && typeof mv === 'object' && mv.kind === 'long' && mv.value === MAGIC_DECIMAL;
  if (magic.error) return undefined;
  const proto = await pickleAt(source, magic.end);
  // A first pickle that computes the magic (torch.load would run it) is read on when torch's
  // protocol_version pickle follows; its imports reach UNSAFE_PICKLE through `events`.
  if (!literal && proto.value !== 1001) return undefined;
  const sys = await pickleAt(source, proto.end);
  const obj = await pickleAt(source, sys.end);
  const details: Record<string, unknown> = literal ? { magic: `0x${TORCH_MAGIC_HEX}` } : { magic: `computed by ${describe(mv)}`, literalMagic: false };
  details.pickleProtocol = obj.protocol;
  if (typeof proto.value === 'number') details.protocolVersion = proto.value;
  const sysInfo: Record<string, unknown> = {};
  for (const [k, v] of dictPairs(sys.value) ?? []) {
    if (typeof k !== 'string') continue;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') sysInfo[k] = v;
    else sysInfo[k] = Object.fromEntries((dictPairs(v) ?? []).filter(([a, b]) => typeof a === 'string' && typeof b === 'number'));
  }
  details.sysInfo = sysInfo;
  const littleEndian = sysInfo.little_endian !== false;
  if (obj.error) diags.add('MALFORMED_PICKLE', `object pickle at offset ${obj.start}: ${obj.error.code} at ${obj.error.offset}: ${obj.error.message}`);
  const storages = new Map<string, StorageRef>();
  const sd = collectStateDict(obj.value, {
    resolve: (pid) => {
      const t = seq(pid);
      const st = t && t[0] === 'storage' ? storageOfPid(t) : undefined;
      if (st) storages.set(st.key, st);
      return st;
    },
  });
  // Storages reachable only through objects the state_dict walk does not enter (sparse tensors,
  // custom objects) still give their element size, so the storages after them can be located.
  for (const pid of persistentIds(obj.value)) {
    const t = seq(pid);
    const st = t && t[0] === 'storage' ? storageOfPid(t) : undefined;
    if (st && !storages.has(st.key)) storages.set(st.key, st);
  }
  const locs = new Map<string, StorageLocation>();
  if (!obj.error) {
    const keys = await pickleAt(source, obj.end);
    const list = (seq(keys.value) ?? []).map((k) => (typeof k === 'string' ? k : String(k)));
    details.storages = list.length;
    await walkStorages(source, keys.end, list, (k) => storages.get(k)?.elementSize, littleEndian, locs, diags);
  }
  return {
    stateDict: sd,
    events: [...magic.events, ...proto.events, ...sys.events, ...obj.events],
    locate: (s) => locs.get(s.key),
    details,
    version: typeof proto.value === 'number' ? String(proto.value) : null,
  };
}

/** Every persistent id in a walked value (each node once, bounded). */
function persistentIds(root: PValue | undefined, maxNodes = 5_000_000): PValue[] {
  const out: PValue[] = [];
  const seen = new Set<object>();
  const stack: (PValue | undefined)[] = [root];
  while (stack.length && seen.size < maxNodes) {
    const v = stack.pop();
    if (!v || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    switch (v.kind) {
      case 'persid': out.push(v.pid); break;
      case 'tuple': case 'list': case 'set': for (const x of v.items) stack.push(x); break;
      case 'dict': for (const [k, x] of v.entries) stack.push(k, x); break;
      case 'build': stack.push(v.obj, v.state); break;
      case 'call':
        stack.push(v.func, v.args, v.kwargs, v.state);
        for (const x of v.appends ?? []) stack.push(x);
        for (const [k, x] of v.setitems ?? []) stack.push(k, x);
        break;
      default: break;
    }
  }
  return out;
}

/** `('storage', type, key, location, size, view_metadata)` of a legacy pickle. */
function storageOfPid(t: PValue[]): StorageRef | undefined {
  const cls = storageClass(t[1]);
  if (!cls) return undefined;
  const key = typeof t[2] === 'string' ? t[2] : String(t[2]);
  const st: StorageRef = { key, storageType: cls[2], dtype: cls[0], elementSize: cls[1], location: typeof t[3] === 'string' ? t[3] : null, numel: typeof t[4] === 'number' ? t[4] : null };
  const v = seq(t[5]);
  if (v && v.length >= 3 && typeof v[1] === 'number' && typeof v[2] === 'number') st.view = { key: String(v[0]), offset: v[1], numel: v[2] };
  return st;
}

/** Walk `<u64 count><count × element size bytes>` records from `at`, one per key. */
async function walkStorages(source: ByteSource, at: number, keys: string[], size: (k: string) => number | undefined, le: boolean, out: Map<string, StorageLocation>, diags: Diagnostics): Promise<number> {
  let p = at;
  for (const [i, k] of keys.entries()) {
    if (i >= MAX_STORAGES) {
      diags.add('LIMIT_EXCEEDED', `more than ${MAX_STORAGES} storages: the rest are not located`);
      break;
    }
    const es = size(k);
    if (es === undefined) {
      diags.add('STORAGE_UNREADABLE', `storage ${k} is not used by any tensor, so its element size is unknown: storages after offset ${p} are not located`);
      break;
    }
    if (p + 8 > source.size) {
      diags.add('UNEXPECTED_EOF', `file ends before storage ${k} (offset ${p})`);
      break;
    }
    const c = storageCount(await readExact(source, p, 8, `storage ${k} size`), le, es, source.size - p - 8);
    if (!c.fits) {
      diags.add('TENSOR_OUT_OF_BOUNDS', `storage ${k} at offset ${p} claims ${c.count} elements, past the end of the file`);
      out.set(k, { offset: p + 8, size: source.size - p - 8 });
      break;
    }
    out.set(k, { offset: p + 8, size: c.bytes, ...(c.bigEndian ? { bigEndian: true } : {}) });
    p += 8 + c.bytes;
  }
  return p;
}

/**
 * A legacy storage's `<u64 element count>` and the byte order of its data. torch ≥ 1.0 writes both
 * little-endian whatever the host (THPStorage_writeFileRaw converts), so `sys_info.little_endian`
 * only describes the writing machine; torch 0.2–0.4 wrote the count in host order, and 0.1 wrote
 * count and data in host order. So: the count is read in the order that fits the file (sys_info's
 * first); a little-endian count means little-endian data, a big-endian one means data in the
 * order sys_info states.
 */
function storageCount(b: Uint8Array, le: boolean, elementSize: number, room: number): { count: bigint; fits: boolean; bytes: number; bigEndian: boolean } {
  const dv = view(b);
  const fit = (c: bigint) => c * BigInt(elementSize) <= BigInt(Math.max(0, room));
  for (const little of le ? [true, false] : [false, true]) {
    const c = dv.getBigUint64(0, little);
    if (fit(c)) return { count: c, fits: true, bytes: Number(c) * elementSize, bigEndian: !little && !le };
  }
  return { count: dv.getBigUint64(0, le), fits: false, bytes: 0, bigEndian: false };
}

/** A torch ≤ 0.1 tar checkpoint. */
export async function readLegacyTar(source: ByteSource, diags: Diagnostics): Promise<LegacyRead | undefined> {
  const { entries, error } = await listTar(source);
  if (error) diags.add('MALFORMED', error);
  const m = (n: string) => entries.find((e) => e.name.replace(/^\.\//, '') === n);
  const pickleM = m('pickle');
  if (!pickleM) return undefined;
  const details: Record<string, unknown> = { members: entries.map((e) => e.name) };
  const sys = m('sys_info');
  if (sys) {
    const r = await pickleAt(source, sys.offset, sys.offset + sys.size);
    const pv = (dictPairs(r.value) ?? []).find(([k]) => k === 'protocol_version')?.[1];
    if (typeof pv === 'number') details.protocolVersion = pv;
    const le = (dictPairs(r.value) ?? []).find(([k]) => k === 'little_endian')?.[1];
    if (typeof le === 'boolean') details.littleEndian = le;
  }
  const le = details.littleEndian !== false;
  const storages = new Map<string, StorageRef>();
  const locs = new Map<string, StorageLocation>();
  const st = m('storages');
  if (st) await readTarStorages(source, st, le, storages, locs, diags);
  const tensors = new Map<string, TensorRef>();
  const tm = m('tensors');
  if (tm) await readTarTensors(source, tm, le, storages, tensors, diags);
  details.storages = storages.size;
  const obj = await pickleAt(source, pickleM.offset, pickleM.offset + pickleM.size);
  if (obj.error) diags.add('MALFORMED_PICKLE', `pickle member: ${obj.error.code} at ${obj.error.offset}: ${obj.error.message}`);
  details.pickleProtocol = obj.protocol;
  const sd = collectStateDict(obj.value, { resolve: (pid) => (typeof pid === 'string' || typeof pid === 'number' ? tensors.get(String(pid)) ?? storages.get(String(pid)) : undefined) });
  return { stateDict: sd, events: obj.events, locate: (s) => locs.get(s.key), details, version: typeof details.protocolVersion === 'number' ? String(details.protocolVersion) : null };
}

async function readTarStorages(source: ByteSource, e: TarEntry, le: boolean, storages: Map<string, StorageRef>, locs: Map<string, StorageLocation>, diags: Diagnostics): Promise<void> {
  const end = e.offset + e.size;
  const head = await pickleAt(source, e.offset, end);
  const n = typeof head.value === 'number' ? head.value : 0;
  let p = head.end;
  for (let i = 0; i < Math.min(n, MAX_STORAGES) && p < end; i++) {
    const r = await pickleAt(source, p, end);
    const t = seq(r.value);
    const cls = t ? storageClass(t[2]) : undefined;
    if (r.error || !t || !cls || r.end + 8 > end) {
      diags.add('MALFORMED', `storages member: storage record ${i} at offset ${p} is unreadable`);
      return;
    }
    const key = String(t[0]);
    const c = storageCount(await readExact(source, r.end, 8, 'storage size'), le, cls[1], end - r.end - 8);
    if (!c.fits) {
      diags.add('TENSOR_OUT_OF_BOUNDS', `storage ${key} claims ${c.count} elements, past the end of the storages member`);
      return;
    }
    storages.set(key, { key, storageType: cls[2], dtype: cls[0], elementSize: cls[1], location: typeof t[1] === 'string' ? t[1] : null, numel: c.bytes / cls[1] });
    locs.set(key, { offset: r.end + 8, size: c.bytes, ...(c.bigEndian ? { bigEndian: true } : {}) });
    p = r.end + 8 + c.bytes;
  }
  if (p >= end) return;
  const views = await pickleAt(source, p, end);
  for (const v of seq(views.value) ?? []) {
    const t = seq(v);
    if (!t || t.length < 4 || typeof t[2] !== 'number' || typeof t[3] !== 'number') continue;
    const root = storages.get(String(t[1]));
    if (root) storages.set(String(t[0]), { ...root, view: { key: String(t[0]), offset: t[2], numel: t[3] } });
  }
}

async function readTarTensors(source: ByteSource, e: TarEntry, le: boolean, storages: Map<string, StorageRef>, tensors: Map<string, TensorRef>, diags: Diagnostics): Promise<void> {
  const end = e.offset + e.size;
  const head = await pickleAt(source, e.offset, end);
  const n = typeof head.value === 'number' ? head.value : 0;
  let p = head.end;
  for (let i = 0; i < Math.min(n, MAX_STORAGES) && p < end; i++) {
    const r = await pickleAt(source, p, end);
    const t = seq(r.value);
    if (r.error || !t || r.end + 8 > end) {
      diags.add('MALFORMED', `tensors member: tensor record ${i} at offset ${p} is unreadable`);
      return;
    }
    const dv = view(await readExact(source, r.end, 8, 'tensor rank'));
    const ndim = dv.getInt32(0, le);
    if (ndim < 0 || ndim > 64 || r.end + 16 + 16 * ndim > end) {
      diags.add('MALFORMED', `tensors member: tensor ${String(t[0])} has rank ${ndim}`);
      return;
    }
    const b = view(await readExact(source, r.end + 8, 16 * ndim + 8, 'tensor sizes'));
    const num = (o: number) => Number(b.getBigInt64(o, le));
    const shape = Array.from({ length: ndim }, (_, j) => num(8 * j));
    const stride = Array.from({ length: ndim }, (_, j) => num(8 * (ndim + j)));
    const storage = storages.get(String(t[1]));
    if (storage && shape.every((d) => d >= 0 && Number.isSafeInteger(d))) {
      tensors.set(String(t[0]), { kind: 'tensor', storage, dtype: storage.dtype, shape, stride, storageOffset: num(16 * ndim), rebuild: 'legacy tar tensors record', parameter: false });
    }
    p = r.end + 16 + 16 * ndim;
  }
}
