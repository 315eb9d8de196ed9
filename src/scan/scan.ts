/**
 * scan: is this model safe to load? Static analysis only — nothing in the file is executed or
 * imported. The driver sniffs every part by content (archives, pickles, NumPy object arrays,
 * templates), runs the format's own rules (FormatImpl.scan), and turns findings into a verdict.
 */
import { ModelwiseError, asModelwiseError } from '../errors.js';
import { formatById } from '../formats/registry.js';
import { identifySource, identifyTree } from '../identify/identify.js';
import { Probe, TreeProbe } from '../identify/probe.js';
import { INSPECT_LIMITS } from '../limits.js';
import { startsWith, decodeLatin1, tryDecodeUtf8 } from '../io/bytes.js';
import { readExact, type ByteSource } from '../io/source.js';
import type { SourceTree } from '../io/tree.js';
import type { Identification } from '../types.js';
import { scanPickle, looksLikePickle } from './pickle-scan.js';
import { scanZip } from './archive.js';
import { scanTar, scanSevenZip } from './archive.js';
import { isSevenZip } from '../codecs/sevenzip.js';
import { scanTemplate } from './jinja.js';
import { isTarHeader } from '../codecs/tar.js';
import { verdictOf, type Finding, type PickleImport, type ScanReport } from './types.js';

/** Mutable state of one model's scan. */
export interface ScanState {
  findings: Finding[];
  imports: PickleImport[];
  scanned: string[];
  depth: number;
}

export function newState(): ScanState {
  return { findings: [], imports: [], scanned: [], depth: 0 };
}

/** Read a whole part for a content scan, or add an `unscanned` finding when it is too large. */
export async function readWhole(source: ByteSource, location: string, state: ScanState, cap: number = INSPECT_LIMITS.pickleBytes): Promise<Uint8Array | undefined> {
  if (source.size > cap) {
    state.findings.push({
      rule: 'SCAN-LIMIT',
      severity: 'medium',
      location,
      evidence: `${source.size} bytes, above the ${cap}-byte scan limit`,
      message: 'this part is too large to scan whole, so the model is not reported clean',
      incomplete: true,
    });
    return undefined;
  }
  return readExact(source, 0, source.size, 'scanned part');
}

