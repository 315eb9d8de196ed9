/**
 * inspect for TorchScript archives (`torch.jit.save`, `_save_for_lite_interpreter`): the parameters
 * and buffers as `torch.jit.load(…).state_dict()` names them (./module-tree.ts over data.pkl, with
 * the classes declared in the archive's code, ./code.ts), custom-class objects (packed quantized
 * params) and constants apart, the code files, the root module's methods, the version records and,
 * for the lite interpreter, the bytecode version and operator counts. Code is read as text, pickles
 * are walked symbolically; nothing is executed and storages are never read.
 */
import { ModelwiseError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { startsWith } from '../../io/bytes.js';
import type { ZipArchive } from '../../codecs/zip.js';
import type { PValue } from '../../codecs/pickle.js';
import type { InspectInput, Inspection } from '../types.js';
import { torchZipLayout, type TorchZipLayout } from '../pytorch/archive.js';
import { asTensor, seq, storageFromPid } from '../pytorch/rebuild.js';
import { foreignGlobals, unsafePickle, type StateDictEntry } from '../pytorch/state-dict.js';
import { Diagnostics, markTies, tensorInfos } from '../pytorch/tensor-info.js';
import { locateStorages, readRecord, readText, walkRecord } from '../pytorch/zip-records.js';
import { codeFileOf, parseClasses, shortName, type ScriptClass } from './code.js';
import { scriptStateDict, type CustomObject } from './module-tree.js';
import { readModelJson } from './model-json.js';

/** Code files read to find class declarations: per file, in all, and how many. */
const CODE_FILE_BYTES = 1024 * 1024;
const CODE_TOTAL_BYTES = 32 * 1024 * 1024;
const CODE_FILES = 4096;
/** Code files listed in the report. */
const LISTED_FILES = 200;

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'TorchScript inspection needs the archive file');
  const head = await probe.head();
  if (startsWith(head, 'PTMF', 4)) {
    return {
      producer: null,
      architecture: null,
      tensors: [],
      details: { container: 'flatbuffer' },
      diagnostics: [{ code: 'UNSUPPORTED_VARIANT', message: 'FlatBuffers lite-interpreter modules are identified, but their tensors are not listed yet' }],
    };
  }
  const l = await torchZipLayout(probe);
  const zip = await probe.zip();
  if (!l || !zip) throw new ModelwiseError('MALFORMED', `${probe.name}: not a TorchScript zip archive`);
  const diags = new Diagnostics();
  const details: Record<string, unknown> = { archiveName: l.top };
  if (l.version !== undefined) details.versionRecord = l.version;
  if (l.bytecodeVersion !== undefined) details.bytecodeVersion = l.bytecodeVersion;
  if (l.byteorder) details.byteorder = l.byteorder;
  const code = [...l.records].filter(([k]) => k.startsWith('code/') && k.endsWith('.py')).map(([k, e]) => ({ path: k, size: e.uncompressedSize }));
  details.codeFiles = code.slice(0, LISTED_FILES);
  if (code.length > LISTED_FILES) details.codeFileCount = code.length;
  const extra = [...l.records.keys()].filter((k) => k.startsWith('extra/'));
  if (extra.length) details.extraFiles = extra.slice(0, LISTED_FILES);

  let producer: string | null = null;
  const info = await readText(zip, l.records.get('extra/producer_info.json'), 64 * 1024);
  if (info !== undefined) {
    try {
      const j = JSON.parse(info) as unknown;
      details.producerInfo = j;
      if (j && typeof j === 'object') {
        const o = j as Record<string, unknown>;
        const p = [o.producer ?? o.producer_name ?? o.name, o.version ?? o.producer_version].filter((x) => typeof x === 'string' || typeof x === 'number');
        if (p.length) producer = p.join(' ');
      }
    } catch {
      diags.add('MALFORMED', 'extra/producer_info.json is not JSON');
    }
  }

  const tree = await moduleTensors(zip, l, diags, details);
  const { entries, storageDir, foreign } = tree;
  const architecture = tree.architecture;
  if (tree.producer !== undefined) producer = tree.producer;

  const keys = entries.flatMap((e) => (e.tensor.storage ? [e.tensor.storage.key] : []));
  const locs = await locateStorages(zip, l.records, storageDir, keys, diags);
  const tensors = tensorInfos(entries, (s) => locs.get(s.key), diags);
  const ties = markTies(entries, tensors);
  if (ties.groups.length) details.tiedWeights = ties.groups;
  if (ties.sharedStorages) details.sharedStorages = ties.sharedStorages;

  const constants = await walkRecord(zip, l.records.get('constants.pkl'), 'constants.pkl', diags);
  if (constants) {
    foreign.push(...foreignGlobals(constants.events, (m) => m.startsWith('__torch__')));
    const items = seq(constants.value) ?? [];
    details.constants = items.length;
    const ct = items.flatMap((v, i) => {
      const t = asTensor(v, storageFromPid);
      return t.kind === 'tensor' ? [{ index: i, dtype: t.dtype, shape: t.shape, storage: t.storage ? `constants/${t.storage.key}` : null }] : [];
    });
    if (ct.length) details.constantTensors = ct.slice(0, 1000);
  }
  if (l.records.has('bytecode.pkl')) await readBytecode(zip, l, details, diags);

  const quantization = packedQuantization(details.customObjects as CustomObject[] | undefined);
  return {
    producer,
    architecture,
    tensors,
    ...(quantization ? { quantization } : {}),
    details,
    diagnostics: [...unsafePickle(dedupe(foreign), 'a pickle of the archive', true), ...diags.done()],
  };
}

