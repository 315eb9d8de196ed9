import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectSource, inspectTree } from '../../inspect/inspect.js';
import { BytesSource, type ByteSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { SAFETENSORS_DTYPES } from './dtypes.js';

type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };

/** Header bytes (length + JSON padded to 8) for `entries`; data is `dataSize` zero bytes unless sparse. */
function header(entries: Record<string, Entry | Record<string, string>>): Uint8Array {
  let json = JSON.stringify(entries);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const b = new Uint8Array(8 + json.length);
  new DataView(b.buffer).setBigUint64(0, BigInt(json.length), true);
  b.set(Buffer.from(json, 'utf8'), 8);
  return b;
}

function file(entries: Record<string, Entry | Record<string, string>>, dataSize?: number): Uint8Array {
  const h = header(entries);
  const end = dataSize ?? Math.max(0, ...Object.values(entries).map((e) => ('data_offsets' in e ? (e as Entry).data_offsets[1] : 0)));
  const out = new Uint8Array(h.length + end);
  out.set(h);
  return out;
}

/** Contiguous entries from [name, dtype, shape, bytesPerElement]. */
function contiguous(list: [string, string, number[], number][]): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  let at = 0;
  for (const [name, dtype, shape, bpe] of list) {
    const n = shape.reduce((a, d) => a * d, 1) * bpe;
    out[name] = { dtype, shape, data_offsets: [at, at + n] };
    at += n;
  }
  return out;
}

const src = (b: Uint8Array, name: string) => new BytesSource(b, name);

