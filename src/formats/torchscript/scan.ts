/**
 * TorchScript security rule PT-001. A TorchScript archive carries its model as Python-like source
 * (`code/**.py`, compiled by torch.jit.load) or, for the lite interpreter, as bytecode listing the
 * operators it calls (`bytecode.pkl`). The code cannot import Python modules, but it can call any
 * registered operator: file I/O (`aten::from_file`, `torch.save`/`load`), custom operators from
 * native libraries (`ops.<namespace>.<op>`) and custom classes (`torch.classes.<ns>.<Class>`).
 * torch.load(weights_only=True) used to dispatch TorchScript archives to torch.jit.load
 * (CVE-2025-32434), so this code runs even where users thought only weights were read.
 *
 * Findings: medium when the code reaches files, the network, processes or non-standard operator
 * namespaces; info listing the code files otherwise. The pickles of the archive (data.pkl,
 * constants.pkl …) are scanned by the driver like every pickle.
 */
import { decodeLatin1, tryDecodeUtf8 } from '../../io/bytes.js';
import { readMemberPrefix, type ZipEntry } from '../../codecs/zip.js';
import { registerRules } from '../../scan/rules.js';
import type { ScanState } from '../../scan/scan.js';
import type { Finding } from '../../scan/types.js';
import type { InspectInput } from '../types.js';

registerRules({
  'PT-001': 'TorchScript code reaches files, the network, processes or custom native operators (else: code listing)',
});

/** Operator namespaces that ship with PyTorch itself. */
export const STANDARD_NAMESPACES = new Set([
  'aten', 'prim', 'quantized', '_quantized', 'quantized_decomposed', '_caffe2', 'profiler', 'prepacked', 'sparse', 'mkldnn',
  'mkldnn_prepacked', 'xnnpack', 'onednn', 'cuda', 'cudnn', 'fbgemm', 'mkl', 'inductor', '_inductor_test', '_c10d_functional',
  'c10d_functional', '_c10d_functional_autograd', 'c10d', '_dtensor', 'higher_order', 'debugprims', 'rngprims', 'attr',
  'upgraders', 'onnx', 'static', '_nested_tensor', 'scalar', 'tensor', 'complex', 'uninitialized', 'Constant', 'fx',
]);
/** Well-known companion libraries (their ops need the library installed, but are not suspicious). */
const KNOWN_LIBRARIES = new Set(['torchvision', 'torchaudio', 'torchtext', 'image', 'fbgemm_gpu', 'tensorrt', 'triton', 'torch_tensorrt', 'trt', 'detectron2', 'torch_scatter', 'torch_sparse', 'torch_cluster', 'torch_spline_conv', 'sentencepiece', 'torchrec']);

