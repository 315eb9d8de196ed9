/**
 * convert round trips: safetensors → GGUF F32 → safetensors is lossless (bytes identical), and
 * every model with weights in ../shared/corpus converts to safetensors with its tensors equal to
 * the source values (verified by reading the output back).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { safetensorsHeader } from '../src/convert/writers/safetensors.js';
import { convertPath } from '../src/node/convert.js';
import { inspectPath, formatById } from '../src/node/index.js';
import { SKIP_CORPUS, expectedModels } from './helpers/corpus.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelwise-convert-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function seeded(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** A safetensors file with f32, f16, bf16 and i64 tensors of seeded values. */
function makeSafetensors(path: string): Map<string, Uint8Array> {
  const rnd = seeded(7);
  const specs: [string, string, number[], number][] = [
    ['a.weight', 'f32', [64, 32], 4],
    ['b.weight', 'f16', [32, 64], 2],
    ['c.weight', 'bf16', [16, 256], 2],
    ['d.bias', 'f32', [64], 4],
    ['e.positions', 'i64', [10], 8],
  ];
  const data = new Map<string, Uint8Array>();
  for (const [name, , shape, size] of specs) {
    const n = shape.reduce((a, b) => a * b, 1);
    const b = new Uint8Array(n * size);
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
    // keep floats finite: clear the top exponent bits of each element's high byte
    if (size === 4 || size === 2) for (let i = size - 1; i < b.length; i += size) b[i]! &= 0x3f;
    if (size === 8) for (let i = 7; i < b.length; i += 8) b[i] = 0;
    data.set(name, b);
  }
  const header = safetensorsHeader(specs.map(([name, dtype, shape]) => ({ name, dtype, shape, byteLength: data.get(name)!.length })));
  writeFileSync(path, Buffer.concat([header, ...specs.map(([n]) => data.get(n)!)]));
  return data;
}

describe('convert: round trips', () => {
  it('safetensors → GGUF (no quantization) → safetensors keeps every byte', async () => {
    const src = join(dir, 'src.safetensors');
    const data = makeSafetensors(src);
    const g = await convertPath(src, { to: 'gguf', output: join(dir, 'mid.gguf'), threads: 1 });
    assert.equal(g.written, true);
    const back = await convertPath(join(dir, 'mid.gguf'), { to: 'safetensors', output: join(dir, 'back.safetensors'), verify: true, threads: 1 });
    for (const v of back.verify!) assert.equal(v.maxAbs, 0, v.name);
    const r = await inspectPath(join(dir, 'back.safetensors'));
    const file = readFileSync(join(dir, 'back.safetensors'));
    for (const t of r.tensors.items) {
      const want = data.get(t.name)!;
      assert.ok(want, `unexpected tensor ${t.name}`);
      const got = file.subarray(t.offset as number, (t.offset as number) + (t.byteLength as number));
      assert.ok(Buffer.from(want).equals(got), `${t.name} bytes differ`);
    }
    assert.deepEqual(r.tensors.items.map((t) => t.shape), [[64, 32], [32, 64], [16, 256], [64], [10]]);
  });

  it('--dry-run writes nothing and --max-shard-size shards with an index', async () => {
    const src = join(dir, 'shard-src.safetensors');
    makeSafetensors(src);
    const plan = await convertPath(src, { to: 'safetensors', output: join(dir, 'dry.safetensors'), dryRun: true });
    assert.equal(plan.written, false);
    assert.equal(existsSync(join(dir, 'dry.safetensors')), false);
    const sh = await convertPath(src, { to: 'safetensors', output: join(dir, 'sharded.safetensors'), maxShardSize: 10_000, threads: 1 });
    assert.ok(sh.plan.files.length > 2);
    const index = JSON.parse(readFileSync(join(dir, 'sharded.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    assert.deepEqual(Object.keys(index.weight_map).sort(), ['a.weight', 'b.weight', 'c.weight', 'd.bias', 'e.positions']);
    const r = await inspectPath(join(dir, 'sharded.safetensors.index.json'));
    assert.equal(r.tensors.count, 5);
  });

  it('refuses to overwrite its input and leaves no temp files behind on failure', async () => {
    const src = join(dir, 'self.safetensors');
    makeSafetensors(src);
    await assert.rejects(convertPath(src, { to: 'safetensors', output: src }), /overwrite/);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });
});

describe('convert: every corpus model with weights → safetensors, values verified', { skip: SKIP_CORPUS }, () => {
  for (const m of expectedModels()) {
    if (!m.tensor_count) continue;
    it(m.model, async (t) => {
      const mod = formatById(m.format);
      const impl = mod?.load ? await mod.load() : undefined;
      if (!impl?.readTensor) return t.skip(`${m.format}: no tensor reader`);
      const out = join(dir, m.model.replace(/[\\/]/g, '_') + '.safetensors');
      const r = await convertPath(m.path, { to: 'safetensors', output: out, verify: true, threads: 1 });
      assert.ok(r.plan.tensors.length > 0 || r.plan.skipped.length > 0);
      for (const v of r.verify ?? []) assert.equal(v.maxAbs, 0, `${v.name}: max-abs ${v.maxAbs}`);
    });
  }
});
