/** Human rendering of advice, memory estimates and the format table. */
import type { Advice } from '../advise/advise.js';
import type { MemoryEstimate } from '../advise/memory.js';
import type { FormatRow } from '../advise/capabilities.js';
import { humanBytes } from '../io/bytes.js';
import { humanCount } from './inspect.js';

export function renderAdvice(a: Advice, max = 8): string {
  const out: string[] = [];
  const lim = [a.limits.ram !== null ? `RAM ${humanBytes(a.limits.ram)}` : '', a.limits.vram !== null ? `VRAM ${humanBytes(a.limits.vram)}` : '', `context ${a.limits.context}`].filter(Boolean).join(', ');
  out.push(`${a.model.path}: ${a.model.parameters ? `${humanCount(a.model.parameters)} parameter${Number(a.model.parameters) === 1 ? '' : 's'}, ` : ''}target ${a.target}${a.limits.device ? ` (${a.limits.device})` : ''}; ${lim}`);
  a.options.slice(0, max).forEach((o, i) => {
    const fit = o.fits === null ? 'fit unknown (give --ram/--vram)' : o.fits ? 'fits' : 'does NOT fit';
    out.push(`${i + 1}. ${o.format} ${o.quantization} on ${o.runtime} — file ${humanBytes(o.fileSize)}, memory ${humanBytes(o.memory.total)} (weights ${humanBytes(o.memory.weights)} + KV ${humanBytes(o.memory.kvCache)} + compute ${humanBytes(o.memory.compute)} + overhead ${humanBytes(o.memory.overhead)}), ${fit}`);
    out.push(`   quality: ${o.qualityCost.level} (${o.qualityCost.detail})`);
    for (const r of o.reasons) out.push(`   + ${r}`);
    for (const r of o.risks) out.push(`   ! ${r}`);
    out.push(`   $ ${o.command.line}${o.command.note ? `   # ${o.command.note}` : ''}`);
  });
  if (a.options.length > max) out.push(`… ${a.options.length - max} more options (--json for all)`);
  for (const n of a.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

export function renderMemory(path: string, context: number, m: MemoryEstimate): string {
  return [
    `${path}: memory at context ${context}`,
    `  weights   ${humanBytes(m.weights)}`,
    `  KV cache  ${humanBytes(m.kvCache)}`,
    `  compute   ${humanBytes(m.compute)}`,
    `  overhead  ${humanBytes(m.overhead)}`,
    `  total     ${humanBytes(m.total)}`,
    ...m.notes.map((n) => `  (${n})`),
  ].join('\n');
}

export function renderFormats(rows: FormatRow[]): string {
  const out: string[] = [];
  for (const r of rows) {
    const mw = r.modelwise;
    const support = ['identify', mw.inspect ? 'inspect' : '', 'scan', mw.convert ? 'convert' : ''].filter(Boolean).join(', ');
    out.push(`${r.name} [${r.id}] — ${r.layout}; ${r.lifecycle.status}: ${r.lifecycle.note}`);
    out.push(`  quantization: ${r.quantization.join(', ') || 'n/a'}; training: ${r.training}`);
    out.push(`  runtimes: ${r.runtimes.map((x) => `${x.name} (${x.hardware.join('/')})`).join('; ')}`);
    out.push(`  code execution on load: ${r.codeExecutionRisk.level} — ${r.codeExecutionRisk.why}`);
    out.push(`  interoperability: ${r.interoperability}`);
    out.push(`  modelwise: ${support}`);
    out.push(`  sources: ${r.sources.join(' ')}`);
  }
  return out.join('\n');
}