describe('safetensors inspect', () => {
  it('maps every dtype of the spec, with absolute offsets and metadata', async () => {
    const list: [string, string, number[], number][] = Object.keys(SAFETENSORS_DTYPES).map((d) => [`t_${d}`, d, [2, 4], SAFETENSORS_DTYPES[d]![1] / 8]);
    const entries: Record<string, Entry | Record<string, string>> = { __metadata__: { format: 'pt', note: 'x' }, ...contiguous(list) };
    const b = file(entries);
    const r = await inspectSource(src(b, 'all.safetensors'));
    assert.equal(r.format.id, 'safetensors');
    assert.equal(r.tensors.count, list.length);
    const byName = new Map(r.tensors.items.map((t) => [t.name, t]));
    assert.equal(byName.get('t_F8_E4M3')!.dtype, 'f8e4m3fn');
    assert.equal(byName.get('t_F8_E5M2')!.dtype, 'f8e5m2');
    assert.equal(byName.get('t_BF16')!.dtype, 'bf16');
    assert.equal(byName.get('t_F4')!.dtype, 'f4');
    assert.equal(byName.get('t_F4')!.byteLength, 4);
    assert.equal(byName.get('t_F6_E2M3')!.byteLength, 6);
    const hl = Number(new DataView(b.buffer).getBigUint64(0, true));
    assert.equal(byName.get('t_BOOL')!.offset, 8 + hl);
    assert.deepEqual(r.metadata, { format: 'pt', note: 'x' });
    assert.equal(r.producer, 'PyTorch (safetensors.torch)');
    assert.deepEqual(r.diagnostics, []);
  });

  it('diagnoses overlaps, gaps, size mismatches, out-of-range data and unknown dtypes', async () => {
    const entries = {
      a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] as [number, number] },
      b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] as [number, number] }, // overlaps a
      c: { dtype: 'F32', shape: [2], data_offsets: [32, 40] as [number, number] }, // gap before
      d: { dtype: 'F16', shape: [3], data_offsets: [40, 44] as [number, number] }, // 6 ≠ 4 bytes
      e: { dtype: 'Q9', shape: [1], data_offsets: [44, 48] as [number, number] }, // unknown dtype
      f: { dtype: 'U8', shape: [100], data_offsets: [48, 148] as [number, number] }, // past the end
      g: { dtype: 'F32', shape: ['x'], data_offsets: [0, 4] }, // malformed entry
    } as unknown as Record<string, Entry>;
    const r = await inspectSource(src(file(entries, 60), 'bad.safetensors'));
    const codes = new Set(r.diagnostics.map((d) => d.code));
    for (const c of ['SAFETENSORS_OVERLAP', 'SAFETENSORS_OFFSET_GAP', 'TENSOR_SIZE_MISMATCH', 'SAFETENSORS_UNKNOWN_DTYPE', 'TENSOR_OUT_OF_BOUNDS', 'SAFETENSORS_BAD_ENTRY']) assert.ok(codes.has(c), c);
    assert.equal(r.tensors.count, 6);
    assert.equal(r.tensors.items.find((t) => t.name === 'e')!.dtype, 'q9');
  });

  it('refuses headers past the 100 MB cap, past the end, or not JSON', async () => {
    const big = new Uint8Array(16);
    new DataView(big.buffer).setBigUint64(0, 100_000_001n, true);
    big.set(Buffer.from('{"a":1}'), 8);
    await assert.rejects(inspectSource(src(big, 'big.safetensors')));
    const cut = file(contiguous([['a', 'F32', [4], 4]])).subarray(0, 20);
    await assert.rejects(inspectSource(src(cut, 'cut.safetensors')), (e: { code?: string }) => e.code === 'UNEXPECTED_EOF');
    const bad = new Uint8Array(8 + 16);
    new DataView(bad.buffer).setBigUint64(0, 16n, true);
    bad.set(Buffer.from('{"a": {"dtype":'), 8);
    await assert.rejects(inspectSource(src(bad, 'bad.safetensors')), (e: { code?: string }) => e.code === 'MALFORMED');
    // Deep nesting parses (V8's JSON parser is iterative) and is reported as a malformed entry.
    let json = `{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const deep = new Uint8Array(8 + json.length + 4);
    new DataView(deep.buffer).setBigUint64(0, BigInt(json.length), true);
    deep.set(Buffer.from(json), 8);
    const r = await inspectSource(src(deep, 'deep.safetensors'));
    assert.equal(r.tensors.count, 1);
    assert.ok(r.diagnostics.some((d) => d.code === 'SAFETENSORS_BAD_ENTRY'));
  });

  it('reads a sharded model from its index, a shard or the folder, and names missing shards', async () => {
    const s1 = file(contiguous([['a', 'F32', [2, 2], 4], ['b', 'F16', [8], 2]]));
    const s2 = file(contiguous([['c', 'BF16', [4, 4], 2]]));
    const index = JSON.stringify({ metadata: { total_size: 16 + 16 + 32 }, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' } });
    const config = JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 4, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 8 });
    const files: Record<string, ByteSource> = {
      'm/model-00001-of-00002.safetensors': src(s1, 'model-00001-of-00002.safetensors'),
      'm/model-00002-of-00002.safetensors': src(s2, 'model-00002-of-00002.safetensors'),
      'm/model.safetensors.index.json': src(Buffer.from(index), 'model.safetensors.index.json'),
      'm/config.json': src(Buffer.from(config), 'config.json'),
    };
    const tree = new MemoryTree('root', files);
    const want = [['a', 'model-00001-of-00002.safetensors'], ['b', 'model-00001-of-00002.safetensors'], ['c', 'model-00002-of-00002.safetensors']];
    const check = (r: Awaited<ReturnType<typeof inspectSource>>) => {
      assert.deepEqual(r.tensors.items.map((t) => [t.name, t.file]), want);
      assert.equal(r.parameters.total, 4 + 8 + 16);
      assert.equal(r.architecture, 'LlamaForCausalLM');
      assert.equal(r.hyperParameters?.layers, 1);
      assert.deepEqual(r.diagnostics, []);
    };
    check(await inspectSource(files['m/model.safetensors.index.json']!, { path: 'm/model.safetensors.index.json', tree, treePath: 'm/model.safetensors.index.json' }));
    check(await inspectSource(files['m/model-00002-of-00002.safetensors']!, { path: 'm/model-00002-of-00002.safetensors', tree, treePath: 'm/model-00002-of-00002.safetensors' }));
    check(await inspectTree(new MemoryTree('m', Object.fromEntries(Object.entries(files).map(([k, v]) => [k.slice(2), v]))), 'm'));
    // Missing shard: the rest is still reported.
    const partial = new MemoryTree('root', { ...files, 'm/model-00002-of-00002.safetensors': undefined as unknown as ByteSource });
    const r = await inspectSource(files['m/model.safetensors.index.json']!, { path: 'm/model.safetensors.index.json', tree: partial, treePath: 'm/model.safetensors.index.json' });
    assert.deepEqual(r.tensors.items.map((t) => t.name), ['a', 'b']);
    assert.ok(r.diagnostics.some((d) => d.code === 'SHARD_MISSING' && d.message.includes('model-00002-of-00002')));
  });

  it('checks the weight map against the shards', async () => {
    const s1 = file(contiguous([['a', 'F32', [2], 4]]));
    const index = JSON.stringify({ metadata: { total_size: 999 }, weight_map: { a: 'x-00001-of-00001.safetensors', zz: 'x-00001-of-00001.safetensors' } });
    const tree = new MemoryTree('t', { 'x-00001-of-00001.safetensors': src(s1, 'x'), 'x.safetensors.index.json': src(Buffer.from(index), 'i') });
    const r = await inspectSource(src(Buffer.from(index), 'x.safetensors.index.json'), { path: 'x.safetensors.index.json', tree, treePath: 'x.safetensors.index.json' });
    const codes = r.diagnostics.map((d) => d.code);
    assert.ok(codes.includes('SHARD_TENSOR_MISSING'));
    assert.ok(codes.includes('SHARD_TOTAL_SIZE_MISMATCH'));
  });

  it('reads a 50 GB file touching only its header', async () => {
    const GB = 1024 ** 3;
    const n = 500;
    const list: [string, string, number[], number][] = Array.from({ length: n }, (_, i) => [`layers.${i}.weight`, 'BF16', [8192, Math.floor((50 * GB) / n / 2 / 8192)], 2]);
    const entries = contiguous(list);
    const h = header(entries);
    const end = Object.values(entries).reduce((m, e) => Math.max(m, e.data_offsets[1]), 0);
    const s = new SparseSource(h.length + end, 'big.safetensors').write(0, h);
    const r = await inspectSource(s, { path: 'big.safetensors' });
    assert.equal(r.tensors.count, n);
    assert.deepEqual(r.diagnostics, []);
    assert.ok(s.size > 45 * GB);
    assert.ok(s.bytesRead < 1024 * 1024, `read ${s.bytesRead}`);
  });
});
