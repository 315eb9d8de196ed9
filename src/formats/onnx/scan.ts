/**
 * ONNX security rules.
 * - ONNX-001 (high): external data `location`s that leave the model's folder — absolute paths,
 *   drive letters, UNC paths, `..` that still escapes after normalisation (CVE-2022-25882,
 *   CVE-2024-27318 `a/../../x`), URLs; locations naming a file that is not there are low (a
 *   symlinked target cannot be told from a name; CVE-2026-27489 / -34447 are noted in README).
 * - ONNX-002 (medium): nodes in domains outside the standard ones ("", ai.onnx, ai.onnx.ml,
 *   com.microsoft, ai.onnx.training, ai.onnx.preview.training) that are not model-local functions
 *   (a custom-op library must be loaded: native code outside the model), and Python ops (PyOp,
 *   PythonOp: onnxruntime-extensions runs Python functions registered by name).
 * Model metadata_props with shell / code patterns are reported as META-001 (medium).
 */
import type { ByteSource } from '../../io/source.js';
import { registerRules } from '../../scan/rules.js';
import { metaFinding, normalizeRelative, unsafeLocation } from '../../scan/paths.js';
import type { ScanState } from '../../scan/scan.js';
import type { Finding } from '../../scan/types.js';
import type { InspectInput } from '../types.js';
import { readOnnxModel, type OnnxModel } from './model.js';

export { unsafeLocation };

registerRules({
  'ONNX-001': 'ONNX external data location leaves the model folder (absolute, drive letter, .., URL)',
  'ONNX-002': 'ONNX node from a custom (non-standard) domain or a Python op',
});

export const STANDARD_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'com.microsoft', 'ai.onnx.training', 'ai.onnx.preview.training']);
const PYTHON_OPS = /^(PyOp|PythonOp|PyFunc|PythonFunction|PyOpFunc)$/i;

export function onnxFindings(m: OnnxModel, where: string, present?: (p: string) => boolean): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const t of m.tensors) {
    const loc = t.external?.location;
    if (loc === undefined || seen.has(loc)) continue;
    seen.add(loc);
    const bad = unsafeLocation(loc);
    const users = m.tensors.filter((x) => x.external?.location === loc).length;
    if (bad) {
      out.push({
        rule: 'ONNX-001',
        severity: 'high',
        location: `${where} > initializer ${JSON.stringify(t.name)}${t.scope ? ` (${t.scope})` : ''}`,
        evidence: `external_data location ${JSON.stringify(loc)} is ${bad}${users > 1 ? ` (${users} tensors)` : ''}`,
        message: 'onnx.load and ONNX Runtime read external data from this path: a model can pull any host file into its weights (CVE-2022-25882, CVE-2024-27318)',
      });
    } else if (present) {
      const safe = normalizeRelative(loc);
      if (safe && !present(safe)) {
        out.push({ rule: 'ONNX-001', severity: 'low', location: `${where} > initializer ${JSON.stringify(t.name)}`, evidence: `external data file ${JSON.stringify(loc)} is not next to the model`, message: 'the external data file is missing (incomplete download), or is provided separately: check it is a regular file, not a link' });
      }
    }
  }
  const localFunctions = new Set(m.functions.map((f) => f.domain));
  for (const [domain, ops] of m.opsByDomain) {
    const python = [...ops.keys()].filter((o) => PYTHON_OPS.test(o));
    if (python.length) {
      out.push({ rule: 'ONNX-002', severity: 'medium', location: `${where} > domain ${JSON.stringify(domain || 'ai.onnx')}`, evidence: `Python op${python.length > 1 ? 's' : ''} ${python.join(', ')}`, message: 'a Python op calls a Python function registered by name in the runtime (onnxruntime-extensions): code outside the model runs' });
    }
    if (STANDARD_DOMAINS.has(domain)) continue;
    const list = [...ops].map(([o, n]) => `${o}${n > 1 ? ` ×${n}` : ''}`).slice(0, 10).join(', ');
    if (localFunctions.has(domain)) {
      out.push({ rule: 'ONNX-002', severity: 'info', location: `${where} > domain ${JSON.stringify(domain)}`, evidence: `ops ${list} are model-local functions`, message: 'functions defined inside the model (expanded from standard ops)' });
      continue;
    }
    out.push({ rule: 'ONNX-002', severity: 'medium', location: `${where} > domain ${JSON.stringify(domain)}`, evidence: `custom-domain ops ${list}`, message: 'ops from a custom domain need a custom-op library (native code outside the model) registered in the runtime' });
  }
  // Domains imported but only used inside functions (per-node domains of function bodies are not tracked).
  for (const o of m.opsets) {
    if (STANDARD_DOMAINS.has(o.domain) || m.opsByDomain.has(o.domain) || localFunctions.has(o.domain)) continue;
    if (m.functions.length === 0) continue;
    out.push({ rule: 'ONNX-002', severity: 'medium', location: `${where} > opset_import`, evidence: `custom domain ${JSON.stringify(o.domain)} (version ${o.version}) imported and used by model-local functions`, message: 'ops from a custom domain need a custom-op library (native code outside the model) registered in the runtime' });
  }
  for (const [k, v] of m.metadata) {
    const f = metaFinding(k, v, `${where} > metadata_props`);
    if (f) out.push(f);
  }
  if (m.docString) {
    const f = metaFinding('doc_string', m.docString, where);
    if (f && f.severity !== 'info') out.push(f);
  }
  return out;
}