export interface ModuleTensors {
  /** Parameters and buffers named like state_dict(). */
  entries: StateDictEntry[];
  /** Record folder of their storages: `data/` (data.pkl) or '' (model.json keys are record paths). */
  storageDir: string;
  architecture: string | null;
  /** Set by the model.json layout. */
  producer?: string | null;
  foreign: ReturnType<typeof foreignGlobals>;
}

/**
 * The module tree's tensors: data.pkl walked with the classes declared in the archive's code, or
 * the torch 1.0–1.2 model.json. Shared by inspect and readTensor.
 */
export async function moduleTensors(zip: ZipArchive, l: TorchZipLayout, diags: Diagnostics, details: Record<string, unknown>): Promise<ModuleTensors> {
  let entries: StateDictEntry[] = [];
  let architecture: string | null = null;
  let producer: string | null | undefined;
  let storageDir = 'data/';
  const foreign: ReturnType<typeof foreignGlobals> = [];
  if (l.records.has('data.pkl')) {
    const r = await walkRecord(zip, l.records.get('data.pkl'), 'data.pkl', diags);
    if (r) {
      details.pickleProtocol = r.protocol;
      foreign.push(...foreignGlobals(r.events, (m) => m === '__torch__' || m.startsWith('__torch__.')));
      const modules = new Set<string>();
      for (const e of r.events) if (e.type === 'import' && e.module && (e.module === '__torch__' || e.module.startsWith('__torch__.'))) modules.add(e.module);
      const classes = await loadClasses(zip, l, modules, diags);
      const tree = scriptStateDict(r.value, classes, storageFromPid);
      entries = tree.tensors;
      const root = tree.moduleClasses[0];
      if (root) {
        architecture = shortName(root);
        details.rootClass = root;
        const methods = classes.get(root)?.methods;
        if (methods) details.methods = methods;
      }
      if (tree.moduleClasses.length) details.moduleClasses = tree.moduleClasses.slice(0, 64);
      if (tree.customObjects.length) details.customObjects = tree.customObjects.slice(0, 1000);
      if (tree.tensorAttributes.length) details.tensorAttributes = tree.tensorAttributes.slice(0, 1000);
      if (tree.classesWithoutCode.length) {
        diags.add('CODE_MISSING', `no code declares ${tree.classesWithoutCode.slice(0, 5).join(', ')}: every tensor attribute of ${tree.classesWithoutCode.length > 1 ? 'these modules' : 'this module'} is counted`);
      }
      if (tree.truncated) diags.add('LIMIT_EXCEEDED', 'the module tree is too large or too deep: the walk stopped early');
    }
  } else if (l.records.has('model.json')) {
    storageDir = '';
    const e = l.records.get('model.json')!;
    try {
      const json = JSON.parse(new TextDecoder().decode(await readRecord(zip, e, LIMITS.jsonFile))) as unknown;
      const m = readModelJson(json);
      entries = m.tensors;
      producer = m.producer;
      architecture = m.rootName;
      details.layout = 'model.json';
      if (m.protoVersion) details.protoVersion = m.protoVersion;
      for (const p of m.problems.slice(0, 20)) diags.add('MALFORMED', p);
    } catch (err) {
      diags.add('MALFORMED', `model.json: ${(err as Error).message}`);
    }
  } else diags.add('MALFORMED', 'the archive has neither data.pkl nor model.json: no parameters to list');

  return { entries, storageDir, architecture, ...(producer !== undefined ? { producer } : {}), foreign };
}

