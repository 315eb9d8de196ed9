/**
 * Name the tensors of a walked pickle the way `state_dict()` names them, without unpickling:
 * dicts (plain, `OrderedDict()` filled by SETITEMS), lists and tuples give dotted key paths, and an
 * `nn.Module` object (a class instance built by NEWOBJ/REDUCE + BUILD whose state holds
 * `_parameters` / `_buffers` / `_modules`) contributes its parameters, persistent buffers and
 * recursed submodules, like `Module.state_dict()` (torch/nn/modules/module.py `_save_to_state_dict`).
 * Everything else is a non-tensor entry, summarised in a few words.
 *
 * Shared by inspect, the scanner and the converter: it only reads the value tree, honours only the
 * tensor-rebuilding globals (./rebuild.ts) and never imports or calls anything.
 */
import { describe, type PCall, type PickleEvent, type PValue } from '../../codecs/pickle.js';
import { classifyGlobal } from '../../scan/pickle-policy.js';
import { asTensor, calleeName, isCall, isGlobal, plain, seq, storageClass, storageFromPid, torchDtype, type PersistentResolver, type TensorRef } from './rebuild.js';

export type { StorageRef, TensorRef, NotTensor, PersistentResolver } from './rebuild.js';
export { asTensor, storageFromPid, dtypeBytes } from './rebuild.js';

export interface StateDictEntry {
  name: string;
  tensor: TensorRef;
}

export interface StateDictOptions {
  resolve?: PersistentResolver;
  /** Tensors collected at most (the walk stops with `truncated`). */
  maxTensors?: number;
  /** Values visited at most (shared sub-trees are visited once per path, like state_dict()). */
  maxNodes?: number;
  /** Non-tensor entries kept (the rest are counted in `entriesOmitted`). */
  maxEntries?: number;
}

export interface StateDict {
  tensors: StateDictEntry[];
  /** Non-tensor leaves: dotted key → short description (`int 12`, `torch.dtype qint8` …). */
  entries: { name: string; description: string }[];
  entriesOmitted: number;
  /** What the root is: `collections.OrderedDict`, `dict`, `list`, `__main__.TinyCNN` … */
  root: string;
  /** Classes of the nn.Module objects met, root first (deduplicated). */
  moduleClasses: string[];
  /** Values that called a tensor-rebuild function but could not be read as a tensor. */
  broken: { name: string; why: string }[];
  /** Set when a budget stopped the walk. */
  truncated: boolean;
}

type Pairs = [PValue, PValue][];

/** The (key, value) pairs of a dict-like value: a dict, or an `OrderedDict`/`dict` call filled by SETITEMS. */
export function dictPairs(v: PValue | undefined): Pairs | undefined {
  const p = plain(v);
  if (!p || typeof p !== 'object') return undefined;
  if (p.kind === 'dict') return p.entries;
  const c = p.kind === 'build' && isCall(p.obj) ? p.obj : p;
  if (!isCall(c)) return undefined;
  const n = calleeName(c);
  const known = n === 'collections.OrderedDict' || n === 'builtins.dict' || n === '__builtin__.dict' || n === 'collections.defaultdict';
  // Other classes filled by SETITEMS are dict subclasses (pickle sends dict items only to those).
  if (!known) return c.setitems ? [...c.setitems] : undefined;
  const out: Pairs = [];
  // OrderedDict([(k, v), …]) — the argument form; defaultdict's first argument is the factory.
  const args = seq(c.args) ?? [];
  const init = n === 'collections.defaultdict' ? args[1] : args[0];
  const initPairs = dictPairs(init) ?? (seq(init) ?? []).map((kv) => seq(kv)).filter((kv): kv is PValue[] => !!kv && kv.length === 2).map((kv) => [kv[0]!, kv[1]!] as [PValue, PValue]);
  out.push(...initPairs);
  if (c.setitems) out.push(...c.setitems);
  return out;
}

/** Python's `str(key)` for the keys torch checkpoints use (str, int, bool, None). */
export function keyText(k: PValue): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number') return String(k);
  if (typeof k === 'boolean') return k ? 'True' : 'False';
  if (k === null) return 'None';
  if (k.kind === 'long') return k.value;
  return describe(k);
}

const join = (prefix: string, k: string) => (prefix ? `${prefix}.${k}` : k);