/** Patterns checked on the code with string literals blanked ("builtins.ValueError" in RaiseException is data). */
const DANGER: [RegExp, string][] = [
  [/\b(?:ops\.aten\.|torch\.|aten::)from_file\b/, 'reads a host file into a tensor (aten::from_file)'],
  [/\b(?:torch|jit)\.(?:load|save)\s*\(|\baten::(?:save|load)\b/, 'loads or saves files (torch.load / torch.save)'],
  [/\btorch\.(?:ops|classes)\.load_library\b|\bload_library\s*\(/, 'loads a native library'],
  [/(?<![\w.])open\s*\(/, 'opens a file'],
  [/(?<![\w.])(?:os|posix|nt|subprocess|sys|shutil|socket|urllib|urllib2|requests|http|pickle|importlib|ctypes|builtins|pty|webbrowser)\.\w+/, 'reaches a Python module that touches the OS, files or the network'],
  [/\b__import__\b|(?<![\w.])(?:eval|exec|compile)\s*\(/, 'evaluates code'],
  [/\btorch\.hub\b|\bload_state_dict_from_url\b|\bdownload_url_to_file\b/, 'downloads files'],
];
/** Patterns checked on the raw text (literals included). */
const DANGER_RAW: [RegExp, string][] = [[/\b(?:https?|ftp):\/\/[^\s"']+/, 'holds a URL']];

/** The code with the contents of string literals blanked (same length, so indexes still match). */
function blankStrings(text: string): string {
  return text.replace(/(["'])((?:\\.|(?!\1)[^\\\n])*)\1/g, (_m, q: string, body: string) => `${q}${' '.repeat(body.length)}${q}`);
}

const MAX_CODE_BYTES = 16 * 1024 * 1024;
const MAX_TOTAL = 64 * 1024 * 1024;

interface CodeHit {
  file: string;
  what: string;
  snippet: string;
}

function snippet(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return text.slice(start, end < 0 ? undefined : end).trim().slice(0, 160);
}

/** Hits of the danger patterns and custom namespaces in one code file. */
export function scanTorchScriptCode(text: string, file: string): { hits: CodeHit[]; namespaces: Map<string, Set<string>>; classes: Set<string> } {
  const hits: CodeHit[] = [];
  const code = blankStrings(text);
  for (const [re, what] of DANGER) {
    const m = re.exec(code);
    if (m) hits.push({ file, what, snippet: snippet(text, m.index) });
  }
  for (const [re, what] of DANGER_RAW) {
    const m = re.exec(text);
    if (m) hits.push({ file, what, snippet: snippet(text, m.index) });
  }
  const namespaces = new Map<string, Set<string>>();
  for (const m of code.matchAll(/\bops\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)/g)) {
    const ns = m[1]!;
    if (STANDARD_NAMESPACES.has(ns)) continue;
    const s = namespaces.get(ns) ?? new Set();
    if (s.size < 10) s.add(m[2]!);
    namespaces.set(ns, s);
  }
  const classes = new Set<string>();
  for (const m of code.matchAll(/\btorch\.classes\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)/g)) {
    if (STANDARD_NAMESPACES.has(m[1]!) || classes.size >= 20) continue;
    classes.add(`${m[1]}.${m[2]}`);
  }
  return { hits, namespaces, classes };
}

/**
 * Operator names (`ns::op[.overload]`) in lite-interpreter bytecode: the length-prefixed strings of
 * bytecode.pkl (BINUNICODE `X` + u32, SHORT_BINUNICODE 0x8c + u8, SHORT_BINSTRING `U` + u8) that are
 * exactly an operator name. Nothing is unpickled.
 */
export function bytecodeOperators(bytes: Uint8Array): Set<string> {
  const b = bytes.subarray(0, MAX_CODE_BYTES);
  const ops = new Set<string>();
  const OP = /^([A-Za-z_]\w{0,63})::([A-Za-z_]\w{0,127})(\.\w+)?$/;
  for (let i = 0; i < b.length && ops.size < 10_000; i++) {
    const c = b[i]!;
    let len = -1;
    let at = 0;
    if (c === 0x58 && i + 5 <= b.length) {
      len = b[i + 1]! | (b[i + 2]! << 8) | (b[i + 3]! << 16) | (b[i + 4]! << 24);
      at = i + 5;
    } else if ((c === 0x8c || c === 0x55) && i + 2 <= b.length) {
      len = b[i + 1]!;
      at = i + 2;
    }
    if (len < 4 || len > 256 || at + len > b.length) continue;
    const m = OP.exec(decodeLatin1(b.subarray(at, at + len)));
    if (m) ops.add(`${m[1]}::${m[2]}`);
  }
  return ops;
}

export async function scan(input: InspectInput, state: ScanState): Promise<Finding[]> {
  const probe = input.probe;
  if (!probe) return [];
  const zip = await probe.zip();
  if (!zip) return [];
  const out: Finding[] = [];
  const codeFiles: ZipEntry[] = [];
  const bytecode: ZipEntry[] = [];
  for (const e of zip.entries) {
    if (e.isDirectory) continue;
    if (/(^|\/)code\/.+\.py$/.test(e.name)) codeFiles.push(e);
    else if (/(^|\/)bytecode\.pkl$/.test(e.name)) bytecode.push(e);
  }
  let total = 0;
  let lines = 0;
  const hits: CodeHit[] = [];
  const namespaces = new Map<string, Set<string>>();
  const classes = new Set<string>();
  let unread = 0;
  for (const e of codeFiles) {
    if (e.uncompressedSize > MAX_CODE_BYTES || total + e.uncompressedSize > MAX_TOTAL) {
      unread++;
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await readMemberPrefix(zip, e, e.uncompressedSize, { ignoreEncryption: true });
    } catch {
      unread++;
      continue;
    }
    total += bytes.length;
    const text = tryDecodeUtf8(bytes) ?? decodeLatin1(bytes);
    lines += text.split('\n').length;
    const r = scanTorchScriptCode(text, e.name);
    hits.push(...r.hits);
    for (const [ns, ops] of r.namespaces) namespaces.set(ns, new Set([...(namespaces.get(ns) ?? []), ...ops]));
    for (const c of r.classes) classes.add(c);
  }
  const bytecodeOps = new Set<string>();
  for (const e of bytecode) {
    if (e.uncompressedSize > MAX_CODE_BYTES) {
      unread++;
      continue;
    }
    try {
      for (const op of bytecodeOperators(await readMemberPrefix(zip, e, e.uncompressedSize, { ignoreEncryption: true }))) bytecodeOps.add(op);
    } catch {
      unread++;
    }
  }
  for (const op of bytecodeOps) {
    const [ns, name] = op.split('::') as [string, string];
    if (/^(from_file|save|load)$/.test(name) && ns === 'aten') hits.push({ file: 'bytecode.pkl', what: name === 'from_file' ? 'reads a host file into a tensor (aten::from_file)' : 'loads or saves files', snippet: op });
    if (!STANDARD_NAMESPACES.has(ns) && ns !== '__torch__' && ns !== 'torch' && !/^(std|c10|at|caffe2|torch_jit)$/.test(ns)) {
      const s = namespaces.get(ns) ?? new Set();
      s.add(name);
      namespaces.set(ns, s);
    }
  }
  const where = probe.path;
  for (const h of hits) {
    out.push({ rule: 'PT-001', severity: 'medium', location: `${where} > ${h.file}`, evidence: `${h.what}: ${JSON.stringify(h.snippet)}`, message: 'TorchScript code runs when the archive is loaded (torch.jit.load, and torch.load before 2.6 even with weights_only=True: CVE-2025-32434)' });
  }
  for (const [ns, ops] of namespaces) {
    const known = KNOWN_LIBRARIES.has(ns);
    out.push({
      rule: 'PT-001',
      severity: known ? 'info' : 'medium',
      location: where,
      evidence: `operators from namespace ${JSON.stringify(ns)}: ${[...ops].slice(0, 8).join(', ')}`,
      message: known ? `operators of ${ns}: loading needs that library installed` : 'operators outside PyTorch need a native library loaded (torch.ops.load_library): code outside the model runs',
    });
  }
  if (classes.size) {
    out.push({ rule: 'PT-001', severity: 'medium', location: where, evidence: `custom classes ${[...classes].slice(0, 8).join(', ')}`, message: 'TorchScript custom classes come from native libraries loaded by the user: code outside the model' });
  }
  if (unread) {
    out.push({ rule: 'SCAN-LIMIT', severity: 'medium', location: where, evidence: `${unread} code file(s) not read (size limits or damage)`, message: 'part of the TorchScript code was not checked: not reported clean', incomplete: true });
  }
  const files = codeFiles.map((e) => e.name.replace(/^.*?\bcode\//, ''));
  if (codeFiles.length || bytecode.length) {
    out.push({
      rule: 'PT-001',
      severity: 'info',
      location: where,
      evidence: `${codeFiles.length} code file(s), ${lines} lines${files.length ? `: ${files.slice(0, 8).join(', ')}${files.length > 8 ? ', …' : ''}` : ''}${bytecode.length ? `; lite bytecode with ${bytecodeOps.size} operators` : ''}`,
      message: 'TorchScript code that runs on load; nothing in it reaches files, the network or custom native operators',
    });
    state.scanned.push(`${where} (TorchScript code: ${codeFiles.length} files${bytecode.length ? ', bytecode' : ''})`);
  }
  if (hits.length || [...namespaces.keys()].some((n) => !KNOWN_LIBRARIES.has(n)) || classes.size) {
    const info = out.find((f) => f.rule === 'PT-001' && f.severity === 'info' && f.evidence.includes('code file'));
    if (info) info.message = 'TorchScript code that runs on load (see the findings above)';
  }
  return out;
}
