/**
 * Keras configuration rules (KER-001 … KER-004), shared by every place a Keras config shows up:
 * `.keras` config.json, the legacy `.h5` root attributes `model_config` / `training_config`, JSON
 * architecture files, and the per-object metadata JSON of a SavedModel's keras_metadata.pb.
 *
 * - KER-001: Lambda layers carry Python bytecode (marshal, base64) that Keras runs at load
 *   (CVE-2024-3660; `.h5` ignores safe_mode: CVE-2025-9905). The code object is read by
 *   ../scan/marshal.ts — names and constants only, never executed.
 * - KER-002: objects whose `module` (Keras 3) / `module`, `output_shape_module` (Keras 2 Lambda)
 *   name code outside Keras / TensorFlow, or `class_name: "function"` from such a module: old Keras
 *   imports the module and calls the function (CVE-2025-1550).
 * - KER-003: gadgets inside Keras itself: `enable_unsafe_deserialization` (CVE-2025-9906),
 *   `keras.utils.get_file` with a URL (CVE-2025-8747), TorchModuleWrapper blobs that Keras hands to
 *   `torch.load` (CVE-2025-49655; the blob is scanned like any other file).
 * - KER-004: host paths and URLs: StringLookup / IntegerLookup / TextVectorization `vocabulary`
 *   files (CVE-2025-12058), TFSMLayer `filepath` (CVE-2026-1462), layer names that become write
 *   paths (CVE-2026-12479).
 */
import { BytesSource } from '../io/source.js';
import { classifyGlobal } from './pickle-policy.js';
import { marshalStrings, readCodeObject, type CodeFacts } from './marshal.js';
import { registerRules } from './rules.js';
import type { Finding } from './types.js';
import { scanContent, type ScanState } from './scan.js';

registerRules({
  'KER-001': 'Keras Lambda layer with Python bytecode (dangerous names: critical; otherwise suspicious)',
  'KER-002': 'Keras config imports code from outside Keras / TensorFlow (module, function)',
  'KER-003': 'Keras gadget: enable_unsafe_deserialization, get_file with a URL, TorchModuleWrapper blob',
  'KER-004': 'Keras config points at host files or URLs (vocabulary, TFSMLayer filepath, layer names with paths)',
});

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Root packages Keras itself deserializes from. */
const KERAS_PACKAGES = new Set(['keras', 'keras_hub', 'keras_nlp', 'keras_cv', 'tensorflow', 'tf_keras', 'tf', 'keras_core', 'keras_rs', 'tensorflow_addons', 'tensorflow_hub', 'tensorflow_text', 'tensorflow_probability', 'tensorflow_recommenders', 'tensorflow_model_optimization', 'tensorflow_decision_forests', 'tensorflow_io']);

/** Names in a Lambda's bytecode (co_names, constants) that reach the OS, the file system, the network or eval. */
const CODE_DANGEROUS = new Set([
  'os', 'posix', 'nt', 'subprocess', 'sys', 'builtins', '__builtins__', '__builtin__', '__import__', 'eval', 'exec',
  'execfile', 'compile', 'system', 'popen', 'popen2', 'popen3', 'spawn', 'spawnl', 'spawnv', 'spawnve', 'execv', 'execve',
  'execl', 'execlp', 'execvp', 'fork', 'forkpty', 'open', 'file', 'input', 'raw_input', 'getattr', 'setattr', 'delattr',
  'globals', 'locals', 'vars', 'importlib', 'import_module', 'runpy', 'run_path', 'run_module', 'pty', 'socket', 'shutil',
  'rmtree', 'remove', 'unlink', 'rmdir', 'requests', 'urllib', 'urllib2', 'urllib3', 'urlopen', 'urlretrieve', 'http',
  'httplib', 'ftplib', 'smtplib', 'telnetlib', 'ctypes', 'cffi', 'pickle', 'cPickle', '_pickle', 'marshal', 'dill',
  'shelve', 'joblib', 'webbrowser', 'check_output', 'check_call', 'Popen', 'getoutput', 'getstatusoutput', 'breakpoint',
  '__class__', '__subclasses__', '__globals__', '__code__', '__reduce__', '__reduce_ex__', '__bases__', '__mro__',
  '__base__', '__getattribute__', 'loads', 'load_model', 'load_library', 'load_op_library', 'py_func', 'numpy_function',
  'read_file', 'write_file', 'ReadFile', 'WriteFile', 'gfile', 'GFile', 'tempfile', 'environ', 'putenv', 'kill',
  'enable_unsafe_deserialization', 'get_file', 'FunctionType', 'CodeType', 'types',
]);