/** The object and state of an instance: a call (NEWOBJ/REDUCE) with a BUILD state, or a build node. */
export function instance(v: PValue | undefined): { obj: PValue; state: PValue | undefined; cls: string } | undefined {
  if (!v || typeof v !== 'object') return undefined;
  if (v.kind === 'build') {
    const cls = isCall(v.obj) ? className(v.obj) : isGlobal(v.obj) ? `${v.obj.module}.${v.obj.name}` : undefined;
    return { obj: v.obj, state: v.state, cls: cls ?? describe(v.obj) };
  }
  if (isCall(v)) return { obj: v, state: v.state, cls: className(v) };
  return undefined;
}

/** The class an instance was made of; protocol 0/1 pickles go through `copyreg._reconstructor(cls, base, state)`. */
function className(c: PCall): string {
  const n = calleeName(c);
  if (n === 'copyreg._reconstructor' || n === 'copy_reg._reconstructor') {
    const cls = seq(c.args)?.[0];
    if (isGlobal(cls)) return `${cls.module}.${cls.name}`;
  }
  return n ?? describe(c.func);
}

/** An nn.Module's pickled `__dict__`, when `v` is one. */
export function moduleState(v: PValue | undefined): { cls: string; attrs: Map<string, PValue> } | undefined {
  const inst = instance(v);
  if (!inst || inst.state === undefined) return undefined;
  const pairs = dictPairs(inst.state);
  if (!pairs) return undefined;
  const attrs = new Map<string, PValue>();
  for (const [k, val] of pairs) if (typeof k === 'string') attrs.set(k, val);
  if (!attrs.has('_parameters') && !attrs.has('_modules') && !attrs.has('_buffers')) return undefined;
  return { cls: inst.cls, attrs };
}

/** Names in `_non_persistent_buffers_set`: a set literal, or `set([...])`. */
function stringSet(v: PValue | undefined): Set<string> {
  const out = new Set<string>();
  const p = plain(v);
  let items: PValue[] | undefined;
  if (p && typeof p === 'object' && p.kind === 'set') items = p.items;
  else if (isCall(p)) items = [...(seq(seq(p.args)?.[0]) ?? []), ...(p.appends ?? [])];
  for (const x of items ?? []) if (typeof x === 'string') out.add(x);
  return out;
}

/** A few words for a non-tensor value. */
export function describeValue(v: PValue | undefined): string {
  const p = plain(v);
  if (p === undefined) return 'missing';
  if (p === null) return 'None';
  if (typeof p === 'boolean') return `bool ${p ? 'True' : 'False'}`;
  if (typeof p === 'number') return Number.isInteger(p) ? `int ${p}` : `float ${p}`;
  if (typeof p === 'string') return `str ${JSON.stringify(p.length > 60 ? p.slice(0, 60) + '…' : p)}`;
  switch (p.kind) {
    case 'long': return `int ${p.value}`;
    case 'bytes': return `bytes (${p.bytes.length})`;
    case 'global': {
      const d = torchDtype(p);
      return d ? `torch.dtype ${p.name}` : `global ${p.module}.${p.name}`;
    }
    case 'list':
    case 'tuple': {
      const kinds = new Set(p.items.map((x) => (x === null ? 'None' : typeof x === 'object' ? x.kind : Number.isInteger(x) && typeof x === 'number' ? 'int' : typeof x === 'number' ? 'float' : typeof x === 'string' ? 'str' : typeof x)));
      const of = kinds.size === 1 ? ` ${[...kinds][0]}` : '';
      return `${p.kind} of ${p.items.length}${of} ${describe(p)}`;
    }
    case 'dict': return `dict of ${p.entries.length}`;
    case 'set': return `${p.frozen ? 'frozenset' : 'set'} of ${p.items.length}`;
    case 'persid': return `persistent id ${describe(p.pid)}`;
    default: {
      const inst = instance(p);
      if (inst && (inst.cls === 'builtins.set' || inst.cls === '__builtin__.set')) return `set of ${stringSet(p).size}`;
      if (inst && /^numpy\.(_?core\.multiarray\._reconstruct)$/.test(inst.cls)) return numpyArray(inst.state);
      if (inst && /^numpy\.(_?core\.multiarray\.scalar)$/.test(inst.cls)) return 'numpy scalar';
      return inst ? `object ${inst.cls}` : describe(p);
    }
  }
}

/** `numpy.ndarray <dtype> [shape]` from an ndarray's BUILD state `(version, shape, dtype, fortran, data)`. */
function numpyArray(state: PValue | undefined): string {
  const st = seq(state) ?? [];
  const shape = seq(st[1]);
  const dt = st[2];
  const inner = dt && typeof dt === 'object' && dt.kind === 'build' ? dt.obj : dt;
  const code = isCall(inner) ? seq(inner.args)?.[0] : undefined;
  const dims = shape && shape.every((d) => typeof d === 'number') ? ` [${shape.join(', ')}]` : '';
  return `numpy.ndarray${typeof code === 'string' ? ` ${code}` : ''}${dims}`;
}