/** Quantized weights packed in custom-class objects (dynamic/static quantized Linear, Conv): not in state_dict(). */
function packedQuantization(objects: CustomObject[] | undefined): Inspection['quantization'] | undefined {
  const q = (objects ?? []).flatMap((o) => o.tensors.filter((t) => t.scheme).map((t) => ({ ...t, cls: shortName(o.class) })));
  if (q.length === 0) return undefined;
  const kinds = new Map<string, number>();
  for (const t of q) kinds.set(`${t.dtype} ${t.scheme}`, (kinds.get(`${t.dtype} ${t.scheme}`) ?? 0) + 1);
  const classes = [...new Set(q.map((t) => t.cls))].join(', ');
  const words = [...kinds].map(([k, n]) => `${n} ${k}`).join(', ');
  return { summary: `quantized weights packed in ${classes} objects (not in state_dict()): ${words}`, packedWeights: q.length };
}

function dedupe<T extends { name: string }>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => !seen.has(x.name) && !!seen.add(x.name));
}

/** Read the code files that declare the classes of `modules` (bounded), and parse their classes. */
async function loadClasses(zip: ZipArchive, l: TorchZipLayout, modules: Set<string>, diags: Diagnostics): Promise<Map<string, ScriptClass>> {
  const out = new Map<string, ScriptClass>();
  let total = 0;
  let files = 0;
  for (const m of modules) {
    const e = l.records.get(codeFileOf(m));
    if (!e) continue;
    if (++files > CODE_FILES || total >= CODE_TOTAL_BYTES) {
      diags.add('LIMIT_EXCEEDED', `more than ${CODE_FILES} code files or ${CODE_TOTAL_BYTES} bytes of code: later classes are not read`);
      break;
    }
    const n = Math.min(CODE_FILE_BYTES, e.uncompressedSize, CODE_TOTAL_BYTES - total);
    const text = await readText(zip, e, n);
    if (text === undefined) {
      diags.add('CODE_UNREADABLE', `code file ${codeFileOf(m)} could not be read`);
      continue;
    }
    total += n;
    if (e.uncompressedSize > n) diags.add('LIMIT_EXCEEDED', `code file ${codeFileOf(m)} is read only up to ${n} bytes`);
    for (const c of parseClasses(m, text)) out.set(c.name, c);
  }
  return out;
}

/** bytecode.pkl: `(version, (method name, ((“instructions”, …), (“operators”, …), …), …), …)`. */
async function readBytecode(zip: ZipArchive, l: TorchZipLayout, details: Record<string, unknown>, diags: Diagnostics): Promise<void> {
  const r = await walkRecord(zip, l.records.get('bytecode.pkl'), 'bytecode.pkl', diags);
  const items = seq(r?.value);
  if (!items) return;
  if (typeof items[0] === 'number') details.bytecodeVersion = items[0];
  const methods: string[] = [];
  const ops: Record<string, number> = {};
  for (const m of items.slice(1)) {
    const t = seq(m);
    if (!t || typeof t[0] !== 'string') continue;
    methods.push(t[0]);
    const table = new Map<string, PValue>();
    for (const kv of seq(t[1]) ?? []) {
      const p = seq(kv);
      if (p && typeof p[0] === 'string') table.set(p[0], p[1] ?? null);
    }
    const names = (seq(table.get('operators')) ?? []).map((o) => {
      const p = seq(o);
      return p && typeof p[0] === 'string' ? (typeof p[1] === 'string' && p[1] ? `${p[0]}.${p[1]}` : p[0]) : '?';
    });
    for (const ins of seq(table.get('instructions')) ?? []) {
      const p = seq(ins);
      if (p && p[0] === 'OP' && typeof p[1] === 'number' && names[p[1]] !== undefined) ops[names[p[1]]!] = (ops[names[p[1]]!] ?? 0) + 1;
    }
  }
  if (methods.length) details.bytecodeMethods = methods.slice(0, 1000);
  if (Object.keys(ops).length) details.bytecodeOperators = ops;
}
