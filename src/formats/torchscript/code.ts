/**
 * The class declarations of TorchScript code files (`<top>/code/__torch__/…/*.py`), read as text —
 * never run. `torch.jit.save` prints each class with its parameter and buffer names first
 * (torch/csrc/jit/serialization/python_print.cpp):
 *
 * ```
 * class Conv2d(Module):
 *   __parameters__ = ["weight", "bias", ]
 *   __buffers__ = []
 *   weight : Tensor
 *   def forward(self: __torch__.torch.nn.modules.conv.Conv2d, input: Tensor) -> Tensor:
 * ```
 *
 * A class `__torch__.a.b.C` lives in `code/__torch__/a/b.py` (mangled names included:
 * `__torch__.torch.nn.modules.linear.___torch_mangle_0.Linear` → `…/linear/___torch_mangle_0.py`).
 */

export interface ScriptClass {
  /** Qualified name, `__torch__.torch.nn.modules.conv.Conv2d`. */
  name: string;
  /** Base as printed: `Module` for modules, `Interface`, `object`, `NamedTuple` … */
  base: string | null;
  parameters: string[];
  buffers: string[];
  /** Declared attribute types (`conv` → `__torch__.torch.nn.modules.conv.Conv2d`). */
  attributes: Map<string, string>;
  /** Method names in order (`forward`, `_conv_forward` …). */
  methods: string[];
}

/** Code file (relative to the archive top) that holds the classes of `module` (`__torch__.a.b`). */
export function codeFileOf(module: string): string {
  return `code/${module.split('.').join('/')}.py`;
}

/** Parse the classes declared in one code file whose module path is `module`. */
export function parseClasses(module: string, text: string): ScriptClass[] {
  const out: ScriptClass[] = [];
  let cur: ScriptClass | undefined;
  for (const line of text.split('\n')) {
    const c = /^class\s+(\w+)\s*(?:\(([\w.]*)\))?\s*:/.exec(line);
    if (c) {
      cur = { name: `${module}.${c[1]}`, base: c[2] || null, parameters: [], buffers: [], attributes: new Map(), methods: [] };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    if (line.length > 0 && !/^\s/.test(line)) {
      cur = undefined; // a top-level function or statement ends the class
      continue;
    }
    const list = /^ {2}(__parameters__|__buffers__)\s*=\s*\[(.*)\]\s*$/.exec(line);
    if (list) {
      const names = [...list[2]!.matchAll(/"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1] ?? m[2] ?? '');
      if (list[1] === '__parameters__') cur.parameters = names;
      else cur.buffers = names;
      continue;
    }
    const def = /^ {2}def\s+(\w+)\s*\(/.exec(line);
    if (def) {
      cur.methods.push(def[1]!);
      continue;
    }
    const attr = /^ {2}(\w+)\s*:\s*(.+?)\s*$/.exec(line);
    if (attr && !attr[2]!.startsWith('Final[')) cur.attributes.set(attr[1]!, attr[2]!);
  }
  return out;
}

/** `__torch__.a.b.C` → `C` (the name `original_name` gives, mangling dropped). */
export function shortName(qualified: string): string {
  return qualified.split('.').pop() ?? qualified;
}