/** ONNX text / protobuf-text models: `location` entries by pattern. */
function textFindings(text: string, where: string): Finding[] {
  const out: Finding[] = [];
  const re = /key\s*:\s*"location"\s*,?\s*value\s*:\s*"((?:\\.|[^"\\]){0,4096})"|"location"\s*:\s*"((?:\\.|[^"\\]){0,4096})"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) && out.length < 100) {
    const loc = (m[1] ?? m[2] ?? '').replace(/\\(.)/g, '$1');
    const bad = unsafeLocation(loc);
    if (bad) out.push({ rule: 'ONNX-001', severity: 'high', location: where, evidence: `external_data location ${JSON.stringify(loc)} is ${bad}`, message: 'onnx.load reads external data from this path: a model can pull any host file into its weights' });
  }
  const dom = /domain\s*:\s*"([^"]{1,200})"/g;
  const seen = new Set<string>();
  while ((m = dom.exec(text))) {
    const d = m[1]!;
    if (STANDARD_DOMAINS.has(d) || seen.has(d)) continue;
    seen.add(d);
    out.push({ rule: 'ONNX-002', severity: 'medium', location: where, evidence: `custom domain ${JSON.stringify(d)}`, message: 'ops from a custom domain need a custom-op library registered in the runtime' });
  }
  return out;
}

export async function scan(input: InspectInput, state: ScanState): Promise<Finding[]> {
  const probe = input.probe;
  if (!probe) return [];
  const variant = input.id.format?.variant;
  if (variant === 'ort') return [];
  if (variant === 'onnx-text') {
    if (probe.size > 64 * 1024 * 1024) return [];
    const t = new TextDecoder().decode(await probe.source.read(0, probe.size));
    state.scanned.push(`${probe.path} (ONNX text)`);
    return textFindings(t, probe.path);
  }
  const source: ByteSource = probe.source;
  const model = await readOnnxModel(source);
  state.scanned.push(`${probe.path} (ONNX graph: ${model.nodes} nodes, ${model.tensors.length} initializers)`);
  let present: ((p: string) => boolean) | undefined;
  if (probe.tree) {
    const files = new Set((await probe.folderFiles()).map((f) => f.path));
    if (files.size) present = (p) => files.has(p);
  }
  const out = onnxFindings(model, probe.path, present);
  if (model.partial) {
    out.push({ rule: 'HDR-001', severity: 'low', location: probe.path, evidence: model.diagnostics.map((d) => d.message).slice(0, 2).join('; ') || 'partial read', message: 'the ONNX protobuf is damaged or too large: parts past the break were not checked', malformed: true });
  }
  return out;
}
