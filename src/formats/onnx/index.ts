/**
 * ONNX (https://github.com/onnx/onnx/blob/main/docs/IR.md, schema onnx/onnx.proto).
 *
 * Protobuf has no magic, so a `.onnx` file is recognised by structure: the top-level fields of the
 * probe head must be ModelProto fields with their wire types, ir_version must be plausible,
 * strings printable, and a graph present. Variants:
 * - `onnx-protobuf`: one self-contained file;
 * - `onnx-external-data`: initializers whose data live in other files (data_location = EXTERNAL,
 *   external_data `location`), found by a bounded walk of GraphProto that skips tensor payloads;
 * - `onnx-text`: the textual syntax (`<ir_version: 8, …> agraph (…) => (…)`) or protobuf text;
 * - `ort`: ONNX Runtime's flatbuffer format (file identifier `ORTM`).
 */
import { SourceFieldReader } from '../../codecs/protobuf.js';
import { BytesSource } from '../../io/source.js';
import { decodeUtf8, startsWith, view } from '../../io/bytes.js';
import { safeRelativePath } from '../../io/tree.js';
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import type { Probe } from '../../identify/probe.js';
import type { Detection, ModelFile } from '../../types.js';
import { parseModelHead, readTrailingFields, walkGraph, type GraphSummary, type ModelHead } from './proto.js';
import { detectOnnxText } from './text.js';

/**
 * Bytes the graph walk may read during detection. A model with external data keeps only node and
 * tensor headers in the file (a 7B LLM's model.onnx is a few MiB), and GraphProto stores all nodes
 * before the initializers, so the walk must be able to read past them; a big self-contained model
 * costs one small read per initializer (payloads are skipped). Past this budget the answer is partial.
 */
const GRAPH_WALK_BUDGET = 8 * 1024 * 1024;
/** Above this size an .onnx file holds inline weights; its graph walk is capped by reads, not bytes. */
const BIG_MODEL = 64 * 1024 * 1024;

export const onnx: FormatModule = {
  id: 'onnx',
  name: 'ONNX',
  extensions: ['.onnx', '.ort', '.onnxtxt'],
  load: async () => ({ ...(await import('./inspect.js')), scan: (await import('./scan.js')).scan }),
  async detect(probe: Probe) {
    const head = await probe.head();
    if (head.length < 4) return undefined;
    if (startsWith(head, 'ORTM', 4)) return detectOrt(head, probe.size);
    if (head[0] === 0x08) {
      const model = parseModelHead(head, probe.size);
      if (model) return detectProto(probe, head, model);
      return undefined;
    }
    const text = await probe.text();
    if (text !== undefined) return detectOnnxText(text, probe.ext);
    // ir_version is field 1 and comes first in every writer; a few tools put other fields first.
    const model = parseModelHead(head, probe.size);
    return model ? detectProto(probe, head, model) : undefined;
  },
};

async function detectProto(probe: Probe, head: Uint8Array, model: ModelHead): Promise<Detection | undefined> {
  const source = probe.size <= head.length ? new BytesSource(head, probe.source.name) : probe.source;
  // A file this big holds its weights inline (external-data models keep small .onnx files): a few
  // dozen jumps over payloads are enough for the evidence, and each may cost an HTTP round trip.
  const reader = new SourceFieldReader(source, { budget: GRAPH_WALK_BUDGET, maxReads: probe.size > BIG_MODEL ? 64 : 4096 });
  try {
    if (model.resumeAt !== undefined) await readTrailingFields(reader, model.resumeAt, model);
  } catch {
    /* partial is fine */
  }
  let graph: GraphSummary | undefined;
  if (model.graph) {
    try {
      graph = await walkGraph(reader, model.graph.at, model.graph.end);
    } catch {
      graph = undefined;
    }
  }
  // A graph whose first fields are not GraphProto fields is not ONNX after all.
  if (model.graph && graph && graph.nodes + graph.initializers === 0 && graph.partial && model.graphFieldsSeen === 0) return undefined;

  const evidence: string[] = [];
  const producer = [model.producerName, model.producerVersion].filter((s) => s).join(' ');
  const defaultOpset = model.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const otherOpsets = model.opsets.filter((o) => o !== defaultOpset);
  evidence.push(
    `protobuf ModelProto: ir_version ${model.irVersion}` +
      (producer ? `, producer ${producer}` : '') +
      (defaultOpset ? `, opset ${defaultOpset.version}` : '') +
      (otherOpsets.length ? ` (+ ${otherOpsets.map((o) => `${o.domain} ${o.version}`).join(', ')})` : ''),
  );
  if (graph) {
    const more = graph.partial ? 'at least ' : '';
    evidence.push(
      `graph: ${more}${plural(graph.nodes, 'node')}, ${more}${plural(graph.initializers, 'initializer')}` +
        (graph.sparseInitializers ? `, ${graph.sparseInitializers} sparse` : '') +
        (graph.external.length ? `, ${graph.external.length} stored as external data` : '') +
        (graph.partial ? ' (walk stopped early)' : ''),
    );
  } else if (!model.graph) {
    evidence.push('graph not reached within the first bytes read');
  }
  if (model.metadataKeys.length) evidence.push(`metadata_props: ${model.metadataKeys.slice(0, 8).join(', ')}${model.metadataKeys.length > 8 ? ', …' : ''}`);
  if (model.functions) evidence.push(`${model.functions} model-local functions`);
  if (model.training) evidence.push('training_info present (an ONNX training model)');

  let files: ModelFile[] | undefined;
  let variant = 'onnx-protobuf';
  const details: Detection['details'] = {
    irVersion: model.irVersion,
    ...(producer ? { producer } : {}),
    ...(defaultOpset ? { opset: defaultOpset.version } : {}),
    ...(graph ? { nodeCount: graph.nodes, initializerCount: graph.initializers } : {}),
  };
  const external = graph?.external ?? [];
  if (external.length > 0 || (graph?.externalWithoutLocation ?? 0) > 0) {
    variant = 'onnx-external-data';
    const ext = await externalFiles(probe, external);
    files = ext.files;
    evidence.push(...ext.evidence);
    details.externalTensorCount = external.length;
  }
  if (variant === 'onnx-protobuf' && graph?.partial && probe.tree) {
    // The walk stopped before the initializers: a data file named after the model is the usual sign.
    const stem = probe.name.replace(/\.onnx$/i, '');
    const names = [`${probe.name}.data`, `${probe.name}_data`, `${stem}.onnx_data`, `${stem}.data`, `${stem}.onnx.data`];
    const hit = (await probe.siblings()).find((s) => names.includes(s.path));
    if (hit) {
      variant = 'onnx-external-data';
      files = [{ path: probe.name, size: probe.size, role: 'entry' }, { path: hit.path, size: hit.size, role: 'external-data' }];
      evidence.push(`${hit.path} next to it is probably its external data (named after the model; the graph walk stopped before the initializers)`);
    }
  }
  if (graph && graph.externalWithoutLocation > 0) evidence.push(`${graph.externalWithoutLocation} initializers marked EXTERNAL without a location entry (malformed)`);

  const strong = (model.graph !== undefined && (model.graphFieldsSeen > 0 || (graph !== undefined && graph.nodes > 0))) || model.opsets.length > 0;
  const confidence = strong && (producer || model.opsets.length > 0 || (graph?.nodes ?? 0) > 0) ? 'high' : 'medium';
  return detection('onnx', 'ONNX', variant, model.irVersion, confidence, evidence, { files, details });
}

