/**
 * Jinja chat templates (GGUF `tokenizer.chat_template*`, tokenizer_config.json, *.jinja) are
 * programs: an unsandboxed renderer lets `''.__class__.__mro__[1].__subclasses__()` reach
 * `os.popen` (CVE-2024-34359 "Llama Drama"). Rule TPL-001 constant-folds string concatenation
 * (`~`, `+`, `|join`, `|attr`) and looks for Python internals and OS access in the result.
 */
import type { Finding } from './types.js';

const DUNDER = /__(class|mro|base|bases|subclasses|globals|builtins|import|init|getattribute|getattr|dict|code|func|self|module|loader|spec|reduce|reduce_ex|closure)__/;
const REACH = /\b(os|subprocess|sys|builtins|importlib|posix|shutil|socket)\s*\.\s*[a-z_]|\bpopen\b|\bsystem\s*\(|\beval\s*\(|\bexec\s*\(|__import__|\bimport_module\b|\blipsum\s*\.|\bcycler\s*\.|\bjoiner\s*\.|\bnamespace\s*\.\s*__|\brequest\s*\.\s*(application|environ)|\bconfig\s*\.\s*(__|from_)|\bcatch_warnings\b|\bFileLoader\b|\bBuiltinImporter\b|\bget_data\b/;

/** Fold constant string expressions so `'__cla' ~ 'ss__'` reads as `__class__`. */
export function foldTemplate(t: string): string {
  let s = t;
  const lit = /(['"])((?:\\.|(?!\1)[^\\])*)\1/.source;
  const concat = new RegExp(`${lit}\\s*[~+]\\s*${lit}`);
  for (let i = 0; i < 10_000; i++) {
    const m = concat.exec(s);
    if (!m) break;
    s = s.slice(0, m.index) + `'${m[2]}${m[4]}'` + s.slice(m.index + m[0].length);
  }
  // ['__cl', 'ass__'] | join  →  '__class__'
  s = s.replace(/\[\s*((?:(['"])(?:\\.|(?!\2)[^\\])*\2\s*,?\s*)+)\]\s*\|\s*join(\(\s*(['"])\4\s*\))?/g, (_m, items: string) => {
    const parts = [...items.matchAll(/(['"])((?:\\.|(?!\1)[^\\])*)\1/g)].map((x) => x[2]);
    return `'${parts.join('')}'`;
  });
  // Escapes that hide names: '\x5f\x5f' → '__'
  s = s.replace(/\\x([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  s = s.replace(/\\u([0-9a-fA-F]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return s;
}

/** Findings for one template; `location` names where it was found. */
export function scanTemplate(template: string, location: string): Finding[] {
  const folded = foldTemplate(template);
  const out: Finding[] = [];
  const d = DUNDER.exec(folded);
  const r = REACH.exec(folded);
  const hit = d ?? r;
  if (hit) {
    const i = hit.index;
    const snippet = folded.slice(Math.max(0, i - 40), i + 60).replace(/\s+/g, ' ');
    out.push({
      rule: 'TPL-001',
      severity: 'critical',
      location,
      evidence: `template reaches ${hit[0].trim()}${folded !== template ? ' (after folding string concatenation)' : ''}: …${snippet}…`,
      message: 'the Jinja chat template reaches Python internals or the OS; an unsandboxed renderer (llama-cpp-python < 0.2.72, some servers) runs it as code',
    });
  }
  return out;
}
