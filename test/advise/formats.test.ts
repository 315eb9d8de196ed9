/**
 * `modelwise formats` must match what modelwise implements: the support columns come from the code
 * (each format module's lazily loaded implementation), every registered format has a row with
 * sources, and no text — in the facts or in any advice command — claims a `modelwise convert` /
 * `modelwise inspect` that the code cannot do. Adding such a claim without the code fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORMATS } from '../../src/formats/registry.js';
import { FORMAT_FACTS } from '../../src/advise/formats-data.js';
import { formatTable, supportOf, type FormatRow } from '../../src/advise/capabilities.js';
import { advise, modelwiseGgufRoute, TARGETS, type AdviseModel } from '../../src/advise/advise.js';
import { plannedModel } from '../../src/advise/model.js';
import { SUPPORTED as GGUF_MAPPED_ARCHS } from '../../src/convert/hf/llama.js';
import { renderFormats } from '../../src/render/advise.js';
import type { FormatId } from '../../src/types.js';

const rows: FormatRow[] = await formatTable();

test('every registered format has exactly one row, and every row is a registered format', () => {
  const ids = FORMATS.map((f) => f.id).sort();
  assert.deepEqual(rows.map((r) => r.id).sort(), ids);
  assert.equal(new Set(FORMAT_FACTS.map((f) => f.id)).size, FORMAT_FACTS.length, 'no duplicate rows');
});

test('the modelwise columns are what each format module implements', async () => {
  for (const row of rows) {
    const mod = FORMATS.find((f) => f.id === row.id)!;
    const impl = mod.load ? await mod.load() : undefined;
    assert.equal(row.modelwise.identify, !!(mod.detect || mod.detectTree), `${row.id}: identify`);
    assert.equal(row.modelwise.inspect, typeof impl?.inspect === 'function', `${row.id}: modelwise.inspect must be true iff load() gives inspect`);
    assert.equal(row.modelwise.convert, typeof impl?.readTensor === 'function', `${row.id}: modelwise.convert must be true iff load() gives readTensor`);
  }
});

test('every row cites at least one source URL and fills every column', () => {
  for (const r of rows) {
    assert.ok(r.sources.length > 0 && r.sources.every((s) => /^https?:\/\/\S+$/.test(s)), `${r.id}: sources ${JSON.stringify(r.sources)}`);
    assert.ok(r.name && r.layout && r.training && r.interoperability && r.lifecycle.note && r.codeExecutionRisk.why, `${r.id}: every column filled`);
    assert.ok(r.runtimes.length > 0 && r.runtimes.every((rt) => rt.name && rt.hardware.length > 0), `${r.id}: runtimes with hardware`);
  }
});

/** "modelwise convert …" / "modelwise inspect …" claims in a text, with the target format when given. */
function claims(text: string): { verb: 'convert' | 'inspect'; to?: string }[] {
  const out: { verb: 'convert' | 'inspect'; to?: string }[] = [];
  for (const m of text.matchAll(/modelwise\s+(convert|inspect)\b([^&|;#\n]*)/gi)) {
    const to = /--to\s+([A-Za-z0-9_-]+)/.exec(m[2] ?? '')?.[1];
    out.push({ verb: m[1]!.toLowerCase() as 'convert' | 'inspect', ...(to ? { to } : {}) });
  }
  return out;
}

test('the facts claim no modelwise conversion or inspection the code lacks', () => {
  for (const r of rows) {
    const facts = FORMAT_FACTS.find((f) => f.id === r.id)!;
    for (const c of claims(JSON.stringify(facts))) {
      if (c.verb === 'convert') assert.ok(r.modelwise.convert, `${r.id}: the facts claim "modelwise convert" but ${r.id} has no readTensor`);
      else assert.ok(r.modelwise.inspect, `${r.id}: the facts claim "modelwise inspect" but ${r.id} has no inspect`);
      if (c.to) assert.ok(['safetensors', 'gguf'].includes(c.to), `${r.id}: modelwise converts to safetensors or gguf, not ${c.to}`);
    }
  }
});

test('the claim checker itself catches a false claim', () => {
  assert.deepEqual(claims('use `modelwise convert x.pmml --to onnx` then …'), [{ verb: 'convert', to: 'onnx' }]);
  const pmml = rows.find((r) => r.id === 'pmml')!;
  assert.equal(pmml.modelwise.convert, false, 'PMML holds no tensors: a claim to convert it must fail the test above');
});

test('no advice command claims a modelwise conversion the code cannot do (every format × target × LLM/other × train)', async () => {
  const llmShape = plannedModel(1.24e9, 'llama').shape;
  const problems: string[] = [];
  let checked = 0;
  const models: AdviseModel[] = [plannedModel(8e9, 'llama'), plannedModel(1e9, 'gemma3')];
  for (const f of FORMATS) {
    for (const llm of [true, false]) {
      for (const modelType of llm ? ['llama', 'gemma3'] : [null]) {
        models.push({
          path: `model.${f.id}`, format: f.id, architecture: modelType, modelType, shape: llm ? llmShape : { parameters: 5e6 }, llm,
          pickle: f.id === 'pytorch' || f.id === 'torchscript', ...(f.id === 'gguf' ? { quantization: 'F16' } : {}),
        });
      }
    }
  }
  for (const m of models) {
    const support = m.format ? await supportOf(m.format as FormatId) : undefined;
    for (const target of TARGETS) {
      for (const train of [false, true]) {
        const a = await advise(m, { target, train, ram: 64 * 1024 ** 3, vram: 24 * 1024 ** 3 });
        for (const o of a.options) {
          for (const c of claims(o.command.line)) {
            checked++;
            const where = `${m.path} (${m.modelType ?? 'not an LLM'}) → ${target}${train ? ' + train' : ''}: ${o.format} ${o.quantization}: "${o.command.line}"`;
            if (c.verb !== 'convert') continue;
            if (m.planned) {
              // A Hugging Face checkpoint once downloaded: safetensors must be readable.
              if (!(await supportOf('safetensors')).convert) problems.push(`${where}: safetensors has no readTensor`);
            } else if (!support?.convert) problems.push(`${where}: ${m.format} has no readTensor`);
            if (c.to && !['safetensors', 'gguf'].includes(c.to)) problems.push(`${where}: modelwise cannot convert to ${c.to}`);
            if (c.to === 'gguf' && !modelwiseGgufRoute({ m, support: support ?? { identify: false, inspect: false, scanRules: false, convert: false } })) problems.push(`${where}: no runnable GGUF mapping for ${m.modelType}`);
            if (c.to === 'gguf' && m.format !== 'gguf' && !((m.modelType ?? '') in GGUF_MAPPED_ARCHS)) problems.push(`${where}: ${m.modelType} is not in src/convert/hf/llama.ts SUPPORTED`);
          }
        }
      }
    }
  }
  assert.ok(checked > 50, `claims were found and checked (${checked})`);
  assert.deepEqual(problems, []);
});

test('the human table shows convert only where the code can', () => {
  const text = renderFormats(rows);
  for (const r of rows) {
    const line = text.split('\n').find((l, i, all) => l.startsWith('  modelwise:') && all.slice(0, i).reverse().find((x) => !x.startsWith('  '))?.includes(`[${r.id}]`));
    assert.ok(line, `${r.id}: a modelwise line`);
    assert.equal(/\bconvert\b/.test(line), r.modelwise.convert, `${r.id}: ${line}`);
    assert.equal(/\binspect\b/.test(line), r.modelwise.inspect, `${r.id}: ${line}`);
  }
});
