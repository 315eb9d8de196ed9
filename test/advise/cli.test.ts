/**
 * CLI smoke tests: `advise` (a model path, and --params/--arch planning), `formats --json` and
 * `inspect --memory --context 32768` on a generated GGUF, asserting the JSON shapes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { tinyModel } from './gguf-fixture.js';

const MiB = 1024 * 1024;

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'modelwise', ...args], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'modelwise-advise-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
// 4 layers, 8 heads, 2 KV heads, head size 32, 4k-token vocabulary, f16 weights.
const gguf = join(dir, 'tiny-gqa.gguf');
writeFileSync(gguf, tinyModel({ arch: 'llama', layers: 4, embedding: 256, heads: 8, kvHeads: 2, feedForward: 704, contextLength: 32768, extraTokens: 4000, dtype: 'f16' }).bytes);

/** The `--json` contract of advise. */
function assertAdviceShape(j: any): void {
  assert.equal(typeof j.model, 'object');
  assert.equal(typeof j.model.path, 'string');
  assert.equal(typeof j.model.parameters, 'number');
  assert.equal(typeof j.target, 'string');
  assert.ok(Array.isArray(j.options) && j.options.length > 0);
  for (const o of j.options) {
    for (const k of ['format', 'quantization', 'runtime']) assert.equal(typeof o[k], 'string', k);
    assert.equal(typeof o.fileSize, 'number');
    for (const k of ['weights', 'kvCache', 'compute', 'overhead', 'total']) assert.equal(typeof o.memory[k], 'number', `memory.${k}`);
    assert.ok(o.fits === null || typeof o.fits === 'boolean');
    assert.equal(typeof o.qualityCost, 'object');
    assert.ok(typeof o.qualityCost.level === 'string' && typeof o.qualityCost.source === 'string');
    assert.ok(Array.isArray(o.reasons) && o.reasons.every((r: unknown) => typeof r === 'string'));
    assert.ok(Array.isArray(o.risks));
    assert.equal(typeof o.command.line, 'string');
    assert.equal(typeof o.command.tool, 'string');
  }
}

test('advise <gguf> --target cpu --ram 16GB --json', async () => {
  const r = await run('advise', gguf, '--target', 'cpu', '--ram', '16GB', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assertAdviceShape(j);
  assert.equal(j.target, 'cpu');
  assert.equal(j.model.format, 'gguf');
  assert.equal(j.options[0].format, 'gguf');
  assert.equal(j.options[0].fits, true);
  // A GGUF source is requantized with llama.cpp (modelwise's GGUF writer maps Hugging Face checkpoints).
  assert.match(j.options[0].command.line, /^modelwise convert .*tiny-gqa\.gguf --to gguf --quant Q4_K_M$/);
});

test('advise <gguf> human output: ranked options with memory, reasons and the command', async () => {
  const r = await run('advise', gguf, '--target', 'cpu', '--ram', '16GB');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^1\. gguf Q4_K_M on llama\.cpp \(CPU\) — file .*, memory .* \(weights .* \+ KV .* \+ compute .* \+ overhead .*\), fits$/m);
  assert.match(r.stdout, /^ {3}\+ GGUF is the CPU-only format/m);
  assert.match(r.stdout, /^ {3}\$ modelwise convert /m);
});

test('advise --params 8B --arch llama --target browser --json (planning before a download)', async () => {
  const r = await run('advise', '--params', '8B', '--arch', 'llama', '--target', 'browser', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assertAdviceShape(j);
  assert.equal(j.model.parameters, 8e9);
  assert.equal(j.options[0].format, 'onnx');
  assert.match(j.options[0].runtime, /ONNX Runtime Web/);
  assert.equal(j.options[0].fits, null, 'no memory limit given');
});

test('advise --device iphone-15 picks the target and limits from the preset', async () => {
  const r = await run('advise', '--params', '1B', '--arch', 'llama', '--device', 'iphone-15', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.target, 'mobile');
  assert.equal(j.limits.device, 'iPhone 15');
  assert.equal(j.options[0].format, 'coreml');
});

test('advise exits 1 when nothing fits, 2 on usage errors', async () => {
  const none = await run('advise', '--params', '70B', '--arch', 'llama', '--target', 'cpu', '--ram', '4GB', '--json');
  assert.equal(none.code, 1);
  assert.equal(JSON.parse(none.stdout).options[0].fits, false);
  assert.equal((await run('advise', '--params', '8B', '--target', 'toaster')).code, 2);
  assert.equal((await run('advise', '--target', 'cpu')).code, 2);
  assert.equal((await run('advise', '--params', 'lots', '--target', 'cpu')).code, 2);
});

test('formats --json: one row per format with facts, sources and modelwise support', async () => {
  const r = await run('formats', '--json');
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert.ok(Array.isArray(rows) && rows.length >= 17);
  for (const row of rows) {
    for (const k of ['id', 'name', 'layout', 'training', 'interoperability']) assert.equal(typeof row[k], 'string', `${row.id}.${k}`);
    assert.ok(Array.isArray(row.quantization) && Array.isArray(row.runtimes) && row.sources.length > 0);
    assert.ok(['none', 'low', 'high'].includes(row.codeExecutionRisk.level));
    for (const k of ['identify', 'inspect', 'scanRules', 'convert']) assert.equal(typeof row.modelwise[k], 'boolean', `${row.id}.modelwise.${k}`);
  }
  const human = await run('formats');
  assert.match(human.stdout, /^GGUF \[gguf\] — file; active/m);
});

test('inspect <gguf> --memory --context 32768 --json: the breakdown from the header', async () => {
  const r = await run('inspect', gguf, '--memory', '--context', '32768', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.format.id, 'gguf');
  const m = j.memory;
  assert.equal(m.context, 32768);
  for (const k of ['weights', 'kvCache', 'compute', 'overhead', 'total']) assert.equal(typeof m[k], 'number', k);
  assert.equal(m.total, m.weights + m.kvCache + m.compute + m.overhead);
  // 4 layers × 2 KV heads × (32 + 32) × 2 bytes × 32768 cells.
  assert.equal(m.kvCache, 4 * 2 * 64 * 2 * 32768);
  assert.equal(m.kvCache, 32 * MiB);
  assert.equal(m.weights, Number(j.size.tensorBytes));
  assert.ok(m.compute > 0 && m.details.ubatch === 512 && Array.isArray(m.notes));
  const human = await run('inspect', gguf, '--memory', '--context', '32768');
  assert.equal(human.code, 0);
  assert.match(human.stdout, /memory at context 32768/);
  assert.match(human.stdout, /KV cache +32(\.0)? MiB/);
});
