import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BytesSource, type ByteSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { Probe } from '../../identify/probe.js';
import { identifyTree } from '../../identify/identify.js';
import { safetensors } from './index.js';

type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };

/** A safetensors file: u64 header length, JSON header padded to 8 bytes, then `dataBytes` of data. */
function st(header: Record<string, unknown>, opts: { dataBytes?: number; pad?: boolean; lead?: string } = {}): Uint8Array {
  let json = (opts.lead ?? '') + JSON.stringify(header);
  if (opts.pad !== false) while ((8 + json.length) % 8 !== 0) json += ' ';
  const h = new TextEncoder().encode(json);
  const dataBytes = opts.dataBytes ?? Object.values(header).reduce<number>((m, v) => Math.max(m, (v as Entry).data_offsets?.[1] ?? 0), 0);
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

const detect = (b: Uint8Array, name = 'model.safetensors') => safetensors.detect!(new Probe(new BytesSource(b, name), name));
const treeProbe = (files: Record<string, ByteSource>, path: string) => new Probe(files[path]!, path, new MemoryTree('m', files), path);
const text = (s: string, name: string) => new BytesSource(new TextEncoder().encode(s), name);

describe('safetensors detect', () => {
  it('single file with __metadata__', async () => {
    const d = await detect(
      st({
        __metadata__: { format: 'pt' },
        'a.weight': { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
        'a.bias': { dtype: 'BF16', shape: [2], data_offsets: [16, 20] },
      }),
    );
    assert.equal(d?.format.id, 'safetensors');
    assert.equal(d?.format.variant, 'safetensors');
    assert.equal(d?.confidence, 'high');
    assert.match(d!.evidence[0]!, /^safetensors header \d+ bytes \(JSON\), 2 tensors, dtypes bf16, f32$/);
    assert.equal(d?.details?.tensorCount, 2);
    assert.equal(d?.details?.metadataFormat, 'pt');
  });

  it('unpadded header and header with leading spaces', async () => {
    const e = { x: { dtype: 'F64', shape: [6], data_offsets: [0, 48] } };
    assert.equal((await detect(st(e, { pad: false })))?.confidence, 'high');
    assert.equal((await detect(st(e, { lead: '  ' })))?.confidence, 'high');
  });

  it('content, not the extension, decides', async () => {
    const d = await detect(st({ x: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }), 'weights.bin');
    assert.equal(d?.format.id, 'safetensors');
  });

  it('header bigger than the probe head is read (bounded)', async () => {
    const h: Record<string, Entry> = {};
    for (let i = 0; i < 2000; i++) h[`model.layers.${i}.self_attn.q_proj.weight`] = { dtype: 'F16', shape: [1], data_offsets: [i * 2, i * 2 + 2] };
    const b = st(h);
    assert.ok(b.length > 64 * 1024);
    const d = await detect(b);
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.details?.tensorCount, 2000);
  });

  it('header above 1 MiB is judged by its start', async () => {
    const h: Record<string, Entry> = {};
    for (let i = 0; i < 20000; i++) h[`model.layers.${i}.mlp.gate_proj.weight`] = { dtype: 'BF16', shape: [1], data_offsets: [i * 2, i * 2 + 2] };
    const b = st(h);
    const d = await detect(b);
    assert.equal(d?.format.variant, 'safetensors');
    assert.match(d!.evidence[0]!, /not parsed/);
  });

  it('truncated header gives a low-confidence detection', async () => {
    const full = st({ w: { dtype: 'F32', shape: [1000], data_offsets: [0, 4000] } }, { dataBytes: 0 });
    const cut = full.subarray(0, 30);
    const d = await detect(cut);
    assert.equal(d?.confidence, 'low');
    assert.match(d!.evidence.join(' '), /truncated/);
  });

  it('truncated tensor data is reported', async () => {
    const d = await detect(st({ w: { dtype: 'F32', shape: [1000], data_offsets: [0, 4000] } }, { dataBytes: 100 }));
    assert.equal(d?.confidence, 'medium');
    assert.match(d!.evidence.join(' '), /tensor data truncated/);
  });

  describe('sharded', () => {
    const shard = (i: number) => new BytesSource(st({ [`w${i}`]: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }), `model-0000${i}-of-00003.safetensors`);
    const index = {
      metadata: { total_size: 24 },
      weight_map: { w1: 'model-00001-of-00003.safetensors', w2: 'model-00002-of-00003.safetensors', w3: 'model-00003-of-00003.safetensors' },
    };

    it('index lists its shards (entry = index)', async () => {
      const files = {
        'model.safetensors.index.json': text(JSON.stringify(index), 'model.safetensors.index.json'),
        'model-00001-of-00003.safetensors': shard(1),
        'model-00002-of-00003.safetensors': shard(2),
        'model-00003-of-00003.safetensors': shard(3),
      };
      const d = await safetensors.detect!(treeProbe(files, 'model.safetensors.index.json'));
      assert.equal(d?.format.variant, 'sharded-index');
      assert.equal(d?.confidence, 'high');
      assert.deepEqual(
        d?.files?.map((f) => [f.path, f.role]),
        [
          ['model.safetensors.index.json', 'index'],
          ['model-00001-of-00003.safetensors', 'shard'],
          ['model-00002-of-00003.safetensors', 'shard'],
          ['model-00003-of-00003.safetensors', 'shard'],
        ],
      );
      assert.equal(d?.details?.totalSize, 24);
      assert.match(d!.evidence.join(' '), /3 tensors to 3 shard files/);

      // A shard lists the index first, then its siblings.
      const s = await safetensors.detect!(treeProbe(files, 'model-00002-of-00003.safetensors'));
      assert.equal(s?.format.variant, 'safetensors');
      assert.equal(s?.files?.[0]?.path, 'model.safetensors.index.json');
      assert.equal(s?.files?.length, 4);

      // The folder is one model, owned by the index.
      const id = await identifyTree(new MemoryTree('m', files), 'm');
      assert.equal(id.format?.id, 'safetensors');
      assert.equal(id.format?.variant, 'sharded-index');
      assert.equal(id.models, undefined);
    });

    it('missing shards are reported', async () => {
      const files = {
        'model.safetensors.index.json': text(JSON.stringify(index), 'model.safetensors.index.json'),
        'model-00001-of-00003.safetensors': shard(1),
      };
      const d = await safetensors.detect!(treeProbe(files, 'model.safetensors.index.json'));
      assert.match(d!.evidence.join(' '), /missing shards: model-00002-of-00003.safetensors, model-00003-of-00003.safetensors/);
      assert.equal(d?.details?.missingShards, 2);
    });

    it('shards without an index: shard 1 is the entry', async () => {
      const files = { 'model-00001-of-00003.safetensors': shard(1), 'model-00002-of-00003.safetensors': shard(2), 'model-00003-of-00003.safetensors': shard(3) };
      const d = await safetensors.detect!(treeProbe(files, 'model-00003-of-00003.safetensors'));
      assert.deepEqual(d?.files?.map((f) => f.role), ['entry', 'shard', 'shard']);
    });

    it('index without a folder listing still detects', async () => {
      const d = await detect(new TextEncoder().encode(JSON.stringify(index)), 'model.safetensors.index.json');
      assert.equal(d?.format.variant, 'sharded-index');
      assert.match(d!.evidence.join(' '), /not checked/);
    });
  });

  describe('near misses', () => {
    it('PyTorch index (weight_map to .bin files) is left to pytorch', async () => {
      const idx = { metadata: { total_size: 10 }, weight_map: { a: 'pytorch_model-00001-of-00002.bin', b: 'pytorch_model-00002-of-00002.bin' } };
      assert.equal(await detect(new TextEncoder().encode(JSON.stringify(idx)), 'pytorch_model.bin.index.json'), undefined);
    });
    it('JSON without weight_map', async () => {
      assert.equal(await detect(new TextEncoder().encode('{"architectures": ["LlamaForCausalLM"], "model_type": "llama"}'), 'config.json'), undefined);
    });
    it('random bytes, tiny files, non-JSON after a small length', async () => {
      const r = new Uint8Array(4096);
      let x = 7;
      for (let i = 0; i < r.length; i++) r[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      assert.equal(await detect(r, 'x.bin'), undefined);
      assert.equal(await detect(new Uint8Array([2, 0, 0, 0, 0]), 'x.bin'), undefined);
      const b = new Uint8Array(64);
      b[0] = 40;
      b.set(new TextEncoder().encode('hello world'), 8);
      assert.equal(await detect(b, 'x.bin'), undefined);
    });
    it('a JSON header that is not a tensor table', async () => {
      assert.equal(await detect(st({ hello: 'world' }, { dataBytes: 0 }), 'x.bin'), undefined);
    });
    it('a truncated "{" header with no safetensors keys and no .safetensors name', async () => {
      const b = new Uint8Array(40);
      b[0] = 200;
      b.set(new TextEncoder().encode('{"name": "value", "other"'), 8);
      assert.equal(await detect(b, 'x.bin'), undefined);
    });
  });
});