/** Scan one byte stream by its content: pickle, zip, tar, NumPy, template text. */
export async function scanContent(source: ByteSource, location: string, state: ScanState, head?: Uint8Array): Promise<void> {
  const h = head ?? (await source.read(0, Math.min(source.size, 1024)));
  if (h.length >= 4 && startsWith(h, [0x50, 0x4b]) && (h[2] === 3 || h[2] === 5 || h[2] === 7)) {
    await scanZip(source, location, state);
    return;
  }
  if (isSevenZip(h)) {
    await scanSevenZip(source, location, state);
    return;
  }
  if (h.length >= 512 && isTarHeader(h.subarray(0, 512))) {
    await scanTar(source, location, state);
    return;
  }
  if (startsWith(h, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) {
    await scanNpy(source, location, state, h);
    return;
  }
  if (looksLikePickle(h)) {
    const data = await readWhole(source, location, state);
    if (!data) return;
    const r = scanPickle(data, location, state.depth);
    state.findings.push(...r.findings);
    state.imports.push(...r.imports);
    state.scanned.push(`${location} (pickle, ${r.streams} stream${r.streams === 1 ? '' : 's'})`);
    return;
  }
}

/** NumPy .npy: an object dtype means the body is a pickle (np.load(allow_pickle=True) runs it). */
export async function scanNpy(source: ByteSource, location: string, state: ScanState, head: Uint8Array): Promise<void> {
  const major = head[6];
  const hl = major === 1 ? head[8]! | (head[9]! << 8) : new DataView(head.buffer, head.byteOffset).getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + hl;
  const hdr = decodeLatin1((await source.read(0, Math.min(start, 1 << 20))).subarray(major === 1 ? 10 : 12));
  state.scanned.push(`${location} (npy)`);
  // 'O' anywhere in descr (plain or structured field) = object array
  if (!/'descr'\s*:\s*(?:'[|<>=]?O\d*'|\[.*'[|<>=]?O\d*')/s.test(hdr)) return;
  const body = await readWhole({ size: source.size - start, name: source.name, read: (o, l) => source.read(start + o, l) }, `${location} @ offset ${start}`, state);
  if (!body) return;
  const r = scanPickle(body, `${location} (object array) @ offset ${start}`, state.depth);
  state.findings.push(...r.findings);
  state.imports.push(...r.imports);
  if (r.imports.length === 0 && r.findings.length === 0 && r.streams > 0) return;
}

function report(path: string, id: Identification | undefined, state: ScanState): ScanReport {
  const imports = [...new Set(state.imports.map((i) => i.global))].sort();
  const seen = new Set<string>();
  const findings = state.findings.filter((f) => {
    const k = `${f.rule}|${f.location}|${f.evidence}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return {
    path,
    format: id?.format ?? null,
    verdict: verdictOf(findings),
    findings,
    imports,
    importDetails: dedupeImports(state.imports),
    scanned: state.scanned,
  };
}

function dedupeImports(list: PickleImport[]): PickleImport[] {
  const m = new Map<string, PickleImport>();
  for (const i of list) if (!m.has(i.global)) m.set(i.global, i);
  return [...m.values()].sort((a, b) => a.global.localeCompare(b.global));
}

/** Scan one file (its folder as tree lets format rules see sibling files, e.g. ONNX external data). */
export async function scanSource(source: ByteSource, opts: { path?: string; tree?: SourceTree; treePath?: string } = {}): Promise<ScanReport> {
  const path = opts.path ?? source.name;
  const state = newState();
  let id: Identification | undefined;
  try {
    id = await identifySource(source, { path, kind: 'file', tree: opts.tree, treePath: opts.treePath });
    if (source.size === 0) {
      state.findings.push({ rule: 'FILE-EMPTY', severity: 'info', location: path, evidence: '0 bytes', message: 'the file is empty' });
      return report(path, id, state);
    }
    const probe = new Probe(source, path, opts.tree, opts.treePath);
    await scanContent(source, path, state, await probe.head());
    await formatRules(id, probe, undefined, state);
    await textRules(probe, state);
  } catch (e) {
    const err = asModelwiseError(e, path);
    state.findings.push({ rule: 'SCAN-ERROR', severity: 'high', location: err.file ?? path, evidence: `${err.code}: ${err.message}`, message: 'the file could not be read to the end: damaged or crafted to break readers', malformed: true });
  }
  return report(path, id, state);
}

/** Scan a folder model (SavedModel, .mlpackage, TF.js …) as one: every file by content, plus format rules. */
export async function scanTree(tree: SourceTree, path: string): Promise<ScanReport> {
  const state = newState();
  let id: Identification | undefined;
  try {
    const entries = await tree.list();
    id = await identifyTree(tree, path);
    const root = new TreeProbe(tree, path, entries);
    for (const e of entries) {
      const s = await tree.open(e.path);
      if (!s) continue;
      const probe = new Probe(s, `${path}/${e.path}`, tree, e.path);
      await scanContent(s, probe.path, state, await probe.head());
      await textRules(probe, state);
    }
    const prefix = path.endsWith('/') ? path : path + '/';
    const entryRel = id.files?.[0]?.path.startsWith(prefix) ? id.files[0].path.slice(prefix.length) : undefined;
    const entrySource = entryRel ? await tree.open(entryRel) : undefined;
    const probe = entrySource && entryRel ? new Probe(entrySource, `${path}/${entryRel}`, tree, entryRel) : undefined;
    await formatRules(id, probe, root, state);
  } catch (e) {
    const err = asModelwiseError(e, path);
    state.findings.push({ rule: 'SCAN-ERROR', severity: 'high', location: err.file ?? path, evidence: `${err.code}: ${err.message}`, message: 'the model could not be read to the end', malformed: true });
  }
  return report(path, id, state);
}

/** The format's own rules (GGUF templates, ONNX external data, Keras Lambda, TF ops …). */
async function formatRules(id: Identification | undefined, probe: Probe | undefined, tree: TreeProbe | undefined, state: ScanState): Promise<void> {
  if (!id?.format) return;
  const mod = formatById(id.format.id);
  const impl = mod?.load ? await mod.load() : undefined;
  if (!impl?.scan) return;
  try {
    const findings = await impl.scan({ id, probe, tree, options: {} }, state);
    state.findings.push(...findings);
  } catch (e) {
    const err = asModelwiseError(e, id.path);
    if (err.code === 'LIMIT_EXCEEDED') {
      state.findings.push({ rule: 'SCAN-LIMIT', severity: 'medium', location: err.file ?? id.path, evidence: err.message, message: 'a limit was hit, so the model is not reported clean', incomplete: true });
    } else {
      state.findings.push({ rule: 'HDR-001', severity: 'high', location: err.file ?? id.path, evidence: `${err.code}: ${err.message}`, message: 'the header is malformed: values that would overflow or mislead a reader', malformed: true });
    }
  }
}

/** Text parts: chat templates in tokenizer configs and .jinja files. */
async function textRules(probe: Probe, state: ScanState): Promise<void> {
  if (probe.size > 16 * 1024 * 1024) return;
  const name = probe.name.toLowerCase();
  if (name.endsWith('.jinja') || name.endsWith('.j2')) {
    const t = tryDecodeUtf8(await probe.bytes(0, probe.size));
    if (t) {
      state.findings.push(...scanTemplate(t, probe.path));
      state.scanned.push(`${probe.path} (template)`);
    }
    return;
  }
  const json = await probe.json();
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const ct = (json as Record<string, unknown>).chat_template;
    const templates: [string, string][] = [];
    if (typeof ct === 'string') templates.push(['chat_template', ct]);
    else if (Array.isArray(ct)) for (const t of ct) if (t && typeof t === 'object' && typeof (t as { template?: unknown }).template === 'string') templates.push([`chat_template.${(t as { name?: string }).name ?? '?'}`, (t as { template: string }).template]);
    for (const [k, t] of templates) {
      state.findings.push(...scanTemplate(t, `${probe.path} > ${k}`));
      state.scanned.push(`${probe.path} > ${k} (template)`);
    }
  }
}

export { ModelwiseError };
