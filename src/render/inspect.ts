/** Human-readable rendering of an inspect report: a summary read in five seconds, then optional tables. */
import type { Dim, GraphIO, ModelReport } from '../types.js';
import { humanBytes } from '../io/bytes.js';

/** 6738415616 → "6.74 B"; 513048 → "513.05 K". */
export function humanCount(n: number | string): string {
  const v = typeof n === 'string' ? Number(n) : n;
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [d, u] of units) if (v >= d) return `${(v / d).toFixed(2)} ${u}`;
  return String(v);
}

/** " v3" for a numeric version, " ET12" for a tag-like one, "" when unknown. */
export function versionText(version: string | null): string {
  if (version === null || version === '') return '';
  return /^\d/.test(version) ? ` v${version}` : ` ${version}`;
}

export function shapeText(shape: Dim[] | null): string {
  return shape === null ? '?' : `[${shape.join(', ')}]`;
}

function ioText(io: GraphIO): string {
  return io.dtype === null && io.shape === null ? `${io.name}: ?` : `${io.name}: ${io.dtype ?? '?'}${shapeText(io.shape)}`;
}

const NOTABLE = /^(general\.(license|author|organization|description|url|repo_url|quantized_by|size_label|basename|finetune)|license|author|description|version|date_saved|keras_version|backend|tensorflow_version|generatedBy|convertedBy|producer|framework)/i;

export interface RenderInspectOptions {
  tensors?: boolean;
  metadata?: boolean;
}