/** Is this a scalar (no tensor can hide in it)? */
function scalar(v: PValue | undefined): boolean {
  return v === null || v === undefined || typeof v !== 'object' || v.kind === 'long' || v.kind === 'bytes' || v.kind === 'global';
}

/** Walk a pickled object and name its tensors like state_dict() (see the file comment). */
export function collectStateDict(root: PValue | undefined, opts: StateDictOptions = {}): StateDict {
  const resolve = opts.resolve ?? storageFromPid;
  const maxTensors = opts.maxTensors ?? 2_000_000;
  const maxNodes = opts.maxNodes ?? 5_000_000;
  const maxEntries = opts.maxEntries ?? 200;
  const out: StateDict = { tensors: [], entries: [], entriesOmitted: 0, root: rootKind(root), moduleClasses: [], broken: [], truncated: false };
  const classes = new Set<string>();
  const onPath = new Set<object>();
  let nodes = 0;
  let leaves: { name: string; description: string }[] = [];

  const leaf = (name: string, v: PValue | undefined) => leaves.push({ name: name || '<root>', description: describeValue(v) });

  /** Returns the number of tensors found under v. */
  const walk = (v: PValue | undefined, name: string, depth: number): number => {
    if (out.truncated) return 0;
    if (++nodes > maxNodes || out.tensors.length >= maxTensors || depth > 200) {
      out.truncated = true;
      return 0;
    }
    if (scalar(v)) {
      leaf(name, v);
      return 0;
    }
    const t = asTensor(v, resolve);
    if (t.kind === 'tensor') {
      out.tensors.push({ name: name || '<root>', tensor: t });
      return 1;
    }
    if (t.why.includes('_rebuild_') || t.why.startsWith('meta tensor')) out.broken.push({ name: name || '<root>', why: t.why });
    const p = plain(v)!;
    const id = (p as object) ?? {};
    if (onPath.has(id)) return 0;
    onPath.add(id);
    try {
      const mod = moduleState(p);
      if (mod) {
        if (!classes.has(mod.cls)) classes.add(mod.cls);
        return walkModule(mod.attrs, name ? name + '.' : '', depth);
      }
      const pairs = dictPairs(p);
      if (pairs) return walkContainer(dedupe(pairs).map(([k, x]) => [join(name, keyText(k)), x]), name, p, depth);
      const items = p && typeof p === 'object' && (p.kind === 'list' || p.kind === 'tuple') ? p.items : undefined;
      if (items) return walkContainer(items.map((x, i) => [join(name, String(i)), x]), name, p, depth);
      leaf(name, p);
      return 0;
    } finally {
      onPath.delete(id);
    }
  };

  /** Children of a dict/list/tuple; a tensor-free list or tuple of scalars collapses to one entry. */
  const walkContainer = (children: [string, PValue][], name: string, self: PValue, depth: number): number => {
    const mark = leaves.length;
    let n = 0;
    for (const [k, x] of children) n += walk(x, k, depth + 1);
    if (n === 0 && typeof self === 'object' && self !== null && (self.kind === 'list' || self.kind === 'tuple') && self.items.every(scalar)) {
      leaves = leaves.slice(0, mark);
      leaf(name, self);
    } else if (n === 0 && children.length === 0) leaf(name, self);
    return n;
  };

  /** Module._save_to_state_dict + recursion into _modules. */
  const walkModule = (attrs: Map<string, PValue>, prefix: string, depth: number): number => {
    let n = 0;
    const nonPersistent = stringSet(attrs.get('_non_persistent_buffers_set'));
    for (const [k, x] of dedupe(dictPairs(attrs.get('_parameters')) ?? [])) if (x !== null) n += walk(x, prefix + keyText(k), depth + 1);
    for (const [k, x] of dedupe(dictPairs(attrs.get('_buffers')) ?? [])) {
      if (x !== null && !nonPersistent.has(keyText(k))) n += walk(x, prefix + keyText(k), depth + 1);
    }
    for (const [k, x] of dedupe(dictPairs(attrs.get('_modules')) ?? [])) {
      if (x === null) continue;
      const sub = moduleState(x);
      const name = prefix + keyText(k);
      if (!sub) {
        leaf(name, x);
        continue;
      }
      const id = plain(x) as object;
      if (onPath.has(id)) continue;
      onPath.add(id);
      classes.add(sub.cls);
      try {
        n += walkModule(sub.attrs, name + '.', depth + 1);
      } finally {
        onPath.delete(id);
      }
    }
    return n;
  };

  const rootMod = moduleState(plain(root));
  if (rootMod) {
    classes.add(rootMod.cls);
    onPath.add(plain(root) as object);
    walkModule(rootMod.attrs, '', 0);
  } else walk(root, '', 0);
  out.moduleClasses = [...classes];
  out.entriesOmitted = Math.max(0, leaves.length - maxEntries);
  out.entries = leaves.slice(0, maxEntries);
  return out;
}