/** The external data files, resolved against the model's folder. */
async function externalFiles(probe: Probe, external: { location: string; length?: number; offset?: number }[]): Promise<{ files?: ModelFile[]; evidence: string[] }> {
  const evidence: string[] = [];
  const byLocation = new Map<string, { tensors: number; end: number }>();
  for (const t of external) {
    const e = byLocation.get(t.location) ?? { tensors: 0, end: 0 };
    e.tensors++;
    if (t.offset !== undefined && t.length !== undefined) e.end = Math.max(e.end, t.offset + t.length);
    byLocation.set(t.location, e);
  }
  const folder = probe.tree ? await probe.folderFiles() : undefined;
  const files: ModelFile[] = [{ path: probe.name, size: probe.size, role: 'entry' }];
  for (const [location, info] of byLocation) {
    const safe = safeRelativePath(location);
    const label = `external data ${JSON.stringify(location)} (${info.tensors} tensor${info.tensors === 1 ? '' : 's'}${info.end ? `, ${info.end} bytes referenced` : ''})`;
    if (safe === undefined || safe === '') {
      evidence.push(`${label}: unsafe location (absolute or outside the model folder), not followed`);
      continue;
    }
    if (!folder) {
      evidence.push(`${label}: not checked (no folder to look in)`);
      continue;
    }
    const hit = folder.find((f) => f.path === safe);
    if (!hit) {
      evidence.push(`${label}: MISSING next to the model`);
      continue;
    }
    files.push({ path: safe, size: hit.size, role: 'external-data' });
    evidence.push(`${label}: found, ${hit.size} bytes${info.end > hit.size ? ' — SHORTER than the ranges the model references' : ''}`);
  }
  if (byLocation.size > 8) evidence.splice(8, evidence.length - 8, `… ${byLocation.size} external files in all`);
  return { files: files.length > 1 ? files : undefined, evidence };
}

/** ONNX Runtime's `.ort` flatbuffer: identifier ORTM, root table InferenceSession { ort_version: string, model: Model }. */
function detectOrt(head: Uint8Array, size: number): Detection | undefined {
  if (head.length < 16) return undefined;
  const dv = view(head);
  const root = dv.getUint32(0, true);
  if (root < 8 || root + 4 > Math.min(head.length, size)) return undefined;
  const evidence = ['flatbuffer with file identifier "ORTM" (ONNX Runtime format)'];
  let version: string | null = null;
  const ortVersion = fbString(head, root, 0);
  if (ortVersion !== undefined && /^[\w.+-]{1,32}$/.test(ortVersion)) {
    version = ortVersion;
    evidence.push(`ort_version ${ortVersion}`);
  }
  return detection('onnx', 'ONNX Runtime (ORT format)', 'ort', version, 'high', evidence);
}

/** A string field of a flatbuffer table, read only within `buf`. */
function fbString(buf: Uint8Array, table: number, index: number): string | undefined {
  const dv = view(buf);
  if (table + 4 > buf.length) return undefined;
  const vt = table - dv.getInt32(table, true);
  if (vt < 0 || vt + 4 > buf.length) return undefined;
  const vtSize = dv.getUint16(vt, true);
  const slot = 4 + 2 * index;
  if (slot + 2 > vtSize || vt + slot + 2 > buf.length) return undefined;
  const off = dv.getUint16(vt + slot, true);
  if (off === 0) return undefined;
  const at = table + off;
  if (at + 4 > buf.length) return undefined;
  const s = at + dv.getUint32(at, true);
  if (s + 4 > buf.length) return undefined;
  const len = dv.getUint32(s, true);
  if (len > 256 || s + 4 + len > buf.length) return undefined;
  return decodeUtf8(buf.subarray(s + 4, s + 4 + len));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