export function renderInspect(r: ModelReport, opts: RenderInspectOptions = {}): string {
  const out: string[] = [];
  const f = r.format;
  out.push(`${r.path} — ${f.name}${versionText(f.version)} [${f.id}/${f.variant}], ${humanBytes(r.size.file)}${r.size.files ? ` in ${r.size.files} files` : ''}`);
  const row = (k: string, v: string) => out.push(`  ${k.padEnd(13)} ${v}`);
  if (r.producer) row('producer', r.producer);
  if (r.architecture) row('architecture', r.architecture);
  const total = Number(r.parameters.total);
  const mix = Object.entries(r.parameters.byDtype)
    .map(([d, n]) => [d, Number(n)] as const)
    .sort((a, b) => b[1] - a[1])
    .map(([d, n]) => `${d} ${total > 0 ? (n > 0 && n / total < 0.0001 ? '<0.01' : ((n / total) * 100).toFixed(n / total < 0.01 ? 2 : 1)) : 0}%`)
    .join(', ');
  row('parameters', `${humanCount(r.parameters.total)}${mix ? ` (${mix})` : ''}`);
  if (r.quantization) row('quantization', r.quantization.summary);
  const hp = r.hyperParameters;
  if (hp) {
    const parts: string[] = [];
    if (hp.contextLength) parts.push(`context ${hp.contextLength}`);
    if (hp.layers) parts.push(`layers ${hp.layers}`);
    if (hp.heads) parts.push(`heads ${hp.heads}${hp.kvHeads && hp.kvHeads !== hp.heads ? ` (kv ${hp.kvHeads})` : ''}`);
    if (hp.embeddingLength) parts.push(`embedding ${hp.embeddingLength}`);
    if (hp.feedForwardLength) parts.push(`ffn ${hp.feedForwardLength}`);
    if (hp.experts) parts.push(`experts ${hp.experts}${hp.expertsUsed ? ` (${hp.expertsUsed} used)` : ''}`);
    if (hp.slidingWindow) parts.push(`sliding window ${hp.slidingWindow}`);
    if (hp.vocabSize) parts.push(`vocab ${hp.vocabSize}`);
    if (parts.length) row('shape', parts.join(' · '));
  }
  if (r.tokenizer) {
    const t = r.tokenizer;
    row('tokenizer', [t.model, t.vocabSize !== undefined ? `${t.vocabSize} tokens` : undefined, t.chatTemplate ? 'chat template present' : t.chatTemplate === false ? 'no chat template' : undefined].filter(Boolean).join(', '));
  }
  if (r.graph) {
    if (r.graph.inputs.length) row('inputs', r.graph.inputs.slice(0, 8).map(ioText).join('; ') + (r.graph.inputs.length > 8 ? `; … ${r.graph.inputs.length - 8} more` : ''));
    if (r.graph.outputs.length) row('outputs', r.graph.outputs.slice(0, 8).map(ioText).join('; ') + (r.graph.outputs.length > 8 ? `; … ${r.graph.outputs.length - 8} more` : ''));
    const ops = Object.entries(r.graph.ops).sort((a, b) => b[1] - a[1]);
    if (ops.length) {
      const n = ops.reduce((s, [, c]) => s + c, 0);
      row('operators', `${n} node${n === 1 ? '' : 's'}, ${ops.length} type${ops.length === 1 ? '' : 's'}: ${ops.slice(0, 8).map(([o, c]) => `${o} ×${c}`).join(', ')}${ops.length > 8 ? ', …' : ''}`);
    }
  }
  const tensorNotes = [r.details?.vocabOnly ? 'vocabulary-only file' : '', r.size.tensorBytes !== null ? `${humanBytes(Number(r.size.tensorBytes))} of data` : ''].filter(Boolean);
  row('tensors', `${r.tensors.count}${tensorNotes.length ? ` (${tensorNotes.join(', ')})` : ''}`);
  const notable = Object.entries(r.metadata).filter(([k, v]) => NOTABLE.test(k) && (typeof v === 'string' || typeof v === 'number'));
  for (const [k, v] of notable.slice(0, 8)) row(k.replace(/^general\./, ''), String(v).split('\n')[0]!.slice(0, 100));
  const mdCount = Object.keys(r.metadata).length;
  if (mdCount && !opts.metadata) row('metadata', `${mdCount} key${mdCount === 1 ? '' : 's'} (--metadata to list)`);
  for (const d of r.diagnostics) out.push(`  ! ${d.code}: ${d.message}`);
  if (r.tensors.truncated) out.push(`  ! tensor list truncated to ${r.tensors.items.length} of ${r.tensors.count}`);

  if (opts.metadata && mdCount) {
    out.push('', 'metadata:');
    const types = (r.details?.metadataTypes ?? {}) as Record<string, string>;
    for (const [k, v] of Object.entries(r.metadata)) out.push(`  ${k}${types[k] ? ` (${types[k]})` : ''} = ${metadataText(v)}`);
  }
  if (opts.tensors && r.tensors.items.length) {
    out.push('', 'tensors:');
    const rows = r.tensors.items.map((t) => [t.name, t.dtype, shapeText(t.shape), t.byteLength === null ? '?' : humanBytes(Number(t.byteLength)), t.offset === null ? '' : String(t.offset)]);
    const w = [0, 1, 2, 3].map((i) => Math.min(60, Math.max(...rows.map((r) => r[i]!.length), ['name', 'dtype', 'shape', 'size'][i]!.length)));
    out.push('  ' + ['name', 'dtype', 'shape', 'size', 'offset'].map((h, i) => (i < 4 ? h.padEnd(w[i]!) : h)).join('  '));
    for (const r of rows) out.push('  ' + r.map((c, i) => (i < 4 ? c.padEnd(w[i]!) : c)).join('  '));
  }
  return out.join('\n');
}

function metadataText(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 200 ? v.slice(0, 200) + '…' : v);
  if (v && typeof v === 'object' && !Array.isArray(v) && 'length' in v && 'type' in v) {
    const a = v as { type: string; length: number; head: unknown[] };
    return `${a.length} ${a.type === 'string' ? 'strings' : `${a.type} values`} [${a.head.slice(0, 5).map((x) => JSON.stringify(x)).join(', ')}, …]`;
  }
  const s = JSON.stringify(v);
  return s && s.length > 200 ? s.slice(0, 200) + '…' : String(s);
}