/** Code-looking text in constants: shells, downloads, URLs, dotted dangerous calls. */
const STRING_DANGER = /\b(?:https?|ftp|file|s3|gs):\/\/|\/bin\/(?:ba|z|da)?sh\b|\bcmd(?:\.exe)?\s*\/c\b|\bpowershell\b|\bcurl\s|\bwget\s|\brm\s+-[rf]|\bnc\s+-|\bchmod\s+\+?[0-7x]|\b(?:os|subprocess|sys|builtins|shutil|socket|pty)\.[a-z_]+|__import__|\beval\s*\(|\bexec\s*\(/i;

const IDENT_PATH = /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/;

export interface KerasScanContext {
  /** Where findings point: "model.keras > config.json". */
  location: string;
  /** Embedded blobs (TorchModuleWrapper) are scanned into this state with the driver's content scan. */
  state?: ScanState;
}

/** Scan one Keras config (any of the JSON shapes Keras writes). */
export async function scanKerasConfig(config: unknown, ctx: KerasScanContext): Promise<Finding[]> {
  const out: Finding[] = [];
  const blobs: { bytes: Uint8Array; where: string }[] = [];
  walk(config, '', ctx.location, out, blobs, 0, { n: 0 });
  if (ctx.state) {
    for (const b of blobs) {
      ctx.state.depth++;
      try {
        await scanContent(new BytesSource(b.bytes, b.where), b.where, ctx.state);
      } finally {
        ctx.state.depth--;
      }
    }
  }
  return out;
}

/** The layer/object name for locations: "layers[3] (lambda_1)". */
function label(path: string, o: Obj): string {
  const cfg = isObj(o.config) ? o.config : undefined;
  const name = typeof cfg?.name === 'string' ? cfg.name : typeof o.name === 'string' ? o.name : undefined;
  return `${path || 'config'}${name ? ` (${name})` : ''}`;
}

const MAX_NODES = 2_000_000;

function walk(v: unknown, path: string, loc: string, out: Finding[], blobs: { bytes: Uint8Array; where: string }[], depth: number, count: { n: number }): void {
  if (depth > 200 || ++count.n > MAX_NODES) return;
  if (typeof v === 'string') {
    if (/enable_unsafe_deserialization/.test(v)) {
      out.push({ rule: 'KER-003', severity: 'high', location: `${loc} > ${path || 'config'}`, evidence: `"${clip(v)}"`, message: 'the config calls keras.config.enable_unsafe_deserialization(): later Lambda layers then run even in safe mode (CVE-2025-9906)' });
    }
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => walk(x, `${path}[${i}]`, loc, out, blobs, depth + 1, count));
    return;
  }
  if (!isObj(v)) return;
  checkObject(v, path, loc, out, blobs);
  for (const [k, x] of Object.entries(v)) {
    if (/enable_unsafe_deserialization/.test(k)) {
      out.push({ rule: 'KER-003', severity: 'high', location: `${loc} > ${path || 'config'}`, evidence: `key "${clip(k)}"`, message: 'the config refers to keras.config.enable_unsafe_deserialization(): Lambda layers then run even in safe mode (CVE-2025-9906)' });
    }
    walk(x, path ? `${path}.${k}` : k, loc, out, blobs, depth + 1, count);
  }
}

function clip(s: string, n = 160): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

function checkObject(o: Obj, path: string, loc: string, out: Finding[], blobs: { bytes: Uint8Array; where: string }[]): void {
  const cls = typeof o.class_name === 'string' ? o.class_name : undefined;
  const cfg = isObj(o.config) ? o.config : undefined;
  const where = `${loc} > ${label(path, o)}`;

  // KER-001: Keras 3 `{"class_name": "__lambda__", "config": {"value": [code, defaults, closure]}}`
  // (func_dump); `code` is accepted too.
  if (cls === '__lambda__' && cfg) {
    const v = cfg.value ?? cfg.code;
    const code = Array.isArray(v) && typeof v[0] === 'string' ? v[0] : typeof v === 'string' ? v : undefined;
    if (code !== undefined) out.push(lambdaFinding(code, where, 'function'));
  }
  // KER-001: Keras 2 / tf.keras Lambda config: function (+ output_shape, mask) as [code, defaults, closure] or code string.
  if (cls === 'Lambda' && cfg) {
    for (const key of ['function', 'output_shape', 'mask']) {
      const value = cfg[key];
      const type = cfg[`${key}_type`];
      const code = Array.isArray(value) && typeof value[0] === 'string' ? value[0] : typeof value === 'string' && type === 'lambda' ? value : undefined;
      if (code !== undefined && (type === 'lambda' || type === undefined || Array.isArray(value))) out.push(lambdaFinding(code, where, key));
      // function_type "function": a named function looked up in `module`
      const mod = cfg[key === 'function' ? 'module' : `${key}_module`];
      if (type === 'function' && typeof value === 'string') moduleCheck(typeof mod === 'string' ? mod : undefined, value, true, where, out, `Lambda ${key}`);
    }
  }
  // KER-002: Keras 3 serialized objects {module, class_name, config, registered_name}.
  if (typeof o.module === 'string' && cls !== undefined && cls !== 'TorchModuleWrapper' && !/^__\w+__$/.test(cls) && IDENT_PATH.test(o.module)) {
    const fnName = cls === 'function' ? (typeof o.config === 'string' ? o.config : typeof o.registered_name === 'string' ? o.registered_name : '?') : cls;
    moduleCheck(o.module, fnName, cls === 'function', where, out, cls === 'function' ? 'function' : 'class');
  }
  for (const k of ['fn_module', 'function_module']) {
    if (typeof o[k] === 'string') moduleCheck(o[k] as string, typeof o.function === 'string' ? o.function : '?', true, where, out, k);
  }
  // KER-003: get_file gadget (CVE-2025-8747).
  const names = [cls, typeof o.config === 'string' ? o.config : undefined, typeof o.registered_name === 'string' ? o.registered_name : undefined];
  if (names.some((n) => n !== undefined && /(^|[.>])get_file$/.test(n))) {
    const urls = findUrls(o);
    out.push({
      rule: 'KER-003',
      severity: urls.length ? 'high' : 'medium',
      location: where,
      evidence: `keras.utils.get_file referenced${urls.length ? ` with ${urls.slice(0, 3).join(', ')}` : ''}`,
      message: 'the config calls keras.utils.get_file: loading downloads and writes files even in safe mode (CVE-2025-8747)',
    });
  }
  // KER-003: TorchModuleWrapper blob → torch.load.
  if (cls === 'TorchModuleWrapper' || (typeof o.registered_name === 'string' && /TorchModuleWrapper$/.test(o.registered_name))) {
    const blob = cfg && typeof cfg.module === 'string' ? cfg.module : typeof o.module === 'string' && !IDENT_PATH.test(o.module) ? o.module : undefined;
    const bytes = blob ? base64(blob) : undefined;
    out.push({
      rule: 'KER-003',
      severity: 'medium',
      location: where,
      evidence: `TorchModuleWrapper with ${bytes ? `a ${bytes.length}-byte torch.save blob (scanned below)` : 'no decodable blob'}`,
      message: 'Keras hands this blob to torch.load(weights_only=False) when loading (CVE-2025-49655): whatever pickle it holds runs',
    });
    if (bytes) blobs.push({ bytes, where: `${where} > module (base64 torch.save)` });
  }
  // KER-004: host paths and URLs.
  if (cls && cfg) {
    if (/(StringLookup|IntegerLookup|TextVectorization|Hashing|Lookup)$/.test(cls) && typeof cfg.vocabulary === 'string') {
      out.push({ rule: 'KER-004', severity: 'medium', location: where, evidence: `${cls} vocabulary = ${JSON.stringify(clip(cfg.vocabulary))}`, message: 'a vocabulary given as a path or URL is read from the host (or fetched) when the model loads, even in safe mode (CVE-2025-12058)' });
    }
    if (/TFSMLayer$/.test(cls) && typeof cfg.filepath === 'string') {
      out.push({ rule: 'KER-004', severity: 'medium', location: where, evidence: `TFSMLayer filepath = ${JSON.stringify(clip(cfg.filepath))}`, message: 'TFSMLayer loads the SavedModel at this host path or URL when the model loads (CVE-2026-1462): its graph is not part of this file' });
    }
    const name = cfg.name;
    if (typeof name === 'string' && isLayerObject(o) && pathLike(name)) {
      out.push({ rule: 'KER-004', severity: 'medium', location: where, evidence: `layer name ${JSON.stringify(clip(name))}`, message: 'layer names become file paths when weights are saved or exported: a name with "/", "\\" or ".." can write outside the target folder (CVE-2026-12479)' });
    }
  }
}

function isLayerObject(o: Obj): boolean {
  return typeof o.class_name === 'string' && isObj(o.config) && ('trainable' in o.config || 'dtype' in o.config || 'inbound_nodes' in o || 'layers' in o.config || 'batch_input_shape' in o.config || 'batch_shape' in o.config);
}

function pathLike(name: string): boolean {
  return name.includes('..') || name.includes('\\') || name.startsWith('/') || /^[a-zA-Z]:/.test(name) || name.includes('/');
}

function findUrls(v: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 20 || out.length > 10) return out;
  if (typeof v === 'string') {
    const m = /\b(?:https?|ftp|file|s3|gs):\/\/[^\s"']+/i.exec(v);
    if (m) out.push(m[0]);
  } else if (Array.isArray(v)) for (const x of v) findUrls(x, out, depth + 1);
  else if (isObj(v)) for (const x of Object.values(v)) findUrls(x, out, depth + 1);
  return out;
}

function moduleCheck(module: string | undefined, name: string, isFunction: boolean, where: string, out: Finding[], what: string): void {
  if (module === undefined || module === '') return;
  const root = module.split('.')[0]!;
  if (KERAS_PACKAGES.has(root)) {
    // Inside Keras / TF only file and network helpers matter (get_file has its own rule).
    if (name !== 'get_file' && /^(keras|tf_keras)(\.src)?\.utils|^(tensorflow|tf)\.(io|compat\.v1\.io|compat\.v1\.gfile|gfile|py_function|numpy_function)|^tensorflow\.python\.(ops\.(script_ops|io_ops)|platform\.gfile|lib\.io)/.test(module) && /file|load|save|write|read|exec|eval|py_func|numpy_function|glob|remove|rmtree|copy|rename|makedirs/i.test(name)) {
      out.push({ rule: 'KER-002', severity: 'high', location: where, evidence: `${what} ${module}.${name}`, message: 'a Keras/TensorFlow helper that touches files, the network or Python code is named in the config: loading calls it' });
    }
    return;
  }
  const c = classifyGlobal(module, name);
  if (c.class === 'dangerous' || isFunction) {
    out.push({
      rule: 'KER-002',
      severity: 'critical',
      location: where,
      evidence: `${what} ${module}.${name}${c.class === 'dangerous' ? ` (${c.why})` : ''}: outside Keras / TensorFlow`,
      message: isFunction
        ? 'Keras imports this module and calls the named function while loading the model (CVE-2025-1550; Keras < 3.9 even in safe mode)'
        : 'Keras imports this module and instantiates the named object while loading the model (CVE-2025-1550)',
    });
    return;
  }
  out.push({
    rule: 'KER-002',
    severity: 'medium',
    location: where,
    evidence: `${what} ${module}.${name}: custom object outside Keras / TensorFlow`,
    message: 'loading imports this module (Keras < 3.9 does so even in safe mode when the object is not registered): its top-level code runs',
  });
}

function base64(s: string): Uint8Array | undefined {
  const t = s.replace(/\s+/g, '');
  if (t.length < 4 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return undefined;
  try {
    const norm = t.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(norm.padEnd(Math.ceil(norm.length / 4) * 4, '='));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** Bytes of a Lambda's code: base64 (Keras ≥ 2), or the raw_unicode_escape text of Keras 1. */
function codeBytes(code: string): Uint8Array | undefined {
  const b = base64(code);
  if (b && b.length > 0 && (b[0]! & 0x7f) === 0x63) return b;
  if (code.length > 0 && (code.charCodeAt(0) & 0x7f) === 0x63 && [...code].every((c) => c.charCodeAt(0) < 256)) {
    return Uint8Array.from(code, (c) => c.charCodeAt(0));
  }
  return b;
}

function lambdaFinding(code: string, where: string, key: string): Finding {
  const bytes = codeBytes(code);
  const facts: CodeFacts | undefined = bytes ? readCodeObject(bytes) : undefined;
  const names = facts ? [...facts.names] : [];
  const strings = facts ? facts.strings : bytes ? marshalStrings(bytes, 3) : [code];
  const tokens = facts ? [...names, ...strings] : strings.flatMap((s) => s.split(/[^\w]+/));
  const badNames = [...new Set(tokens.filter((t) => CODE_DANGEROUS.has(t)))];
  const badStrings = strings.filter((s) => STRING_DANGER.test(s)).map((s) => clip(s, 80));
  const what = facts
    ? `Lambda ${key} bytecode (Python ${facts.layout}, ${facts.name ?? '?'}): names [${names.slice(0, 20).join(', ')}]${strings.length ? `, strings [${strings.slice(0, 8).map((s) => JSON.stringify(clip(s, 60))).join(', ')}]` : ''}${facts.nested.length ? `, nested ${facts.nested.join(', ')}` : ''}`
    : `Lambda ${key} code (${bytes ? `${bytes.length} bytes, not a readable code object` : 'not base64'})${strings.length ? `: strings [${strings.slice(0, 8).map((s) => JSON.stringify(clip(s, 60))).join(', ')}]` : ''}`;
  if (badNames.length || badStrings.length) {
    return {
      rule: 'KER-001',
      severity: 'critical',
      location: where,
      evidence: `${what}; dangerous: ${[...badNames, ...badStrings].slice(0, 10).join(', ')}`,
      message: 'this Lambda layer runs Python code that reaches the OS, files, the network or eval when the model loads (CVE-2024-3660; .h5 ignores safe_mode: CVE-2025-9905)',
    };
  }
  return {
    rule: 'KER-001',
    severity: 'medium',
    location: where,
    evidence: what,
    message: 'this Lambda layer holds Python bytecode that Keras runs when loading (safe_mode refuses it; .h5 files before Keras 3.11.3 do not): review before loading',
  };
}