/** Python dict semantics: a repeated key keeps its first position and its last value. */
function dedupe(pairs: Pairs): Pairs {
  const at = new Map<string, number>();
  const out: Pairs = [];
  for (const [k, v] of pairs) {
    const t = typeof k === 'object' && k !== null ? `\u0000${describe(k)}` : `${typeof k}:${String(k)}`;
    const i = at.get(t);
    if (i === undefined) {
      at.set(t, out.length);
      out.push([k, v]);
    } else out[i] = [out[i]![0], v];
  }
  return out;
}

function rootKind(v: PValue | undefined): string {
  const p = plain(v);
  if (p === undefined) return 'nothing';
  if (p === null || typeof p !== 'object') return typeof p;
  if (p.kind === 'dict') return 'dict';
  if (p.kind === 'list' || p.kind === 'tuple') return p.kind;
  const inst = instance(p);
  return inst ? inst.cls : p.kind;
}

/** A global a pickle imports that rebuilding tensors does not need, and the policy's verdict. */
export interface ForeignGlobal {
  name: string;
  dangerous: boolean;
  why: string;
}

/**
 * The imports of a pickle that are not on the tensor allow-list (../../scan/pickle-policy.ts), e.g.
 * `__main__.TinyCNN` of a whole-model pickle or a planted `os.system`. `allow` exempts more
 * (TorchScript's own `__torch__.*` classes, resolved from the archive's code, not imported).
 */
export function foreignGlobals(events: PickleEvent[], allow: (module: string, name: string) => boolean = () => false): ForeignGlobal[] {
  const seen = new Map<string, ForeignGlobal>();
  for (const e of events) {
    if (e.type === 'ext') {
      seen.set(`extension ${e.name}`, { name: `copyreg extension ${e.name}`, dangerous: true, why: 'EXT opcode (import by registry number)' });
      continue;
    }
    if (e.type !== 'import' || e.module === undefined || e.name === undefined) continue;
    const key = `${e.module}.${e.name}`;
    if (seen.has(key) || allow(e.module, e.name)) continue;
    if (storageClass({ kind: 'global', module: e.module, name: e.name, offset: 0, op: '' })) continue;
    const v = classifyGlobal(e.module, e.name);
    if (v.class === 'benign' && !e.computed) continue;
    seen.set(key, { name: key, dangerous: v.class === 'dangerous' || !!e.computed, why: e.computed ? 'computed import' : v.why });
  }
  return [...seen.values()];
}

/**
 * UNSAFE_PICKLE: the globals a pickle imports beyond the tensor allow-list (never executed here).
 * `torchscript`: the archive's pickles, which torch.jit.save never writes with such globals.
 */
export function unsafePickle(foreign: ForeignGlobal[], what = 'the pickle', torchscript = false): { code: string; message: string }[] {
  if (foreign.length === 0) return [];
  const dangerous = foreign.filter((g) => g.dangerous);
  const names = [...dangerous, ...foreign.filter((g) => !g.dangerous)].slice(0, 12).map((g) => (g.dangerous ? `${g.name} (${g.why})` : g.name));
  const more = foreign.length > 12 ? `, … (${foreign.length} in all)` : '';
  const n = dangerous.length;
  const head = torchscript
    ? `${what} imports globals torch.jit.save never writes${n ? `, ${n} of them dangerous` : ''}`
    : n
      ? `${what} imports ${n} dangerous global${n > 1 ? 's' : ''}: torch.load would execute code`
      : `${what} imports classes outside the tensor allow-list: torch.load(weights_only=True) refuses it, a full torch.load imports them`;
  return [{ code: 'UNSAFE_PICKLE', message: `${head} — ${names.join(', ')}${more}. Nothing was executed here; run \`modelwise scan\` for the verdict.` }];
}
