/**
 * The object tree of a TorchScript `data.pkl` named like `torch.jit.load(…).state_dict()`. The
 * TorchScript pickler writes each module as `__torch__.<qualified class>` NEWOBJ + BUILD with its
 * attributes as a dict; which attributes are parameters and buffers is declared by the class in
 * the archive's code (`__parameters__`, `__buffers__`, see ./code.ts), and attributes holding
 * module objects are submodules. Objects of non-module classes (TorchBind custom classes such as
 * `__torch__.torch.classes.quantized.LinearPackedParamsBase`) are not in state_dict(): they are
 * listed apart with the tensors their state holds.
 */
import type { PValue } from '../../codecs/pickle.js';
import { asTensor, plain, type PersistentResolver, type TensorRef } from '../pytorch/rebuild.js';
import { collectStateDict, dictPairs, instance, keyText, type StateDictEntry } from '../pytorch/state-dict.js';
import type { ScriptClass } from './code.js';

export interface CustomObject {
  /** Dotted attribute path, e.g. `fc1._packed_params._packed_params`. */
  name: string;
  class: string;
  tensors: { name: string; dtype: string; shape: number[]; storage: string | null; scheme?: string }[];
}

export interface ScriptTree {
  tensors: StateDictEntry[];
  customObjects: CustomObject[];
  /** Tensor attributes that are neither parameters nor buffers (not in state_dict()). */
  tensorAttributes: string[];
  /** Module classes met (qualified), root first. */
  moduleClasses: string[];
  /** Classes whose code was not found: their tensors were taken by heuristic (every tensor attribute). */
  classesWithoutCode: string[];
  truncated: boolean;
}

const MAX_MODULES = 1_000_000;

/** Walk the module tree from the root object. */
export function scriptStateDict(root: PValue | undefined, classes: Map<string, ScriptClass>, resolve: PersistentResolver): ScriptTree {
  const out: ScriptTree = { tensors: [], customObjects: [], tensorAttributes: [], moduleClasses: [], classesWithoutCode: [], truncated: false };
  const seenClasses = new Set<string>();
  const noCode = new Set<string>();
  const onPath = new Set<object>();
  let modules = 0;

  /** An object of a class (a BUILD state, or a `__torch__` class); plain data and list wrappers are not. */
  const attrsOf = (v: PValue | undefined) => {
    const inst = instance(plain(v));
    if (!inst || (inst.state === undefined && !inst.cls.startsWith('__torch__.'))) return undefined;
    const pairs = dictPairs(inst.state);
    const attrs = new Map<string, PValue>();
    for (const [k, x] of pairs ?? []) attrs.set(keyText(k), x);
    return { cls: inst.cls, state: inst.state, attrs, obj: inst.obj, dict: !!pairs };
  };
  const isModule = (o: NonNullable<ReturnType<typeof attrsOf>>) => {
    const c = classes.get(o.cls);
    if (c) return c.base === 'Module';
    if (o.cls.startsWith('__torch__.torch.classes.')) return false;
    return o.dict && o.attrs.has('training');
  };
  const tensor = (v: PValue | undefined): TensorRef | undefined => {
    const t = asTensor(v, resolve);
    return t.kind === 'tensor' ? t : undefined;
  };

  const walk = (o: NonNullable<ReturnType<typeof attrsOf>>, prefix: string, depth: number) => {
    if (++modules > MAX_MODULES || depth > 200) {
      out.truncated = true;
      return;
    }
    if (!seenClasses.has(o.cls)) {
      seenClasses.add(o.cls);
      out.moduleClasses.push(o.cls);
    }
    const c = classes.get(o.cls);
    if (!c) noCode.add(o.cls);
    const declared = new Set([...(c?.parameters ?? []), ...(c?.buffers ?? [])]);
    for (const name of [...(c?.parameters ?? []), ...(c?.buffers ?? [])]) {
      const t = tensor(o.attrs.get(name));
      if (t) out.tensors.push({ name: prefix + name, tensor: t });
    }
    for (const [name, v] of o.attrs) {
      if (declared.has(name)) continue;
      const sub = attrsOf(v);
      if (sub) {
        const id = sub.obj as object;
        if (onPath.has(id)) continue;
        onPath.add(id);
        try {
          if (isModule(sub)) walk(sub, `${prefix}${name}.`, depth + 1);
          else custom(sub, prefix + name);
        } finally {
          onPath.delete(id);
        }
        continue;
      }
      const t = tensor(v);
      if (!t) continue;
      if (c) out.tensorAttributes.push(prefix + name);
      else out.tensors.push({ name: prefix + name, tensor: t });
    }
  };

  const custom = (o: NonNullable<ReturnType<typeof attrsOf>>, name: string) => {
    const inner = collectStateDict(o.state, { resolve, maxEntries: 0 });
    out.customObjects.push({
      name,
      class: o.cls,
      tensors: inner.tensors.map((e) => ({
        name: e.name,
        dtype: e.tensor.dtype,
        shape: e.tensor.shape,
        storage: e.tensor.storage?.key ?? null,
        ...(e.tensor.quantization ? { scheme: String(e.tensor.quantization.scheme) } : {}),
      })),
    });
  };

  const r = attrsOf(root);
  if (r) {
    onPath.add(r.obj as object);
    walk(r, '', 0);
  }
  out.classesWithoutCode = [...noCode];
  return out;
}
